"""Who oversees the portal (the committee and leadership), and who speaks for a team's own record."""

from django.db.models import Q

from core.teams import teams_user_may_approve_for
from sla_registry.choices import TeamKind
from sla_registry.models import Team


def oversees(user):
    """Whether `user` belongs to the SLA committee or a leadership team (they read the whole audit log)."""
    if not user.is_authenticated:
        return False
    return Team.objects.filter(Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP), group__user=user).exists()


def may_edit_team(user, team):
    """A team's name and contacts are edited by its approvers, the SLA committee's members and approvers,
    and superusers; every escalation that names the team depends on them."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    approves_for = teams_user_may_approve_for(user)
    if approves_for.filter(Q(pk=team.pk) | Q(is_sla_committee=True)).exists():
        return True
    return Team.objects.filter(is_sla_committee=True, group__user=user).exists()


def may_record_measurements(user, sla):
    """What monitoring measured for an SLA is recorded by its provider team's members (and superusers)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(pk=sla.provider_team.group_id).exists()
