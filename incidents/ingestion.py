"""Inbound incident events: verify the sender, read its payload into signals, apply them in one transaction.

Each source's payload (shapes from the senders' published documentation) becomes a list of `Signal`s:
trigger / acknowledge / resolve / reopen / severity, with the sender's dedup key and time. Applying a
signal correlates it with the incident of the same integration and dedup key:

- the same event twice (same sender id or fingerprint, status and time) is stored once;
- a repeated trigger of a firing alert adds to its counter only;
- an incident resolves when all its alerts have resolved;
- a trigger within REOPEN_WINDOW of resolving reopens it, a later one opens a new incident;
- an event whose service cannot be told goes to the unrouted inbox (UnroutedEvent), never dropped.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents.actions import REOPEN_WINDOW, add_event, apply_status, change_incident, open_incident, reopen
from incidents.choices import AlertStatus, EventKind, IncidentStatus, IntegrationKind
from incidents.clocks import plan_clocks
from incidents.models import Alert, Incident, IncidentEvent, Integration, UnroutedEvent
from sla_registry.models import Service, Severity

MAX_BODY_BYTES = 1024 * 1024
MAX_FUTURE = timedelta(days=1)
OPSGENIE_SECRET_HEADER = "X-Portal-Integration-Secret"
DEFAULT_SEVERITY = "SEV3"

ALERTMANAGER_SEVERITY = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"}
PRIORITY_SEVERITY = {"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV4"}
PAGERDUTY_URGENCY = {"high": "SEV2", "low": "SEV4"}
PAGERDUTY_STATUS = {
    "incident.triggered": "trigger",
    "incident.acknowledged": "acknowledge",
    "incident.resolved": "resolve",
    "incident.reopened": "reopen",
    "incident.priority_updated": "severity",
}
OPSGENIE_STATUS = {"Create": "trigger", "Acknowledge": "acknowledge", "Close": "resolve"}
GENERIC_STATUS = {"trigger": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}


class BadPayload(Exception):
    """The payload cannot be read: `field` names what is missing or wrong."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Signal:
    status: str  # trigger, acknowledge, resolve, reopen, severity
    dedup_key: str
    occurred_at: object
    title: str = ""
    severity_key: str | None = None
    service_slugs: list = field(default_factory=list)
    pagerduty_service_id: str = ""
    alert: str = ""  # the alert inside the incident (Alertmanager's fingerprint); the dedup key otherwise
    sender_id: str = ""
    raw: object = None

    @property
    def alert_key(self):
        return self.alert or self.dedup_key


# Verifying -------------------------------------------------------------------------------------------


