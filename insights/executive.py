"""The executive summary: one quarter of the portal's figures, for leadership, in a fixed number of queries.

Every figure comes from the app that owns it, never re-derived here: incident
metrics and SLA breach evaluation from reviews (metrics, figures: each review is
measured against the agreement versions it pinned), objective attainment from
sla_registry.attainment, who still has to approve from approvals. Reviews and
change requests are read through reviews.permissions.visible_reviews and
approvals.permissions.visible_change_requests, so a restricted review counts
only for those who may see it (the SLA committee and leadership see them all).

Only published reviews of real incidents count (reviews.counting): a draft, or a
review in review for publication, never moves a figure; the quarter's are listed
apart as "awaiting review". "Incidents that breached an SLA" and "response targets
missed" are two figures with two labels (one incident may miss several targets).

The page has two halves. "The quarter" looks back: incidents, breaches, response
times, agreements changed. "Needs attention" is about now, whatever the quarter:
overdue action items, approvals waiting, documents past their review date,
risky releases and freeze windows in the next 14 days.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from approvals.choices import ChangeState
from approvals.models import DocumentVersion, RequiredApproval
from approvals.permissions import visible_change_requests
from core.forms import QuarterField
from core.moments import Quarter, quarter_of
from core.templatetags.portal import duration
from releases.choices import ReleaseKind, ReleaseRisk
from releases.models import Release
from reviews.choices import OPEN_ACTION_STATUSES
from reviews.counting import counted, split_incidents
from reviews.figures import attach_figures, pinned_prefetch
from reviews.metrics import METRICS, IncidentMetrics, IncidentTimes, median_of
from reviews.models import INCIDENT_TIMES, ActionItem
from reviews.permissions import visible_reviews
from sla_registry.attainment import objectives_below_target
from sla_registry.choices import AgreementStatus, ServiceTier
from sla_registry.models import EscalationMatrix, ServiceLevelAgreement, Severity

TREND_QUARTERS = 4
UPCOMING_DAYS = 14
TOP_CATEGORIES = 5
ABBREVIATIONS = {
    "time_to_detect": "MTTD",
    "time_to_acknowledge": "MTTA",
    "time_to_restore": "MTTR",
    "time_to_resolve": "Resolve",
}


# Quarters -------------------------------------------------------------------------


def parse_quarter(text):
    """(Quarter, None) for "2026-Q3", "2026Q3" or nothing (the current quarter); (current, error) otherwise."""
    field_ = QuarterField(compact=True)  # the summary's address may say 2026Q3
    try:
        label = field_.clean(text or "")
    except ValidationError as error:
        return Quarter.current(), " ".join(error.messages)
    return (Quarter.of(label) if label else Quarter.current()), None


# What the summary holds ------------------------------------------------------------


@dataclass
class Tile:
    """A headline figure: big number, plain label, one line of context, a link to the detail."""

    label: str
    value: object
    url: str
    note: str = ""
    tone: str = ""  # "", "bad" or "ok": shown as a word and a border, never by colour alone


@dataclass
class Count:
    label: str
    count: int
    url: str
    key: str = ""


@dataclass
class SlaAttainment:
    """How the quarter's incidents measured up against one SLA (the versions they pinned)."""

    reference: str
    title: str
    service: str
    url: str
    within: int = 0
    breached: int = 0  # incidents that breached this SLA
    targets_missed: int = 0

    @property
    def measured(self):
        return self.within + self.breached

    @property
    def percent_within(self):
        return round(100 * self.within / self.measured) if self.measured else None


@dataclass
class Breach:
    """One incident that missed an SLA response target: the review, the agreement, what was missed."""

    review: object
    sla_reference: str
    sla_url: str
    missed: list  # reviews.metrics.TargetCheck


@dataclass
class TrendBar:
    quarter: Quarter
    median: timedelta | None
    incidents: int
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    is_chosen: bool = False

    @property
    def center(self):
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self):
        """Where the figure is written: just above the bar (or the baseline, for a quarter without incidents)."""
        return round(self.y - 5, 1)


