from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from approvals.actions import emergency_grant
from core.teams import team_model


class Command(BaseCommand):
    help = (
        "Break glass: let a user approve for a team at once, outside the access policy (for a committee that "
        "cannot act). Writes an emergency.granted audit event and shows a banner on every page until the SLA "
        "committee acknowledges it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="The team's slug, e.g. sla-committee.")
        parser.add_argument("--user", required=True, help="The username who may approve for it.")
        parser.add_argument("--reason", required=True, help="Why the access policy could not be followed.")

    def handle(self, *args, **options):
        team = team_model().objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team with the slug “{options['team']}”.")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named “{options['user']}”.")
        try:
            grant = emergency_grant(team, user, reason=options["reason"], acting_user=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.WARNING(
                f"EMERGENCY GRANT #{grant.pk}: {user.get_username()} may now approve for {team}. "
                "Recorded in the audit log (emergency.granted); every page shows a banner until the SLA "
                "committee acknowledges it."
            )
        )
