"""Every write to calendars and releases entered by hand goes through a function here.

Imports from iCalendar have their own write path (releases.importing), which
reconciles a whole calendar at once; both leave history rows naming the user and
the reason, and both let linked change requests follow a release that moved.
"""

from django.db import transaction

from core.history import stamp
from releases.scheduling import follow_releases
from sla_registry.actions import save_registry_object


@transaction.atomic
def save_calendar(calendar, *, default_services=None, acting_user, reason):
    many_to_many = {"default_services": default_services} if default_services is not None else None
    return save_registry_object(calendar, acting_user=acting_user, reason=reason, many_to_many=many_to_many)


@transaction.atomic
def save_release(release, *, services=None, acting_user, reason):
    """Create or update a release; change requests effective with it move with it."""
    if release.pk is None and release.created_by_id is None and getattr(acting_user, "pk", None):
        release.created_by = acting_user
    many_to_many = {"services": services} if services is not None else None
    release = save_registry_object(release, acting_user=acting_user, reason=reason, many_to_many=many_to_many)
    follow_releases([release], acting_user=acting_user)
    return release


@transaction.atomic
def save_rules(calendar, rules, *, acting_user, reason):
    """Replace the calendar's service rules with `rules` (unsaved ServiceRule instances)."""
    for rule in rules:
        rule.calendar = calendar
        rule.full_clean(exclude=["calendar"])
    kept = {rule.pk for rule in rules if rule.pk}
    for rule in calendar.rules.exclude(pk__in=kept):
        stamp(rule, acting_user, reason)
        rule.delete()
    for rule in rules:
        stamp(rule, acting_user, reason)
        rule.save()
    return rules