@dataclass
class TimeTrend:
    """One response time: its median per quarter, the chosen quarter last."""

    key: str
    label: str
    abbreviation: str
    bars: list
    chart_width: int = 0
    chart_height: int = 0
    baseline_y: int = 0

    @property
    def label_y(self):
        return self.chart_height - 5

    @property
    def current(self):
        return self.bars[-1].median

    @property
    def previous(self):
        return self.bars[-2].median if len(self.bars) > 1 else None

    @property
    def previous_label(self):
        return self.bars[-2].quarter.short_label if len(self.bars) > 1 else ""

    @property
    def change(self):
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self):
        """ "faster", "slower" or "same" than the previous quarter; None without both figures."""
        if self.change is None:
            return None
        if self.change < timedelta(0):
            return "faster"
        return "slower" if self.change > timedelta(0) else "same"

    @property
    def change_size(self):
        return abs(self.change) if self.change is not None else None


@dataclass
class OverdueTeam:
    team: object
    items: list = field(default_factory=list)

    @property
    def count(self):
        return len(self.items)

    @property
    def oldest_due(self):
        return min(item.due_date for item in self.items)

    @property
    def url(self):
        return f"{reverse('reviews:action_item_list')}?{urlencode({'team': self.team.slug})}"


@dataclass
class WaitingApproval:
    change_request: object
    waiting_for: list  # team names still to approve
    age: timedelta

    @property
    def waited(self):
        return days(self.age)


@dataclass
class DueDocument:
    reference: str
    title: str
    kind_label: str
    owner: object
    due: datetime
    url: str
    overdue_by: timedelta


@dataclass
class Summary:
    quarter: Quarter
    previous: Quarter
    generated_at: datetime
    as_of: datetime  # the quarter's end, or now if the quarter is not over
    in_force_by_tier: list
    in_force: int
    changed_this_quarter: int
    incidents_by_severity: list
    incident_count: int
    objectives_below: list  # sla_registry.attainment.Attainment, with .sla set
    attainment: list  # SlaAttainment, most breached first
    measured_reviews: int
    breached_reviews: int  # incidents that breached an SLA
    breaches: list
    times: list  # TimeTrend
    top_categories: list
    overdue_by_team: list
    overdue_actions: list
    approvals_waiting: list
    documents_due: list
    upcoming: list  # releases.Release: high-risk releases and freeze windows
    awaiting_review: list = field(default_factory=list)  # the quarter's incidents whose review is not published

    @property
    def targets_missed(self):
        """Response targets missed, over every incident and SLA (one incident may miss several)."""
        return sum(len(breach.missed) for breach in self.breaches)

    @property
    def breaches_by_review(self):
        """[(review, [Breach, …])]: one line per incident, however many SLAs it breached."""
        grouped = {}
        for breach in self.breaches:
            grouped.setdefault(breach.review.pk, (breach.review, []))[1].append(breach)
        return list(grouped.values())

    @property
    def within_reviews(self):
        return self.measured_reviews - self.breached_reviews

    @property
    def percent_within(self):
        return round(100 * self.within_reviews / self.measured_reviews) if self.measured_reviews else None

    @property
    def is_current(self):
        return self.quarter.start <= self.generated_at < self.quarter.end

    @property
    def restore_trend(self):
        return next(trend for trend in self.times if trend.key == "time_to_restore")

    @property
    def oldest_waiting(self):
        return self.approvals_waiting[0] if self.approvals_waiting else None

    @property
    def headline(self):
        return headline_tiles(
            quarter=self.quarter,
            in_force=self.in_force,
            changed=self.changed_this_quarter,
            incidents=self.incident_count,
            most_severe=self.incidents_by_severity[0] if self.incidents_by_severity else None,
            measured=self.measured_reviews,
            breached=self.breached_reviews,
            restore=self.restore_trend,
            overdue_actions=len(self.overdue_actions),
            overdue_teams=len(self.overdue_by_team),
            approvals=self.approvals_waiting,
            documents_due=len(self.documents_due),
            upcoming=self.upcoming,
        )


def days(age):
    """ "since today", "1 day", "12 days": how long something has waited."""
    if age.days < 1:
        return "since today"
    return f"{age.days} day{'s' if age.days != 1 else ''}"


# Links to the technical detail --------------------------------------------------------


def review_list_url(quarter, **filters):
    """The reviews a figure counts: the quarter's published reviews of real incidents, filtered further."""
    query = {"quarter": quarter.label, "kind": "incidents", "status": "published", **filters}
    return f"{reverse('reviews:review_list')}?{urlencode(query)}"


def documents_due_url():
    """The committee's "Review due" page."""
    return reverse("sla_registry:review_due")


