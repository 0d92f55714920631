"""The iCalendar feeds: what a calendar program receives, who may read it, and what it never shows."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from approvals import actions as approval_actions
from releases.actions import create_feed_token
from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus
from releases.scheduling import make_effective_with_release
from reviews import actions as review_actions

pytestmark = pytest.mark.django_db


def parse(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_by_uid(calendar):
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def feed_token(user):
    """A personal feed link's token for `user`, made as the feed links page makes it."""
    return create_feed_token(label="Outlook on my laptop", acting_user=user)[1]


def in_the_hour(hours_from_now):
    """A whole minute, as iCalendar keeps times to the second."""
    return (timezone.now() + timedelta(hours=hours_from_now)).replace(second=0, microsecond=0)


@pytest.fixture
def reader(make_user):
    return make_user("feed.reader")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


# Content -------------------------------------------------------------------


def test_the_all_releases_feed_round_trips_times_all_day_cancelled_and_imported_uids(
    reader_client, make_service, make_release, make_calendar
):
    checkout = make_service("Checkout")
    timed_start = in_the_hour(50)
    timed = make_release(
        "Checkout 2026.12.1",
        services=[checkout],
        starts_at=timed_start,
        lasts=timedelta(minutes=90),
        risk=ReleaseRisk.HIGH,
        description="Moves card capture to the new gateway.",
    )
    day = (timezone.now() + timedelta(days=10)).date()
    all_day = make_release(
        "Black Friday freeze",
        services=[checkout],
        starts_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        lasts=timedelta(days=3),
        kind=ReleaseKind.FREEZE,
        all_day=True,
    )
    cancelled = make_release("Checkout 2026.12.2", services=[checkout], status=ReleaseStatus.CANCELLED)
    calendar = make_calendar("Checkout deploys", team=checkout.owner_team)
    imported = make_release(
        "Weekly maintenance",
        services=[checkout],
        calendar=calendar,
        uid="weekly-maint@checkout.example",
        recurrence_id="20261203T100000Z",
        kind=ReleaseKind.MAINTENANCE,
    )
    long_gone = make_release("Ancient release", services=[checkout], starts_at=timezone.now() - timedelta(days=120))

    response = reader_client.get(reverse("releases:feed_all"))
    feed = parse(response)
    assert response["Content-Disposition"] == 'inline; filename="releases.ics"'
    assert str(feed["prodid"]) == "-//SLA Portal//Releases//EN"
    assert str(feed["version"]) == "2.0"
    assert str(feed["method"]) == "PUBLISH"
    assert str(feed["x-wr-calname"]) == "SLA Portal releases"

    events = events_by_uid(feed)
    host = "127.0.0.1"  # from PORTAL_BASE_URL
    assert set(events) == {
        f"release-{timed.pk}@{host}",
        f"release-{all_day.pk}@{host}",
        f"release-{cancelled.pk}@{host}",
        "weekly-maint@checkout.example-20261203T100000Z",
    }, f"{long_gone} ended more than 90 days ago and is left out"

    event = events[f"release-{timed.pk}@{host}"]
    assert event.decoded("dtstart") == timed_start.astimezone(UTC)
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == timed_start + timedelta(minutes=90)
    assert str(event["summary"]) == "Checkout 2026.12.1"
    assert str(event["status"]) == "CONFIRMED"
    assert [str(category) for category in event["categories"].cats] == ["Release", "High risk"]
    portal_link = f"http://127.0.0.1:8000{timed.get_absolute_url()}"
    assert str(event["url"]) == portal_link
    assert "Moves card capture to the new gateway." in str(event["description"])
    assert portal_link in str(event["description"])
    assert "Services: Checkout" in str(event["description"])
    assert "dtstamp" in event

    event = events[f"release-{all_day.pk}@{host}"]
    assert event["dtstart"].params["VALUE"] == "DATE"
    assert event.decoded("dtstart") == day
    assert event.decoded("dtend") == day + timedelta(days=3)
    assert [str(category) for category in event["categories"].cats] == ["Freeze window", "Low risk"]

    assert str(events[f"release-{cancelled.pk}@{host}"]["status"]) == "CANCELLED"
    assert str(events["weekly-maint@checkout.example-20261203T100000Z"]["summary"]) == "Weekly maintenance"
    assert f"release-{imported.pk}@{host}" not in events


