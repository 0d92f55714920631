"""`manage.py import_backstage FILE [--apply --user USERNAME]`: teams and services from a Backstage catalog file."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sla_registry.formats import backstage
from sla_registry.management.commands._arguments import find_user, read_text


class Command(BaseCommand):
    help = (
        "Read a Backstage catalog-info.yaml (Group → team, Component and System → service, owners and "
        "dependencies) and show what it would create or update. With --apply --user USERNAME, write it, "
        "all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The Backstage catalog YAML file (one or more documents).")
        parser.add_argument("--apply", action="store_true", help="Write the changes (default: only show them).")
        parser.add_argument("--user", metavar="USERNAME", help="Who makes the changes (required with --apply).")

    def handle(self, *args, file, apply, user, **options):
        author = None
        if apply:
            if not user:
                raise CommandError("--apply needs --user USERNAME: the history records who made the changes.")
            author = find_user(user, role="who makes the changes")
        plan = backstage.read_catalog(read_text(file))
        for line in plan.skipped + plan.notes:
            self.stdout.write(f"Skipped {line}")
        if plan.errors:
            for message in plan.errors:
                self.stderr.write(message)
            count = len(plan.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {file}; nothing was written. Fix them and run again."
            )
        changes = plan.changes
        unchanged = len(plan.teams) + len(plan.services) - len(changes)
        if not changes:
            self.stdout.write(f"Nothing to change: the portal already matches {file} ({unchanged} entities).")
            return
        verb = {"create": "Create" if apply else "Would create", "update": "Update" if apply else "Would update"}
        for planned in plan.teams:
            self.show(planned, "team", verb)
        for planned in plan.services:
            self.show(planned, "service", verb, owner=planned.owner)
        teams = sum(1 for item in changes if isinstance(item, backstage.PlannedTeam))
        services = len(changes) - teams
        counts = f"{teams} team{'s' if teams != 1 else ''} and {services} service{'s' if services != 1 else ''}"
        if not apply:
            self.stdout.write(
                f"Would write {counts} ({unchanged} unchanged). Nothing was changed; "
                "run again with --apply --user USERNAME to write it."
            )
            return
        try:
            applied = backstage.apply_plan(plan, acting_user=author)
        except ValidationError as error:
            for message in error.messages:
                self.stderr.write(message)
            raise CommandError(f"The portal refused the changes from {file}; nothing was written.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {counts} from {file}: {len(applied.created_teams)} teams created, "
                f"{len(applied.updated_teams)} updated; {len(applied.created_services)} services created, "
                f"{len(applied.updated_services)} updated ({unchanged} unchanged)."
            )
        )

    def show(self, planned, noun, verb, owner=None):
        if planned.action == "unchanged":
            return
        owned = f", owned by {owner}" if owner else ""
        self.stdout.write(f"{verb[planned.action]} {noun} {planned.slug} “{planned.name}”{owned} ({planned.document})")
        for line in planned.changes:
            self.stdout.write(f"  {line}")