# The pieces, each a fixed number of queries ------------------------------------------------


def _active_slas():
    """Active SLAs with their service, provider and objectives (two queries)."""
    return list(
        ServiceLevelAgreement.objects.filter(status=AgreementStatus.ACTIVE)
        .select_related("service", "provider_team")
        .prefetch_related("objectives")
        .order_by("pk")
    )


def _in_force_by_tier(slas):
    counts = Counter(sla.service.tier for sla in slas)
    services = reverse("sla_registry:service_list")
    return [Count(tier.label, counts.get(tier.value, 0), f"{services}?tier={tier.value}") for tier in ServiceTier]


def _changed_in(quarter, until):
    """SLAs with a version applied (through a change request) during the quarter, up to `until`."""
    return (
        DocumentVersion.objects.filter(
            document_kind="sla",
            change_request__isnull=False,
            effective_at__gte=quarter.start,
            effective_at__lt=min(quarter.end, until),
        )
        .values("document_id")
        .distinct()
        .count()
    )


def _incident_reviews(user, quarter):
    """The quarter's real incidents the user may see, with their figures (reviews.counting.Incidents).

    Read in one pass whatever their review's status, then split: published reviews are
    counted, the others are awaiting review and move no figure.
    """
    reviews = (
        visible_reviews(user)
        .filter(is_drill=False, started_at__gte=quarter.start, started_at__lt=quarter.end)
        .select_related("severity", "category")
        .prefetch_related(pinned_prefetch())
        .order_by("started_at", "pk")
    )
    return split_incidents(attach_figures(reviews))


def _attainment(reviews):
    """Per SLA and overall: incidents within every response target vs breaching one, and the breaches."""
    by_sla, breaches, measured, breached = {}, [], 0, 0
    for review in reviews:
        agreements = [agreement for agreement in review.figures.agreements if agreement.checks]
        if not agreements:
            continue  # no target applies to this severity: nothing to measure against
        measured += 1
        breached += bool(review.counted_breaches)
        for agreement in agreements:
            reference = agreement.reference
            url = reverse("sla_registry:sla_detail", kwargs={"reference": reference})
            row = by_sla.setdefault(
                agreement.version.document_id,
                SlaAttainment(reference, agreement.version.snapshot.get("title", ""), agreement.service.name, url),
            )
            if agreement.breaches:
                row.breached += 1
                row.targets_missed += len(agreement.breaches)
                breaches.append(Breach(review, reference, url, agreement.breaches))
            else:
                row.within += 1
    rows = sorted(by_sla.values(), key=lambda row: (-row.breached, row.reference))
    return rows, breaches, measured, breached


def _by_severity(reviews, quarter):
    counts = Counter(review.severity_id for review in reviews)
    return [
        Count(
            f"{severity.key} {severity.name}",
            counts.get(severity.pk, 0),
            review_list_url(quarter, severity=severity.key),
            severity.key,
        )
        for severity in Severity.objects.order_by("rank")
    ]


def _top_categories(reviews, quarter):
    counts = Counter(review.category for review in reviews)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0].name if item[0] else "~"))
    return [
        Count(
            category.name if category else "Not categorised",
            count,
            review_list_url(quarter, category=category.slug) if category else review_list_url(quarter),
        )
        for category, count in ranked[:TOP_CATEGORIES]
    ]


def _time_trends(user, quarter):
    """Median of each response time per quarter over the last TREND_QUARTERS, published incidents only (one query)."""
    quarters = quarter.ending_with(TREND_QUARTERS)
    rows = (
        counted(visible_reviews(user))
        .filter(started_at__gte=quarters[0].start, started_at__lt=quarter.end)
        .values_list(*INCIDENT_TIMES)
    )
    metrics_by_quarter = {q.label: [] for q in quarters}
    for times in rows:
        metrics_by_quarter[quarter_of(times[0])].append(IncidentMetrics.of(IncidentTimes(*times)))
    trends = []
    for key, label in METRICS:
        bars = [
            TrendBar(
                q,
                median_of(getattr(metrics, key) for metrics in metrics_by_quarter[q.label]),
                len(metrics_by_quarter[q.label]),
                is_chosen=q == quarter,
            )
            for q in quarters
        ]
        trends.append(_draw(TimeTrend(key, label, ABBREVIATIONS[key], bars)))
    return trends