def test_the_service_feed_has_its_releases_and_its_dependencies_only(reader_client, make_service, make_release):
    payments = make_service("Payments API")
    checkout = make_service("Checkout", dependencies=[payments])
    search = make_service("Search")
    own = make_release("Checkout 2026.12.1", services=[checkout])
    dependency = make_release("Payments 4.2", services=[payments])
    unrelated = make_release("Search 1.0", services=[search])
    dependent = make_release("Checkout-only consumer", services=[make_service("Storefront", dependencies=[checkout])])

    response = reader_client.get(reverse("releases:feed_service", kwargs={"slug": "checkout"}))
    feed = parse(response)
    assert response["Content-Disposition"] == 'inline; filename="checkout-releases.ics"'
    assert str(feed["x-wr-calname"]) == "Checkout releases"
    summaries = {str(event["summary"]) for event in feed.walk("VEVENT")}
    assert summaries == {own.title, dependency.title}
    assert unrelated.title not in summaries and dependent.title not in summaries


def test_the_service_feed_of_an_unknown_service_is_404(reader_client):
    assert reader_client.get(reverse("releases:feed_service", kwargs={"slug": "nowhere"})).status_code == 404


def test_the_team_feed_has_its_calendars_and_the_services_it_owns(
    reader_client, make_team, make_service, make_release, make_calendar
):
    payments, checkout_team = make_team("Payments"), make_team("Checkout Team")
    gateway = make_service("Gateway", owner_team=payments)
    storefront = make_service("Storefront", owner_team=checkout_team)
    on_owned_service = make_release("Gateway 3.1", services=[gateway])
    calendar = make_calendar("Payments deploys", team=payments)
    on_team_calendar = make_release("Shared DB migration", services=[storefront], calendar=calendar)
    elsewhere = make_release("Storefront 9", services=[storefront])

    feed = parse(reader_client.get(reverse("releases:feed_team", kwargs={"slug": "payments"})))
    summaries = {str(event["summary"]) for event in feed.walk("VEVENT")}
    assert summaries == {on_owned_service.title, on_team_calendar.title}
    assert elsewhere.title not in summaries
    assert str(feed["x-wr-calname"]) == "Payments releases"


# Access --------------------------------------------------------------------


def test_a_calendar_program_reads_the_feed_with_the_token_and_no_session(client, reader, make_service, make_release):
    make_release("Checkout 2026.12.1", services=[make_service("Checkout")])
    url = reverse("releases:feed_service", kwargs={"slug": "checkout"})
    feed = parse(client.get(url, {"token": feed_token(reader)}))
    assert [str(event["summary"]) for event in feed.walk("VEVENT")] == ["Checkout 2026.12.1"]
    assert "_auth_user_id" not in client.session, "the token does not sign anyone in"


@pytest.mark.parametrize("name", ["feed_all", "feed_governance"])
def test_without_session_or_token_the_feed_explains_it_is_forbidden(client, name):
    response = client.get(reverse(f"releases:{name}"))
    assert response.status_code == 403, "a calendar program cannot follow a redirect to the login page"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"personal token" in response.content


def test_a_forged_or_tampered_token_is_forbidden(client, reader):
    url = reverse("releases:feed_all")
    token = feed_token(reader)
    tampered = client.get(url, {"token": token[:-2] + ("AA" if not token.endswith("AA") else "BB")})
    assert tampered.status_code == 403 and b"not known" in tampered.content
    assert client.get(url, {"token": "not-a-token"}).status_code == 403
    assert client.get(url, {"token": "slaf_"}).status_code == 403


def test_a_deactivated_user_s_token_stops_working(client, reader):
    token = feed_token(reader)
    assert client.get(reverse("releases:feed_all"), {"token": token}).status_code == 200
    reader.is_active = False
    reader.save()
    assert client.get(reverse("releases:feed_all"), {"token": token}).status_code == 403


# Governance ------------------------------------------------------------------


