"""Seeds the demo's live incidents the way they arrive in production: through the integrations.

One integration per source (PagerDuty, Opsgenie, Alertmanager, generic JSON), then events posted
through incidents.ingestion as the senders would send them:

- Payments gateway SEV1 (generic JSON), triggered 40 minutes ago and acknowledged 8 minutes later;
- Checkout API SEV1 (Alertmanager, `severity: critical`), firing for 1 h 50 min: its 2 h restore
  clock falls due in ten minutes;
- an Opsgenie alert tagged with a service the registry does not know, waiting in the unrouted inbox.

Re-seeding changes nothing once the integrations exist.
"""

from datetime import timedelta

from incidents.actions import create_integration
from incidents.choices import IntegrationKind
from incidents.ingestion import receive
from incidents.models import Incident, Integration, UnroutedEvent
from sla_registry.models import Team


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


class IncidentSeeder:
    """Like the other seeders: `steps()` for progress, `summary()` at the end; inside the caller's transaction."""

    def __init__(self, *, now):
        self.now = now
        self.changed = False

    def steps(self):
        return [("live incidents", self.seed)]

    def seed(self):
        if Integration.objects.exists():
            return
        platform = Team.objects.filter(slug="platform").first()
        integrations = {
            kind: create_integration(kind=kind, name=f"Demo {label}", team=platform)
            for kind, label in IntegrationKind.choices
        }
        started = self.now - timedelta(minutes=40)
        for status, at in (("trigger", started), ("acknowledge", started + timedelta(minutes=8))):
            receive(
                integrations[IntegrationKind.GENERIC],
                {
                    "service": "payments-gateway",
                    "severity": "SEV1",
                    "summary": "Card authorisations failing at the primary acquirer",
                    "dedup_key": "acquirer-auth-failures",
                    "status": status,
                    "occurred_at": _iso(at),
                },
            )
        firing = self.now - timedelta(hours=1, minutes=50)
        receive(
            integrations[IntegrationKind.ALERTMANAGER],
            {
                "version": "4",
                "groupKey": '{}:{alertname="CheckoutErrorRate"}',
                "status": "firing",
                "receiver": "sla-portal",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "CheckoutErrorRate", "service": "checkout-api", "severity": "critical"},
                        "annotations": {"summary": "Checkout error rate above 5 % for 5 minutes"},
                        "startsAt": _iso(firing),
                        "endsAt": "0001-01-01T00:00:00Z",
                        "fingerprint": "5f1c0ffee0ddba11",
                    }
                ],
            },
        )
        receive(
            integrations[IntegrationKind.OPSGENIE],
            {
                "action": "Create",
                "alert": {
                    "alertId": "demo-og-7731",
                    "alias": "search-indexer-lag",
                    "message": "Search indexer lagging 20 minutes behind",
                    "priority": "P3",
                    "tags": ["service:search-indexer"],
                    "createdAt": int((self.now - timedelta(minutes=15)).timestamp() * 1000),
                },
            },
        )
        self.changed = True

    def summary(self):
        return (
            f"Incidents: {Integration.objects.count()} integrations, "
            f"{Incident.objects.filter(resolved_at__isnull=True).count()} live incidents, "
            f"{UnroutedEvent.objects.filter(routed_incident__isnull=True).count()} unrouted events."
        )