# A small bar chart per response time, drawn by templates/portal/includes/trend_svg.html.
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_LABELS = 300, 110, 18, 20
BAR_GAP = 18


def _draw(trend):
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_LABELS
    baseline = CHART_TOP + plot_height
    longest = max((bar.median for bar in trend.bars if bar.median is not None), default=None)
    slot = CHART_WIDTH / len(trend.bars)
    for index, bar in enumerate(trend.bars):
        bar.width = round(slot - BAR_GAP, 1)
        bar.x = round(index * slot + BAR_GAP / 2, 1)
        share = bar.median / longest if bar.median is not None and longest else 0
        bar.height = round(max(share * plot_height, 1 if bar.median is not None else 0), 1)
        bar.y = round(baseline - bar.height, 1)  # an empty quarter sits on the baseline
    trend.chart_width, trend.chart_height, trend.baseline_y = CHART_WIDTH, CHART_HEIGHT, baseline
    return trend


def _objectives_below(slas, at):
    by_pk = {sla.pk: sla for sla in slas}
    below = objectives_below_target(slas, at=at)
    for attainment in below:
        attainment.sla = by_pk[attainment.objective.sla_id]
    return sorted(below, key=lambda attainment: (attainment.ratio - attainment.objective.target, attainment.sla.pk))


def _overdue_actions(user, today):
    """Open action items past their due date, of published reviews the user may see, oldest first (one query).

    A draft's action items are proposals until the review is published: they are not counted yet.
    """
    return list(
        ActionItem.objects.filter(
            review__in=counted(visible_reviews(user)), status__in=OPEN_ACTION_STATUSES, due_date__lt=today
        )
        .select_related("owner_team", "review")
        .order_by("due_date", "pk")
    )


def _overdue_by_team(items):
    teams = {}
    for item in items:
        teams.setdefault(item.owner_team_id, OverdueTeam(item.owner_team)).items.append(item)
    return sorted(teams.values(), key=lambda row: (-row.count, row.oldest_due, row.team.name))


def _approvals_waiting(user, now):
    """Change requests in review, with the teams that have not approved this revision yet: oldest first."""
    requests = (
        visible_change_requests(user)
        .filter(state=ChangeState.IN_REVIEW)
        .select_related("author")
        .prefetch_related(
            Prefetch("required_approvals", queryset=RequiredApproval.objects.select_related("team")), "decisions"
        )
        .order_by("submitted_at", "pk")
    )
    waiting = []
    for change_request in requests:
        decided = {decision.team_id for decision in change_request.current_decisions()}
        teams = sorted(
            approval.team.name
            for approval in change_request.required_approvals.all()
            if approval.team_id not in decided
        )
        if teams:
            submitted = change_request.submitted_at or change_request.created_at
            waiting.append(WaitingApproval(change_request, teams, now - submitted))
    return waiting


def _documents_due(slas, now):
    """Active SLAs and escalation matrices past their review date, the longest overdue first (one query)."""
    documents = [
        DueDocument(
            sla.reference,
            sla.title,
            "SLA",
            sla.provider_team,
            sla.next_review_due,
            sla.get_absolute_url(),
            now - sla.next_review_due,
        )
        for sla in slas
        if sla.next_review_due is not None and sla.next_review_due < now
    ]
    matrices = EscalationMatrix.objects.filter(status=AgreementStatus.ACTIVE, next_review_due__lt=now).select_related(
        "owner_team"
    )
    documents += [
        DueDocument(
            matrix.reference,
            matrix.title,
            "Escalation matrix",
            matrix.owner_team,
            matrix.next_review_due,
            matrix.get_absolute_url(),
            now - matrix.next_review_due,
        )
        for matrix in matrices
    ]
    return sorted(documents, key=lambda document: (document.due, document.reference))


def _upcoming(now):
    """High-risk releases and freeze windows under way or starting in the next UPCOMING_DAYS (two queries)."""
    return list(
        Release.objects.scheduled()
        .overlapping(now, now + timedelta(days=UPCOMING_DAYS))
        .filter(Q(kind=ReleaseKind.FREEZE) | Q(risk=ReleaseRisk.HIGH))
        .prefetch_related("services")
        .order_by("starts_at", "pk")
    )


# The summary ------------------------------------------------------------------------


