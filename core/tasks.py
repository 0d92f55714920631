"""Self-rescheduling background work: queue the next run of a task unless one is already waiting.

A periodic task (calendar sync, reminders, notification delivery) queues its own
successor when it ends; the `--schedule` commands queue the first one. Both ask
here, so a run is never queued twice, whoever asks and however often.
"""

from django.db.models import Q
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult


def enqueue_unless_waiting(task, run_after, *, waiting=None):
    """Queue `task` to run at `run_after` unless a run of it is already waiting; the queued result, or None.

    `waiting` narrows which waiting runs count (a Q over DBTaskResult): by default any.
    With a backend that keeps no queue in the database (tests' immediate backend) it always queues.
    """
    if isinstance(task.get_backend(), DatabaseBackend):
        queued = DBTaskResult.objects.filter(waiting or Q(), status=TaskResultStatus.READY, task_path=task.module_path)
        if queued.exists():
            return None
    return task.using(run_after=run_after).enqueue()
