from django.apps import AppConfig


class SlaRegistryConfig(AppConfig):
    name = "sla_registry"
    verbose_name = "SLA registry"

    def ready(self):
        from approvals.registry import register
        from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind

        register(ServiceLevelAgreementKind())
        register(EscalationMatrixKind())
