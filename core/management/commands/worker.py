"""`manage.py worker`: the portal's background worker, django-tasks-db's `db_worker` that reports in.

At start it records its heartbeat, takes back the tasks of workers that stopped reporting
(core.workers) and queues every app's periodic work that is not queued yet
(core.tasks.register_periodic); while it runs, a thread reports every fifth of the task
lease and reclaims again. It takes `db_worker`'s options. It cannot be called `db_worker`:
django_tasks_db comes before core in INSTALLED_APPS, and the first app's command wins.
"""

import logging
import os

from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from core.tasks import schedule_periodic_work
from core.workers import Heartbeat, task_lease

logger = logging.getLogger("core.workers")


class Command(db_worker.Command):
    help = (
        "Run a background worker: take back the tasks of workers that stopped reporting for a lease "
        "(TASK_LEASE_SECONDS), queue each app's periodic work, then run tasks while reporting in."
    )

    def handle(self, *args, **options):
        if options["reload"] and not options["batch"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)  # the reloader only restarts the process that does the work
        self.configure_logging(options["verbosity"])
        heartbeat = Heartbeat(options["worker_id"])
        lease = task_lease().total_seconds()
        logger.info("Worker %s reports every %g s (task lease %g s)", heartbeat.worker_id, lease / 5, lease)
        heartbeat.report_in()
        for name, queued in schedule_periodic_work():
            if queued is None:
                logger.info("Periodic work %s: already queued, or nothing to do", name)
            else:
                run_after = queued.task.run_after
                when = f"{timezone.localtime(run_after):%Y-%m-%d %H:%M:%S %Z}" if run_after else "now"
                logger.info("Periodic work %s: queued for %s", name, when)
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stop()
