from django.apps import AppConfig


class SlaRegistryConfig(AppConfig):
    name = "sla_registry"
    verbose_name = "SLA registry"
