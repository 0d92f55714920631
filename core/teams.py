"""The team model the settings name (APPROVALS_TEAM_MODEL), and who speaks for which team.

The ground (notifications, audit) and approvals know teams only through these:
which model holds them, and on whose behalf a user may act (the guardian object
permission APPROVALS_APPROVE_PERMISSION on a team).
"""

from django.apps import apps
from django.conf import settings
from django.db.models import BigIntegerField
from django.db.models.functions import Cast
from guardian.models import UserObjectPermission


def team_model():
    return apps.get_model(settings.APPROVALS_TEAM_MODEL)


def teams_user_may_approve_for(user):
    """Teams on whose behalf `user` may approve or reject: those where they hold the guardian object permission.

    One subquery on the permission rows (rather than guardian's get_objects_for_user,
    which first looks up content types), so every page's query count stays fixed.
    """
    if not user.is_authenticated:
        return team_model().objects.none()
    app_label, codename = settings.APPROVALS_APPROVE_PERMISSION.split(".")
    granted = UserObjectPermission.objects.filter(
        user=user, permission__codename=codename, permission__content_type__app_label=app_label
    ).values(team_pk=Cast("object_pk", BigIntegerField()))
    return team_model().objects.filter(pk__in=granted)
