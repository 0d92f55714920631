"""Importing iCalendar files into a calendar's releases: times, recurrences, reconciliation, bad input, history."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import ChangeRequest
from releases.actions import save_rules
from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus, RuleField, SyncSource
from releases.importing import import_calendar
from releases.models import CalendarSync, Release, ServiceRule
from releases.scheduling import make_effective_with_release

pytestmark = pytest.mark.django_db

CALENDARS = Path(__file__).parent / "calendars"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today():
    """Every test runs on 2026-11-29 (change requests refuse times in the past, so the clock matters too)."""
    with time_machine.travel(NOW):
        yield


def ics(name):
    return (CALENDARS / name).read_bytes()


def run_import(calendar, name_or_bytes, *, now=NOW, **options):
    data = ics(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
    options.setdefault("source", SyncSource.UPLOAD)
    return import_calendar(calendar, data, now=now, **options)


def releases_by_title(calendar):
    return {release.title: release for release in Release.objects.filter(calendar=calendar)}


def snapshot(calendar):
    """Everything an import may change, to prove a failed one changed nothing."""
    return [
        (r.uid, r.recurrence_id, r.title, r.starts_at, r.ends_at, r.status, r.fingerprint, r.updated_at)
        for r in Release.objects.filter(calendar=calendar).order_by("uid", "recurrence_id")
    ]


def vcalendar(*events, extra=""):
    """A minimal iCalendar file around VEVENT bodies (lines joined with CRLF)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", *filter(None, extra.splitlines())]
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def london(make_team):
    return make_team("London office", time_zone="Europe/London")


@pytest.fixture
def berlin(make_team):
    return make_team("Berlin office", time_zone="Europe/Berlin")


@pytest.fixture
def new_york(make_team):
    return make_team("New York office", time_zone="America/New_York")


# Each fixture file -----------------------------------------------------------


def test_a_google_calendar_export_imports_with_its_times_kinds_and_risks(make_calendar, london, admin_actor):
    calendar = make_calendar("Payments releases", team=london)

    sync = run_import(calendar, "google_calendar.ics", acting_user=admin_actor)

    assert sync.error == ""
    assert (sync.added, sync.updated, sync.cancelled, sync.unchanged) == (4, 0, 0, 0)
    releases = releases_by_title(calendar)
    payments = releases["Payments 2026.12.1"]
    assert (payments.starts_at, payments.ends_at) == (utc(2026, 12, 3, 9), utc(2026, 12, 3, 10))
    assert payments.description == "Card tokenisation moves to the new vault.\nRollback: redeploy 2026.11.3."
    assert payments.location == "eu-west-1"
    assert (payments.kind, payments.risk, payments.status) == (ReleaseKind.RELEASE, ReleaseRisk.LOW, "scheduled")
    assert (payments.uid, payments.recurrence_id) == ("4q2hv1m7l0c9ub1k8d3sj5r6tg@google.com", "")
    maintenance = releases["Database maintenance"]
    assert (maintenance.starts_at, maintenance.ends_at) == (utc(2026, 12, 12, 22), utc(2026, 12, 13, 2))
    assert maintenance.kind == ReleaseKind.MAINTENANCE
    freeze = releases["Year-end code freeze"]
    assert freeze.all_day and freeze.kind == ReleaseKind.FREEZE
    assert (freeze.starts_at, freeze.ends_at) == (utc(2026, 12, 21), utc(2027, 1, 4))
    summer = releases["Payments 2027.04.1 (high risk)"]
    assert summer.starts_at == utc(2027, 4, 6, 13)  # 14:00 British Summer Time
    assert summer.risk == ReleaseRisk.HIGH
    calendar.refresh_from_db()
    assert (calendar.last_synced_at, calendar.last_error) == (NOW, "")
    assert sync.started_by == admin_actor
    assert {change["action"] for change in sync.changes} == {"added"}
    assert sync.changes[0] == {
        "action": "added",
        "title": "Payments 2026.12.1",
        "starts_at": "2026-12-03T09:00:00+00:00",
    }


