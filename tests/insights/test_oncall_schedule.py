"""Who is on call: the on-call card reads each paged team's on-call schedule, published as an iCalendar feed
(releases.oncall_schedules), served here by a real HTTP server on 127.0.0.1.

Payments publishes a PagerDuty-style feed: a three-person weekly rotation (RRULE), one week handed to someone
else (RECURRENCE-ID). Platform publishes a Grafana OnCall-style feed in floating local times (its team's time
zone, Europe/Berlin): two people on alternate days, and a cancelled shift. The clock is frozen at NOW, a
Thursday, and every date below is written from it, so the tests hold on any day they run.
"""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals import actions as approval_actions
from audit.models import AuditEvent
from core.tasks import periodic_work
from releases.models import OnCallSchedule, OnCallShift
from releases.oncall_schedules import (
    SYNC_EVERY,
    UNNAMED,
    person_of,
    record_oncall_schedule,
    sync_due_oncall_schedules_task,
    sync_oncall_schedule,
)
from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.models import EscalationStep, Team
from tests.html import body_rows, section, table_row, text_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # a Thursday; Ana's week began on Monday 28 September

PAYMENTS_FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//PagerDuty Inc.//PagerDuty Schedules//EN
X-WR-CALNAME:Payments primary
BEGIN:VEVENT
UID:rota-ana@payments.example
DTSTART:20260907T080000Z
DTEND:20260914T080000Z
RRULE:FREQ=WEEKLY;INTERVAL=3
SUMMARY:On Call - Ana Lima - Payments primary
ATTENDEE:ana@payments.example
END:VEVENT
BEGIN:VEVENT
UID:rota-ben@payments.example
DTSTART:20260914T080000Z
DTEND:20260921T080000Z
RRULE:FREQ=WEEKLY;INTERVAL=3
SUMMARY:On Call - Ben Adeyemi - Payments primary
END:VEVENT
BEGIN:VEVENT
UID:rota-ben@payments.example
RECURRENCE-ID:20261005T080000Z
DTSTART:20261005T080000Z
DTEND:20261012T080000Z
SUMMARY:On Call - Dan Okafor - Payments primary
END:VEVENT
BEGIN:VEVENT
UID:rota-chloe@payments.example
DTSTART:20260921T080000Z
DTEND:20260928T080000Z
RRULE:FREQ=WEEKLY;INTERVAL=3
SUMMARY:On Call - Chloe Martin - Payments primary
END:VEVENT
END:VCALENDAR
"""

# Floating times: 09:00 in Berlin (CEST, UTC+2) is 07:00 UTC. Priya has the odd days of September from the
# 1st, so also Thursday 1 October; Tom the even ones.
PLATFORM_FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID://Grafana Labs//Grafana On-Call//
X-WR-CALNAME:Platform primary
BEGIN:VEVENT
UID:platform-priya
DTSTART:20260901T090000
DTEND:20260902T090000
RRULE:FREQ=DAILY;INTERVAL=2
SUMMARY:Priya Natarajan
LOCATION:primary
END:VEVENT
BEGIN:VEVENT
UID:platform-tom
DTSTART:20260902T090000
DTEND:20260903T090000
RRULE:FREQ=DAILY;INTERVAL=2
SUMMARY:Tom Weber
LOCATION:primary
END:VEVENT
BEGIN:VEVENT
UID:platform-cancelled
DTSTART:20261001T070000Z
DTEND:20261001T070000Z
SUMMARY:Nora Quist
STATUS:CANCELLED
END:VEVENT
END:VCALENDAR
"""


