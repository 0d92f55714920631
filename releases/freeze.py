"""Freeze windows: does a moment fall inside one for a service, and the approver's warning."""

from django.utils import timezone
from django.utils.dateformat import format as date_format

from releases.models import Release
from sla_registry.models import Service


def freezes_during(start, end, services):
    """Scheduled freeze windows of any of `services` in force at some moment between start and end."""
    return Release.objects.scheduled().freeze_windows().overlapping(start, end).filter(services__in=services).distinct()


def freezes_at(moment, service_slugs):
    """Scheduled freeze windows in force at `moment` for any of the services named, with their services."""
    services = Service.objects.filter(slug__in=service_slugs)
    return list(freezes_during(moment, moment, services).prefetch_related("services"))


def freeze_window_warnings(change_request):
    """Warnings for an approver: the change would take effect inside a freeze window of its service."""
    moment = change_request.effective_at or timezone.now()
    services = change_request.governed_kind.services_of(change_request.proposed)
    if not services:
        return []
    return [
        (
            f"It takes effect on {date_format(timezone.localtime(moment), 'j M Y H:i')}, inside the freeze window "
            f"“{freeze.title}” ({date_format(timezone.localtime(freeze.starts_at), 'j M')} to "
            f"{date_format(timezone.localtime(freeze.ends_at), 'j M')}) of "
            f"{', '.join(service.name for service in freeze.services.all())}."
        )
        for freeze in freezes_at(moment, services)
    ]