def executive_summary(quarter=None, *, user):
    """Everything the executive summary shows for `quarter` (the current one by default).

    A fixed number of queries (16 when there are incidents, SLAs, change requests
    and releases; fewer when a list is empty, as Django skips prefetching for
    nothing), however many services, SLAs, reviews or teams there are.
    """
    quarter = quarter or Quarter.current()
    now = timezone.now()
    as_of = min(quarter.end, now)
    slas = _active_slas()
    incidents = _incident_reviews(user, quarter)
    reviews = incidents.counted
    attainment, breaches, measured, breached = _attainment(reviews)
    overdue = _overdue_actions(user, timezone.localdate(now))
    return Summary(
        quarter=quarter,
        previous=quarter.previous,
        generated_at=now,
        as_of=as_of,
        in_force_by_tier=_in_force_by_tier(slas),
        in_force=len(slas),
        changed_this_quarter=_changed_in(quarter, now),
        incidents_by_severity=_by_severity(reviews, quarter),
        incident_count=len(reviews),
        objectives_below=_objectives_below(slas, as_of),
        attainment=attainment,
        measured_reviews=measured,
        breached_reviews=breached,
        breaches=breaches,
        times=_time_trends(user, quarter),
        top_categories=_top_categories(reviews, quarter),
        overdue_by_team=_overdue_by_team(overdue),
        overdue_actions=overdue,
        approvals_waiting=_approvals_waiting(user, now),
        documents_due=_documents_due(slas, now),
        upcoming=_upcoming(now),
        awaiting_review=incidents.awaiting,
    )


def headline_tiles(
    *,
    quarter,
    in_force,
    changed,
    incidents,
    most_severe,
    measured,
    breached,
    restore,
    overdue_actions,
    overdue_teams,
    approvals,
    documents_due,
    upcoming,
):
    """The headline figures, in the order leadership reads them."""
    within = measured - breached
    oldest = approvals[0] if approvals else None
    tiles = []
    if in_force is not None:
        tiles.append(
            Tile(
                "Agreements in force",
                in_force,
                f"{reverse('sla_registry:sla_list')}?status=active",
                f"{changed} changed in {quarter.short_label}",
            )
        )
    tiles += [
        Tile(
            f"Incidents in {quarter.short_label}",
            incidents,
            review_list_url(quarter),
            f"{most_severe.count} {most_severe.key}, drills not counted" if most_severe else "drills not counted",
        ),
        Tile(
            "Incidents within SLA targets",
            f"{round(100 * within / measured)}%" if measured else "—",
            review_list_url(quarter, breached="yes"),
            (
                f"{breached} of {measured} incident{'s' if measured != 1 else ''} breached an SLA"
                if measured
                else "no incident measured against an SLA"
            ),
            ("bad" if breached else "ok") if measured else "",
        ),
    ]
    if restore is not None:
        note = f"{restore.direction} than {restore.previous_label}" if restore.direction else "no earlier figure"
        if restore.direction == "same":
            note = f"same as {restore.previous_label}"
        tiles.append(
            Tile(
                "Median time to restore",
                duration(restore.current),
                f"{reverse('reviews:review_metrics')}?{urlencode({'quarter': quarter.label})}",
                note,
                {"faster": "ok", "slower": "bad"}.get(restore.direction or "", ""),
            )
        )
    tiles += [
        Tile(
            "Overdue action items",
            overdue_actions,
            reverse("reviews:action_item_list"),
            f"across {overdue_teams} team{'s' if overdue_teams != 1 else ''}" if overdue_actions else "none overdue",
            "bad" if overdue_actions else "ok",
        ),
        Tile(
            "Approvals waiting",
            len(approvals),
            f"{reverse('approvals:change_request_list')}?state=in_review",
            f"oldest waiting {days(oldest.age)}" if oldest else "nothing waiting",
            "bad" if oldest and oldest.age >= timedelta(days=7) else "",
        ),
    ]
    if documents_due is not None:
        tiles.append(
            Tile(
                "Documents past review date",
                documents_due,
                documents_due_url(),
                "SLAs and escalation matrices",
                "bad" if documents_due else "ok",
            )
        )
    if upcoming is not None:
        freezes = sum(1 for release in upcoming if release.kind == ReleaseKind.FREEZE)
        tiles.append(
            Tile(
                f"Risky releases and freezes, next {UPCOMING_DAYS} days",
                len(upcoming),
                f"{reverse('releases:release_list')}?risk=high",
                f"{len(upcoming) - freezes} high-risk, {freezes} freeze window{'s' if freezes != 1 else ''}",
            )
        )
    return tiles