@pytest.fixture
def scheduled_change(governed_sla, propose_acknowledge, approve_all, make_release):
    """An approved change to the governed SLA, scheduled with a release in three days."""
    release = make_release("Payments 5.0", services=[governed_sla.sla.service], starts_at=in_the_hour(72))
    change_request = propose_acknowledge(governed_sla, 15, summary="Faster SEV1 acknowledgement")
    change_request = make_effective_with_release(change_request, release, acting_user=governed_sla.author)
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    change_request = approve_all(governed_sla, change_request)
    assert change_request.state == "approved"
    return change_request


@pytest.fixture
def restricted_publication(make_team, make_user, make_service, make_review):
    """A restricted review whose publication is approved and scheduled, and who may see it."""
    security = make_team("Security")
    owners = make_team("Vault Team")
    vault = make_service("Vault", owner_team=owners)
    author = make_user("security.writer", teams=[security])
    review = make_review(
        [vault], title="Leaked signing keys", is_restricted=True, restricted_to=[security, owners], acting_user=author
    )
    change_request = review_actions.submit_for_publication(
        review, summary="Publish the signing key review", rationale="Agreed.", acting_user=author
    )
    approval_actions.reschedule_change_request(change_request, effective_at=in_the_hour(30), acting_user=author)
    for required in change_request.required_approvals.select_related("team"):
        approver = make_user(approver_for=[required.team])
        change_request = approval_actions.decide_change_request(
            change_request, required.team, verdict="approve", acting_user=approver
        )
    assert change_request.state == "approved"
    return change_request, make_user("security.analyst", teams=[security])


def test_the_governance_feed_lists_scheduled_changes_and_review_due_dates(
    client, governed_sla, scheduled_change, restricted_publication
):
    hidden, _ = restricted_publication
    outsider = governed_sla.author
    client.force_login(outsider)
    response = client.get(reverse("releases:feed_governance"))
    feed = parse(response)
    assert response["Content-Disposition"] == 'inline; filename="governance.ics"'
    assert str(feed["x-wr-calname"]) == "SLA Portal governance"
    events = events_by_uid(feed)

    change = events[f"change-request-{scheduled_change.pk}@127.0.0.1"]
    assert str(change["summary"]) == f"{scheduled_change.reference} takes effect: Faster SEV1 acknowledgement"
    assert change.decoded("dtstart") == scheduled_change.effective_at
    assert "Effective with release Payments 5.0" in str(change["description"])
    assert f"SLA {governed_sla.sla.reference}" in str(change["description"])

    sla = governed_sla.sla
    due = events[f"review-due-sla-{sla.pk}@127.0.0.1"]
    assert str(due["summary"]) == f"Review due: {sla.reference} Payments for Checkout"
    assert due["dtstart"].params["VALUE"] == "DATE"
    sla.refresh_from_db()
    assert due.decoded("dtstart") == sla.next_review_due.astimezone(UTC).date()
    assert due.decoded("dtend") == due.decoded("dtstart") + timedelta(days=1)
    assert "Version 1" in str(due["description"])

    assert f"change-request-{hidden.pk}@127.0.0.1" not in events, "the outsider may not see the restricted review"
    assert b"Leaked signing keys" not in response.content and b"signing key review" not in response.content


def test_who_may_see_a_restricted_review_finds_its_scheduled_publication(client, restricted_publication):
    change_request, analyst = restricted_publication
    feed = parse(client.get(reverse("releases:feed_governance"), {"token": feed_token(analyst)}))
    event = events_by_uid(feed)[f"change-request-{change_request.pk}@127.0.0.1"]
    assert str(event["summary"]) == f"{change_request.reference} takes effect: Publish the signing key review"


def test_the_governance_feed_through_a_token_hides_what_its_user_may_not_see(client, restricted_publication, make_user):
    change_request, _ = restricted_publication
    outsider = make_user("outsider")
    feed = parse(client.get(reverse("releases:feed_governance"), {"token": feed_token(outsider)}))
    assert f"change-request-{change_request.pk}@127.0.0.1" not in events_by_uid(feed)


def test_a_retired_sla_has_no_review_due(reader_client, make_sla, admin_actor):
    sla = make_sla("Old terms", status="retired")
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    feed = parse(reader_client.get(reverse("releases:feed_governance")))
    assert f"review-due-sla-{sla.pk}@127.0.0.1" not in events_by_uid(feed)


