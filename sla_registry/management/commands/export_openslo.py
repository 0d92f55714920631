"""`manage.py export_openslo [SLA-0007 …] [--output FILE]`: SLAs as OpenSLO v1 Service and SLO documents."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla_registry.choices import AgreementStatus
from sla_registry.formats import openslo
from sla_registry.models import ServiceLevelAgreement


class Command(BaseCommand):
    help = (
        "Export SLAs as OpenSLO v1 YAML: one Service document per service and one SLO document per objective. "
        "Names SLAs by reference (SLA-0007); without any, exports every active SLA. Prints the YAML, or writes "
        "it to --output."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "references", nargs="*", metavar="SLA-0007", help="The SLAs to export (default: all active)."
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="Write the YAML to FILE instead of printing it.")

    def handle(self, *args, references, output, **options):
        slas = self.chosen_slas(references)
        if not slas:
            self.stderr.write("No SLA is active: nothing to export.")
            return
        documents = openslo.export_all(slas)
        text = openslo.dump(documents)
        slos = sum(1 for document in documents if document["kind"] == "SLO")
        services = len(documents) - slos
        what = (
            f"{len(slas)} SLA{'s' if len(slas) != 1 else ''} "
            f"({', '.join(sla.reference for sla in slas)}) as {slos} SLO document{'s' if slos != 1 else ''} "
            f"and {services} Service document{'s' if services != 1 else ''}"
        )
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
            self.stdout.write(self.style.SUCCESS(f"Wrote {what} to {output}."))
        else:
            self.stdout.write(text, ending="")
            # On stderr, so that the printed YAML can be piped as it is.
            self.stderr.write(f"Exported {what}.")

    def chosen_slas(self, references):
        if not references:
            return list(ServiceLevelAgreement.objects.filter(status=AgreementStatus.ACTIVE).order_by("pk"))
        wanted = {reference: ServiceLevelAgreement.pk_from_reference(reference) for reference in references}
        found = ServiceLevelAgreement.objects.in_bulk([pk for pk in wanted.values() if pk is not None])
        unknown = [reference for reference, pk in wanted.items() if pk not in found]
        if unknown:
            raise CommandError(f"No such SLA: {', '.join(unknown)}. Name SLAs by their reference, e.g. SLA-0007.")
        return list({pk: found[pk] for pk in wanted.values()}.values())
