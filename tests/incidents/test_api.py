"""Incidents over the REST API: list with filters, one with clocks, declaring and the transitions."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import actions

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def incidents(world):
    first = actions.open_incident(
        title="Card payments failing", services=[world.service], severity=world.severities["SEV1"],
        started_at=timezone.now() - timedelta(hours=2), acting_user=world.member,
    )  # fmt: skip
    drill = actions.open_incident(
        title="Game day", services=[world.other_service], severity=world.severities["SEV2"],
        started_at=timezone.now() - timedelta(minutes=10), acting_user=world.member, is_drill=True,
    )  # fmt: skip
    return first, drill


def references(response):
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


def test_the_list_filters(world, incidents):
    first, drill = incidents
    client = api_for(world.member)
    assert references(client.get("/api/v1/incidents/")) == [drill.reference, first.reference]
    assert references(client.get("/api/v1/incidents/?service=payments-api")) == [first.reference]
    assert references(client.get("/api/v1/incidents/?severity=SEV2")) == [drill.reference]
    assert references(client.get("/api/v1/incidents/?is_drill=true")) == [drill.reference]
    assert references(client.get("/api/v1/incidents/?status=triggered")) == [drill.reference, first.reference]
    after = (timezone.now() - timedelta(hours=1)).isoformat()
    assert references(client.get("/api/v1/incidents/", {"opened_after": after})) == [drill.reference]
    assert references(client.get("/api/v1/incidents/", {"opened_before": after})) == [first.reference]


def test_one_incident_has_its_clocks_and_timeline(world, incidents):
    first, _ = incidents
    body = api_for(world.member).get(f"/api/v1/incidents/{first.reference}/").json()
    clocks = {clock["kind"]: clock for clock in body["clocks"]}
    assert clocks["acknowledge"]["target_minutes"] == 15
    assert clocks["acknowledge"]["state"] == "breached"  # two hours, not acknowledged
    assert clocks["resolve"]["state"] == "running"
    assert body["events"][0]["kind"] == "triggered"


def test_declaring_and_acting(world):
    client = api_for(world.member)
    response = client.post(
        "/api/v1/incidents/", {"title": "Refunds slow", "services": ["payments-api"], "severity": "SEV2"}, format="json"
    )
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    assert response.json()["status"] == "triggered" and response.json()["clocks"]
    acknowledged = client.post(f"/api/v1/incidents/{reference}/acknowledge/", {"note": "on it"}, format="json")
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    again = client.post(f"/api/v1/incidents/{reference}/acknowledge/", {}, format="json")
    assert again.status_code == 409
    assert client.post(f"/api/v1/incidents/{reference}/resolve/", {}, format="json").json()["status"] == "resolved"
    assert client.post(f"/api/v1/incidents/{reference}/reopen/", {}, format="json").json()["status"] == "triggered"


def test_declaring_validates_each_field(world):
    response = api_for(world.member).post(
        "/api/v1/incidents/",
        {"title": "", "services": ["nope"], "severity": "SEV9", "started_at": "2999-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "services", "severity", "started_at"}


def test_outsiders_cannot_act_and_do_not_see_restricted_incidents(world, incidents):
    first, _ = incidents
    hidden = actions.open_incident(
        title="Leaked key", services=[world.service], severity=world.severities["SEV1"], started_at=timezone.now(),
        acting_user=world.member, is_restricted=True,
    )  # fmt: skip
    outsider = api_for(world.outsider)
    assert outsider.post(f"/api/v1/incidents/{first.reference}/acknowledge/", {}, format="json").status_code == 403
    assert outsider.get(f"/api/v1/incidents/{hidden.reference}/").status_code == 404
    assert hidden.reference not in references(outsider.get("/api/v1/incidents/"))
    assert api_for(world.member).get(f"/api/v1/incidents/{hidden.reference}/").status_code == 200


def test_the_schema_documents_the_incident_operations(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{reference}/acknowledge/",
        "/api/v1/integrations/{key}/events/",
    ):
        assert path in schema


def test_a_reference_too_large_for_the_database_is_404_not_an_error(world):
    client = api_for(world.member)
    assert client.get("/api/v1/incidents/INC-99999999999999999999999/").status_code == 404
    assert client.post("/api/v1/incidents/INC-99999999999999999999999/resolve/", {}, format="json").status_code == 404