def signature_ok(integration, headers, body, now=None):
    """Whether the request carries one of the integration's accepted secrets, the way its kind sends it."""
    secrets = integration.accepted_secrets(now)
    if integration.kind == IntegrationKind.PAGERDUTY:
        given = [part.strip() for part in headers.get("X-PagerDuty-Signature", "").split(",") if part.strip()]
        expected = {"v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets}
        return any(hmac.compare_digest(g, e) for g in given for e in expected)
    if integration.kind == IntegrationKind.OPSGENIE:
        given = headers.get(OPSGENIE_SECRET_HEADER, "")
    else:
        authorization = headers.get("Authorization", "")
        given = authorization[7:] if authorization.startswith("Bearer ") else ""
    return bool(given) and any(hmac.compare_digest(given.encode(), s.encode()) for s in secrets)


# Reading ---------------------------------------------------------------------------------------------


def _require(mapping, key, path):
    if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
        raise BadPayload(path, f"{path} is required.")
    return mapping[key]


def _text(value, path):
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadPayload(path, f"{path} must be text.")
    return str(value)


def parse_time(value, path, now=None):
    now = now or timezone.now()
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise BadPayload(path, f"{path} must be an ISO 8601 date and time.")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > now + MAX_FUTURE:
        raise BadPayload(path, f"{path} is more than a day in the future.")
    return moment


def read_pagerduty(payload):
    event = _require(payload, "event", "event")
    event_type = _text(_require(event, "event_type", "event.event_type"), "event.event_type")
    if event_type not in PAGERDUTY_STATUS:
        raise BadPayload("event.event_type", f"event.event_type {event_type!r} is not one the portal reads.")
    data = _require(event, "data", "event.data")
    incident_id = _text(_require(data, "id", "event.data.id"), "event.data.id")
    occurred_at = parse_time(_require(event, "occurred_at", "event.occurred_at"), "event.occurred_at")
    priority = (data.get("priority") or {}).get("summary") if isinstance(data.get("priority"), dict) else None
    severity = PRIORITY_SEVERITY.get(priority) or PAGERDUTY_URGENCY.get(data.get("urgency"), "SEV2")
    service = data.get("service") if isinstance(data.get("service"), dict) else {}
    return [
        Signal(
            status=PAGERDUTY_STATUS[event_type],
            dedup_key=incident_id,
            occurred_at=occurred_at,
            title=str(data.get("title") or f"PagerDuty incident {incident_id}"),
            severity_key=severity,
            pagerduty_service_id=str(service.get("id") or ""),
            sender_id=str(event.get("id") or f"{incident_id}:{event_type}"),
            raw=payload,
        )
    ]


def read_alertmanager(payload):
    if not isinstance(payload, dict):
        raise BadPayload("body", "The body must be a JSON object.")
    version = _text(_require(payload, "version", "version"), "version")
    if version != "4":
        raise BadPayload("version", f'version {version!r} is not supported (Alertmanager sends "4").')
    group_key = _text(_require(payload, "groupKey", "groupKey"), "groupKey")
    alerts = _require(payload, "alerts", "alerts")
    if not isinstance(alerts, list):
        raise BadPayload("alerts", "alerts must be a list.")
    signals = []
    for index, alert in enumerate(alerts):
        path = f"alerts[{index}]"
        status = _text(_require(alert, "status", f"{path}.status"), f"{path}.status")
        if status not in ("firing", "resolved"):
            raise BadPayload(f"{path}.status", f"{path}.status must be firing or resolved.")
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        if not isinstance(labels, dict) or not isinstance(annotations, dict):
            raise BadPayload(f"{path}.labels", f"{path}.labels and annotations must be objects.")
        fingerprint = _text(_require(alert, "fingerprint", f"{path}.fingerprint"), f"{path}.fingerprint")
        starts_at = parse_time(_require(alert, "startsAt", f"{path}.startsAt"), f"{path}.startsAt")
        severity = str(labels.get("severity", "")).strip()
        severity_key = ALERTMANAGER_SEVERITY.get(severity.lower()) or (
            severity.upper() if severity.upper() in PRIORITY_SEVERITY.values() else DEFAULT_SEVERITY
        )
        occurred_at = starts_at
        if status == "resolved":
            occurred_at = parse_time(_require(alert, "endsAt", f"{path}.endsAt"), f"{path}.endsAt")
        title = annotations.get("summary") or labels.get("alertname") or "Alertmanager alert"
        signals.append(
            Signal(
                status="trigger" if status == "firing" else "resolve",
                dedup_key=group_key,
                occurred_at=occurred_at,
                title=str(title),
                severity_key=severity_key,
                service_slugs=[str(labels["service"])] if labels.get("service") else [],
                alert=fingerprint,
                sender_id=f"{fingerprint}:{starts_at.isoformat()}",
                raw=alert,
            )
        )
    return signals


def read_opsgenie(payload):
    action = _text(_require(payload, "action", "action"), "action")
    if action not in OPSGENIE_STATUS:
        raise BadPayload("action", f"action {action!r} is not one the portal reads (Create, Acknowledge, Close).")
    alert = _require(payload, "alert", "alert")
    alert_id = _text(_require(alert, "alertId", "alert.alertId"), "alert.alertId")
    tags = alert.get("tags") or []
    if not isinstance(tags, list):
        raise BadPayload("alert.tags", "alert.tags must be a list.")
    slugs = [tag.split(":", 1)[1] for tag in tags if isinstance(tag, str) and tag.startswith("service:")]
    # Opsgenie's outgoing webhook sends createdAt/updatedAt in milliseconds since the epoch.
    stamp = alert.get("updatedAt") or alert.get("createdAt")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        occurred_at = timezone.datetime.fromtimestamp(stamp / 1000, tz=UTC)
        if occurred_at > timezone.now() + MAX_FUTURE:
            raise BadPayload("alert.updatedAt", "alert.updatedAt is more than a day in the future.")
    elif isinstance(stamp, str):
        occurred_at = parse_time(stamp, "alert.updatedAt")
    else:
        occurred_at = timezone.now()
    return [
        Signal(
            status=OPSGENIE_STATUS[action],
            dedup_key=str(alert.get("alias") or alert_id),
            occurred_at=occurred_at,
            title=str(alert.get("message") or f"Opsgenie alert {alert_id}"),
            severity_key=PRIORITY_SEVERITY.get(str(alert.get("priority") or "P3"), DEFAULT_SEVERITY),
            service_slugs=slugs[:1],
            sender_id=f"{alert_id}:{action}:{stamp}",
            raw=payload,
        )
    ]


def read_generic(payload):
    if not isinstance(payload, dict):
        raise BadPayload("body", "The body must be a JSON object.")
    status = _text(_require(payload, "status", "status"), "status")
    if status not in GENERIC_STATUS:
        raise BadPayload("status", "status must be trigger, acknowledge or resolve.")
    service = _text(_require(payload, "service", "service"), "service")
    dedup_key = _text(_require(payload, "dedup_key", "dedup_key"), "dedup_key")
    summary = _text(_require(payload, "summary", "summary"), "summary")
    severity = _text(payload.get("severity") or DEFAULT_SEVERITY, "severity").upper()
    occurred_at = parse_time(_require(payload, "occurred_at", "occurred_at"), "occurred_at")
    return [
        Signal(
            status=GENERIC_STATUS[status],
            dedup_key=dedup_key,
            occurred_at=occurred_at,
            title=summary,
            severity_key=severity,
            service_slugs=[service],
            sender_id=str(payload.get("event_id") or dedup_key),
            raw=payload,
        )
    ]


READERS = {
    IntegrationKind.PAGERDUTY: read_pagerduty,
    IntegrationKind.ALERTMANAGER: read_alertmanager,
    IntegrationKind.OPSGENIE: read_opsgenie,
    IntegrationKind.GENERIC: read_generic,
}


def read_signals(integration, payload):
    return READERS[integration.kind](payload)


# Applying --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    incidents: list = field(default_factory=list)  # references touched, in order
    unrouted: int = 0
    duplicates: int = 0

    def add(self, incident):
        if incident.reference not in self.incidents:
            self.incidents.append(incident.reference)


def fingerprint_of(integration, signal):
    text = f"{integration.pk}|{signal.sender_id}|{signal.alert_key}|{signal.status}|{signal.occurred_at.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


def _services(signal):
    if signal.pagerduty_service_id:
        return list(Service.objects.filter(pagerduty_service_id=signal.pagerduty_service_id))
    if signal.service_slugs:
        return list(Service.objects.filter(slug__in=signal.service_slugs))
    return []


def _severity(key):
    return (
        Severity.objects.filter(key=key).first()
        or Severity.objects.filter(key=DEFAULT_SEVERITY).first()
        or (Severity.objects.order_by("-rank").first())
    )


def _latest_incident(integration, dedup_key):
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity", "category")
        .filter(integration=integration, dedup_key=dedup_key[:255])
        .order_by("-pk")
        .first()
    )