def ics(text):
    return text.replace("\n", "\r\n").encode()


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Autouse, so it runs before the fixtures that write: every row gets a known time."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    """The feeds are served on 127.0.0.1, which production refuses."""
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = True


class FeedServer:
    """An HTTP server on 127.0.0.1 that serves `feeds` ({path: (status, body)}) and counts the requests."""

    def __init__(self):
        self.feeds, self.requests = {}, []
        feeds, requests = self.feeds, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                status, body = feeds.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", "text/calendar")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def feed_server():
    server = FeedServer()
    server.feeds["/private/s3cr3t-payments/feed"] = (200, ics(PAYMENTS_FEED))
    server.feeds["/schedules/platform.ics"] = (200, ics(PLATFORM_FEED))
    yield server
    server.stop()


def publish(slug, url, admin_actor):
    team = Team.objects.get(slug=slug)
    team.oncall_schedule_url = url
    return actions.save_team(team, acting_user=admin_actor, reason="Our on-call schedule")


@pytest.fixture
def checkout(make_team, make_service, make_matrix, make_user, severities, admin_actor, client, feed_server):
    """Checkout's SEV1 escalation pages Payments, then Platform, then Customer Care (which publishes no schedule);
    the two first publish their schedules' feeds. `client` is signed in."""
    payments = make_team("Payments", pager_handle="payments-pager")
    platform = make_team("Platform", time_zone="Europe/Berlin")
    care = make_team("Customer Care")
    service = make_service("Checkout", owner_team=payments)
    sev1 = severities["SEV1"]
    matrix = make_matrix(
        service,
        steps=[
            EscalationStep(severity=sev1, level=1, wait=timedelta(minutes=15), team=payments, channel=Channel.PAGE),
            EscalationStep(severity=sev1, level=2, wait=timedelta(minutes=10), team=platform, channel=Channel.PHONE),
            EscalationStep(severity=sev1, level=3, wait=timedelta(minutes=30), team=care, channel=Channel.CHAT),
        ],
    )
    approval_actions.record_baseline_version(matrix, acting_user=admin_actor)
    publish("payments", feed_server.url("/private/s3cr3t-payments/feed"), admin_actor)
    publish("platform", feed_server.url("/schedules/platform.ics"), admin_actor)
    client.force_login(make_user("reader"))
    return service


def card(client, **query):
    response = client.get(reverse("oncall_card", args=["checkout"]), query)
    assert response.status_code == 200
    return response.content.decode()


def level(html, number):
    return text_of(table_row(section(html, "escalation"), f"Level {number} "))


def schedule_notes(html):
    return text_of(section(html, "escalation").split('oncall-schedules">', 1)[1])


def sync_all():
    return sync_due_oncall_schedules_task.call()


# Who is on call --------------------------------------------------------------------


def test_the_card_says_who_is_on_call_now_from_each_teams_schedule(client, checkout):
    assert sync_all() == [{"team": "payments", "error": ""}, {"team": "platform", "error": ""}]

    html = card(client)

    # The weekly rotation: Ana's week runs from Monday 28 September to Monday 5 October.
    assert "On call now: Ana Lima (until Mon 5 Oct 08:00)" in level(html, 1)
    # Floating times in Platform's zone: Priya's day began at 09:00 in Berlin, 07:00 UTC.
    assert "On call now: Priya Natarajan (until Fri 2 Oct 07:00)" in level(html, 2)
    assert "Nora Quist" not in html  # a cancelled shift is nobody's
    assert "On call" not in level(html, 3)  # Customer Care publishes no schedule
    assert (
        "On call from the schedules of Payments, Platform: a feed from 127.0.0.1, read 1 Oct 2026 08:00 UTC (just now)."
    ) in schedule_notes(html)
    assert "s3cr3t" not in html  # the feed's private address is not shown, only its host


def test_as_of_a_past_moment_the_card_names_who_was_on_call_then(client, checkout):
    sync_all()

    html = card(client, at="2026-09-16T12:00")

    assert "On call then: Ben Adeyemi (14 Sep 08:00 to 21 Sep 08:00)" in level(html, 1)
    assert "On call then: Tom Weber (16 Sep 07:00 to 17 Sep 07:00)" in level(html, 2)


