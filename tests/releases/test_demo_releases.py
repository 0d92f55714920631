"""The demo's release calendars, as `manage.py seed_demo` imports them."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.utils import timezone

from releases.choices import ReleaseKind, ReleaseRisk
from releases.models import Calendar, Release
from reviews.models import PostIncidentReview

pytestmark = pytest.mark.django_db

MID_QUARTER = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def seed():
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(time_machine):
    time_machine.move_to(MID_QUARTER, tick=False)
    return seed()


def test_two_team_calendars_cover_both_review_quarters(seeded):
    assert "Demo release calendars: 2 imported from iCalendar" in seeded
    calendars = {calendar.slug: calendar for calendar in Calendar.objects.select_related("team")}
    assert set(calendars) == {"checkout-release-train", "platform-changes"}
    assert {calendar.team.slug for calendar in calendars.values()} == {"checkout", "platform"}
    assert all(calendar.last_synced_at and not calendar.last_error for calendar in calendars.values())

    first_review = PostIncidentReview.objects.order_by("started_at").first()
    releases = Release.objects.filter(kind=ReleaseKind.RELEASE)
    assert releases.order_by("starts_at").first().starts_at <= first_review.started_at
    assert releases.order_by("starts_at").last().starts_at > timezone.now()


def test_the_weekly_train_recurs_with_a_skipped_and_a_moved_week(seeded):
    train = Release.objects.filter(calendar__slug="checkout-release-train", uid="checkout-train@basketly.example")
    assert train.count() > 20
    starts = sorted(train.values_list("starts_at", flat=True))
    gaps = {later - earlier for earlier, later in pairwise(starts)}
    assert timedelta(weeks=2) in gaps  # the EXDATE week
    moved = train.get(title__contains="moved to Wednesday")
    assert moved.starts_at.isoweekday() == 3 and moved.recurrence_id.endswith("T100000Z")


def test_a_freeze_window_reaches_the_customer_facing_services_through_a_rule(seeded):
    freeze = Release.objects.get(kind=ReleaseKind.FREEZE)
    assert freeze.starts_at > timezone.now() and freeze.all_day
    assert {"checkout-api", "payments-gateway", "basket-service"} <= {service.slug for service in freeze.services.all()}


def test_a_high_risk_release_next_week_and_an_incident_that_follows_a_release(seeded):
    soon = Release.objects.filter(
        risk=ReleaseRisk.HIGH, starts_at__range=(timezone.now(), timezone.now() + timedelta(days=14))
    )
    assert soon.exists()

    basket = Release.objects.get(title="Basket pricing 2.14")
    incident = PostIncidentReview.objects.get(title="Checkout latency after the basket-pricing deploy")
    assert timedelta(0) < incident.started_at - basket.starts_at < timedelta(hours=24)
    assert set(incident.services.all()) & set(basket.services.all())


def test_seeding_again_changes_no_release(seeded):
    count = Release.objects.count()
    again = seed()
    assert "0 releases added, 0 updated" in again
    assert Release.objects.count() == count
