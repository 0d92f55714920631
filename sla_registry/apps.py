from django.apps import AppConfig


class SlaRegistryConfig(AppConfig):
    name = "sla_registry"
    verbose_name = "SLA registry"

    def ready(self):
        from approvals.registry import register
        from portal.search.registry import register_adapters
        from sla_registry import search
        from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind

        register(ServiceLevelAgreementKind())
        register(EscalationMatrixKind())
        register_adapters(*search.ADAPTERS)