@dataclass
class Headline:
    """The home page's figures for leadership: the summary's first tiles, and the incidents awaiting review."""

    quarter: Quarter
    tiles: list
    awaiting_review: list


def headline_figures(user):
    """The few numbers the home page shows leadership, for the current quarter (the summary's first tiles)."""
    quarter = Quarter.current()
    now = timezone.now()
    incidents = _incident_reviews(user, quarter)
    _, _, measured, breached = _attainment(incidents.counted)
    overdue = _overdue_actions(user, timezone.localdate(now))
    approvals = _approvals_waiting(user, now)
    tiles = headline_tiles(
        quarter=quarter,
        in_force=None,
        changed=None,
        incidents=len(incidents.counted),
        most_severe=None,
        measured=measured,
        breached=breached,
        restore=None,
        overdue_actions=len(overdue),
        overdue_teams=len({item.owner_team_id for item in overdue}),
        approvals=approvals,
        documents_due=None,
        upcoming=None,
    )
    return Headline(quarter, tiles, incidents.awaiting)


# Tables as CSV ---------------------------------------------------------------------


def _moment(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _percent(value):
    """A Decimal to two places (a number, so a negative budget is not mistaken for a formula)."""
    return value.quantize(Decimal("0.01")) if value is not None else ""


@dataclass(frozen=True)
class Export:
    title: str
    headers: tuple
    rows: object  # Summary -> iterable of rows


EXPORTS = {
    "breaches": Export(
        "Incidents that breached an SLA",
        ("Review", "Title", "Severity", "Started", "SLA", "Response targets missed"),
        lambda summary: (
            (
                breach.review.reference,
                breach.review.title,
                breach.review.severity.key,
                _moment(breach.review.started_at),
                breach.sla_reference,
                "; ".join(str(check) for check in breach.missed),
            )
            for breach in summary.breaches
        ),
    ),
    "objectives-below-target": Export(
        "Objectives below target",
        ("SLA", "Service", "Objective", "Target", "Measured %", "Error budget left %", "Window end"),
        lambda summary: (
            (
                attainment.sla.reference,
                attainment.sla.service.name,
                attainment.objective.indicator,
                attainment.objective.target_display,
                _percent(attainment.ratio),
                _percent(attainment.budget_left),
                _moment(attainment.window_end),
            )
            for attainment in summary.objectives_below
        ),
    ),
    "overdue-actions": Export(
        "Overdue action items",
        ("Team", "Action item", "Review", "Due", "Days overdue", "Status"),
        lambda summary: (
            (
                item.owner_team.name,
                item.title,
                item.review.reference,
                item.due_date.isoformat(),
                (timezone.localdate(summary.generated_at) - item.due_date).days,
                item.get_status_display(),
            )
            for item in summary.overdue_actions
        ),
    ),
    "approvals-waiting": Export(
        "Approvals waiting",
        ("Change request", "Summary", "Author", "Submitted", "Waiting for", "Days waiting"),
        lambda summary: (
            (
                waiting.change_request.reference,
                waiting.change_request.summary,
                waiting.change_request.author.get_username(),
                _moment(waiting.change_request.submitted_at),
                ", ".join(waiting.waiting_for),
                waiting.age.days,
            )
            for waiting in summary.approvals_waiting
        ),
    ),
    "reviews-due": Export(
        "Documents past their review date",
        ("Document", "Title", "Kind", "Owner", "Review due", "Days overdue"),
        lambda summary: (
            (
                document.reference,
                document.title,
                document.kind_label,
                document.owner.name,
                _moment(document.due),
                document.overdue_by.days,
            )
            for document in summary.documents_due
        ),
    ),
    "upcoming-releases": Export(
        f"High-risk releases and freeze windows, next {UPCOMING_DAYS} days",
        ("Title", "Kind", "Risk", "Starts", "Ends", "Services"),
        lambda summary: (
            (
                release.title,
                release.get_kind_display(),
                release.get_risk_display(),
                _moment(release.starts_at),
                _moment(release.ends_at),
                ", ".join(service.name for service in release.services.all()),
            )
            for release in summary.upcoming
        ),
    ),
}