def test_an_exchange_export_resolves_windows_time_zones_and_custom_vtimezones(make_calendar, berlin):
    calendar = make_calendar("Checkout releases", team=berlin)

    sync = run_import(calendar, "exchange.ics")

    assert (sync.error, sync.added) == ("", 4)
    releases = releases_by_title(calendar)
    december = releases["Checkout 2026.12.1"]
    assert (december.starts_at, december.ends_at) == (utc(2026, 12, 8, 9), utc(2026, 12, 8, 10))  # CET
    assert december.categories == "Release, Medium risk"
    assert december.risk == ReleaseRisk.MEDIUM
    assert december.location == "Deploy pipeline eu-central"
    assert december.uid.startswith("040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5DA01")
    assert releases["Checkout 2027.07.1"].starts_at == utc(2027, 7, 6, 8)  # CEST
    network = releases["Network maintenance"]
    assert (network.kind, network.starts_at, network.ends_at) == (
        ReleaseKind.MAINTENANCE,
        utc(2026, 12, 14, 19),
        utc(2026, 12, 14, 22),
    )
    # Outlook's "Customized Time Zone" exists only as the file's VTIMEZONE (+05:30).
    assert releases["Fraud rules 2026.12"].starts_at == utc(2026, 12, 10, 9, 30)


def test_windows_time_zone_names_resolve_without_a_vtimezone_block(make_calendar, make_team):
    calendar = make_calendar(team=make_team(time_zone="Asia/Tokyo"))
    data = vcalendar(
        "UID:pst@x\nSUMMARY:Pacific\nDTSTART;TZID=Pacific Standard Time:20261203T090000",
        'UID:gmt@x\nSUMMARY:London summer\nDTSTART;TZID="GMT Standard Time":20260703T090000',
        "UID:cet@x\nSUMMARY:Berlin winter\nDTSTART;TZID=W. Europe Standard Time:20261203T090000",
    )

    sync = run_import(calendar, data)

    assert sync.error == ""
    releases = releases_by_title(calendar)
    assert releases["Pacific"].starts_at == utc(2026, 12, 3, 17)
    assert releases["London summer"].starts_at == utc(2026, 7, 3, 8)
    assert releases["Berlin winter"].starts_at == utc(2026, 12, 3, 8)
    # No end: a timed event ends when it starts.
    assert releases["Pacific"].ends_at == releases["Pacific"].starts_at


def test_a_recurring_release_train_expands_with_its_exdate_and_overrides(make_calendar, berlin):
    calendar = make_calendar("Platform release train", team=berlin)

    sync = run_import(calendar, "release_train.ics")

    assert (sync.error, sync.added, sync.cancelled) == ("", 6, 1)
    occurrences = {
        release.recurrence_id: release
        for release in Release.objects.filter(calendar=calendar, uid="platform-train@ci.example.com")
    }
    assert sorted(occurrences) == [
        "20261201T090000Z",
        "20261208T090000Z",
        "20261215T090000Z",
        "20261222T090000Z",
        # 29 December is an EXDATE: no occurrence at all.
        "20270105T090000Z",
        "20270112T090000Z",
        "20270119T090000Z",
    ]
    assert occurrences["20261201T090000Z"].starts_at == utc(2026, 12, 1, 9)
    assert occurrences["20261201T090000Z"].ends_at == utc(2026, 12, 1, 10)
    assert occurrences["20261201T090000Z"].categories == "Release train"
    moved = occurrences["20261215T090000Z"]
    assert moved.title == "Platform release train (moved: Tuesday is the payments freeze)"
    assert (moved.starts_at, moved.ends_at) == (utc(2026, 12, 16, 13), utc(2026, 12, 16, 14))
    assert not Release.objects.filter(calendar=calendar, starts_at=utc(2026, 12, 15, 9)).exists()
    assert occurrences["20270112T090000Z"].status == ReleaseStatus.CANCELLED
    assert {release.status for key, release in occurrences.items() if key != "20270112T090000Z"} == {"scheduled"}


