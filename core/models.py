"""The one record core keeps: which background workers are alive (see core.workers)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A background worker that reports it is alive, every fifth of the task lease while it runs.

    A task left running by a worker that has not reported for a whole lease was abandoned
    (the worker was killed, its machine restarted) and goes back to the queue.
    """

    worker_id = models.CharField(max_length=64, primary_key=True, help_text="The id it claims tasks with.")
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True, help_text="When it last reported.")

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"Worker {self.worker_id} on {self.hostname} (pid {self.pid})"
