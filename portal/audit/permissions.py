"""Who may read the audit log, and which of its events they see.

The log is for oversight: superusers and staff, and members of the SLA committee and leadership teams.
Everyone else gets 403 (the page says who may read it). Events about restricted reviews, and about change
requests to them, are left out for a reader who may not see those reviews (a staff member outside the
committee and leadership); the committee, leadership and superusers see every review, so they see every
event.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from approvals.models import ChangeRequest
from approvals.permissions import visible_change_requests
from approvals.registry import all_kinds
from sla_registry.choices import TeamKind
from sla_registry.models import Team

CHANGE_REQUEST_TYPE = ChangeRequest._meta.label_lower


@dataclass(frozen=True)
class AuditTarget:
    """The object an audit filter names: its type and id as stored on events, and how people call it."""

    object_type: str
    object_id: str
    label: str
    document_kind: str | None = None  # set for a governed document: its change requests' events belong to it


def _oversees(user):
    return Team.objects.filter(Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP), group__user=user).exists()


def access_audit_log(user):
    """Return whether `user` sees every event (True) or only those about what they may see (False); 403 otherwise."""
    if user.is_superuser:
        return True
    if _oversees(user):
        return True
    if user.is_staff:
        return False
    raise PermissionDenied("The audit log is open to staff, the SLA committee and leadership.")


def readable_events(queryset, user, *, sees_everything):
    """`queryset` without the events about reviews and change requests `user` may not see."""
    if sees_everything:
        return queryset
    from reviews.models import PostIncidentReview
    from reviews.permissions import hidden_reviews

    hidden_change_requests = ChangeRequest.objects.exclude(pk__in=visible_change_requests(user).values("pk"))
    return queryset.exclude(
        object_type=PostIncidentReview._meta.label_lower,
        object_id__in=hidden_reviews(user).values(text_pk=Cast("pk", CharField())),
    ).exclude(
        object_type=CHANGE_REQUEST_TYPE,
        object_id__in=hidden_change_requests.values(text_pk=Cast("pk", CharField())),
    )


def referenced_object(text):
    """The AuditTarget for "CR-0012", "SLA-0003"… or "app_label.model:id"; None when the text names nothing."""
    if ":" in text:
        object_type, _, object_id = text.partition(":")
        return AuditTarget(object_type.strip().lower(), object_id.strip(), text) if object_id.strip() else None
    if (pk := ChangeRequest.pk_from_reference(text)) is not None:
        return AuditTarget(CHANGE_REQUEST_TYPE, str(pk), ChangeRequest(pk=pk).reference)
    for kind in all_kinds():
        if (pk := kind.document_id_from_reference(text)) is not None:
            return AuditTarget(kind.model._meta.label_lower, str(pk), kind.reference_of(pk), document_kind=kind.key)
    return None


def events_about(queryset, target):
    """Events about `target`; for a governed document, also those about the change requests to it."""
    about = Q(object_type=target.object_type, object_id=target.object_id)
    if target.document_kind:
        change_requests = ChangeRequest.objects.filter(
            document_kind=target.document_kind, document_id=target.object_id
        ).values(text_pk=Cast("pk", CharField()))
        about |= Q(object_type=CHANGE_REQUEST_TYPE, object_id__in=change_requests)
    return queryset.filter(about)
