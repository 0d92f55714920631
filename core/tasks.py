"""Self-rescheduling background work: queue the next run of a task unless one is already waiting.

A periodic task (calendar sync, reminders, notification delivery, scheduled applies) queues
its own successor when it ends. A run killed with its worker queues none, so each app also
registers its schedule here (`register_periodic`, from its AppConfig.ready) and the worker
calls every one at start (`manage.py worker`, core.workers); the `--schedule` commands do
the same by hand. All of them ask `enqueue_unless_waiting`, so a run is never queued twice,
whoever asks and however often.
"""

import logging

from django.db.models import Q
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

_periodic_work = {}


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


def register_periodic(name, schedule):
    """Register work that keeps itself going: `schedule()` queues its next run unless one is waiting.

    `schedule` takes no argument and returns the queued result, or None when nothing new was queued.
    """
    _periodic_work[name] = schedule


def periodic_work():
    """{name: schedule} of every registered periodic work."""
    return dict(_periodic_work)


def schedule_periodic_work():
    """Call every registered schedule; [(name, the queued result or None)]. One that fails is logged and skipped."""
    outcomes = []
    for name, schedule in sorted(_periodic_work.items()):
        try:
            outcomes.append((name, schedule()))
        except Exception:
            logger.exception("Could not queue the periodic work %r", name)
    return outcomes
