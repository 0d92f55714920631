"""`manage.py demo_logins`: list the demo logins present in this database."""

from django.core.management.base import BaseCommand

from demo.registry_data import DEMO_PASSWORD
from demo.registry_seeding import demo_logins, login_table


class Command(BaseCommand):
    help = "Print the demo logins that exist in this database (see seed_demo)."

    def handle(self, *args, **options):
        logins = demo_logins()
        if not logins:
            self.stdout.write("No demo logins in this database; run `manage.py seed_demo` first.")
            return
        self.stdout.write(login_table(logins))
        self.stdout.write("")
        self.stdout.write(f"Demo password: {DEMO_PASSWORD} (unless changed since seeding)")
