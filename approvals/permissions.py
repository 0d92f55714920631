"""Readers that fetch and check access in one call."""

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404
from guardian.shortcuts import get_objects_for_user

from approvals.choices import ChangeState
from approvals.models import ChangeRequest, Decision, RequiredApproval


def access_change_request(user, reference):
    """The change request named by `reference` (CR-0042); 404 for anything else.

    Every signed-in user may read change requests: governance is open by design.
    """
    pk = ChangeRequest.pk_from_reference(reference)
    if pk is None:
        raise Http404(f"“{reference}” is not a change request reference.")
    return get_object_or_404(ChangeRequest.objects.select_related("author"), pk=pk)


def teams_user_may_approve_for(user):
    """Teams on whose behalf `user` may approve or reject (the guardian object permission)."""
    from django.apps import apps

    team_model = apps.get_model(settings.APPROVALS_TEAM_MODEL)
    if not user.is_authenticated:
        return team_model.objects.none()
    return get_objects_for_user(
        user, settings.APPROVALS_APPROVE_PERMISSION, klass=team_model, accept_global_perms=False
    )


def approvals_waiting_for(user):
    """Required approvals of requests in review that `user` can give and that are not given yet, oldest first."""
    decided = Decision.objects.filter(
        change_request=OuterRef("change_request"),
        team=OuterRef("team"),
        revision=OuterRef("change_request__revision"),
    )
    return (
        RequiredApproval.objects.filter(
            change_request__state=ChangeState.IN_REVIEW, team__in=teams_user_may_approve_for(user)
        )
        .exclude(change_request__author=user)
        .exclude(Exists(decided))
        .select_related("change_request", "change_request__author", "team")
        .order_by("change_request__submitted_at", "change_request_id", "team__name")
    )
