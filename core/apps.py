"""Small shared mechanisms every app stands on.

History helpers, task scheduling and the worker that reclaims abandoned tasks, markdown,
moments and quarters, safe outbound HTTP, references, per-user compiled SQL, formatting.
"""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from simple_history.signals import pre_create_historical_record

        from core.history import record_change_request

        pre_create_historical_record.connect(record_change_request, dispatch_uid="core.history.change_request")
