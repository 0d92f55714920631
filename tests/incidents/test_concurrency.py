"""Senders racing on PostgreSQL: the same new key delivered at once opens one incident, never a 500."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from tests.approvals.test_concurrency import race
from tests.incidents.conftest import generic_payload, post_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row-lock races need PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/sla_portal"
        )


def test_racing_deliveries_of_one_key_open_one_incident(world):
    integration = world.integrations["generic"]
    start = timezone.now() - timedelta(minutes=5)
    payloads = [generic_payload("trigger", at=start)] * 4 + [
        generic_payload("trigger", at=start + timedelta(seconds=seconds)) for seconds in range(1, 5)
    ]
    outcomes = race([lambda payload=payload: post_event(integration, payload).status_code for payload in payloads])
    assert outcomes == [202] * len(payloads)
    incident = Incident.objects.get()
    assert incident.started_at == start
    # The four copies of the first trigger are stored once; the four later ones each once.
    assert IncidentEvent.objects.filter(incident=incident).count() == 5
    assert incident.alerts.get().fire_count == 5