def test_one_week_of_the_rotation_handed_to_someone_else(client, checkout):
    sync_all()

    # Ben's occurrence of 5 October is overridden (RECURRENCE-ID): Dan has that week, and Ben is back later.
    assert "On call then: Dan Okafor (5 Oct 08:00 to 12 Oct 08:00)" in level(card(client, at="2026-10-06T12:00"), 1)
    assert "On call then: Ben Adeyemi (26 Oct 08:00 to 2 Nov 08:00)" in level(card(client, at="2026-10-27T12:00"), 1)


def test_who_was_on_call_stays_known_after_the_feed_stops_listing_it(client, checkout, clock, feed_server):
    sync_all()
    # Eight weeks on, the feed lists only the last few weeks (the read window has moved), and Chloe's turns are
    # Erin's from 23 November on: the feed no longer lists a single week of Chloe's.
    clock.move_to(NOW + timedelta(days=55), tick=False)
    erin = PAYMENTS_FEED.replace("SUMMARY:On Call - Chloe Martin", "SUMMARY:On Call - Erin Holt").replace(
        "DTSTART:20260921T080000Z\nDTEND:20260928T080000Z", "DTSTART:20261123T080000Z\nDTEND:20261130T080000Z"
    )
    feed_server.feeds["/private/s3cr3t-payments/feed"] = (200, ics(erin))
    sync_all()
    client.force_login(get_user_model().objects.get(username="reader"))  # the session has expired meanwhile

    # Before what the feed now lists, the shifts stay as they were read.
    assert "On call then: Ben Adeyemi (14 Sep 08:00 to 21 Sep 08:00)" in level(card(client, at="2026-09-16T12:00"), 1)
    assert "On call then: Chloe Martin (12 Oct 08:00 to 19 Oct 08:00)" in level(card(client, at="2026-10-13T12:00"), 1)
    # From the feed's first shift on, the feed says who: Chloe's later weeks are gone, Erin has this one.
    assert "On call now: Erin Holt (until Mon 30 Nov 08:00)" in level(card(client), 1)
    assert not OnCallShift.objects.filter(person="Chloe Martin", starts_at__gte=datetime(2026, 11, 1, tzinfo=UTC))


# When the feed fails or falls behind ---------------------------------------------------


def test_a_failing_feed_keeps_the_last_known_shifts_and_says_how_old_they_are(client, checkout, clock, feed_server):
    sync_all()
    clock.move_to(NOW + timedelta(hours=3), tick=False)
    feed_server.feeds["/private/s3cr3t-payments/feed"] = (500, b"down for maintenance")

    assert sync_all() == [
        {
            "team": "payments",
            "error": f"Could not fetch {feed_server.url('/private/s3cr3t-payments/feed')}: the server answered "
            "HTTP 500 Internal Server Error.",
        },
        {"team": "platform", "error": ""},
    ]
    html = card(client)

    assert "On call now: Ana Lima (until Mon 5 Oct 08:00) feed failed: last known" in level(html, 1)
    notes = schedule_notes(html)
    assert (
        "Payments: the on-call schedule feed failed at 1 Oct 11:00 UTC: Could not fetch 127.0.0.1: the server "
        "answered HTTP 500 Internal Server Error. Shown: the shifts last read 1 Oct 2026 08:00 UTC, 3 h ago."
    ) in notes
    assert (
        "On call from the schedule of Platform: a feed from 127.0.0.1, read 1 Oct 2026 11:00 UTC (just now)." in notes
    )
    assert 'class="notice notice-warn oncall-schedules"' in html
    assert "s3cr3t" not in html
    assert OnCallShift.objects.filter(schedule__team__slug="payments").count() > 0


