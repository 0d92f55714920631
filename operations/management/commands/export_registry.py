"""`manage.py export_registry FILE`: the whole portal as one JSON file (see portal/backups.py)."""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from operations.backups import LEFT_OUT, BackupError, export_to_file, tqdm_progress


class Command(BaseCommand):
    help = (
        "Export the whole portal (registry, versions, change requests, reviews, releases, users and permissions, "
        "history, notifications, API tokens, audit log) to one JSON file that `import_registry` loads into an "
        "empty database. The file holds password hashes and secrets: it is written readable by its owner only."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the export (replaced once the export is complete).")

    def handle(self, *args, file, verbosity, **options):
        started = time.monotonic()
        progress = tqdm_progress(getattr(self.stderr, "_out", self.stderr), enabled=verbosity >= 1)
        try:
            summary = export_to_file(file, progress=progress)
        except (BackupError, OSError) as error:
            raise CommandError(f"Export failed: {error}") from None
        if verbosity >= 2:
            for label, count in summary.counts.items():
                self.stdout.write(f"  {label}: {count}")
            for label, reason in LEFT_OUT.items():
                self.stdout.write(f"  not exported, {label}: {reason}")
        head = summary.audit_head
        head_text = f"audit head #{head['id']} {head['row_hash']}" if head else "an empty audit log"
        size = os.path.getsize(file)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {sum(summary.counts.values())} rows of {len(summary.counts)} models, "
                f"{summary.documents} governed document hashes and {head_text} to {os.path.abspath(file)} "
                f"({size / 1_000_000:.1f} MB) in {time.monotonic() - started:.1f} s."
            )
        )
