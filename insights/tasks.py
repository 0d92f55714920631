"""Background work that spans apps, run by `manage.py worker`.

The daily reminders task re-queues itself, like releases.tasks: after each run
it enqueues the next one for the following morning at REMINDERS_AT (the
portal's time zone), unless a run is already waiting. The worker queues the
first run at start (registered in InsightsConfig.ready), as `send_reminders
--schedule` does by hand.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_tasks import task

from core.tasks import enqueue_unless_waiting
from insights.reminders import send_reminders

REMINDERS_AT = time(7, 0)


@task()
def send_reminders_task():
    """Send today's reminders (each at most once a day), then queue tomorrow's run."""
    try:
        run = send_reminders()
    finally:
        schedule_reminders()
    return {"sent": len(run.sent), "already_sent": len(run.already_sent)}


def next_reminders_run(now=None):
    """The next REMINDERS_AT in the portal's time zone strictly after `now`."""
    now = timezone.localtime(now or timezone.now())
    candidate = timezone.make_aware(datetime.combine(now.date(), REMINDERS_AT))
    if candidate <= now:
        candidate = timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), REMINDERS_AT))
    return candidate


def schedule_reminders(now=None):
    """Queue the next reminders run, unless one is already waiting; the queued result, or None."""
    return enqueue_unless_waiting(send_reminders_task, next_reminders_run(now))