def test_all_day_events_start_at_midnight_in_the_team_s_time_zone(make_calendar, new_york):
    calendar = make_calendar("Storefront change windows", team=new_york)

    sync = run_import(calendar, "all_day.ics")

    assert (sync.error, sync.added) == ("", 5)
    releases = Release.objects.filter(calendar=calendar)
    assert all(release.all_day for release in releases)
    holiday = releases.get(title="Holiday change freeze")
    assert (holiday.kind, holiday.starts_at, holiday.ends_at) == (
        ReleaseKind.FREEZE,
        utc(2026, 12, 24, 5),
        utc(2026, 12, 27, 5),
    )
    quarter_close = releases.get(title="Quarter close")  # no DTEND: one day
    assert (quarter_close.starts_at, quarter_close.ends_at) == (utc(2026, 12, 31, 5), utc(2027, 1, 1, 5))
    patch_days = releases.filter(title="Patch day").order_by("starts_at")
    assert [release.recurrence_id for release in patch_days] == ["20261201", "20270101", "20270201"]
    assert [release.starts_at for release in patch_days] == [
        utc(2026, 12, 1, 5),
        utc(2027, 1, 1, 5),
        utc(2027, 2, 1, 5),
    ]
    assert {release.kind for release in patch_days} == {ReleaseKind.MAINTENANCE}


def test_floating_times_are_read_in_the_team_s_time_zone_even_across_a_dst_change(make_calendar, new_york):
    calendar = make_calendar(team=new_york)

    sync = run_import(calendar, "floating.ics")

    assert sync.error == ""
    single = Release.objects.get(calendar=calendar, title="Storefront 2026.12.1")
    assert (single.starts_at, single.ends_at) == (utc(2026, 12, 10, 14), utc(2026, 12, 10, 14, 30))
    deploys = Release.objects.filter(calendar=calendar, title="Storefront config deploy").order_by("starts_at")
    # 09:00 in New York each week: EST, EST, then EDT from 14 March 2027.
    assert [release.starts_at for release in deploys] == [
        utc(2027, 3, 1, 14),
        utc(2027, 3, 8, 14),
        utc(2027, 3, 15, 13),
    ]
    assert [release.ends_at - release.starts_at for release in deploys] == [timedelta(minutes=15)] * 3


def test_floating_times_follow_the_file_s_x_wr_timezone_when_it_names_one(make_calendar, new_york):
    calendar = make_calendar(team=new_york)
    data = vcalendar("UID:tokyo@x\nSUMMARY:Tokyo deploy\nDTSTART:20261210T090000", extra="X-WR-TIMEZONE:Asia/Tokyo")

    run_import(calendar, data)

    assert Release.objects.get(calendar=calendar).starts_at == utc(2026, 12, 10, 0)


# Reconciling with what was imported before -------------------------------------


def test_importing_the_same_file_again_changes_nothing(make_calendar, london):
    calendar = make_calendar(team=london)
    run_import(calendar, "google_calendar.ics")
    rows, history_rows = snapshot(calendar), Release.history.count()

    again = run_import(calendar, "google_calendar.ics", now=NOW + timedelta(hours=1))

    assert (again.error, again.added, again.updated, again.cancelled, again.unchanged) == ("", 0, 0, 0, 4)
    assert again.changes == []
    assert snapshot(calendar) == rows
    assert Release.history.count() == history_rows


def test_a_changed_file_updates_moves_adds_and_cancels_but_never_deletes(make_calendar, berlin):
    calendar = make_calendar(team=berlin)
    run_import(calendar, "exchange.ics")

    sync = run_import(calendar, "exchange_updated.ics", now=NOW + timedelta(days=1))

    assert sync.error == ""
    assert (sync.added, sync.updated, sync.cancelled, sync.unchanged) == (1, 2, 2, 0)
    releases = releases_by_title(calendar)
    assert len(releases) == 5  # nothing deleted
    assert releases["Checkout 2026.12.1"].starts_at == utc(2026, 12, 9, 13)
    retitled = releases["Checkout 2027.07.1 (ledger migration, high risk)"]
    assert retitled.risk == ReleaseRisk.HIGH
    assert releases["Canceled: Network maintenance"].status == ReleaseStatus.CANCELLED  # STATUS:CANCELLED
    assert releases["Fraud rules 2026.12"].status == ReleaseStatus.CANCELLED  # gone from the file
    assert releases["Checkout 2026.12.2"].status == ReleaseStatus.SCHEDULED
    assert sorted((change["action"], change["title"]) for change in sync.changes) == [
        ("added", "Checkout 2026.12.2"),
        ("cancelled", "Canceled: Network maintenance"),
        ("cancelled", "Fraud rules 2026.12"),
        ("updated", "Checkout 2026.12.1"),
        ("updated", "Checkout 2027.07.1 (ledger migration, high risk)"),
    ]


