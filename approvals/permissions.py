"""Readers that fetch and check access in one call."""

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404

from approvals.choices import REVISABLE_STATES, ChangeState
from approvals.models import ChangeRequest, Decision, RequiredApproval
from approvals.registry import all_kinds
from core.teams import teams_user_may_approve_for


def visible_change_requests(user, queryset=None):
    """Change requests `user` may see: all of them, except those about documents a kind keeps from them.

    Governance is open by design; a kind with restricted documents (a restricted
    post-incident review) narrows the list through its adapter's filter_visible.
    """
    queryset = ChangeRequest.objects.all() if queryset is None else queryset
    for kind in all_kinds():
        queryset = kind.filter_visible(queryset, user)
    return queryset


def access_change_request(user, reference):
    """The change request named by `reference` (CR-0042) if `user` may see it; 404 for anything else."""
    pk = ChangeRequest.pk_from_reference(reference)
    if pk is None:
        raise Http404(f"“{reference}” is not a change request reference.")
    return get_object_or_404(visible_change_requests(user, ChangeRequest.objects.select_related("author")), pk=pk)


def revise_refusal(change_request, user):
    """Why `user` may not revise the request now (the words revise_change_request uses), or None."""
    if change_request.author_id != user.pk:
        return f"Only the author of {change_request.reference} can revise it."
    if change_request.state not in REVISABLE_STATES:
        return f"{change_request.reference} is {change_request.get_state_display().lower()}; it cannot be revised."
    return None


def approvals_waiting_for(user):
    """Required approvals of requests in review that `user` can give and that are not given yet, oldest first."""
    decided = Decision.objects.filter(
        change_request=OuterRef("change_request"),
        team=OuterRef("team"),
        revision=OuterRef("change_request__revision"),
    )
    return (
        RequiredApproval.objects.filter(
            change_request__state=ChangeState.IN_REVIEW,
            team__in=teams_user_may_approve_for(user),
            change_request__in=visible_change_requests(user),
        )
        .exclude(change_request__author=user)
        .exclude(Exists(decided))
        .select_related("change_request", "change_request__author", "team")
        .order_by("change_request__submitted_at", "change_request_id", "team__name")
    )
