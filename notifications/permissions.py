"""Who may manage which webhooks.

A team's approvers manage its webhooks (they already speak for the team); global
webhooks, which hear every team's events, are managed by staff and members or
approvers of the SLA committee.
"""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from core.teams import team_model as _team_model
from core.teams import teams_user_may_approve_for
from notifications.models import WebhookSubscription


def may_manage_global_webhooks(user):
    """Staff (superusers included), and members or approvers of the SLA committee; read once per request.

    A global webhook hears every team's events, so no team's approver makes one."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    if not hasattr(user, "_may_manage_global_webhooks"):
        committee = _team_model().objects.filter(is_sla_committee=True)
        user._may_manage_global_webhooks = committee.filter(
            Q(group__user=user) | Q(pk__in=teams_user_may_approve_for(user))
        ).exists()
    return user._may_manage_global_webhooks


def webhook_teams_for(user):
    """Teams whose webhooks `user` may manage."""
    if getattr(user, "is_superuser", False):
        return _team_model().objects.all()
    return teams_user_may_approve_for(user)


def manageable_subscriptions(user):
    """The subscriptions `user` may see and manage, team loaded."""
    subscriptions = WebhookSubscription.objects.select_related("team")
    if getattr(user, "is_superuser", False):
        return subscriptions
    mine = Q(team__in=teams_user_may_approve_for(user))
    if may_manage_global_webhooks(user):
        mine |= Q(team__isnull=True)
    return subscriptions.filter(mine)


def may_manage_webhooks(user):
    """Whether `user` may manage any webhook at all (the list and the create page)."""
    return may_manage_global_webhooks(user) or webhook_teams_for(user).exists()


def may_manage_subscription(user, subscription):
    if subscription.team_id is None:
        return may_manage_global_webhooks(user)
    return webhook_teams_for(user).filter(pk=subscription.team_id).exists()


def access_subscription(user, pk):
    """The subscription `pk` if `user` may manage it; 404 otherwise (another team's webhooks are not shown)."""
    return get_object_or_404(manageable_subscriptions(user), pk=pk)
