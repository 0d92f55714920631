"""The Review due page: what the SLA committee must review in the next 14 days and what is overdue, by owner.

Committee members record a review from the page. "Reviewed, no change" is
recorded at once; "propose changes" and "propose retirement" lead into the
existing editors (sla_registry.views.proposals) with ?periodic_review=1, which
record the review together with the change request they open.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from approvals.exceptions import InvalidTransition, NotAllowed
from sla_registry.models import EscalationMatrix, ReviewOutcome, ServiceLevelAgreement
from sla_registry.review_cycle import REVIEW_WINDOW_DAYS, by_owner, documents_due, is_committee_member
from sla_registry.review_cycle import record_periodic_review as record

# The kinds in the page's URLs: their model and the editors a proposal opens.
KINDS = {
    "sla": (ServiceLevelAgreement, "sla_registry:sla_propose", "sla_registry:sla_retire"),
    "escalation_matrix": (EscalationMatrix, "sla_registry:matrix_propose", "sla_registry:matrix_retire"),
}


class PeriodicReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (ReviewOutcome.UNCHANGED, "Reviewed, no change"),
            (ReviewOutcome.CHANGES_PROPOSED, "Propose changes"),
            (ReviewOutcome.RETIRE_PROPOSED, "Propose retirement"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


@require_GET
def review_due(request):
    now = timezone.now()
    due = documents_due(now=now)
    return render(
        request,
        "sla_registry/review_due.html",
        {
            "groups": by_owner(due),
            "overdue_count": sum(item.is_overdue for item in due),
            "due_count": len(due),
            "window_days": REVIEW_WINDOW_DAYS,
            "is_committee": is_committee_member(request.user),
            "outcomes": PeriodicReviewForm.base_fields["outcome"].choices,
        },
    )


def _document(kind, reference):
    if kind not in KINDS:
        raise Http404(f"“{kind}” is not a kind of governed document.")
    model = KINDS[kind][0]
    pk = model.pk_from_reference(reference)
    if pk is None:
        raise Http404(f"“{reference}” is not a {model._meta.verbose_name} reference.")
    return get_object_or_404(model, pk=pk)


@require_POST
def periodic_review(request, kind, reference):
    """Record "reviewed, no change", or go on to propose the change or retirement the review calls for."""
    if not is_committee_member(request.user):
        raise PermissionDenied("Only members of the SLA committee record periodic reviews.")
    document = _document(kind, reference)
    form = PeriodicReviewForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        messages.error(request, f"{document.reference} was not reviewed. {problems}")
        return redirect("sla_registry:review_due")
    outcome, note = form.cleaned_data["outcome"], form.cleaned_data["note"]
    if outcome != ReviewOutcome.UNCHANGED:
        editor = KINDS[kind][1] if outcome == ReviewOutcome.CHANGES_PROPOSED else KINDS[kind][2]
        query = urlencode({"periodic_review": "1", "note": note})
        return redirect(f"{reverse(editor, args=[document.reference])}?{query}")
    try:
        record(document, outcome=outcome, note=note, acting_user=request.user)
    except (ValidationError, InvalidTransition, NotAllowed) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, f"{document.reference} was not reviewed: {text}")
        return redirect("sla_registry:review_due")
    document.refresh_from_db(fields=["next_review_due"])
    next_due = timezone.localtime(document.next_review_due)
    messages.success(request, f"{document.reference} reviewed, no change. Next review due {next_due:%-d %b %Y}.")
    return redirect("sla_registry:review_due")
