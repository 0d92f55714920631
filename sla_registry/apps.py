"""What is agreed: teams, services, journeys, taxonomy, SLAs and escalation matrices."""

from django.apps import AppConfig


class SlaRegistryConfig(AppConfig):
    name = "sla_registry"
    verbose_name = "SLA registry"

    def ready(self):
        from approvals.registry import register
        from audit.permissions import register_overseers
        from search.registry import register_adapters
        from sla_registry import search
        from sla_registry.access import AccessPolicyKind
        from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind
        from sla_registry.permissions import oversees

        register(ServiceLevelAgreementKind())
        register(AccessPolicyKind())
        register(EscalationMatrixKind())
        register_adapters(*search.ADAPTERS)
        register_overseers(oversees)
