"""Uploads too large to import during the request: kept in a CalendarImport row, imported by the worker.

An upload larger than CALENDAR_BACKGROUND_IMPORT_BYTES is stored with its bytes (`queue_upload`), and a
task (releases.tasks.import_upload_task) imports it after the commit. While it runs, the import writes how
many of the file's events it has read (at most every PROGRESS_EVERY seconds, outside the import's
transaction so the calendar page's poll sees it); it ends done, with the import's counts, or failed, with
the reason, and the stored bytes are emptied either way.

Running the task twice is safe: a finished import is never run again, and one that is running is left to
its worker unless that worker is plainly gone (running for longer than the time limit allows); a run that
finds it running asks for one more look once that time has passed, so an import never stays "running".
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from releases.choices import ImportState, SyncSource
from releases.importing import import_calendar
from releases.models import CalendarImport

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between progress writes
# A running import that started this long past the time limit lost its worker (parsing, not interruptible,
# may overrun the limit a little; the margin covers it).
ABANDONED_AFTER_MARGIN = timedelta(seconds=60)


def needs_background(size):
    """Whether an upload of `size` bytes is imported by the worker rather than during the request."""
    return size > settings.CALENDAR_BACKGROUND_IMPORT_BYTES


@transaction.atomic
def queue_upload(calendar, *, file_name, content, acting_user):
    """Store an uploaded file and ask the worker to import it once this transaction commits."""
    from releases.tasks import import_upload_task

    upload = CalendarImport.objects.create(
        calendar=calendar,
        file_name=(file_name or "upload.ics")[:255],
        size=len(content),
        content=content,
        uploaded_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    transaction.on_commit(lambda: import_upload_task.enqueue(upload.pk))
    return upload


def _abandoned_after():
    """How long an import may run before its worker is taken for gone."""
    return timedelta(seconds=2 * settings.CALENDAR_SYNC_TIME_LIMIT) + ABANDONED_AFTER_MARGIN


def _look_again_when_abandoned(upload):
    """Queue one more run for when a running import counts as abandoned: it then finds it done, or takes it over."""
    from releases.tasks import import_upload_task

    run_after = upload.started_at + _abandoned_after()
    transaction.on_commit(lambda: import_upload_task.using(run_after=run_after).enqueue(upload.pk))


def _claim(upload_pk, now):
    """Mark the import running and return it, or None when it is finished, gone, or running elsewhere."""
    with transaction.atomic():
        upload = (
            CalendarImport.objects.select_for_update(of=("self",))
            .select_related("calendar__team", "uploaded_by")
            .filter(pk=upload_pk)
            .first()
        )
        if upload is None or upload.is_finished:
            return None
        if upload.state == ImportState.RUNNING and upload.started_at and upload.started_at > now - _abandoned_after():
            _look_again_when_abandoned(upload)
            return None
        upload.state = ImportState.RUNNING
        upload.started_at = now
        upload.attempts += 1
        upload.events_read = upload.events_total = 0
        upload.message = "Reading the file."
        upload.save(update_fields=["state", "started_at", "attempts", "events_read", "events_total", "message"])
        return upload


class _ProgressWriter:
    """Writes an import's progress to its row: at each new stage, at the end of reading, else every PROGRESS_EVERY s.

    The import calls it outside its transaction (reading) or just before it (saving), so each write commits
    at once and the calendar page's poll sees it.
    """

    def __init__(self, upload):
        self.upload_pk = upload.pk
        self.stage = None
        self.last_write = 0.0

    def __call__(self, stage, done, total):
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last_write < PROGRESS_EVERY:
            return
        self.stage, self.last_write = stage, now
        running = CalendarImport.objects.filter(pk=self.upload_pk, state=ImportState.RUNNING)
        if stage == "reading":
            running.update(events_read=min(done, total), events_total=total, message="Reading the events.")
        else:
            running.update(message=f"Saving {total:,} releases and occurrences.")


def _finish(upload, sync, now=None):
    """Record how the import ended and empty the stored file: done with the counts, or failed with the reason."""
    now = now or timezone.now()
    if sync.error:
        state, message = ImportState.FAILED, f"Nothing was changed. {sync.error}"
    else:
        state = ImportState.DONE
        message = (
            f"Imported {upload.file_name}: {sync.added:,} added, {sync.updated:,} updated, "
            f"{sync.cancelled:,} cancelled, {sync.unchanged:,} unchanged."
        )
    ended = {"state": state, "message": message, "sync": sync, "finished_at": now, "content": b""}
    if state == ImportState.DONE:
        ended["events_read"] = F("events_total")  # every event was read, whatever the last progress write said
    CalendarImport.objects.filter(pk=upload.pk).update(**ended)
    upload.refresh_from_db()
    return upload


def run_upload_import(upload_pk, *, now=None):
    """Import a stored upload; returns the CalendarImport, or None when there was nothing to do.

    A finished import, or one another worker is running, is left alone.
    """
    now = now or timezone.now()
    upload = _claim(upload_pk, now)
    if upload is None:
        return None
    content = bytes(upload.content)
    try:
        sync = import_calendar(
            upload.calendar,
            content,
            source=SyncSource.UPLOAD,
            acting_user=upload.uploaded_by,
            progress=_ProgressWriter(upload),
            on_saved=lambda sync: _finish(upload, sync),
        )
    except Exception as error:
        logger.exception("The background import %s failed unexpectedly", upload.pk)
        CalendarImport.objects.filter(pk=upload.pk).update(
            state=ImportState.FAILED,
            message=f"Nothing was changed. The import failed unexpectedly: {error.__class__.__name__}.",
            finished_at=timezone.now(),
            content=b"",
        )
        raise
    if sync.error:
        _finish(upload, sync)
    upload.refresh_from_db()
    return upload
