from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.tokens import create_api_token


class Command(BaseCommand):
    help = "Make a personal API token for a user and print it (it is stored only as a digest)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What will use it.")
        parser.add_argument("--days", type=int, default=30, help="How long it lives (1–366 days).")

    def handle(self, *args, username, name, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            token, text = create_api_token(name=name, days=days, acting_user=user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stderr.write(f"Token “{token.name}” for {username}, expires {token.expiry:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(text)
