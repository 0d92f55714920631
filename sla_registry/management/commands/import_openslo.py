"""`manage.py import_openslo FILE --user USERNAME`: propose OpenSLO objectives as draft change requests."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sla_registry.formats import openslo
from sla_registry.management.commands._arguments import find_user, read_text

ERRORS_SHOWN = 30


class Command(BaseCommand):
    help = (
        "Read OpenSLO v1 documents and propose, for each SLA they concern, a draft change request with the "
        "objectives they define (SLAs whose objectives already match get no request). An SLO names its SLA in "
        f"the annotation {openslo.annotation('sla')}, or belongs to the only SLA of its service. Nothing is "
        "proposed when any document is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The OpenSLO YAML file.")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="Who proposes the changes.")
        parser.add_argument("--summary", help="One-line summary for every request (default: the first change).")
        parser.add_argument("--rationale", help="Why the change is needed, for the approvers.")

    def handle(self, *args, file, user, summary, rationale, **options):
        author = find_user(user, role="the author of the proposals")
        text = read_text(file)
        try:
            result = openslo.import_documents(text, acting_user=author, summary=summary, rationale=rationale)
        except openslo.OpenSLOError as error:
            for message in error.messages[:ERRORS_SHOWN]:
                self.stderr.write(message)
            hidden = len(error.messages) - ERRORS_SHOWN
            if hidden > 0:
                self.stderr.write(f"… and {hidden} more.")
            count = len(error.messages)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {file}; nothing was proposed. Fix them and run again."
            ) from None

        base = settings.PORTAL_BASE_URL.rstrip("/")
        for item in result.slas:
            heading = f"{item.sla.reference} {item.sla.title}"
            if item.changed:
                request = item.change_request
                self.stdout.write(f"{heading}: proposed {request.reference} {base}{request.get_absolute_url()}")
                for line in item.changes:
                    self.stdout.write(f"  {line}")
            else:
                self.stdout.write(f"{heading}: no change")
        for line in result.skipped:
            self.stdout.write(f"Skipped {line}")
        proposed = len(result.proposals)
        unchanged = len(result.unchanged)
        if not result.slas:
            self.stdout.write(f"{file} has no SLO documents: nothing to propose.")
        elif proposed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Proposed {proposed} draft change request{'s' if proposed != 1 else ''} from {file} "
                    f"({unchanged} SLA{'s' if unchanged != 1 else ''} unchanged); submit each for approval."
                )
            )
        else:
            self.stdout.write(f"No change: the objectives in {file} match the portal's.")