def _fire_alert(incident, signal):
    """A trigger for an alert: a new alert, or the counter of one already firing (True when it was new)."""
    alert = incident.alerts.filter(fingerprint=signal.alert_key[:255]).first()
    if alert is None:
        Alert.objects.create(
            incident=incident, fingerprint=signal.alert_key[:255], first_fired_at=signal.occurred_at,
            last_changed_at=signal.occurred_at,
        )  # fmt: skip
        return True
    alert.fire_count += 1
    if alert.status == AlertStatus.RESOLVED and signal.occurred_at >= alert.last_changed_at:
        alert.status, alert.last_changed_at = AlertStatus.FIRING, signal.occurred_at
    alert.first_fired_at = min(alert.first_fired_at, signal.occurred_at)
    alert.save()
    return False


def _resolve_alert(incident, signal):
    """Mark the signal's alert resolved; True when no alert of the incident is firing any more."""
    alert = incident.alerts.filter(fingerprint=signal.alert_key[:255]).first()
    if alert is None:
        Alert.objects.create(
            incident=incident, fingerprint=signal.alert_key[:255], status=AlertStatus.RESOLVED,
            first_fired_at=signal.occurred_at, last_changed_at=signal.occurred_at,
        )  # fmt: skip
    elif signal.occurred_at >= alert.last_changed_at or alert.status == AlertStatus.FIRING:
        alert.status, alert.last_changed_at = AlertStatus.RESOLVED, max(alert.last_changed_at, signal.occurred_at)
        alert.save()
    return not incident.alerts.filter(status=AlertStatus.FIRING).exists()


def _start_earlier(incident, moment):
    """An event from before the incident's recorded start moves the start, and the clocks with it."""
    if moment < incident.started_at:
        incident.started_at = moment
        if incident.detected_at is not None and incident.detected_at > moment:
            incident.detected_at = moment
        incident.save(update_fields=["started_at", "detected_at", "updated_at"])
        plan_clocks(incident, list(incident.pinned_versions.select_related("service", "version")))


