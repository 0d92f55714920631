"""The demo's post-incident reviews, as `manage.py seed_demo` writes them."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from core.moments import quarter_start
from demo import review_data as demo_data
from reviews.choices import OPEN_ACTION_STATUSES, ActionStatus, DrillKind, ReviewStatus
from reviews.figures import review_figures
from reviews.models import ActionItem, PostIncidentReview, TimelineEntry
from reviews.permissions import visible_reviews
from sla_registry.choices import ServiceTier

pytestmark = pytest.mark.django_db

# A Wednesday in the middle of a quarter, so both quarters have room; see the first-day test for the edge.
MID_QUARTER = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def seed():
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(time_machine):
    time_machine.move_to(MID_QUARTER, tick=False)
    return seed()


def user(username):
    return get_user_model().objects.get(username=username)


def quarter_of(moment):
    return quarter_start(moment.date())


def test_a_half_year_of_reviews_across_two_quarters(seeded):
    reviews = list(PostIncidentReview.objects.prefetch_related("timeline", "action_items"))

    assert len(reviews) >= 10
    current = quarter_start(MID_QUARTER.date())
    previous = quarter_start(current - timedelta(days=1))
    quarters = [quarter_of(review.started_at) for review in reviews]
    assert set(quarters) == {previous, current}
    assert min(quarters.count(previous), quarters.count(current)) >= 4
    for review in reviews:
        assert review.resolved_at <= MID_QUARTER, review
        assert 5 <= len(review.timeline.all()) <= 8, review
        assert review.action_items.all(), review
        assert review.summary and review.root_causes and review.went_well, review
        if review.status == ReviewStatus.PUBLISHED and not review.is_drill:
            assert review.went_wrong and review.got_lucky and review.customer_impact, review
            assert review.customers_affected is not None and review.support_contacts is not None, review
    kinds = set(ActionItem.objects.values_list("kind", flat=True))
    assert kinds == {"prevent", "mitigate", "detect", "process"}
    titles = {review.title for review in reviews}
    assert "Card payments failed while the primary acquirer was down" in titles
    assert "Leaked CI deploy token used against the identity admin API" in titles


def test_some_reviews_breach_their_pinned_targets_and_others_meet_them(seeded):
    incidents = PostIncidentReview.objects.filter(is_drill=False)
    figures = {review.title: review_figures(review) for review in incidents}

    acquirer = figures["Card payments failed while the primary acquirer was down"]
    assert "SEV1 (third-party) acknowledge target 15 min, took 22 min: breached by 7 min" in [
        str(check) for check in acquirer.breaches
    ]
    met = [title for title, figure in figures.items() if figure.agreements and not figure.breaches]
    assert len(met) >= 3
    assert all(figure.agreements for figure in figures.values()), "every demo incident pins at least one SLA"

    sev3 = incidents.get(severity__key="SEV3")
    checks = [check for agreement in figures[sev3.title].agreements for check in agreement.checks]
    assert checks and all(check.business_hours and not check.breached for check in checks)
    assert sev3.started_at.isoweekday() <= 5 and 9 <= sev3.started_at.hour < 17


def test_the_security_incident_is_restricted_to_security(seeded):
    incident = PostIncidentReview.objects.get(category__slug="security")

    assert incident.is_restricted
    assert set(incident.restricted_to.values_list("slug", flat=True)) == {"security", "identity"}
    assert visible_reviews(user("security.approver")).filter(pk=incident.pk).exists()
    assert visible_reviews(user("committee.chair")).filter(pk=incident.pk).exists()
    assert not visible_reviews(user("checkout.engineer")).filter(pk=incident.pk).exists()
    assert visible_reviews(user("checkout.engineer")).count() == PostIncidentReview.objects.count() - 1


def test_most_reviews_are_published_through_approved_change_requests_and_some_stay_drafts(seeded):
    statuses = list(PostIncidentReview.objects.values_list("status", flat=True))

    assert statuses.count(ReviewStatus.DRAFT) >= 2
    assert statuses.count(ReviewStatus.PUBLISHED) > len(statuses) / 2
    publications = ChangeRequest.objects.filter(document_kind="review")
    assert publications.count() == statuses.count(ReviewStatus.PUBLISHED)
    assert set(publications.values_list("state", flat=True)) == {ChangeState.APPLIED}
    for change_request in publications:
        deciders = set(change_request.decisions.values_list("decided_by__username", flat=True))
        assert deciders and change_request.author.username not in deciders


def test_action_items_are_open_overdue_and_done(seeded):
    today = MID_QUARTER.date()
    items = ActionItem.objects.all()

    open_items = items.filter(status__in=OPEN_ACTION_STATUSES)
    assert open_items.filter(due_date__gte=today).exists()
    overdue = open_items.filter(due_date__lt=today)
    assert overdue.count() >= 3
    assert all(item.due_date >= item.review.started_at.date() for item in overdue)
    done = items.filter(status=ActionStatus.DONE)
    assert done.count() >= 5
    assert all(item.completion_note and item.completed_at for item in done)
    # Finished through reviews.actions.complete_action_item, by the person who did it.
    marked_done = ActionItem.history.filter(history_change_reason="Marked done")
    assert set(marked_done.values_list("id", flat=True)) == set(done.values_list("id", flat=True))
    assert all(row.history_user == row.assignee for row in marked_done.select_related("assignee"))


def test_drills_rehearse_critical_services_and_record_their_gaps(seeded):
    drills = PostIncidentReview.objects.filter(is_drill=True)

    assert set(drills.values_list("drill_kind", flat=True)) == {DrillKind.TABLETOP, DrillKind.LIVE}
    for drill in drills:
        assert drill.services.filter(tier=ServiceTier.CRITICAL).exists(), drill
        assert "Gaps found" in drill.went_wrong, drill
        assert drill.action_items.filter(status__in=OPEN_ACTION_STATUSES).exists(), drill
        assert drill.timeline.exists()


def test_second_run_adds_nothing(seeded, time_machine):
    assert "Seeded post-incident reviews: 12 post-incident reviews (12 new)" in seeded
    counts = [model.objects.count() for model in (PostIncidentReview, TimelineEntry, ActionItem, ChangeRequest)]
    history = PostIncidentReview.history.count() + ActionItem.history.count()

    time_machine.move_to(MID_QUARTER + timedelta(days=3), tick=False)
    output = seed()

    assert [model.objects.count() for model in (PostIncidentReview, TimelineEntry, ActionItem, ChangeRequest)] == counts
    assert PostIncidentReview.history.count() + ActionItem.history.count() == history
    assert "Demo data already present; nothing changed." in output
    assert f"Demo post-incident reviews already present ({len(demo_data.REVIEWS)}); nothing added." in output


def test_seeding_on_the_first_morning_of_a_quarter_keeps_every_moment_in_the_past(time_machine):
    first_morning = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    time_machine.move_to(first_morning, tick=False)

    seed()

    assert PostIncidentReview.objects.count() == len(demo_data.REVIEWS)
    assert not PostIncidentReview.objects.filter(resolved_at__gt=first_morning).exists()
    assert not TimelineEntry.objects.filter(at__gt=first_morning).exists()
