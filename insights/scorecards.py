"""A team's scorecard for a quarter: its SLAs' attainment and breaches, its action items, approvals and reviews due.

Lives in portal because it cuts across apps: breaches come from the post-incident
reviews' own breach evaluation (reviews.views.common.attach_figures over
reviews.figures), action items from reviews, waiting approvals from approvals.
The registry is used by reviews, never the reverse, so sla_registry stays free
of any reviews import; portal is where the apps meet.

Reviews are read through reviews.permissions.visible_reviews: a restricted review
the reader may not see adds no breach and none of its action items. Only published
reviews of real incidents count (reviews.counting): a draft, or a review in review
for publication, adds no breach and none of its action items, and is listed apart
as awaiting review. "Incidents that breached an SLA" and "response targets missed"
are two figures with two labels. The page reads with a fixed number of queries
however many SLAs, objectives, reviews and action items the team has
(tests/insights/test_scorecards.py pins it).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django import forms
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from approvals.choices import ChangeState
from approvals.models import Decision, RequiredApproval
from approvals.permissions import visible_change_requests
from core.forms import QuarterField
from core.moments import Quarter, quarters_offered
from reviews.choices import OPEN_ACTION_STATUSES
from reviews.counting import Incidents, counted, quarters_with_incidents, split_incidents
from reviews.figures import attach_figures, reviews_with_figures_prefetched
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import visible_reviews
from sla_registry.attainment import Attainment
from sla_registry.choices import AgreementStatus
from sla_registry.models import EscalationMatrix, Measurement, ServiceLevelAgreement, Team

# Documents whose next review falls within this many days (or has passed) are listed as due.
REVIEW_DUE_WITHIN = timedelta(days=14)


class ScorecardForm(forms.Form):
    # ?quarter=2026Q4 and ?quarter=2026-Q4 both name the fourth quarter of 2026.
    quarter = QuarterField(label="Quarter", compact=True)

    @property
    def chosen_quarter(self):
        if self.is_bound and self.is_valid() and self.cleaned_data.get("quarter"):
            return Quarter.of(self.cleaned_data["quarter"])
        return Quarter.current()


@dataclass
class ScorecardSla:
    """One SLA on the scorecard: the team's part in it, its objectives' attainment and the reviews that breached it."""

    sla: object
    role: str  # "provider" or "consumer"
    attainments: list = field(default_factory=list)
    breaching_reviews: list = field(default_factory=list)  # [(review, [TargetCheck])]: incidents that breached it

    @property
    def below_target(self):
        """Objectives whose attainment over the quarter is below their target."""
        return [attainment for attainment in self.attainments if attainment.met is False]

    @property
    def targets_missed(self):
        """Response targets of this SLA missed, over every incident that breached it."""
        return sum(len(checks) for _review, checks in self.breaching_reviews)


def quarter_attainments(slas, start, end):
    """{(sla_id, indicator): Attainment} over the periods that ended in [start, end), in one query.

    The same Attainment as an objective's rolling window, here over the quarter: the
    ratio, the verdict against the target and the error budget the quarter had.
    """
    objectives = [objective for sla in slas for objective in sla.objectives.all()]
    results = {(objective.sla_id, objective.indicator): Attainment(objective, start, end) for objective in objectives}
    if not results:
        return results
    sums = (
        Measurement.objects.filter(
            sla_id__in={sla_id for sla_id, _ in results}, period_end__gt=start, period_end__lte=end
        )
        .values("sla_id", "indicator")
        .annotate(good_sum=Sum("good"), total_sum=Sum("total"), period_count=Count("pk"))
        .order_by()
    )
    for row in sums:
        attainment = results.get((row["sla_id"], row["indicator"]))
        if attainment is not None:
            attainment.good, attainment.total = int(row["good_sum"]), int(row["total_sum"])
            attainment.periods = row["period_count"]
    return results


def breaching_reviews(user, slas, start, end):
    """({sla_id: [(review, [breached TargetCheck])]}, reviews.counting.Incidents) for the real incidents of the
    SLAs' services the user may see that started in [start, end).

    A review counts against an SLA when it is published and the version of that SLA it
    pinned (the one in force when the incident started) has a breached response target;
    drills never do, and incidents whose review is not published are only listed as
    awaiting review. Four queries when there are reviews (the reviews, their services,
    their pins, the provider teams' working weeks), one when there are none.
    """
    found = {sla.pk: [] for sla in slas}
    if not found:
        return found, Incidents()
    services = {sla.service_id for sla in slas}
    affected = PostIncidentReview.objects.filter(services__in=services).values("pk")
    incidents = split_incidents(
        attach_figures(
            reviews_with_figures_prefetched(visible_reviews(user)).filter(
                pk__in=affected, is_drill=False, started_at__gte=start, started_at__lt=end
            )
        )
    )
    incidents.awaiting.sort(key=lambda review: (review.started_at, review.pk))
    for review in sorted(incidents.counted, key=lambda review: (review.started_at, review.pk)):
        for agreement in review.figures.agreements:
            version = agreement.version
            if version.document_kind == "sla" and version.document_id in found and agreement.breaches:
                found[version.document_id].append((review, agreement.breaches))
    return found, incidents


def approvals_waiting(user, team, now):
    """The team's approvals of requests in review not given yet (for the current revision), oldest first, with age."""
    decided = Decision.objects.filter(
        change_request=OuterRef("change_request"), team=OuterRef("team"), revision=OuterRef("change_request__revision")
    )
    waiting = list(
        RequiredApproval.objects.filter(
            team=team,
            change_request__state=ChangeState.IN_REVIEW,
            change_request__in=visible_change_requests(user),
        )
        .exclude(Exists(decided))
        .select_related("change_request", "change_request__author")
        .order_by("change_request__submitted_at", "change_request_id")
    )
    for approval in waiting:
        submitted = approval.change_request.submitted_at
        approval.age = now - submitted if submitted else None
    return waiting


def documents_due(team, slas, now):
    """The team's active SLAs (as provider) and escalation matrices (as owner) due for review within 14 days or past.

    SLAs come from the rows already read; matrices in one query.
    """
    horizon = now + REVIEW_DUE_WITHIN
    due = [
        sla
        for sla in slas
        if sla.provider_team_id == team.pk
        and sla.status == AgreementStatus.ACTIVE
        and sla.next_review_due is not None
        and sla.next_review_due <= horizon
    ]
    due += EscalationMatrix.objects.filter(
        owner_team=team, status=AgreementStatus.ACTIVE, next_review_due__lte=horizon
    ).select_related("service")
    for document in due:
        document.is_overdue = document.next_review_due < now
    return sorted(due, key=lambda document: (document.next_review_due, document.reference))


@require_GET
def team_scorecard(request, slug):
    team = get_object_or_404(Team, slug=slug)
    form = ScorecardForm(request.GET or None)
    quarter = form.chosen_quarter
    start, end = quarter.start, quarter.end
    now = timezone.now()
    # The current quarter is measured up to now; a past quarter to its end.
    measured_until = min(end, now)

    slas = list(
        ServiceLevelAgreement.objects.filter(Q(provider_team=team) | Q(pk__in=team.slas_consumed.values("pk")))
        .select_related("service", "provider_team")
        .prefetch_related("objectives")
        .order_by("pk")
    )
    attained = quarter_attainments(slas, start, measured_until) if start < measured_until else {}
    breaches, incidents = breaching_reviews(request.user, slas, start, end)
    rows = [
        ScorecardSla(
            sla,
            "provider" if sla.provider_team_id == team.pk else "consumer",
            [
                attained.get((sla.pk, objective.indicator)) or Attainment(objective, start, measured_until)
                for objective in sla.objectives.all()
            ],
            breaches[sla.pk],
        )
        for sla in slas
    ]
    today = timezone.localdate()
    # A draft's action items are proposals until its review is published: not on the scorecard yet.
    action_items = list(
        ActionItem.objects.filter(
            owner_team=team, status__in=OPEN_ACTION_STATUSES, review__in=counted(visible_reviews(request.user))
        )
        .select_related("review", "assignee")
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )
    for item in action_items:
        item.is_overdue = item.due_date is not None and item.due_date < today
    # The quarter picker offers the quarters in which the team's SLAs' services had published incidents (one query).
    services = {sla.service_id for sla in slas}
    quarters = (
        quarters_with_incidents(request.user, quarter, PostIncidentReview.objects.filter(services__in=services))
        if services
        else quarters_offered((), quarter)
    )
    return render(
        request,
        "insights/team_scorecard.html",
        {
            "team": team,
            "form": form,
            "quarter": quarter,
            "quarters": quarters,
            "quarter_start": start,
            "quarter_last_day": quarter.last_day,
            "is_current_quarter": start <= now < end,
            "provided": [row for row in rows if row.role == "provider"],
            "consumed": [row for row in rows if row.role == "consumer"],
            # Two figures, two labels: incidents that breached an SLA, and the response targets they missed.
            "incidents_breached_count": len({review.pk for row in rows for review, _checks in row.breaching_reviews}),
            "targets_missed_count": sum(row.targets_missed for row in rows),
            "below_target_count": sum(len(row.below_target) for row in rows),
            "awaiting_review": incidents.awaiting,
            "action_items": action_items,
            "overdue_action_count": sum(item.is_overdue for item in action_items),
            "approvals_waiting": approvals_waiting(request.user, team, now),
            "documents_due": documents_due(team, slas, now),
        },
    )
