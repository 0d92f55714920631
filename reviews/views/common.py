"""What the review pages share: pins shown before saving, readable links (figures for many reviews at once
live in reviews.figures)."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from approvals.actions import version_in_force
from reviews.models import PinnedVersion
from sla_registry.choices import AgreementStatus
from sla_registry.models import Service

PAGE_SIZE = 25


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
