from django_tasks import task

from approvals.actions import apply_due_changes


@task()
def apply_due_changes_task():
    """Apply approved change requests whose effective time has come (run by `manage.py db_worker`)."""
    applied = apply_due_changes()
    return [change_request.reference for change_request in applied]
