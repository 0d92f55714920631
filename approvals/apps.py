"""How agreed things change: change requests, decisions, versions and diffs over registered governed documents."""

from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Change approvals"

    def ready(self):
        from approvals.audit import CHANGE_REQUEST_TYPE, hidden_change_requests, read_reference
        from approvals.tasks import schedule_due_applies
        from audit.permissions import register_hidden_objects, register_reference_reader
        from core.tasks import register_periodic

        register_hidden_objects(CHANGE_REQUEST_TYPE, hidden_change_requests)
        register_reference_reader(read_reference)
        register_periodic("scheduled applies", schedule_due_applies)