def test_an_event_that_comes_back_is_scheduled_again(make_calendar, berlin):
    calendar = make_calendar(team=berlin)
    run_import(calendar, "exchange.ics")
    run_import(calendar, "exchange_updated.ics")

    sync = run_import(calendar, "exchange.ics")

    fraud = Release.objects.get(calendar=calendar, title="Fraud rules 2026.12")
    assert fraud.status == ReleaseStatus.SCHEDULED
    assert sync.updated == 4  # fraud rules back, network back, two times and titles back
    assert sync.cancelled == 1  # Checkout 2026.12.2 is not in the older file


def test_a_cancelled_event_is_imported_as_cancelled(make_calendar, make_team):
    calendar = make_calendar(team=make_team())

    sync = run_import(calendar, "cancelled.ics")

    assert (sync.added, sync.cancelled) == (1, 1)
    releases = releases_by_title(calendar)
    assert releases["Search 2026.12.1"].status == ReleaseStatus.CANCELLED
    assert releases["Search 2026.12.2"].status == ReleaseStatus.SCHEDULED


def test_events_outside_the_window_are_neither_imported_nor_cancelled(make_calendar, make_team):
    calendar = make_calendar(team=make_team(), history_days=30, horizon_days=60)
    old = "UID:old@x\nSUMMARY:Last month\nDTSTART:20261115T100000Z"
    soon = "UID:soon@x\nSUMMARY:Next week\nDTSTART:20261206T100000Z"
    far = "UID:far@x\nSUMMARY:Next year\nDTSTART:20271206T100000Z"
    run_import(calendar, vcalendar(old, soon, far))
    assert set(releases_by_title(calendar)) == {"Last month", "Next week"}

    # A month later the feed no longer lists last month's event: it happened, it is not cancelled.
    sync = run_import(calendar, vcalendar(soon), now=NOW + timedelta(days=30))

    assert (sync.cancelled, sync.unchanged) == (0, 1)
    assert releases_by_title(calendar)["Last month"].status == ReleaseStatus.SCHEDULED


# Bad input ---------------------------------------------------------------------


