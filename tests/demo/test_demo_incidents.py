"""seed_demo's live incidents: one integration per source, an acknowledged incident, one near its restore
breach and an event waiting in the unrouted inbox, all sent in through the integrations; once only."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from incidents.choices import ClockKind, IncidentStatus
from incidents.models import Incident, Integration, UnroutedEvent

pytestmark = pytest.mark.django_db


def seed():
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_demo_has_live_incidents_from_each_source_once():
    output = seed()
    assert sorted(Integration.objects.values_list("kind", flat=True)) == [
        "alertmanager", "generic", "opsgenie", "pagerduty"
    ]  # fmt: skip
    acknowledged = Incident.objects.get(services__slug="payments-gateway")
    assert acknowledged.status == IncidentStatus.ACKNOWLEDGED and acknowledged.clocks.exists()
    near_breach = Incident.objects.get(services__slug="checkout-api")
    restore = near_breach.clocks.filter(kind=ClockKind.RESTORE).order_by("due_at").first()
    assert timedelta(0) < restore.due_at - timezone.now() <= timedelta(minutes=10)
    assert UnroutedEvent.objects.get().service_hint == "search-indexer"
    assert "2 live incidents, 1 unrouted events" in output

    seed()
    assert (Integration.objects.count(), Incident.objects.count(), UnroutedEvent.objects.count()) == (4, 2, 1)