def apply_signal(integration, signal, *, routed_by=None):
    """Apply one signal (inside the request's transaction); returns the incident, or an UnroutedEvent."""
    fingerprint = fingerprint_of(integration, signal)
    common = {"source": integration.kind, "raw_payload": signal.raw, "fingerprint": fingerprint}
    incident = _latest_incident(integration, signal.dedup_key) if signal.dedup_key else None
    refired_later = (
        incident is not None
        and incident.status == IncidentStatus.RESOLVED
        and signal.status == "trigger"
        and signal.occurred_at > incident.resolved_at + REOPEN_WINDOW
    )
    if refired_later:
        incident = None  # a new incident with the same key
    if incident is None:
        services = _services(signal)
        if not services:
            return UnroutedEvent.objects.create(
                integration=integration,
                summary=signal.title[:500] or "Unnamed event",
                dedup_key=signal.dedup_key[:255],
                status=signal.status,
                severity_key=(signal.severity_key or "")[:8],
                service_hint=(signal.pagerduty_service_id or ", ".join(signal.service_slugs))[:255],
                raw_payload=signal.raw,
                occurred_at=signal.occurred_at,
                fingerprint=fingerprint,
            )
        incident = open_incident(
            title=signal.title,
            services=services,
            severity=_severity(signal.severity_key),
            started_at=signal.occurred_at,
            source=integration.kind,
            integration=integration,
            dedup_key=signal.dedup_key,
            acting_user=routed_by,
            raw_payload=signal.raw,
            fingerprint=fingerprint if signal.status == "trigger" else "",
        )
        incident = (
            Incident.objects.select_for_update(of=("self",)).select_related("severity", "category").get(pk=incident.pk)
        )
        if signal.status == "trigger":
            _fire_alert(incident, signal)
            return incident
    if signal.status == "trigger":
        _start_earlier(incident, signal.occurred_at)
        new_alert = _fire_alert(incident, signal)
        if incident.status == IncidentStatus.RESOLVED:
            return reopen(incident, occurred_at=signal.occurred_at, summary=signal.title, **common)
        kind = EventKind.TRIGGERED if new_alert else EventKind.REFIRED
        add_event(incident, kind, occurred_at=signal.occurred_at, summary=signal.title, **common)
        return incident
    if signal.status == "acknowledge":
        _start_earlier(incident, signal.occurred_at)
        return apply_status(incident, IncidentStatus.ACKNOWLEDGED, occurred_at=signal.occurred_at, **common)
    if signal.status == "resolve":
        _start_earlier(incident, signal.occurred_at)
        if _resolve_alert(incident, signal):
            return apply_status(incident, IncidentStatus.RESOLVED, occurred_at=signal.occurred_at, **common)
        add_event(incident, EventKind.ALERT_RESOLVED, occurred_at=signal.occurred_at, summary=signal.title, **common)
        return incident
    if signal.status == "reopen":
        incident.alerts.update(status=AlertStatus.FIRING)
        if incident.status == IncidentStatus.RESOLVED:
            return reopen(incident, occurred_at=signal.occurred_at, summary=signal.title, **common)
        add_event(incident, EventKind.REFIRED, occurred_at=signal.occurred_at, summary=signal.title, **common)
        return incident
    # severity: PagerDuty's priority changed
    severity = _severity(signal.severity_key)
    if severity != incident.severity:
        return change_incident(incident, severity=severity, occurred_at=signal.occurred_at, **common)
    add_event(incident, EventKind.NOTE, occurred_at=signal.occurred_at, summary="Priority updated", **common)
    return incident


def is_duplicate(integration, signal):
    fingerprint = fingerprint_of(integration, signal)
    return (
        IncidentEvent.objects.filter(fingerprint=fingerprint).exists()
        or UnroutedEvent.objects.filter(fingerprint=fingerprint).exists()
    )


def receive(integration, payload):
    """Read and apply a payload (call inside a transaction); BadPayload before anything is written."""
    signals = read_signals(integration, payload)
    # One delivery at a time per integration: a racing copy waits, then finds its event stored (PostgreSQL;
    # SQLite's write lock serialises them anyway).
    list(Integration.objects.select_for_update().filter(pk=integration.pk).values_list("pk", flat=True))
    outcome = Outcome()
    for signal in signals:
        if is_duplicate(integration, signal):
            outcome.duplicates += 1
            continue
        result = apply_signal(integration, signal)
        if isinstance(result, UnroutedEvent):
            outcome.unrouted += 1
        else:
            outcome.add(result)
    return outcome