def test_a_malformed_dtstart_names_the_event_and_changes_nothing(make_calendar, berlin, admin_actor):
    calendar = make_calendar(team=berlin)
    first = run_import(calendar, "exchange.ics")
    before = snapshot(calendar)

    sync = run_import(calendar, "malformed_dtstart.ics", now=NOW + timedelta(days=1), acting_user=admin_actor)

    assert sync.error.startswith('Event "Checkout 2026.12.1" (UID 040000008200E00074C5B7101A82E00800000000D0A1B2C3')
    assert sync.error.endswith(': DTSTART "2026-13-45" is not a valid date-time.')
    assert (sync.added, sync.updated, sync.cancelled, sync.unchanged) == (0, 0, 0, 0)
    assert snapshot(calendar) == before
    assert CalendarSync.objects.get(pk=sync.pk).error == sync.error  # persisted despite the rollback
    calendar.refresh_from_db()
    assert calendar.last_error == sync.error
    assert calendar.last_synced_at == first.started_at  # the last import that succeeded


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"<html><body>Please sign in</body></html>",
            "but begins with \u201c<html><body>Please sign in</body></html>\u201d.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\xff",
            "it should begin with BEGIN:VCALENDAR, but is not text (another kind of file?).",
        ),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nthis is junk\r\nEND:VCALENDAR\r\n",
            "line 3 (\u201cthis is junk\u201d) cannot be read.",
        ),
        (b"", "The file is empty"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "but begins with \u201cBEGIN:VEVENT\u201d"),
        (
            vcalendar("UID:nostart@x\nSUMMARY:Checkout 2026.12.3"),
            'Event "Checkout 2026.12.3" (UID nostart@x): DTSTART is missing; every event needs a start.',
        ),
        (
            vcalendar("UID:back@x\nSUMMARY:Backwards\nDTSTART:20261209T140000Z\nDTEND:20261209T130000Z"),
            'Event "Backwards" (UID back@x): it ends before it starts (DTSTART "20261209T140000Z", '
            'DTEND "20261209T130000Z").',
        ),
        (
            vcalendar("UID:end@x\nSUMMARY:Bad end\nDTSTART:20261209T140000Z\nDTEND:tomorrow"),
            'Event "Bad end" (UID end@x): DTEND "tomorrow" is not a valid date-time.',
        ),
        (
            vcalendar("UID:rule@x\nSUMMARY:Bad rule\nDTSTART:20261209T140000Z\nRRULE:FREQ=SOMETIMES"),
            'Event "Bad rule" (UID rule@x): RRULE ',
        ),
    ],
    ids=[
        "html",
        "binary",
        "junk-line",
        "empty",
        "no-vcalendar",
        "no-dtstart",
        "ends-before-start",
        "bad-dtend",
        "bad-rrule",
    ],
)
def test_bad_input_is_reported_and_nothing_is_written(make_calendar, make_team, data, message):
    calendar = make_calendar(team=make_team())
    good = "UID:good@x\nSUMMARY:Fine\nDTSTART:20261209T140000Z"
    run_import(calendar, vcalendar(good))

    sync = run_import(calendar, data)

    assert message in sync.error
    assert sync.pk and not sync.succeeded
    assert list(Release.objects.filter(calendar=calendar).values_list("title", "status")) == [("Fine", "scheduled")]


# Services, history, change requests ----------------------------------------------


def test_services_come_from_the_defaults_and_the_matching_rules(make_calendar, make_service, berlin, admin_actor):
    checkout_api, basket, network, frankfurt, fraud = (
        make_service(name) for name in ("Checkout API", "Basket", "Network", "Frankfurt DC", "Fraud")
    )
    calendar = make_calendar(team=berlin, default_services=[checkout_api])
    rules = [
        ServiceRule(field=RuleField.SUMMARY, value="CHECKOUT", service=basket),
        ServiceRule(field=RuleField.CATEGORY, value="infrastructure", service=network),
        ServiceRule(field=RuleField.CATEGORY, value="Infra", service=fraud),  # a category is matched whole
        ServiceRule(field=RuleField.LOCATION, value="frankfurt", service=frankfurt),
        ServiceRule(field=RuleField.DESCRIPTION, value="fraud rules", service=fraud),
    ]
    save_rules(calendar, rules, acting_user=admin_actor, reason="test set-up")

    run_import(calendar, "exchange.ics")

    def services(title):
        return {service.name for service in Release.objects.get(calendar=calendar, title=title).services.all()}

    assert services("Checkout 2026.12.1") == {"Checkout API", "Basket"}
    assert services("Network maintenance") == {"Checkout API", "Network", "Frankfurt DC"}
    assert services("Fraud rules 2026.12") == {"Checkout API", "Fraud"}

    # A new rule changes what the events concern: the next import updates them.
    save_rules(
        calendar,
        [*rules, ServiceRule(field=RuleField.SUMMARY, value="2027", service=fraud)],
        acting_user=admin_actor,
        reason="test set-up",
    )
    sync = run_import(calendar, "exchange.ics")
    assert (sync.updated, sync.unchanged) == (1, 3)
    assert services("Checkout 2027.07.1") == {"Checkout API", "Basket", "Fraud"}


