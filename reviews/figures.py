"""What a review is measured against, and how it measured up.

Reads only what the review pinned (agreement versions in force when the incident
started), so a later change to an SLA never changes a review's figures. The review's
own pages also show how each team of the pinned escalation was reached when the
incident started (its contacts then, from the team's history, and what changed since):
one more query, read only where a review is shown, never for a list.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Prefetch

from approvals.registry import get_kind
from reviews.metrics import IncidentMetrics, IncidentTimes, check_targets
from reviews.models import PinnedVersion, PostIncidentReview
from sla_registry.choices import Channel
from sla_registry.models import Service, Team
from sla_registry.presentation import teams_as_of
from sla_registry.working_hours import WorkingWeek


@dataclass
class PinnedAgreement:
    """One pinned SLA version and the response-target checks against it."""

    service: object
    version: object
    checks: list = field(default_factory=list)

    @property
    def reference(self):
        return get_kind(self.version.document_kind).reference_of(self.version.document_id)

    @property
    def label(self):
        return (
            f"measured against {self.reference} v{self.version.number}, effective {self.version.effective_at:%Y-%m-%d}"
        )

    @property
    def breaches(self):
        return [check for check in self.checks if check.breached]


@dataclass
class ExpectedStep:
    """An escalation step the pinned matrix says should have fired, and when."""

    level: int
    team: str
    contact: str
    channel: str
    due_at: object  # detection + the waits of the levels before it
    # With contacts (the review's own pages): the team as it was when the incident started, and its address there.
    team_link: object = None  # sla_registry.presentation.Link
    address: str = ""

    @property
    def channel_label(self):
        return Channel(self.channel).label if self.channel in Channel.values else self.channel


@dataclass
class ReviewFigures:
    metrics: IncidentMetrics
    agreements: list
    matrices: list  # (service, version, [ExpectedStep])
    # With contacts: the moment they are read at (the start), and what the paged teams changed since.
    contacts_as_of: object = None
    contacts_changed: list = field(default_factory=list)
    contacts_recorded_after: list = field(default_factory=list)

    @property
    def breaches(self):
        return [check for agreement in self.agreements for check in agreement.breaches]


def expected_steps(matrix_snapshot, severity, detected_at):
    steps = sorted(
        (step for step in matrix_snapshot.get("steps", []) if step["severity"] == severity),
        key=lambda step: step["level"],
    )
    expected, waited = [], timedelta(0)
    for step in steps:
        due_at = detected_at + waited if detected_at else None
        expected.append(ExpectedStep(step["level"], step["team"], step["contact"], step["channel"], due_at))
        waited += timedelta(minutes=step["wait_minutes"])
    return expected


def working_weeks(pinned_rows):
    """The working week of each provider team named by pinned SLA versions (one query, none if there are none)."""
    slugs = {row.version.snapshot.get("provider_team") for row in pinned_rows if row.version.document_kind == "sla"}
    if not slugs:
        return {}
    return {team.slug: WorkingWeek.of_team(team) for team in Team.objects.filter(slug__in=slugs)}


def review_figures(review, pinned_versions=None, weeks=None, *, contacts=False):
    """Metrics, target checks per pinned SLA version, and the escalation that should have happened.

    `pinned_versions` (prefetched rows of review.pinned_versions) and `weeks` (from
    working_weeks) may be given, so a page of many reviews reads each only once. With
    `contacts` (a page of one review), each escalation step also names its team and address
    as they were when the incident started (one query, none without a pinned matrix).
    """
    times = IncidentTimes.of(review)
    pinned = (
        pinned_versions
        if pinned_versions is not None
        else list(review.pinned_versions.select_related("service", "version"))
    )
    weeks = working_weeks(pinned) if weeks is None else weeks
    category = review.category.slug if review.category_id else None
    agreements, matrices = [], []
    for row in pinned:
        snapshot = row.version.snapshot
        if row.version.document_kind == "sla":
            week = weeks.get(snapshot.get("provider_team"), WorkingWeek())
            checks = check_targets(times, review.severity.key, category, snapshot, week)
            agreements.append(PinnedAgreement(row.service, row.version, checks))
        else:
            matrices.append(
                (row.service, row.version, expected_steps(snapshot, review.severity.key, review.detected_at))
            )
    figures = ReviewFigures(IncidentMetrics.of(times), agreements, matrices)
    if contacts:
        add_contacts_at_start(figures, review.started_at)
    return figures


def add_contacts_at_start(figures, started_at):
    """Name each expected step's team and address as they were at `started_at`, and say what changed since."""
    steps = [step for _, _, steps in figures.matrices for step in steps]
    if started_at is None or not steps:
        return
    teams = teams_as_of({step.team for step in steps}, started_at)
    for step in steps:
        step.team_link = teams.link(step.team)
        team = step.team_link.obj
        step.address = team.contact_for(step.channel) if team is not None and step.channel in Channel.values else ""
    figures.contacts_as_of = started_at
    figures.contacts_changed = teams.contacts_changed()
    figures.contacts_recorded_after = teams.recorded_after()


# Many reviews at once ------------------------------------------------------------
# A list reads the provider teams' working weeks once for the whole page and hands
# them to review_figures, so every page keeps a fixed number of queries.


def pinned_prefetch():
    return Prefetch("pinned_versions", queryset=PinnedVersion.objects.select_related("service", "version"))


def reviews_with_figures_prefetched(queryset=None):
    """Reviews with what their figures and list rows read, in a fixed number of queries."""
    queryset = PostIncidentReview.objects.all() if queryset is None else queryset
    return queryset.select_related("severity", "category").prefetch_related(
        Prefetch("services", queryset=Service.objects.select_related("owner_team")),
        pinned_prefetch(),
    )


def attach_figures(reviews):
    """Set `review.figures` on reviews fetched with reviews_with_figures_prefetched (one more query)."""
    reviews = list(reviews)
    weeks = working_weeks([row for review in reviews for row in review.pinned_versions.all()])
    for review in reviews:
        review.figures = review_figures(review, review.pinned_versions.all(), weeks)
        # A drill rehearses the response: its checks are shown, never counted as breaches.
        review.counted_breaches = [] if review.is_drill else review.figures.breaches
    return reviews
