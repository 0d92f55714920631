"""The release and calendar pages: reading, filtering, entering by hand, permissions, and query counts."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus
from releases.models import Calendar, Release, ServiceRule

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"releases:{name}", args=args)


@pytest.fixture
def payments(make_team):
    return make_team("Payments")


@pytest.fixture
def checkout(make_service, payments):
    return make_service("Checkout API", owner_team=payments)


@pytest.fixture
def member(make_user, payments):
    return make_user("payments.engineer", teams=[payments])


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def reader_client(make_user):
    reader = Client()
    reader.force_login(make_user("reader"))
    return reader


def test_release_list_shows_upcoming_releases_first_and_filters(reader_client, make_release, checkout, make_service):
    make_release("2026.12.1", services=[checkout], starts_in=timedelta(days=3), risk=ReleaseRisk.HIGH)
    make_release("2026.11.9", services=[checkout], starts_in=timedelta(days=-20))
    make_release("Ledger 4.2", services=[make_service("Ledger")], starts_in=timedelta(days=1))

    page = reader_client.get(url("release_list")).content.decode()
    assert page.index("Ledger 4.2") < page.index("2026.12.1")
    assert "2026.11.9" not in page

    past = reader_client.get(url("release_list"), {"when": "past"}).content.decode()
    assert "2026.11.9" in past and "2026.12.1" not in past

    high = reader_client.get(url("release_list"), {"risk": "high"}).content.decode()
    assert "2026.12.1" in high and "Ledger 4.2" not in high

    by_service = reader_client.get(url("release_list"), {"service": "checkout-api", "when": "all"}).content.decode()
    assert "2026.12.1" in by_service and "2026.11.9" in by_service and "Ledger 4.2" not in by_service

    by_team = reader_client.get(url("release_list"), {"team": "payments"}).content.decode()
    assert "2026.12.1" in by_team and "Ledger 4.2" not in by_team


def test_release_list_ignores_a_mistyped_filter_and_has_an_empty_state(reader_client):
    response = reader_client.get(url("release_list"), {"kind": "nonsense", "service": "nowhere"})
    assert response.status_code == 200
    assert "No releases here yet" in response.content.decode()


def test_release_list_reads_with_a_fixed_number_of_queries(
    reader_client, make_release, checkout, make_calendar, payments, django_assert_num_queries
):
    calendar = make_calendar("Payments releases", team=payments)
    make_release("first", services=[checkout], calendar=calendar)
    # session, user, nav approvals count; permissions (2) and teams of the reader for "New release";
    # the filter's services, teams and calendars; count, releases, their services.
    with django_assert_num_queries(12):
        assert reader_client.get(url("release_list")).status_code == 200
    for number in range(30):
        make_release(f"r{number}", services=[checkout], calendar=calendar)
    with django_assert_num_queries(12):
        assert reader_client.get(url("release_list")).status_code == 200


def test_release_detail_shows_facts_freeze_windows_and_cancellation(reader_client, make_release, checkout):
    release = make_release("2026.12.1", services=[checkout], starts_in=timedelta(days=3), description="Card vault v2")
    make_release(
        "Black Friday freeze",
        services=[checkout],
        kind=ReleaseKind.FREEZE,
        starts_in=timedelta(days=2),
        lasts=timedelta(days=3),
    )
    page = reader_client.get(release.get_absolute_url()).content.decode()
    assert "Card vault v2" in page and "Checkout API" in page
    assert "falls inside" in page and "Black Friday freeze" in page
    assert "No change request takes effect with it." in page

    cancelled = make_release("2026.12.2", services=[checkout], status=ReleaseStatus.CANCELLED)
    assert "Cancelled" in reader_client.get(cancelled.get_absolute_url()).content.decode()
    assert reader_client.get(url("release_detail", 999999)).status_code == 404


def test_a_team_member_enters_a_release_by_hand_for_their_services_only(
    member_client, member, checkout, make_service, make_team
):
    other = make_service("Product catalogue", owner_team=make_team("Discovery"))
    form = member_client.get(url("release_create")).content.decode()
    assert "Checkout API" in form and "Product catalogue" not in form

    start = (timezone.localtime() + timedelta(days=5)).replace(second=0, microsecond=0)
    data = {
        "title": "2026.12.4",
        "kind": ReleaseKind.RELEASE,
        "risk": ReleaseRisk.MEDIUM,
        "status": ReleaseStatus.SCHEDULED,
        "services": [checkout.pk],
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "description": "",
        "reason": "Planned with Checkout",
    }
    response = member_client.post(url("release_create"), data)
    release = Release.objects.get(title="2026.12.4")
    assert response.status_code == 302 and response.url == release.get_absolute_url()
    assert release.created_by == member and release.starts_at == start
    assert release.history.latest().history_change_reason == "Planned with Checkout"

    refused = member_client.post(url("release_create"), {**data, "title": "sneaky", "services": [other.pk]})
    assert refused.status_code == 200 and not Release.objects.filter(title="sneaky").exists()


def test_a_release_ending_before_it_starts_is_refused_with_a_message(member_client, checkout):
    start = timezone.localtime() + timedelta(days=5)
    response = member_client.post(
        url("release_create"),
        {
            "title": "backwards",
            "kind": ReleaseKind.RELEASE,
            "risk": ReleaseRisk.LOW,
            "status": ReleaseStatus.SCHEDULED,
            "services": [checkout.pk],
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "test",
        },
    )
    assert response.status_code == 200
    assert "cannot end before it starts" in response.content.decode()
    assert not Release.objects.filter(title="backwards").exists()


def test_who_may_add_and_edit_releases(reader_client, member_client, make_release, checkout, make_calendar, payments):
    assert reader_client.get(url("release_create")).status_code == 403
    by_hand = make_release("by hand", services=[checkout])
    assert reader_client.get(url("release_update", by_hand.pk)).status_code == 403
    assert member_client.get(url("release_update", by_hand.pk)).status_code == 200

    imported = make_release(
        "imported", services=[checkout], calendar=make_calendar(team=payments), uid="abc@google.com"
    )
    response = member_client.get(url("release_update", imported.pk))
    assert response.status_code == 403


def test_the_author_ties_a_change_request_to_a_release_from_its_page(
    client, governed_sla, propose_acknowledge, make_release
):
    release = make_release("2026.12.1", services=[governed_sla.sla.service], starts_in=timedelta(days=3))
    change_request = propose_acknowledge(governed_sla, 10)
    client.force_login(governed_sla.author)
    page = client.get(release.get_absolute_url()).content.decode()
    assert change_request.reference in page and "Make it take effect with this release" in page

    response = client.post(url("release_link_change", release.pk), {"change_request": change_request.reference})
    assert response.status_code == 302
    change_request.refresh_from_db()
    assert change_request.effective_at == release.starts_at

    # Someone else's request is not offered, and posting it is refused.
    client.force_login(governed_sla.approvers[governed_sla.consumer])
    assert "Make it take effect" not in client.get(release.get_absolute_url()).content.decode()
    other = propose_acknowledge(governed_sla, 20, summary="Another")
    client.post(url("release_link_change", release.pk), {"change_request": other.reference})
    other.refresh_from_db()
    assert other.effective_at is None


def test_calendar_list_and_detail(reader_client, make_calendar, payments, checkout, make_release):
    calendar = make_calendar(
        "Payments releases", team=payments, default_services=[checkout], feed_url="https://calendar.example/p.ics"
    )
    make_release("2026.12.1", services=[checkout], calendar=calendar, uid="x@example")
    listing = reader_client.get(url("calendar_list")).content.decode()
    assert "Payments releases" in listing and "never" in listing

    calendar.last_error = 'Event "2026.12.2" (UID y@example): DTSTART "2026-13-45" is not a valid date-time.'
    calendar.save()
    page = reader_client.get(calendar.get_absolute_url()).content.decode()
    assert "The last import failed" in page and "DTSTART" in page
    assert "2026.12.1" in page and "Checkout API" in page
    assert "Sync now" not in page  # a reader does not manage it


def test_a_team_member_creates_a_calendar_and_sets_its_rules(member_client, payments, checkout, make_team):
    form = member_client.get(url("calendar_create")).content.decode()
    assert "Payments" in form
    response = member_client.post(
        url("calendar_create"),
        {
            "name": "Payments CI",
            "slug": "payments-ci",
            "team": payments.pk,
            "feed_url": "webcal://ci.example/payments.ics",
            "default_services": [checkout.pk],
            "sync_interval": "01:00:00",
            "history_days": 200,
            "horizon_days": 365,
            "reason": "Connect the CI calendar",
        },
    )
    assert response.status_code == 302, response.content.decode()
    calendar = Calendar.objects.get(slug="payments-ci")
    assert list(calendar.default_services.all()) == [checkout]

    rules_url = url("calendar_rules", calendar.slug)
    data = {
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "50",
        "rules-0-field": "summary",
        "rules-0-value": "checkout",
        "rules-0-service": checkout.pk,
        "rules-1-field": "summary",
        "rules-1-value": "",
        "rules-1-service": "",
    }
    assert member_client.post(rules_url, data).status_code == 302
    rule = ServiceRule.objects.get(calendar=calendar)
    assert (rule.field, rule.value, rule.service) == ("summary", "checkout", checkout)

    data.update({"rules-INITIAL_FORMS": "1", "rules-0-id": rule.pk, "rules-0-DELETE": "on"})
    assert member_client.post(rules_url, data).status_code == 302
    assert not ServiceRule.objects.filter(calendar=calendar).exists()


def test_a_calendar_of_another_team_cannot_be_changed(member_client, make_calendar, make_team):
    other = make_calendar("Search releases", team=make_team("Discovery"))
    assert member_client.get(url("calendar_update", other.slug)).status_code == 403
    assert member_client.get(url("calendar_rules", other.slug)).status_code == 403
    assert member_client.post(url("calendar_sync", other.slug)).status_code == 403


def test_a_release_manager_with_the_model_permission_manages_every_calendar(
    client, make_user, make_calendar, make_team
):
    manager = make_user("release.manager")
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="releases"))
    client.force_login(manager)
    calendar = make_calendar("Search releases", team=make_team("Discovery"))
    assert client.get(url("calendar_update", calendar.slug)).status_code == 200


def test_uploading_a_calendar_file_imports_it_and_a_malformed_one_changes_nothing(
    member_client, make_calendar, payments, time_machine
):
    from pathlib import Path

    from releases.models import CalendarSync

    time_machine.move_to(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), tick=False)
    files = Path(__file__).parent / "calendars"
    calendar = make_calendar("Payments releases", team=payments)
    upload_url = url("calendar_upload", calendar.slug)

    with open(files / "google_calendar.ics", "rb") as upload:
        response = member_client.post(upload_url, {"file": upload}, follow=True)
    imported = Release.objects.filter(calendar=calendar).count()
    assert imported > 0
    assert f"{imported} added" in response.content.decode()

    with open(files / "malformed_dtstart.ics", "rb") as upload:
        response = member_client.post(upload_url, {"file": upload}, follow=True)
    page = response.content.decode()
    assert "Nothing was changed" in page and "DTSTART" in page and "Checkout 2026.12.1" in page
    assert page.count("DTSTART") == 2  # the failed import's notice and its row in the list of syncs: not a third time
    assert Release.objects.filter(calendar=calendar).count() == imported
    assert CalendarSync.objects.filter(calendar=calendar).count() == 2


def test_only_members_upload_to_a_calendar(reader_client, make_calendar, payments):
    calendar = make_calendar("Payments releases", team=payments)
    response = reader_client.post(url("calendar_upload", calendar.slug), {})
    assert response.status_code == 403
