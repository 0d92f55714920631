"""Incidents test world: a Payments service with an SLA in force (SEV1 and SEV2 around the clock, SEV3 in
business hours), its escalation matrix, one integration per source, and helpers that post signed events."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client

from approvals.actions import record_baseline_version
from incidents import actions
from incidents.choices import IntegrationKind
from incidents.ingestion import OPSGENIE_SECRET_HEADER
from sla_registry.choices import Coverage
from sla_registry.models import ResponseTarget


@dataclass
class World:
    provider: object
    service: object
    other_service: object
    sla: object
    matrix: object
    member: object
    outsider: object
    integrations: dict  # kind -> Integration
    severities: dict


@pytest.fixture
def world(make_team, make_service, make_sla, make_matrix, make_user, severities, admin_actor):
    provider = make_team("Payments")
    service = make_service("Payments API", owner_team=provider, pagerduty_service_id="PSVC001")
    other_service = make_service("Ledger", owner_team=provider)
    targets = [
        ResponseTarget(
            severity=severities["SEV1"],
            time_to_acknowledge=timedelta(minutes=15),
            time_to_restore=timedelta(hours=2),
            time_to_resolve=timedelta(days=1),
            customer_update_interval=timedelta(minutes=30),
        ),
        ResponseTarget(
            severity=severities["SEV2"],
            time_to_acknowledge=timedelta(minutes=30),
            time_to_restore=timedelta(hours=4),
            time_to_resolve=timedelta(days=2),
        ),
        ResponseTarget(
            severity=severities["SEV3"],
            time_to_acknowledge=timedelta(hours=4),
            time_to_restore=timedelta(hours=8),
            time_to_resolve=timedelta(days=5),
            coverage=Coverage.BUSINESS_HOURS,
        ),
    ]
    sla = make_sla("Payments for everyone", service=service, provider_team=provider, response_targets=targets)
    record_baseline_version(sla, acting_user=admin_actor)
    matrix = make_matrix(service)
    record_baseline_version(matrix, acting_user=admin_actor)
    integrations = {
        kind: actions.create_integration(kind=kind, name=f"{kind} prod", team=provider, acting_user=admin_actor)
        for kind in IntegrationKind.values
    }
    return World(
        provider=provider,
        service=service,
        other_service=other_service,
        sla=sla,
        matrix=matrix,
        member=make_user("payments.oncall", teams=[provider]),
        outsider=make_user("someone.else", teams=[make_team("Marketing")]),
        integrations=integrations,
        severities=severities,
    )


def signed_headers(integration, body, secret=None):
    """The headers the integration's sender would send for `body` (bytes)."""
    secret = secret or integration.secret
    if integration.kind == IntegrationKind.PAGERDUTY:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"HTTP_X_PAGERDUTY_SIGNATURE": f"v1={digest}"}
    if integration.kind == IntegrationKind.OPSGENIE:
        return {f"HTTP_{OPSGENIE_SECRET_HEADER.upper().replace('-', '_')}": secret}
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post_event(integration, payload, *, secret=None, headers=None, client=None):
    """POST a payload (a dict, or raw bytes) to the integration's URL, signed unless `headers` are given."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = signed_headers(integration, body, secret) if headers is None else headers
    return (client or Client()).post(
        integration.get_events_path(), data=body, content_type="application/json", **headers
    )


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def pagerduty_event(event_type, *, incident_id="Q1PD0001", at, event_id=None, priority="P1", urgency="high",
                    service_id="PSVC001", title="Card payments failing"):  # fmt: skip
    return {
        "event": {
            "id": event_id or f"{incident_id}-{event_type}-{iso(at)}",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": iso(at),
            "agent": {"type": "user_reference", "id": "PUSER01"},
            "data": {
                "id": incident_id,
                "type": "incident",
                "number": 42,
                "status": event_type.split(".")[1],
                "title": title,
                "service": {"id": service_id, "summary": "Payments API", "type": "service_reference"},
                "priority": {"id": "PPRIO1", "summary": priority, "type": "priority"} if priority else None,
                "urgency": urgency,
            },
        }
    }


def alertmanager_payload(alerts, *, group_key='{}:{alertname="PaymentsDown"}', status="firing"):
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "portal",
        "groupLabels": {"alertname": "PaymentsDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": alerts,
    }


def alert(fingerprint, *, starts_at, status="firing", ends_at=None, service="payments-api", severity="critical"):
    labels = {"alertname": "PaymentsDown", "severity": severity}
    if service:
        labels["service"] = service
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"Payments down ({fingerprint})"},
        "startsAt": iso(starts_at),
        "endsAt": iso(ends_at) if ends_at else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph",
        "fingerprint": fingerprint,
    }


def opsgenie_payload(action, *, alert_id="og-alert-1", at, priority="P2", tags=("service:payments-api",)):
    return {
        "action": action,
        "alert": {
            "alertId": alert_id,
            "alias": f"alias-{alert_id}",
            "message": "Payments latency high",
            "priority": priority,
            "tags": list(tags),
            "createdAt": int(at.timestamp() * 1000),
            "updatedAt": int(at.timestamp() * 1000),
        },
        "source": {"name": "opsgenie", "type": "api"},
    }


def generic_payload(status, *, at, dedup_key="gen-1", service="payments-api", severity="SEV2", summary="Refunds slow"):
    return {
        "service": service,
        "severity": severity,
        "summary": summary,
        "dedup_key": dedup_key,
        "status": status,
        "occurred_at": iso(at),
    }
