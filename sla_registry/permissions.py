"""Who oversees the portal: members of the SLA committee and of leadership teams."""

from django.db.models import Q

from sla_registry.choices import TeamKind
from sla_registry.models import Team


def oversees(user):
    """Whether `user` belongs to the SLA committee or a leadership team (they read the whole audit log)."""
    if not user.is_authenticated:
        return False
    return Team.objects.filter(Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP), group__user=user).exists()
