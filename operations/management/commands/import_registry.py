"""`manage.py import_registry FILE`: load an `export_registry` file into an empty database (see portal/backups.py)."""

from django.core.management.base import BaseCommand, CommandError

from operations.backups import BackupError, import_from_file, tqdm_progress


class Command(BaseCommand):
    help = (
        "Load a file written by `export_registry` into this freshly migrated, empty database, in one transaction: "
        "every governed document's content hash and the audit chain are checked before anything is committed, "
        "then the search index is rebuilt. Refuses a database that already holds portal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `manage.py export_registry`.")

    def handle(self, *args, file, verbosity, **options):
        progress = tqdm_progress(getattr(self.stderr, "_out", self.stderr), enabled=verbosity >= 1)
        try:
            summary = import_from_file(file, progress=progress)
        except BackupError as error:
            raise CommandError(f"Nothing was imported: {error}") from None
        if verbosity >= 2:
            for label, count in sorted(summary.counts.items()):
                self.stdout.write(f"  {label}: {count}")
        head = summary.audit_head
        head_text = f"head #{head['id']} {head['row_hash']}" if head else "empty"
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {sum(summary.counts.values())} rows of {len(summary.counts)} models from {file} "
                f"in {summary.seconds:.1f} s. Content hashes of {summary.documents} governed documents verified; "
                f"audit chain intact ({summary.audit_events} events, {head_text}); "
                f"{summary.search_documents} search documents rebuilt."
            )
        )
