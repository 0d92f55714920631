import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from releases.importing import sync_calendar
from releases.models import Calendar
from releases.tasks import SYNC_EVERY, schedule_calendar_sync


class Command(BaseCommand):
    help = "Fetch and import every feed calendar (or, with --due, those whose sync interval has passed)."

    def add_arguments(self, parser):
        parser.add_argument("--due", action="store_true", help="Only the calendars due for a sync.")
        parser.add_argument(
            "--schedule",
            action="store_true",
            help=f"Also queue the background sync, which then re-runs itself every {SYNC_EVERY} (db_worker).",
        )

    def handle(self, *args, due, schedule, **options):
        now = timezone.now()
        calendars = Calendar.objects.exclude(feed_url="").select_related("team").order_by("name")
        if due:
            calendars = [calendar for calendar in calendars if calendar.is_due_for_sync(now)]
        clock = time.perf_counter()
        failed = []
        for calendar in calendars:
            sync = sync_calendar(calendar, now=now)
            if sync.error:
                failed.append(calendar.name)
                self.stdout.write(self.style.ERROR(f"  {calendar}: failed: {sync.error}"))
            else:
                self.stdout.write(
                    f"  {calendar}: {sync.added} added, {sync.updated} updated, {sync.cancelled} cancelled, "
                    f"{sync.unchanged} unchanged"
                )
            self.stdout.flush()
        synced = len(calendars)
        elapsed = time.perf_counter() - clock

        if schedule:
            queued = schedule_calendar_sync(now)
            self.stdout.write(
                f"Queued the background sync for {queued.task.run_after:%Y-%m-%d %H:%M %Z}."
                if queued
                else "The background sync was already queued."
            )
        if not synced:
            self.stdout.write("No feed calendar is due for a sync." if due else "No calendar has a feed URL.")
            return
        summary = f"Synced {synced} feed calendar{'s' if synced != 1 else ''} in {elapsed:.1f} s"
        if failed:
            raise CommandError(f"{summary}: {len(failed)} failed ({', '.join(failed)}); their releases were kept.")
        self.stdout.write(self.style.SUCCESS(f"{summary}: all succeeded."))
