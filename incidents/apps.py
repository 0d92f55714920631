"""What is happening: incidents, inbound events, integrations and SLA clocks."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"