def test_imported_changes_show_in_history_with_user_reason_and_services(
    make_calendar, make_service, berlin, admin_actor
):
    checkout_api = make_service("Checkout API")
    calendar = make_calendar(team=berlin, default_services=[checkout_api])
    run_import(calendar, "exchange.ics", acting_user=admin_actor, source=SyncSource.FEED)
    run_import(calendar, "exchange_updated.ics", acting_user=admin_actor, source=SyncSource.FEED)

    release = Release.objects.get(calendar=calendar, title="Checkout 2026.12.1")
    created, moved = release.history.order_by("history_date", "history_id")
    assert (created.history_type, moved.history_type) == ("+", "~")
    assert {row.history_user for row in (created, moved)} == {admin_actor}
    assert {row.history_change_reason for row in (created, moved)} == {"import from feed"}
    assert (created.starts_at, moved.starts_at) == (utc(2026, 12, 8, 9), utc(2026, 12, 9, 13))
    assert [row.service_id for row in moved.services.all()] == [checkout_api.pk]
    delta = moved.diff_against(created)
    assert "starts_at" in delta.changed_fields
    assert "services" not in delta.changed_fields


def test_a_change_request_follows_its_release_when_the_feed_moves_or_cancels_it(
    make_calendar, berlin, governed_sla, propose_acknowledge
):
    calendar = make_calendar(team=berlin)
    run_import(calendar, "exchange.ics")
    releases = releases_by_title(calendar)
    follows_move = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), releases["Checkout 2026.12.1"], acting_user=governed_sla.author
    )
    follows_cancel = make_effective_with_release(
        propose_acknowledge(governed_sla, 12, summary="Another"),
        releases["Network maintenance"],
        acting_user=governed_sla.author,
    )
    assert follows_move.effective_at == utc(2026, 12, 8, 9)

    run_import(calendar, "exchange_updated.ics")

    moved = ChangeRequest.objects.get(pk=follows_move.pk)
    assert moved.effective_at == utc(2026, 12, 9, 13)
    assert moved.effective_with.startswith("effective with release Checkout 2026.12.1")
    held = ChangeRequest.objects.get(pk=follows_cancel.pk)
    assert held.effective_at is None
    assert held.effective_with.startswith("held:")


def test_a_release_moved_into_the_past_is_imported_but_its_change_request_stays_put(
    make_calendar, make_team, governed_sla, propose_acknowledge
):
    calendar = make_calendar(team=make_team())
    run_import(calendar, vcalendar("UID:late@x\nSUMMARY:Search 2026.12.5\nDTSTART:20261205T100000Z"))
    change_request = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), Release.objects.get(uid="late@x"), acting_user=governed_sla.author
    )

    # The team records that the release actually went out yesterday.
    sync = run_import(calendar, vcalendar("UID:late@x\nSUMMARY:Search 2026.12.5\nDTSTART:20261128T100000Z"))

    assert (sync.error, sync.updated) == ("", 1)
    assert Release.objects.get(uid="late@x").starts_at == utc(2026, 11, 28, 10)
    change_request.refresh_from_db()
    assert change_request.effective_at == utc(2026, 12, 5, 10)  # a draft cannot take effect in the past
    not_followed = [change for change in sync.changes if change["action"] == "not followed"]
    assert [change["title"] for change in not_followed] == ["Search 2026.12.5"]
    assert "must be in the future" in not_followed[0]["note"]


# Scale -------------------------------------------------------------------------------


def generated_feed(count, *, start=datetime(2026, 6, 1, 8, tzinfo=UTC)):
    """A deterministic feed of `count` two-hour events, one every six hours, every tenth a freeze."""
    feed = icalendar.Calendar()
    feed.add("prodid", "-//tests//generated//EN")
    feed.add("version", "2.0")
    for number in range(count):
        event = icalendar.Event()
        event.add("uid", f"generated-{number}@tests")
        event.add("summary", f"{'Freeze' if number % 10 == 0 else 'Release'} {number}")
        event.add("dtstart", start + timedelta(hours=6 * number % (24 * 500)))
        event.add("dtend", start + timedelta(hours=6 * number % (24 * 500), minutes=120))
        event.add("categories", ["Generated", "High risk" if number % 7 == 0 else "Routine"])
        event.add("description", f"Generated event number {number}.")
        feed.add_component(event)
    return feed.to_ical()


