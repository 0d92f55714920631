"""`manage.py import_measurements FILE`: load what monitoring measured for SLA objectives from a CSV file."""

import csv
from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import NotAllowed
from sla_registry.measurements import COLUMNS, MeasurementsRejected, record_measurements

ERRORS_SHOWN = 20
PROGRESS_EVERY = 10_000

HELP = f"""Import objective measurements (good and total events per period) from a CSV file.

The file is UTF-8 text with this header, one row per objective and period:

    {",".join(COLUMNS)}
    SLA-0003,Checkout requests that succeed,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,99952,100000

sla is the SLA's reference; indicator is one of its objectives, spelt as on the SLA page;
period_start and period_end are ISO 8601 with a time zone (Z or +01:00), or dates meaning
midnight UTC; good and total are whole numbers with 0 <= good <= total (a total of 0 is a
period without traffic). A period already stored for the same SLA and indicator is refused
unless --replace is given (then it is replaced, and the replacement is audited). --user names who
imports: a member of each SLA's provider team.
Every row is checked first: if any is wrong, the errors are listed (the first {ERRORS_SHOWN}) and
nothing is written."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keep the example's line breaks
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--source", default="csv", help="Recorded with each measurement as where it came from (default: csv)."
        )
        parser.add_argument(
            "--user", required=True, help="Who imports: a member of the provider team of every SLA in the file."
        )
        parser.add_argument(
            "--replace", action="store_true", help="Replace periods already stored (audited) instead of refusing."
        )

    def handle(self, *args, file, source, user, replace, verbosity, **options):
        acting_user = get_user_model().objects.filter(username=user, is_active=True).first()
        if acting_user is None:
            raise CommandError(f"There is no active user “{user}”.")
        rows = self.read_rows(Path(file), verbosity)
        if not rows:
            raise CommandError(f"{file} has a header but no rows: nothing to import.")
        try:
            recorded = record_measurements(rows, source=source, acting_user=acting_user, replace=replace)
        except NotAllowed as refused:
            raise CommandError(str(refused)) from None
        except MeasurementsRejected as rejected:
            for error in rejected.errors[:ERRORS_SHOWN]:
                self.stderr.write(str(error))
            hidden = len(rejected.errors) - ERRORS_SHOWN
            if hidden > 0:
                self.stderr.write(f"… and {hidden} more.")
            count = len(rejected.errors)
            raise CommandError(
                f"{count} error{'s' if count != 1 else ''} in {file}; nothing was imported. Fix them and run again."
            ) from None
        # What was replaced is named (the audit log keeps it too), beside the progress, on stderr.
        for replaced in recorded.replaced_periods[:ERRORS_SHOWN]:
            self.stderr.write(f"Replaced {replaced}")
        hidden = len(recorded.replaced_periods) - ERRORS_SHOWN
        if hidden > 0:
            self.stderr.write(f"… and {hidden} more replaced.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {recorded.total} measurement{'s' if recorded.total != 1 else ''} for "
                f"{recorded.objectives} objective{'s' if recorded.objectives != 1 else ''} from {file} "
                f"({recorded.replaced} replaced)"
            )
        )

    def read_rows(self, path, verbosity):
        """[("line N", {column: text})] for every data row, or CommandError for a file that cannot be read."""
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.") from None
        except OSError as error:
            raise CommandError(f"Cannot open {path}: {error.strerror}.") from None
        rows = []
        try:
            with handle:
                reader = csv.DictReader(handle)
                header = [name.strip() for name in (reader.fieldnames or [])]
                if not header:
                    raise CommandError(f"{path} is empty; it needs the header {','.join(COLUMNS)}.")
                reader.fieldnames = header
                missing = [column for column in COLUMNS if column not in header]
                if missing:
                    raise CommandError(
                        f"{path} lacks the column{'s' if len(missing) != 1 else ''} {', '.join(missing)}: "
                        f"the header must be {','.join(COLUMNS)} (it is {','.join(header)})."
                    )
                for values in reader:
                    values.pop(None, None)  # cells beyond the header's columns are not read
                    if not any(_present(value) for value in values.values()):
                        continue  # a blank line, often the last one
                    rows.append((f"line {reader.line_num}", values))
                    if verbosity >= 1 and len(rows) % PROGRESS_EVERY == 0:
                        self.stderr.write(f"Read {len(rows):,} rows…")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at position {error.start}); "
                "save it as CSV UTF-8 and try again."
            ) from None
        except csv.Error as error:
            raise CommandError(f"{path} is not a readable CSV file (line {reader.line_num}: {error}).") from None
        if verbosity >= 1 and len(rows) >= PROGRESS_EVERY:
            self.stderr.write(f"Read {len(rows):,} rows; checking and writing them…")
        return rows


def _present(value):
    return bool(value and value.strip())
