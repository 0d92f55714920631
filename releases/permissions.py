"""Who may manage which calendars and releases.

A team's members manage its calendars and the releases of the services it owns;
holders of the model permissions (release managers, the admin) manage all of them.
Everyone signed in may read every release: release plans are not secret inside
the organisation, and the engineer in an incident needs them.
"""

from sla_registry.models import Service, Team


def member_team_ids(user):
    """Ids of the teams whose group `user` belongs to, read once per request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if not hasattr(user, "_release_team_ids"):
        user._release_team_ids = frozenset(Team.objects.filter(group__user=user).values_list("pk", flat=True))
    return user._release_team_ids


def manageable_teams(user):
    if user.has_perm("releases.add_calendar"):
        return Team.objects.all()
    return Team.objects.filter(pk__in=member_team_ids(user))


def can_manage_calendar(user, calendar):
    return user.has_perm("releases.change_calendar") or calendar.team_id in member_team_ids(user)


def schedulable_services(user):
    """Services `user` may put releases on by hand."""
    if user.has_perm("releases.add_release"):
        return Service.objects.all()
    return Service.objects.filter(owner_team__in=member_team_ids(user))


def can_add_release(user):
    return user.has_perm("releases.add_release") or bool(member_team_ids(user))


def can_edit_release(user, release):
    """Releases entered by hand only: an imported one is changed in its calendar, or the next sync undoes it."""
    if release.is_imported:
        return False
    if user.has_perm("releases.change_release"):
        return True
    teams = member_team_ids(user)
    if release.calendar_id and release.calendar.team_id in teams:
        return True
    return any(service.owner_team_id in teams for service in release.services.all())
