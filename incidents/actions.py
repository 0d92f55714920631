"""Every write to an incident goes through a function here: opening, status changes, re-pinning, routing.

Times come from the sender (`occurred_at`): an event that arrives late fills in the times it knows
(the earliest acknowledgement wins) but changes the status only when it is newer than the event that set
the current one, so out-of-order delivery ends in the same incident as in-order delivery.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.log import record_event
from core.exceptions import InvalidTransition, NotAllowed
from incidents.choices import EventKind, IncidentSource, IncidentStatus
from incidents.clocks import plan_clocks, settle_all
from incidents.models import Incident, IncidentEvent, IncidentPinnedVersion, Integration, UnroutedEvent
from incidents.permissions import may_act_on, may_declare, may_route
from sla_registry.documents import agreement_versions_in_force

logger = logging.getLogger(__name__)

# How long after resolving a re-fire reopens the incident instead of opening a new one.
REOPEN_WINDOW = timedelta(minutes=30)
# How often an integration's last-used time is written at most.
LAST_USED_EVERY = timedelta(minutes=1)

# status -> (the time it sets, the order in which statuses follow each other)
STATUS_TIME = {
    IncidentStatus.ACKNOWLEDGED: "acknowledged_at",
    IncidentStatus.RESTORED: "restored_at",
    IncidentStatus.RESOLVED: "resolved_at",
}
STATUS_ORDER = [IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESTORED, IncidentStatus.RESOLVED]
EVENT_OF_STATUS = {
    IncidentStatus.ACKNOWLEDGED: EventKind.ACKNOWLEDGED,
    IncidentStatus.RESTORED: EventKind.RESTORED,
    IncidentStatus.RESOLVED: EventKind.RESOLVED,
}


def pin_agreements(incident):
    """Pin, per affected service, each SLA and escalation-matrix version in force when the incident started."""
    incident.pinned_versions.all().delete()
    rows = [
        IncidentPinnedVersion(incident=incident, service=service, version=version)
        for service, version in agreement_versions_in_force(incident.services.all(), incident.started_at)
    ]
    IncidentPinnedVersion.objects.bulk_create(rows)
    return rows


def _replan(incident):
    rows = pin_agreements(incident)
    plan_clocks(incident, rows)
    transaction.on_commit(request_escalation)


def request_escalation():
    """Ask the worker for a run at the first threshold of the new clocks (after commit)."""
    from incidents.tasks import schedule_next_escalation

    try:
        schedule_next_escalation()
    except Exception:  # the periodic run finds the clocks anyway
        logger.exception("Could not queue the escalation run")


def add_event(incident, kind, *, occurred_at, source, summary="", raw_payload=None, fingerprint="", actor=None):
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        source=source,
        summary=summary[:500],
        raw_payload=raw_payload,
        occurred_at=occurred_at,
        fingerprint=fingerprint,
        actor=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def open_incident(
    *,
    title,
    services,
    severity,
    started_at,
    acting_user=None,
    category=None,
    detected_at=None,
    source=IncidentSource.MANUAL,
    integration=None,
    dedup_key="",
    is_drill=False,
    is_restricted=False,
    raw_payload=None,
    fingerprint="",
):
    """Open an incident: pin the agreements in force at its start, start its clocks, write its first event."""
    if source == IncidentSource.MANUAL and acting_user is not None and not may_declare(acting_user):
        raise NotAllowed("Only members of a team declare incidents.")
    incident = Incident(
        title=(title or "Untitled incident")[:200],
        severity=severity,
        category=category,
        started_at=started_at,
        detected_at=detected_at or (started_at if source != IncidentSource.MANUAL else None),
        status=IncidentStatus.TRIGGERED,
        status_changed_at=started_at,
        source=source,
        integration=integration,
        dedup_key=dedup_key[:255],
        is_drill=is_drill,
        is_restricted=is_restricted,
        declared_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    errors = {}
    try:
        incident.full_clean(exclude=["services", "status_changed_at"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if not services:
        errors["services"] = ["Name at least one affected service."]
    if errors:
        raise ValidationError(errors)
    incident.save()
    incident.services.set(services)
    _replan(incident)
    add_event(
        incident,
        EventKind.TRIGGERED,
        occurred_at=started_at,
        source=source,
        summary=incident.title,
        raw_payload=raw_payload,
        fingerprint=fingerprint,
        actor=acting_user,
    )
    record_event(
        "incident.opened",
        incident,
        actor=acting_user,
        payload={"source": source, "severity": severity.key, "services": sorted(s.slug for s in services)},
    )
    return incident


def _locked(incident):
    return Incident.objects.select_for_update(of=("self",)).select_related("severity", "category").get(pk=incident.pk)


def apply_status(
    incident, status, *, occurred_at, source, acting_user=None, raw_payload=None, fingerprint="", summary=""
):
    """Record that the incident reached `status` at `occurred_at` (the sender's time); see the module docstring.

    Call inside a transaction with the incident locked. Returns the incident (re-read).
    """
    field = STATUS_TIME[status]
    current = getattr(incident, field)
    if current is None or occurred_at < current:
        setattr(incident, field, occurred_at)
    if occurred_at < incident.started_at:
        incident.started_at = occurred_at
    newer = occurred_at >= incident.status_changed_at
    if newer and STATUS_ORDER.index(status) > STATUS_ORDER.index(incident.status):
        incident.status, incident.status_changed_at = status, occurred_at
    # Reaching a later point implies the earlier ones (resolving an unacknowledged incident restores it too).
    for earlier in STATUS_ORDER[1 : STATUS_ORDER.index(status)]:
        if getattr(incident, STATUS_TIME[earlier]) is None and earlier != IncidentStatus.ACKNOWLEDGED:
            setattr(incident, STATUS_TIME[earlier], occurred_at)
    incident.save()
    add_event(
        incident,
        EVENT_OF_STATUS[status],
        occurred_at=occurred_at,
        source=source,
        summary=summary,
        raw_payload=raw_payload,
        fingerprint=fingerprint,
        actor=acting_user,
    )
    settle_all(incident)
    return incident


def reopen(incident, *, occurred_at, source, acting_user=None, raw_payload=None, fingerprint="", summary=""):
    """Back to triggered: restore and resolve are undone, their clocks run again (call with the incident locked)."""
    if occurred_at < incident.status_changed_at:
        # An old re-fire delivered after a newer resolve: on the timeline, not a reopening.
        add_event(
            incident, EventKind.REFIRED, occurred_at=occurred_at, source=source, summary=summary,
            raw_payload=raw_payload, fingerprint=fingerprint, actor=acting_user,
        )  # fmt: skip
        return incident
    incident.status, incident.status_changed_at = IncidentStatus.TRIGGERED, occurred_at
    incident.restored_at = incident.resolved_at = None
    incident.save()
    add_event(
        incident, EventKind.REOPENED, occurred_at=occurred_at, source=source, summary=summary,
        raw_payload=raw_payload, fingerprint=fingerprint, actor=acting_user,
    )  # fmt: skip
    settle_all(incident)
    return incident


@transaction.atomic
def change_incident(incident, *, acting_user=None, severity=None, services=None, category=None, occurred_at=None,
                    source=IncidentSource.MANUAL, raw_payload=None, fingerprint=""):  # fmt: skip
    """Change severity, services or category: re-pin the agreements at the start, re-plan the clocks."""
    incident = _locked(incident)
    before = (incident.severity.key, sorted(incident.services.values_list("slug", flat=True)))
    if severity is not None:
        incident.severity = severity
    if category is not None:
        incident.category = category
    incident.save()
    if services is not None:
        if not services:
            raise ValidationError({"services": ["Name at least one affected service."]})
        incident.services.set(services)
    after = (incident.severity.key, sorted(incident.services.values_list("slug", flat=True)))
    _replan(incident)
    summary = f"{before[0]} → {after[0]}" if before[0] != after[0] else ""
    if before[1] != after[1]:
        summary = f"{summary}; services {', '.join(before[1])} → {', '.join(after[1])}".lstrip("; ")
    add_event(
        incident, EventKind.CHANGED, occurred_at=occurred_at or timezone.now(), source=source,
        summary=summary or "Re-pinned", raw_payload=raw_payload, fingerprint=fingerprint, actor=acting_user,
    )  # fmt: skip
    return incident


# By hand (pages, API) ------------------------------------------------------------------------------

ALLOWED_FROM = {
    "acknowledge": (IncidentStatus.TRIGGERED,),
    "restore": (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
    "resolve": (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESTORED),
    "reopen": (IncidentStatus.RESTORED, IncidentStatus.RESOLVED),
}
STATUS_OF_ACTION = {
    "acknowledge": IncidentStatus.ACKNOWLEDGED,
    "restore": IncidentStatus.RESTORED,
    "resolve": IncidentStatus.RESOLVED,
}


@transaction.atomic
def act_on_incident(incident, action, *, acting_user, note=""):
    """acknowledge, restore, resolve or reopen by hand, now; InvalidTransition from a state that does not allow it."""
    if not may_act_on(acting_user, incident):
        raise NotAllowed(
            f"Only the teams that own its services and the SLA committee can {action} {incident.reference}."
        )
    incident = _locked(incident)
    if incident.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            f"{incident.reference} is {incident.get_status_display().lower()}; it cannot be {action}d."
        )
    now = max(timezone.now(), incident.status_changed_at)
    if action == "reopen":
        incident = reopen(
            incident, occurred_at=now, source=IncidentSource.MANUAL, acting_user=acting_user, summary=note
        )
    else:
        incident = apply_status(
            incident, STATUS_OF_ACTION[action], occurred_at=now, source=IncidentSource.MANUAL,
            acting_user=acting_user, summary=note,
        )  # fmt: skip
    record_event(f"incident.{action}", incident, actor=acting_user, payload={"status": incident.status})
    return incident


# The unrouted inbox --------------------------------------------------------------------------------


@transaction.atomic
def route_unrouted(unrouted, *, service, severity, acting_user):
    """Open the incident an unrouted event should have opened, with its original times."""
    if not may_route(acting_user):
        raise NotAllowed("Only the SLA committee routes unrouted events.")
    unrouted = UnroutedEvent.objects.select_for_update().get(pk=unrouted.pk)
    if unrouted.routed_incident_id is not None:
        raise InvalidTransition(f"This event was already routed to {unrouted.routed_incident.reference}.")
    from incidents.ingestion import Signal, apply_signal  # the ingestion path, so correlation rules hold

    signal = Signal(
        status=unrouted.status,
        dedup_key=unrouted.dedup_key,
        occurred_at=unrouted.occurred_at,
        title=unrouted.summary,
        severity_key=severity.key,
        service_slugs=[service.slug],
        raw=unrouted.raw_payload,
        sender_id=f"routed-{unrouted.pk}",
    )
    incident = apply_signal(unrouted.integration, signal, routed_by=acting_user)
    add_event(
        incident, EventKind.ROUTED, occurred_at=unrouted.occurred_at, source=unrouted.integration.kind,
        summary=f"Routed to {service.slug} at {severity.key} by {acting_user.get_username()}", actor=acting_user,
    )  # fmt: skip
    unrouted.routed_incident, unrouted.routed_at, unrouted.routed_by = incident, timezone.now(), acting_user
    unrouted.save(update_fields=["routed_incident", "routed_at", "routed_by"])
    record_event("incident.routed", incident, actor=acting_user, payload={"unrouted_event": unrouted.pk})
    return incident


# Integrations --------------------------------------------------------------------------------------


@transaction.atomic
def create_integration(*, kind, name, team=None, acting_user=None):
    integration = Integration(kind=kind, name=name, team=team, created_by=acting_user)
    integration.full_clean()
    integration.save()
    record_event("integration.created", integration, actor=acting_user, payload={"kind": kind, "name": name})
    return integration


@transaction.atomic
def rotate_integration_secret(integration, *, acting_user=None, overlap=timedelta(hours=24)):
    """A new secret; the old one is still accepted for `overlap`, so senders can be changed without a gap."""
    from incidents.models.integrations import new_integration_secret

    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    integration.previous_secret = integration.secret
    integration.previous_secret_until = timezone.now() + overlap
    integration.secret = new_integration_secret()
    integration.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    record_event("integration.secret_rotated", integration, actor=acting_user, payload={"overlap": str(overlap)})
    return integration


def touch_integration(integration, now=None):
    """Record the integration's last use, at most once a minute (one UPDATE, none within the minute)."""
    now = now or timezone.now()
    if integration.last_used_at is None or now - integration.last_used_at >= LAST_USED_EVERY:
        Integration.objects.filter(pk=integration.pk).update(last_used_at=now)
        integration.last_used_at = now
