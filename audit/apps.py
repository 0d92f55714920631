"""The hash-chained, append-only audit log every governance action writes to, and who may read it."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from audit import signals

        signals.connect()