def test_a_schedule_not_read_for_over_an_hour_is_called_stale(client, checkout, clock):
    sync_all()
    clock.move_to(NOW + timedelta(hours=2), tick=False)  # the worker has been down since

    html = card(client)

    assert "On call now: Ana Lima (until Mon 5 Oct 08:00) read 2 h ago" in level(html, 1)
    assert (
        "Payments: the on-call schedule was last read 2 h ago (1 Oct 2026 08:00 UTC, from 127.0.0.1): "
        "who is on call may have changed since."
    ) in schedule_notes(html)


def test_a_feed_not_read_yet_and_one_never_read_say_so(client, checkout, feed_server):
    feed_server.feeds["/schedules/platform.ics"] = (200, b"this is not a calendar")
    sync_oncall_schedule(Team.objects.get(slug="platform"))

    html = card(client)

    assert "On call now: not known schedule not read yet" in level(html, 1)
    assert "On call now: not known feed failed Phone" in level(html, 2)
    notes = schedule_notes(html)
    assert "Payments: its on-call schedule has not been read yet (a feed from 127.0.0.1)" in notes
    assert "Platform: the on-call schedule feed failed at 1 Oct 08:00 UTC: The file is not an iCalendar file" in notes
    assert "Who is on call is not known." in notes


def test_a_feed_inside_the_portals_network_is_refused_and_recorded(checkout, settings):
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = False

    schedule = sync_oncall_schedule(Team.objects.get(slug="payments"))

    assert "127.0.0.1 is a loopback address" in schedule.last_error
    assert schedule.last_synced_at is None and not schedule.shifts.exists()
    refused = AuditEvent.objects.get(action="outbound.refused")
    assert refused.object_id == str(schedule.team_id)


def test_a_team_that_stops_publishing_its_feed_shows_no_one_now_but_keeps_then(client, checkout, admin_actor):
    sync_all()
    publish("payments", "", admin_actor)

    assert "On call" not in level(card(client), 1)
    assert "On call then: Ana Lima" in level(card(client, at="2026-10-01T07:00"), 1)


def test_a_schedule_given_as_a_file_never_goes_stale(client, checkout, clock, admin_actor):
    publish("payments", "", admin_actor)
    record_oncall_schedule(Team.objects.get(slug="payments"), ics(PAYMENTS_FEED))
    clock.move_to(NOW + timedelta(days=2), tick=False)

    html = card(client)

    assert "On call now: Ana Lima (until Mon 5 Oct 08:00)" in level(html, 1)
    assert "read 2 d ago" not in level(html, 1)
    assert "On call from the schedule of Payments: imported from a file, read 1 Oct 2026 08:00 UTC (2 d ago)." in (
        schedule_notes(html)
    )


# Reading the feed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "person"),
    [
        ("On Call - Jane Doe - Primary Schedule", "Jane Doe"),  # PagerDuty's schedule feed
        ("On Call - Jane Doe", "Jane Doe"),  # PagerDuty's feed of one user
        ("  Priya   Natarajan ", "Priya Natarajan"),  # Grafana OnCall: the display name
        ("(no title)", UNNAMED),
        ("", UNNAMED),
    ],
)
def test_who_a_shift_names(summary, person):
    assert person_of(summary) == person


def test_reading_twice_reads_each_feed_once_and_changes_nothing(checkout, feed_server):
    first = sync_all()
    shifts = sorted(OnCallShift.objects.values_list("schedule__team__slug", "person", "starts_at", "ends_at"))
    second = sync_all()

    assert [read["team"] for read in first] == ["payments", "platform"]
    assert second == []  # read a moment ago: nothing is due
    assert sorted(OnCallShift.objects.values_list("schedule__team__slug", "person", "starts_at", "ends_at")) == shifts
    assert sorted(feed_server.requests) == ["/private/s3cr3t-payments/feed", "/schedules/platform.ics"]


