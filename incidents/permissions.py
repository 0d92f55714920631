"""Who may see and act on an incident: the one place it is decided (pages, API and commands read these).

Every signed-in user sees an unrestricted incident. A restricted one (security incidents) is seen only by
members of the teams that own its services, the SLA committee and leadership (as restricted reviews are);
everyone else gets a 404 and never sees it listed. Members of an owning team, the committee and superusers
act on an incident (acknowledge, restore, resolve, reopen); any member of a team may declare one. The
unrouted inbox belongs to the committee.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from incidents.models import Incident
from sla_registry.choices import TeamKind
from sla_registry.models import Team


def _oversees(user):
    return Exists(Team.objects.filter(Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP), group__user=user))


def _owning_member(user):
    return Exists(
        Incident.services.through.objects.filter(incident_id=OuterRef("pk"), service__owner_team__group__user=user)
    )


def visible_incidents(user, queryset=None):
    """The incidents `user` may see, as a queryset to filter further."""
    queryset = Incident.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(Q(is_restricted=False) | _owning_member(user) | _oversees(user))


def access_incident(user, reference):
    """The incident named by `reference` if `user` may see it; 404 otherwise (a hidden one is not found)."""
    pk = Incident.pk_from_reference(reference)
    in_range = pk is not None and 0 < pk < 2**63  # a 30-digit "reference" is not a database error
    incident = visible_incidents(user).filter(pk=pk).first() if in_range else None
    if incident is None:
        raise Http404(f"No incident {reference}.")
    return incident


def is_committee_member(user):
    return user.is_authenticated and (
        user.is_superuser or Team.objects.filter(is_sla_committee=True, group__user=user).exists()
    )


def may_act_on(user, incident):
    """Whether `user` may acknowledge, restore, resolve or reopen `incident`."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Team.objects.filter(Q(is_sla_committee=True) | Q(services__incidents=incident), group__user=user).exists()


def may_declare(user):
    """Any member of a team (and superusers) may declare an incident."""
    return user.is_authenticated and (user.is_superuser or Team.objects.filter(group__user=user).exists())


def may_route(user):
    """The unrouted inbox is the committee's."""
    return is_committee_member(user)