def test_the_number_of_queries_does_not_grow_with_the_number_of_events(make_calendar, make_team, make_service):
    calendar = make_calendar(team=make_team(), default_services=[make_service()])

    def queries(count):
        with CaptureQueriesContext(connection) as captured:
            sync = run_import(calendar, generated_feed(count))
        assert sync.error == ""
        return len(captured)

    assert queries(5) == queries(50)  # the second import adds 45 and leaves 5 unchanged


def test_a_feed_of_ten_thousand_events_imports_in_reasonable_time(make_calendar, make_team, make_service, tmp_path):
    calendar = make_calendar(team=make_team(), default_services=[make_service()])
    path = tmp_path / "ten-thousand.ics"
    path.write_bytes(generated_feed(10_000))

    clock = time.perf_counter()
    sync = run_import(calendar, path.read_bytes())
    first = time.perf_counter() - clock
    clock = time.perf_counter()
    again = run_import(calendar, path.read_bytes())
    second = time.perf_counter() - clock
    print(f"\n10,000 events: first import {first:.1f} s, re-import {second:.1f} s ({connection.vendor})")

    assert (sync.error, sync.added) == ("", 10_000)
    assert (again.unchanged, again.added, again.updated) == (10_000, 0, 0)
    assert Release.objects.filter(calendar=calendar).count() == 10_000
    assert Release.services.through.objects.filter(release__calendar=calendar).count() == 10_000
    assert len(sync.changes) == 100
    assert Release.objects.filter(calendar=calendar, kind=ReleaseKind.FREEZE).count() == 1_000


def test_imported_releases_are_searchable_at_once(make_calendar, london, admin_actor):
    from search.backends import search

    calendar = make_calendar(team=london)
    run_import(calendar, "google_calendar.ics")
    release = Release.objects.filter(calendar=calendar).order_by("pk").first()
    hits = search(release.title, user=admin_actor).hits
    assert release.get_absolute_url() in [hit.document.url for hit in hits]


# Small files that would expand without end ------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "refusal"),
    [
        # Every minute since 1970: refused from the rule alone, before a single step is taken.
        ("DTSTART:19700101T000000Z\r\nRRULE:FREQ=MINUTELY", "before the import window ends"),
        # Ten million seconds from the window's start: bounded by the rule as well.
        ("DTSTART:20261129T000000Z\r\nRRULE:FREQ=SECONDLY;COUNT=10000000", "CALENDAR_MAX_RECURRENCE_STEPS"),
        # Daily, but every hour and minute of the day: as many occurrences as a minutely rule.
        (
            "DTSTART:20261101T000000Z\r\nRRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
            "21,22,23;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55",
            "CALENDAR_MAX_OCCURRENCES_PER_EVENT",
        ),
    ],
)
def test_a_tiny_calendar_that_would_expand_without_end_is_refused_naming_the_event_and_the_cap(
    make_calendar, london, rule, refusal
):
    calendar = make_calendar("Trains", team=london)
    data = vcalendar(f"UID:boom@example.com\r\nSUMMARY:Boom\r\n{rule}\r\nDTEND:20300101T000100Z")
    assert len(data) < 400
    before = snapshot(calendar)

    sync = run_import(calendar, data)

    assert "Boom" in sync.error and refusal in sync.error
    assert snapshot(calendar) == before


def test_the_occurrence_caps_are_settings(make_calendar, london, settings):
    settings.CALENDAR_MAX_OCCURRENCES_PER_EVENT = 3
    calendar = make_calendar("Trains", team=london)
    weekly = "UID:train@example.com\r\nSUMMARY:Release train\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z"
    sync = run_import(calendar, vcalendar(f"{weekly}\r\nRRULE:FREQ=WEEKLY;COUNT=3"))
    assert (sync.error, sync.added) == ("", 3)
    sync = run_import(calendar, vcalendar(f"{weekly}\r\nRRULE:FREQ=WEEKLY;COUNT=4"))
    assert "more than 3 occurrences" in sync.error and "Release train" in sync.error