# Query counts ----------------------------------------------------------------
# Session and user (2) for a signed-in reader; then the feed's own reads.


def _count(client, django_assert_num_queries, url, expected, **params):
    with django_assert_num_queries(expected):
        response = client.get(url, params)
    assert response.status_code == 200


def test_release_feed_queries_do_not_grow_with_releases(
    reader_client, django_assert_num_queries, make_team, make_service, make_release, make_calendar
):
    team = make_team("Payments")
    payments = make_service("Payments API", owner_team=team)
    checkout = make_service("Checkout", owner_team=team, dependencies=[payments])
    calendar = make_calendar(team=team)

    def add(count):
        for number in range(count):
            make_release(services=[checkout, payments] if number % 2 else [payments], calendar=calendar)

    add(1)
    urls = {
        reverse("releases:feed_all"): 4,  # + releases, their services
        reverse("releases:feed_service", kwargs={"slug": "checkout"}): 5,  # + the service
        reverse("releases:feed_team", kwargs={"slug": "payments"}): 5,  # + the team
    }
    for url, expected in urls.items():
        _count(reader_client, django_assert_num_queries, url, expected)
    add(30)
    for url, expected in urls.items():
        _count(reader_client, django_assert_num_queries, url, expected)


def test_token_feed_queries_do_not_grow_with_releases(client, reader, django_assert_num_queries, make_release):
    make_release()
    token = feed_token(reader)
    # The token with its user, its first use noted, releases, their services: no session.
    _count(client, django_assert_num_queries, reverse("releases:feed_all"), 4, token=token)
    for _ in range(20):
        make_release()
    # Within the minute its use is not written again.
    _count(client, django_assert_num_queries, reverse("releases:feed_all"), 3, token=token)


def test_governance_feed_queries_do_not_grow(
    client, governed_sla, scheduled_change, django_assert_num_queries, make_sla, make_matrix, admin_actor
):
    client.force_login(governed_sla.author)
    # Session, user, SLAs with their versions, matrices with theirs, visible change requests.
    _count(client, django_assert_num_queries, reverse("releases:feed_governance"), 5)
    for _ in range(10):
        sla = make_sla()
        approval_actions.record_baseline_version(sla, acting_user=admin_actor)
        matrix = make_matrix(sla.service)
        approval_actions.record_baseline_version(matrix, acting_user=admin_actor)
    _count(client, django_assert_num_queries, reverse("releases:feed_governance"), 5)


def test_the_all_day_dates_of_a_release():
    """An all-day release stored up to midnight after its last day ends there; one ending during a day ends after it."""
    from releases.feeds import all_day_dates

    start = datetime(2026, 12, 24, tzinfo=UTC)
    assert all_day_dates(start, datetime(2026, 12, 26, tzinfo=UTC)) == (date(2026, 12, 24), date(2026, 12, 26))
    assert all_day_dates(start, datetime(2026, 12, 25, 23, 59, tzinfo=UTC)) == (date(2026, 12, 24), date(2026, 12, 26))
    assert all_day_dates(start, start) == (date(2026, 12, 24), date(2026, 12, 25))


def test_an_imported_all_day_release_keeps_its_day_in_the_calendar_teams_time_zone(
    reader_client, make_team, make_calendar, make_release, make_service
):
    from zoneinfo import ZoneInfo

    tokyo_team = make_team("Tokyo ops", time_zone="Asia/Tokyo")
    calendar = make_calendar("Tokyo changes", team=tokyo_team)
    day = (timezone.now() + timedelta(days=30)).date()
    midnight_in_tokyo = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Tokyo"))  # 15:00 UTC before
    make_release(
        "Year-end freeze (Tokyo)",
        services=[make_service("Tokyo storefront", owner_team=tokyo_team)],
        calendar=calendar,
        uid="tokyo-freeze@example.com",
        all_day=True,
        starts_at=midnight_in_tokyo,
        lasts=timedelta(days=2),
    )
    event = events_by_uid(parse(reader_client.get(reverse("releases:feed_all"))))["tokyo-freeze@example.com"]
    assert event.decoded("dtstart") == day
    assert event.decoded("dtend") == day + timedelta(days=2)
