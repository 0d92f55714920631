"""Inbound events over real HTTP (Django's test client posting raw bytes with real signatures)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from incidents import actions
from incidents.choices import AlertStatus, EventKind, IncidentStatus
from incidents.models import Alert, Incident, IncidentEvent, UnroutedEvent
from tests.incidents.conftest import (
    alert,
    alertmanager_payload,
    generic_payload,
    opsgenie_payload,
    pagerduty_event,
    post_event,
)

pytestmark = pytest.mark.django_db


def only_incident():
    return Incident.objects.select_related("severity").get()


def nothing_written():
    return (Incident.objects.count(), IncidentEvent.objects.count(), UnroutedEvent.objects.count()) == (0, 0, 0)


# Signatures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pagerduty", "opsgenie", "alertmanager", "generic"])
def test_a_wrong_or_missing_secret_is_refused_with_401_an_audit_event_and_nothing_written(world, kind):
    integration = world.integrations[kind]
    at = timezone.now() - timedelta(minutes=5)
    payload = {
        "pagerduty": pagerduty_event("incident.triggered", at=at),
        "opsgenie": opsgenie_payload("Create", at=at),
        "alertmanager": alertmanager_payload([alert("fp1", starts_at=at)]),
        "generic": generic_payload("trigger", at=at),
    }[kind]
    before = AuditEvent.objects.filter(action="integration.signature_rejected").count()

    wrong = post_event(integration, payload, secret="not-the-secret")
    missing = post_event(integration, payload, headers={})

    assert wrong.status_code == missing.status_code == 401
    assert "signature" in wrong.json()["detail"]
    assert AuditEvent.objects.filter(action="integration.signature_rejected").count() == before + 2
    assert nothing_written()
    assert post_event(integration, payload).status_code == 202


def test_pagerduty_accepts_any_one_matching_signature_of_several(world):
    integration = world.integrations["pagerduty"]
    body = json.dumps(pagerduty_event("incident.triggered", at=timezone.now())).encode()
    from tests.incidents.conftest import signed_headers

    good = signed_headers(integration, body)["HTTP_X_PAGERDUTY_SIGNATURE"]
    response = post_event(integration, body, headers={"HTTP_X_PAGERDUTY_SIGNATURE": f"v1=deadbeef, {good}"})
    assert response.status_code == 202


def test_the_previous_secret_signs_during_the_overlap_after_a_rotation_and_not_after(world, time_machine):
    integration = world.integrations["pagerduty"]
    old_secret = integration.secret
    integration = actions.rotate_integration_secret(integration, overlap=timedelta(hours=1))
    at = timezone.now()

    assert post_event(integration, pagerduty_event("incident.triggered", at=at), secret=old_secret).status_code == 202
    assert post_event(integration, pagerduty_event("incident.acknowledged", at=at)).status_code == 202
    time_machine.move_to(timezone.now() + timedelta(hours=2), tick=False)
    late = pagerduty_event("incident.resolved", at=at + timedelta(hours=2))
    assert post_event(integration, late, secret=old_secret).status_code == 401
    assert post_event(integration, late).status_code == 202


# Refusals: nothing written --------------------------------------------------------------------------------


def test_an_unknown_key_is_404(world, client):
    response = client.post("/api/v1/integrations/no-such-key/events/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert nothing_written()


def test_malformed_json_is_400_in_the_apis_error_format(world):
    response = post_event(world.integrations["generic"], b'{"service": ')
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": ["Not valid JSON."]}
    assert nothing_written()


@pytest.mark.parametrize("field", ["service", "summary", "dedup_key", "status", "occurred_at"])
def test_a_missing_generic_field_is_400_naming_it(world, field):
    payload = generic_payload("trigger", at=timezone.now())
    del payload[field]
    response = post_event(world.integrations["generic"], payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert nothing_written()


def test_a_missing_alertmanager_field_names_the_alert(world):
    bad = alert("fp2", starts_at=timezone.now())
    del bad["fingerprint"]
    payload = alertmanager_payload([alert("fp1", starts_at=timezone.now()), bad])
    response = post_event(world.integrations["alertmanager"], payload)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["alerts[1].fingerprint"]
    assert nothing_written()  # the first, good alert was not written either


def test_a_timestamp_more_than_a_day_ahead_is_400(world):
    payload = generic_payload("trigger", at=timezone.now() + timedelta(days=2))
    response = post_event(world.integrations["generic"], payload)
    assert response.status_code == 400
    assert "future" in response.json()["errors"]["occurred_at"][0]
    assert nothing_written()


def test_a_body_over_one_megabyte_is_413(world):
    payload = generic_payload("trigger", at=timezone.now())
    payload["padding"] = "x" * (1024 * 1024)
    response = post_event(world.integrations["generic"], payload)
    assert response.status_code == 413
    assert nothing_written()


# Mapping, per source ---------------------------------------------------------------------------------------


def test_pagerduty_maps_priority_to_severity_and_its_service_id_to_the_service(world):
    at = timezone.now() - timedelta(minutes=10)
    response = post_event(world.integrations["pagerduty"], pagerduty_event("incident.triggered", at=at, priority="P2"))
    assert response.status_code == 202
    incident = only_incident()
    assert response.json()["incidents"] == [incident.reference]
    assert (incident.severity.key, list(incident.services.all()), incident.started_at) == ("SEV2", [world.service], at)
    assert incident.source == "pagerduty" and incident.dedup_key == "Q1PD0001"


@pytest.mark.parametrize(("urgency", "severity"), [("high", "SEV2"), ("low", "SEV4")])
def test_pagerduty_without_a_priority_maps_urgency(world, urgency, severity):
    payload = pagerduty_event("incident.triggered", at=timezone.now(), priority=None, urgency=urgency)
    post_event(world.integrations["pagerduty"], payload)
    assert only_incident().severity.key == severity


def test_pagerduty_lifecycle_acknowledge_priority_resolve_reopen(world):
    integration = world.integrations["pagerduty"]
    start = timezone.now() - timedelta(hours=1)
    for event_type, minutes, priority in [
        ("incident.triggered", 0, "P2"),
        ("incident.acknowledged", 5, "P2"),
        ("incident.priority_updated", 6, "P1"),
        ("incident.resolved", 30, "P1"),
    ]:
        event = pagerduty_event(event_type, at=start + timedelta(minutes=minutes), priority=priority)
        assert post_event(integration, event).status_code == 202
    incident = only_incident()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.severity.key == "SEV1"
    assert incident.acknowledged_at == start + timedelta(minutes=5)
    assert incident.resolved_at == start + timedelta(minutes=30)
    assert incident.events.filter(kind=EventKind.CHANGED).exists()
    post_event(integration, pagerduty_event("incident.reopened", at=start + timedelta(minutes=40)))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED and incident.resolved_at is None


@pytest.mark.parametrize(
    ("label", "severity"),
    [("critical", "SEV1"), ("error", "SEV2"), ("warning", "SEV3"), ("info", "SEV4"), ("SEV2", "SEV2")],
)
def test_alertmanager_maps_the_severity_label(world, label, severity):
    payload = alertmanager_payload([alert("fp1", starts_at=timezone.now(), severity=label)])
    post_event(world.integrations["alertmanager"], payload)
    assert only_incident().severity.key == severity


def test_opsgenie_maps_priority_and_the_service_tag(world):
    post_event(world.integrations["opsgenie"], opsgenie_payload("Create", at=timezone.now(), priority="P5"))
    incident = only_incident()
    assert incident.severity.key == "SEV4" and list(incident.services.all()) == [world.service]
    post_event(world.integrations["opsgenie"], opsgenie_payload("Acknowledge", at=timezone.now()))
    post_event(world.integrations["opsgenie"], opsgenie_payload("Close", at=timezone.now()))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.acknowledged_at is not None


def test_generic_json_opens_acknowledges_and_resolves(world):
    integration = world.integrations["generic"]
    start = timezone.now() - timedelta(minutes=20)
    for status, minutes in [("trigger", 0), ("acknowledge", 3), ("resolve", 15)]:
        payload = generic_payload(status, at=start + timedelta(minutes=minutes))
        assert post_event(integration, payload).status_code == 202
    incident = only_incident()
    assert (incident.status, incident.severity.key) == (IncidentStatus.RESOLVED, "SEV2")
    assert (incident.started_at, incident.acknowledged_at, incident.resolved_at) == (
        start, start + timedelta(minutes=3), start + timedelta(minutes=15)
    )  # fmt: skip


# Correlation, duplicates, order -------------------------------------------------------------------------------


def test_the_same_event_twice_is_stored_once(world):
    payload = generic_payload("trigger", at=timezone.now())
    first = post_event(world.integrations["generic"], payload)
    second = post_event(world.integrations["generic"], payload)
    assert first.json()["duplicates"] == 0 and second.json()["duplicates"] == 1
    assert IncidentEvent.objects.count() == 1


def test_repeated_firing_of_one_alert_adds_to_its_counter_only(world):
    integration = world.integrations["alertmanager"]
    start = timezone.now() - timedelta(minutes=30)
    for _ in range(3):
        # Alertmanager repeats the group with the same startsAt: the repeat is the same event, stored once.
        post_event(integration, alertmanager_payload([alert("fp1", starts_at=start)]))
    # The alert fires again (a new startsAt) within the same group: the same alert, counted.
    post_event(integration, alertmanager_payload([alert("fp1", starts_at=start + timedelta(minutes=10))]))
    incident = only_incident()
    assert Incident.objects.count() == 1
    assert incident.alerts.get().fire_count == 2
    assert incident.events.filter(kind=EventKind.REFIRED).count() == 1


def test_an_alert_group_resolves_when_all_its_alerts_resolve(world):
    integration = world.integrations["alertmanager"]
    start = timezone.now() - timedelta(minutes=30)
    post_event(integration, alertmanager_payload([alert("a", starts_at=start), alert("b", starts_at=start)]))
    resolved_a = alert("a", starts_at=start, status="resolved", ends_at=start + timedelta(minutes=10))
    post_event(integration, alertmanager_payload([resolved_a, alert("b", starts_at=start)]))
    incident = only_incident()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.events.filter(kind=EventKind.ALERT_RESOLVED).count() == 1
    resolved_b = alert("b", starts_at=start, status="resolved", ends_at=start + timedelta(minutes=20))
    post_event(integration, alertmanager_payload([resolved_b], status="resolved"))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at == start + timedelta(minutes=20)
    assert set(Alert.objects.values_list("status", flat=True)) == {AlertStatus.RESOLVED}


def test_a_refire_within_30_minutes_of_resolving_reopens_and_a_later_one_opens_a_new_incident(world):
    integration = world.integrations["generic"]
    start = timezone.now() - timedelta(hours=3)
    post_event(integration, generic_payload("trigger", at=start))
    post_event(integration, generic_payload("resolve", at=start + timedelta(minutes=10)))
    post_event(integration, generic_payload("trigger", at=start + timedelta(minutes=30)))
    incident = only_incident()
    assert incident.status == IncidentStatus.TRIGGERED and incident.resolved_at is None
    assert incident.events.filter(kind=EventKind.REOPENED).count() == 1

    post_event(integration, generic_payload("resolve", at=start + timedelta(minutes=40)))
    post_event(integration, generic_payload("trigger", at=start + timedelta(minutes=80)))
    assert Incident.objects.count() == 2
    newest = Incident.objects.order_by("-pk").first()
    assert newest.started_at == start + timedelta(minutes=80) and newest.status == IncidentStatus.TRIGGERED


def test_out_of_order_events_end_as_in_order_ones(world):
    integration = world.integrations["generic"]
    start = timezone.now() - timedelta(hours=1)
    # The resolve arrives first, then the acknowledgement, then the trigger.
    post_event(integration, generic_payload("resolve", at=start + timedelta(minutes=30)))
    post_event(integration, generic_payload("acknowledge", at=start + timedelta(minutes=5)))
    post_event(integration, generic_payload("trigger", at=start))
    incident = only_incident()
    assert incident.status == IncidentStatus.RESOLVED
    assert (incident.started_at, incident.acknowledged_at, incident.resolved_at) == (
        start, start + timedelta(minutes=5), start + timedelta(minutes=30)
    )  # fmt: skip
    assert incident.clocks.get(kind="acknowledge", service=world.service).due_at == start + timedelta(minutes=30)


def test_a_late_acknowledgement_does_not_undo_a_newer_resolve(world):
    integration = world.integrations["generic"]
    start = timezone.now() - timedelta(hours=1)
    post_event(integration, generic_payload("trigger", at=start))
    post_event(integration, generic_payload("resolve", at=start + timedelta(minutes=30)))
    post_event(integration, generic_payload("acknowledge", at=start + timedelta(minutes=10)))
    incident = only_incident()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.acknowledged_at == start + timedelta(minutes=10)


# Unrouted ---------------------------------------------------------------------------------------------------


def test_an_event_for_an_unknown_service_waits_in_the_unrouted_inbox_then_opens_with_its_own_times(
    world, make_user, make_team
):
    start = timezone.now() - timedelta(minutes=45)
    payload = alertmanager_payload([alert("fp9", starts_at=start, service="no-such-service", severity="error")])
    response = post_event(world.integrations["alertmanager"], payload)
    assert response.json() == {"incidents": [], "unrouted": 1, "duplicates": 0}
    assert Incident.objects.count() == 0
    unrouted = UnroutedEvent.objects.get()
    assert (unrouted.service_hint, unrouted.severity_key, unrouted.occurred_at) == ("no-such-service", "SEV2", start)

    committee = make_user("committee.member", teams=[make_team("SLA Committee", is_sla_committee=True)])
    incident = actions.route_unrouted(
        unrouted, service=world.service, severity=world.severities["SEV2"], acting_user=committee
    )
    assert incident.started_at == start and list(incident.services.all()) == [world.service]
    assert incident.clocks.filter(kind="acknowledge").get().due_at == start + timedelta(minutes=30)
    assert incident.events.filter(kind=EventKind.ROUTED).exists()
    unrouted.refresh_from_db()
    assert unrouted.routed_incident == incident
    # The sender repeating the alert now joins the routed incident.
    post_event(world.integrations["alertmanager"], alertmanager_payload([alert("fp9", starts_at=start)]))
    assert Incident.objects.count() == 1


def test_an_integration_records_its_last_use_at_most_once_a_minute(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    integration = world.integrations["generic"]
    post_event(integration, generic_payload("trigger", at=timezone.now()))
    integration.refresh_from_db()
    first = integration.last_used_at
    assert first == timezone.now()
    time_machine.shift(timedelta(seconds=30))
    post_event(integration, generic_payload("acknowledge", at=timezone.now()))
    integration.refresh_from_db()
    assert integration.last_used_at == first
    time_machine.shift(timedelta(seconds=31))
    post_event(integration, generic_payload("resolve", at=timezone.now()))
    integration.refresh_from_db()
    assert integration.last_used_at == timezone.now()
