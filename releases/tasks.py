"""Background work of the releases app, run by `manage.py db_worker`.

Feed calendars are synced by a task that re-queues itself: after each run it
enqueues the next one for SYNC_EVERY later, unless a run is already waiting. So
the schedule keeps itself going once the first run is queued (`sync_calendars
--schedule`, or `sync_due_calendars_task.enqueue()` from a shell). Each calendar
still syncs only when its own sync_interval has passed (Calendar.is_due_for_sync).

Uploads too large to import during the request are imported by import_upload_task
(releases.uploads), queued when the upload commits; running it twice is harmless.
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from core.tasks import enqueue_unless_waiting
from releases.importing import sync_due_calendars
from releases.uploads import run_upload_import

SYNC_EVERY = timedelta(minutes=15)


@task()
def sync_due_calendars_task():
    """Sync every feed calendar that is due, then queue the next run."""
    try:
        syncs = sync_due_calendars()
    finally:
        schedule_calendar_sync()
    return [{"calendar": sync.calendar.name, "error": sync.error} for sync in syncs]


def schedule_calendar_sync(now=None):
    """Queue the next sync SYNC_EVERY from now, unless one is already waiting; the queued result, or None."""
    return enqueue_unless_waiting(sync_due_calendars_task, (now or timezone.now()) + SYNC_EVERY)


@task()
def import_upload_task(upload_pk):
    """Import a stored upload (a CalendarImport), with progress; nothing when it is finished or running elsewhere."""
    upload = run_upload_import(upload_pk)
    if upload is None:
        return None
    return {"import": upload.pk, "state": upload.state, "message": upload.message}
