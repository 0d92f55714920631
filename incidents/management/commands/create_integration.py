"""manage.py create_integration --kind alertmanager --name "Prometheus prod" [--team platform]

Prints the URL to configure in the sender and the secret (shown once); the last line is one JSON object
with key, url and secret, for scripts.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents import actions
from incidents.choices import IntegrationKind
from incidents.ingestion import OPSGENIE_SECRET_HEADER
from sla_registry.models import Team

HOW_TO_SIGN = {
    IntegrationKind.PAGERDUTY: "PagerDuty signs with it: paste it as the webhook subscription's signing secret.",
    IntegrationKind.OPSGENIE: f"Send the secret in the {OPSGENIE_SECRET_HEADER} header (a webhook custom header).",
    IntegrationKind.ALERTMANAGER: "Set http_config.authorization.credentials to the secret (Authorization: Bearer).",
    IntegrationKind.GENERIC: "Send Authorization: Bearer <secret>.",
}


class Command(BaseCommand):
    help = "Create an integration that sends incident events in; prints its URL and secret."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=IntegrationKind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--team", help="The slug of the team it belongs to.")

    def handle(self, *args, kind, name, team=None, **options):
        owner = None
        if team:
            owner = Team.objects.filter(slug=team).first()
            if owner is None:
                raise CommandError(f"No team with the slug {team!r}.")
        try:
            integration = actions.create_integration(kind=kind, name=name, team=owner)
        except Exception as error:  # a duplicate name or a bad kind: say it plainly
            messages = getattr(error, "message_dict", None)
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items()) if messages else str(error)
            ) from None
        base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
        url = f"{base}{integration.get_events_path()}"
        self.stdout.write(f"Integration {integration.name} ({integration.get_kind_display()}) created.")
        self.stdout.write(f"URL:    {url}")
        self.stdout.write(f"Secret: {integration.secret}")
        self.stdout.write(HOW_TO_SIGN[kind])
        self.stdout.write(json.dumps({"key": integration.key, "url": url, "secret": integration.secret}))