def test_a_feed_is_read_again_after_fifteen_minutes_and_at_once_when_its_address_changes(
    checkout, clock, feed_server, admin_actor
):
    sync_all()
    clock.move_to(NOW + SYNC_EVERY, tick=False)
    assert [read["team"] for read in sync_all()] == ["payments", "platform"]

    feed_server.feeds["/schedules/platform-v2.ics"] = (200, ics(PLATFORM_FEED))
    publish("platform", feed_server.url("/schedules/platform-v2.ics"), admin_actor)
    assert [read["team"] for read in sync_all()] == ["platform"]
    assert OnCallSchedule.objects.get(team__slug="platform").feed_url.endswith("/platform-v2.ics")


def test_the_reading_is_periodic_work_that_queues_itself_once(checkout):
    schedule = periodic_work()["on-call schedule sync"]

    assert schedule() is not None
    assert schedule() is None  # one run waiting is enough
    waiting = DBTaskResult.objects.get(
        status=TaskResultStatus.READY, task_path="releases.oncall_schedules.sync_due_oncall_schedules_task"
    )
    assert waiting.run_after == NOW + SYNC_EVERY


# The team's feed -----------------------------------------------------------------------


def test_a_teams_approver_sets_its_schedule_feed_and_the_change_is_audited(client, make_team, make_user):
    payments = make_team("Payments")
    client.force_login(make_user("payments.approver", approver_for=[payments]))
    form = {
        "name": "Payments",
        "slug": "payments",
        "chat_channel": "#payments",
        "email": "payments@example.com",
        "pager_handle": "payments-oncall",
        "primary_channel": "page",
        "fallback_channel": "chat",
        "reason": "Publish our rota",
    }
    update = reverse("sla_registry:team_update", args=["payments"])

    refused = client.post(update, {**form, "oncall_schedule_url": "ftp://oncall.example.com/rota.ics"})
    saved = client.post(update, {**form, "oncall_schedule_url": "webcal://acme.pagerduty.com/private/t0ken/feed"})

    assert refused.status_code == 200 and "oncall_schedule_url" in refused.context["form"].errors
    assert saved.status_code == 302
    event = AuditEvent.objects.get(action="team.contacts_changed", object_id=str(payments.pk))
    assert event.payload["changes"] == {"oncall_schedule_url": ["", "webcal://acme.pagerduty.com/private/t0ken/feed"]}
    page = client.get(payments.get_absolute_url()).content.decode()
    assert "An iCalendar feed from acme.pagerduty.com" in page and "t0ken" not in page


# Queries -------------------------------------------------------------------------------


def test_who_is_on_call_costs_one_query_however_many_teams_and_shifts(
    client, checkout, django_assert_num_queries, make_team, severities, admin_actor, feed_server
):
    sync_all()
    with CaptureQueriesContext(connection) as two_teams:
        card(client)
    # (tests/insights/test_oncall.py pins the card's whole count, QUERIES, for a service with an SLA.)
    assert sum('"releases_oncallschedule"' in query["sql"] for query in two_teams.captured_queries) == 1

    matrix = checkout.escalation_matrix
    teams = [make_team() for _ in range(6)]
    for team in teams:
        feed_server.feeds[f"/{team.slug}.ics"] = (200, ics(PAYMENTS_FEED))
        publish(team.slug, feed_server.url(f"/{team.slug}.ics"), admin_actor)
    actions.save_escalation_matrix(
        matrix,
        steps=[
            EscalationStep(
                severity=severities["SEV1"], level=n, wait=timedelta(minutes=5), team=team, channel=Channel.PAGE
            )
            for n, team in enumerate(teams, start=1)
        ],
        responsibilities=[],
        playbook_steps=[],
        acting_user=admin_actor,
        reason="Everyone",
    )
    approval_actions.record_baseline_version(matrix, acting_user=admin_actor)
    sync_all()

    with django_assert_num_queries(len(two_teams)):
        html = card(client)
    rows = body_rows(section(html, "escalation")) + body_rows(section(html, "further-levels"))
    assert len(rows) == 6 and all("On call now: Ana Lima" in row for row in rows)
