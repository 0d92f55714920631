"""What is happening: incidents, inbound events, integrations, SLA clocks and their notices."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from core.tasks import register_periodic
        from incidents.tasks import schedule_next_escalation

        register_periodic("incident notices", schedule_next_escalation)
