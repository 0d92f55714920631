"""What the review pages share: figures for many reviews at once, and readable links.

A list reads the provider teams' working weeks once for the whole page and hands
them to reviews.figures.review_figures, so every page keeps a fixed number of
queries however many reviews it shows.
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Prefetch

from approvals.actions import version_in_force
from reviews.figures import review_figures, working_weeks
from reviews.models import PinnedVersion, PostIncidentReview
from sla_registry.choices import AgreementStatus
from sla_registry.models import Service

PAGE_SIZE = 25


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


def pins_in_memory(review, services):
    """What save_review would pin for these services at the review's start, without writing anything."""
    pinned = []
    if review.started_at is None:
        return pinned
    services = Service.objects.filter(pk__in=[service.pk for service in services])
    for service in services.prefetch_related("slas").select_related("escalation_matrix").order_by("name"):
        documents = [("sla", sla.pk) for sla in service.slas.all() if sla.status != AgreementStatus.DRAFT]
        matrix = getattr(service, "escalation_matrix", None)
        if matrix is not None:
            documents.append(("escalation_matrix", matrix.pk))
        for kind, document_id in documents:
            version = version_in_force(kind, document_id, review.started_at)
            if version is not None:
                pinned.append(PinnedVersion(service=service, version=version))
    return pinned


_is_url = URLValidator(schemes=["http", "https"])


def link_lines(text):
    """The review's links, one per line: (url, text) where the line is a web address, else (None, text)."""
    lines = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            _is_url(line)
        except ValidationError:
            lines.append((None, line))
        else:
            lines.append((line, line))
    return lines
