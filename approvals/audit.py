"""How change requests and governed documents read in the audit log (registered from ApprovalsConfig.ready)."""

from django.db.models import CharField, Q
from django.db.models.functions import Cast

from approvals.models import ChangeRequest
from approvals.permissions import visible_change_requests
from approvals.registry import all_kinds
from audit.permissions import AuditTarget

CHANGE_REQUEST_TYPE = ChangeRequest._meta.label_lower


def hidden_change_requests(user):
    """Ids (as text) of the change requests `user` may not see: those about documents kept from them."""
    hidden = ChangeRequest.objects.exclude(pk__in=visible_change_requests(user).values("pk"))
    return hidden.values(text_pk=Cast("pk", CharField()))


def read_reference(text):
    """The AuditTarget of "CR-0012", or of a governed document's reference ("SLA-0003") with its requests."""
    if (pk := ChangeRequest.pk_from_reference(text)) is not None:
        return AuditTarget(CHANGE_REQUEST_TYPE, str(pk), ChangeRequest(pk=pk).reference)
    for kind in all_kinds():
        if (pk := kind.document_id_from_reference(text)) is not None:
            requests = ChangeRequest.objects.filter(document_kind=kind.key, document_id=pk).values(
                text_pk=Cast("pk", CharField())
            )
            return AuditTarget(
                kind.model._meta.label_lower,
                str(pk),
                kind.reference_of(pk),
                related=Q(object_type=CHANGE_REQUEST_TYPE, object_id__in=requests),
            )
    return None
