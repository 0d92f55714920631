"""Scheduled applies, run by `manage.py worker`.

Approving a change request with a future effective time queues a run for that moment.
Each run applies whatever is due, then queues a run for the next approved request's
effective time unless one that early is waiting. The worker does the same at start
(`schedule_due_applies`, overdue requests included), so a run killed with its worker
leaves no change unapplied. A request whose apply failed waits for that, or for
`manage.py apply_due_changes`: a run does not queue itself again for it at once.
"""

from django.db.models import Min, Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import get_date_max

from approvals.actions import apply_due_changes
from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from core.tasks import enqueue_unless_waiting


@task()
def apply_due_changes_task():
    """Apply approved change requests whose effective time has come, then queue the run for the next one."""
    started = timezone.now()
    try:
        applied = apply_due_changes(now=started)
    finally:
        schedule_due_applies(after=started)
    return [change_request.reference for change_request in applied]


def schedule_due_applies(after=None):
    """Queue a run for the earliest approved request's effective time, unless one that early is waiting.

    With `after`, only requests that take effect after that moment count (a run has just tried the others).
    The queued result, or None (nothing approved is waiting for its time, or a run is queued for it).
    """
    waiting = ChangeRequest.objects.filter(state=ChangeState.APPROVED, effective_at__isnull=False)
    if after is not None:
        waiting = waiting.filter(effective_at__gt=after)
    moment = waiting.aggregate(at=Min("effective_at"))["at"]
    if moment is None:
        return None
    moment = max(moment, timezone.now())
    earlier_or_unscheduled = Q(run_after__lte=moment) | Q(run_after=get_date_max())
    return enqueue_unless_waiting(apply_due_changes_task, moment, waiting=earlier_or_unscheduled)
