import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from releases.choices import SyncSource
from releases.importing import import_calendar
from releases.models import Calendar


class Command(BaseCommand):
    help = "Import an iCalendar (.ics) file into a release calendar, as an upload on its page would."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .ics file to import.")
        parser.add_argument("--calendar", required=True, help="The calendar's name or slug.")

    def handle(self, *args, file, calendar, **options):
        target = Calendar.objects.select_related("team").filter(Q(name=calendar) | Q(slug=calendar)).first()
        if target is None:
            known = ", ".join(Calendar.objects.order_by("name").values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No calendar is called “{calendar}”. Known calendars: {known}.")
        try:
            ics_bytes = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Could not read {file}: {error.strerror or error}.") from error

        clock = time.perf_counter()
        sync = import_calendar(target, ics_bytes, source=SyncSource.COMMAND)
        elapsed = time.perf_counter() - clock
        if sync.error:
            raise CommandError(f"Could not import {file} into {target}; nothing was changed. {sync.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {file} into {target} in {elapsed:.1f} s: {sync.added} added, {sync.updated} updated, "
                f"{sync.cancelled} cancelled, {sync.unchanged} unchanged."
            )
        )
