"""Workers that report in, and the work of workers that stopped reporting.

Each `manage.py worker` records a WorkerHeartbeat when it starts and then, from a thread
of its own (a long task blocks the worker's loop, not its reports), every fifth of the
task lease (settings.TASK_LEASE, 5 minutes by default) until it stops. A task left
RUNNING by a worker that has not reported for a whole lease was abandoned (the process
was killed, its machine restarted): `reclaim_abandoned_tasks` returns it to the queue
(READY, its worker ids kept) and a worker runs it again. Every worker reclaims, at start
and at each report. Running a task again is safe: every task is idempotent
(tests/portal/test_tasks_idempotent.py). A task abandoned MAX_CLAIMS times is failed
instead of run again, so a task that kills its worker cannot take the workers down in turn.

A worker that never reports (django-tasks-db's own `db_worker`) counts as dead: its
running tasks are reclaimed once they have run for a lease. Heartbeats and claims carry
each machine's clock, so the lease must exceed the clock skew between workers' machines.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

MAX_CLAIMS = 5


class TaskAbandoned(Exception):
    """Recorded as the error of a task whose workers died running it MAX_CLAIMS times."""


def task_lease():
    """How long a worker may go without reporting before its running tasks are reclaimed."""
    return settings.TASK_LEASE


def report(worker_id, *, started_at, now=None):
    """Record that the worker `worker_id` (this process) is alive now."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "started_at": started_at, "seen_at": now},
    )


def sign_off(worker_id):
    """Forget a worker that stopped cleanly (it leaves no task running)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


@dataclass(frozen=True)
class Reclaimed:
    """A task taken back from a worker that stopped reporting: queued again, or failed after MAX_CLAIMS."""

    task_id: str
    task_path: str
    worker_id: str
    last_seen: datetime | None  # None: the worker never reported
    claims: int
    failed: bool

    def __str__(self):
        seen = "never reported" if self.last_seen is None else f"last reported at {self.last_seen.isoformat()}"
        outcome = f"failed after {self.claims} abandoned runs" if self.failed else "returned to the queue"
        return f"{self.task_path} ({self.task_id}) of worker {self.worker_id or '?'} ({seen}): {outcome}"


def reclaim_abandoned_tasks(now=None):
    """Take back every running task whose worker has not reported for a lease; the Reclaimed, each logged.

    Each row changes only if it is still running as read (a conditional update), so workers
    reclaiming at once take each task back once. Heartbeats older than the lease are deleted.
    """
    now = now or timezone.now()
    cutoff = now - task_lease()
    heartbeats = {heartbeat.worker_id: heartbeat for heartbeat in WorkerHeartbeat.objects.all()}
    reclaimed = []
    running_long = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    for task_id, task_path, worker_ids in running_long.values_list("id", "task_path", "worker_ids"):
        worker_id = worker_ids[-1] if worker_ids else ""
        heartbeat = heartbeats.get(worker_id)
        if heartbeat is not None and heartbeat.seen_at >= cutoff:
            continue  # a long task of a live worker
        failed = len(worker_ids) >= MAX_CLAIMS
        if failed:
            outcome = {
                "status": TaskResultStatus.FAILED,
                "finished_at": now,
                "exception_class_path": f"{TaskAbandoned.__module__}.{TaskAbandoned.__qualname__}",
                "traceback": f"Its workers stopped reporting while running it {len(worker_ids)} times: "
                f"{', '.join(worker_ids)}.",
            }
        else:
            outcome = {"status": TaskResultStatus.READY}
        if running_long.filter(pk=task_id).update(**outcome):
            taken = Reclaimed(
                task_id=str(task_id),
                task_path=task_path,
                worker_id=worker_id,
                last_seen=heartbeat.seen_at if heartbeat else None,
                claims=len(worker_ids),
                failed=failed,
            )
            logger.warning("Reclaimed %s", taken)
            reclaimed.append(taken)
    WorkerHeartbeat.objects.filter(seen_at__lt=cutoff).delete()
    return reclaimed


class Heartbeat(threading.Thread):
    """Reports for one worker every fifth of the lease, and reclaims abandoned tasks, until stopped.

    `report_in()` makes the first report and reclamation in the caller's thread, before the
    worker claims anything; `start()` then keeps reporting from this thread.
    """

    def __init__(self, worker_id):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def report_in(self):
        """Report and reclaim once; the Reclaimed."""
        report(self.worker_id, started_at=self.started_at)
        return reclaim_abandoned_tasks()

    def run(self):
        interval = task_lease().total_seconds() / 5
        while not self.stopping.wait(interval):
            try:
                self.report_in()
            except Exception:  # the database is away: report again at the next beat
                logger.exception("Worker %s could not report", self.worker_id)
            finally:
                connection.close()  # this thread's own connection

    def stop(self):
        """Stop reporting and forget the worker (it stopped cleanly; if the database is away, the next
        reclamation forgets it)."""
        self.stopping.set()
        if self.is_alive():
            self.join()
        try:
            sign_off(self.worker_id)
        except DatabaseError:
            logger.warning("Worker %s stopped without signing off: the database did not answer", self.worker_id)
