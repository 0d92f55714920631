"""`manage.py seed_demo [--size N]`: fill the portal with the Basketly demo organisation, its reviews and releases.

Lives in portal because it spans apps: the registry's seeder runs first, then the
reviews' seeder, which reads what the first one wrote (reviews depend on the
registry, never the reverse), then the release calendars, which place a release
just before one of the reviews' incidents.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from demo.incident_seeding import IncidentSeeder
from demo.measurements import seed_demo_measurements
from demo.oncall_seeding import OnCallSeeder
from demo.registry_data import DEMO_PASSWORD, SYNTHETIC_UNITS_PER_SIZE
from demo.registry_seeding import DemoSeeder, demo_logins, login_table
from demo.release_seeding import ReleaseSeeder
from demo.review_cycle import ReviewCycleSeeder
from demo.review_seeding import ReviewSeeder
from sla_registry.models import Team


class Command(BaseCommand):
    help = (
        "Create the demo organisation (teams, services, journeys, taxonomy, SLAs, escalation matrices and demo "
        "logins sharing one password), its post-incident reviews and drills, and its release calendars. Safe to "
        "run again: only what is missing or different is written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            type=int,
            default=1,
            help=f"Scale for benchmarks: N > 1 adds (N - 1) × {SYNTHETIC_UNITS_PER_SIZE} synthetic teams, services "
            "and SLAs.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the registry already has teams (what `make run` uses, so a restart is fast).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off. The demo logins, a superuser among them, share a published password.",
        )

    def handle(self, *args, size, force, if_empty, verbosity, **options):
        if if_empty and Team.objects.exists():
            self.stdout.write("The registry already has data; demo data not loaded (run seed_demo to top it up).")
            self._print_logins()
            return
        if size < 1:
            raise CommandError("--size must be at least 1.")
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this may be a production database. The demo logins (a superuser among them) all "
                f"use the password {DEMO_PASSWORD!r}. Run with DEBUG=1, or pass --force if you really mean it."
            )
        registry = DemoSeeder(size=size)
        reviews = ReviewSeeder(now=registry.now)
        releases = ReleaseSeeder(now=registry.now)
        schedules = OnCallSeeder(now=registry.now)
        live_incidents = IncidentSeeder(now=registry.now)
        with transaction.atomic():
            steps = [*registry.steps(), *reviews.steps(), *releases.steps(), *schedules.steps()]
            steps.append(("objective measurements", lambda: seed_demo_measurements(now=registry.now)))
            steps += ReviewCycleSeeder(now=registry.now).steps()
            steps += live_incidents.steps()
            for _label, step in self._with_progress(steps, verbosity):
                step()

        for seeder in (registry, reviews, releases, schedules, live_incidents):
            self.stdout.write(self.style.SUCCESS(seeder.summary()) if seeder.changed else seeder.summary())
        self._print_logins()

    def _print_logins(self):
        logins = demo_logins()
        if logins:
            self.stdout.write("")
            self.stdout.write(login_table(logins))
            self.stdout.write("")
            self.stdout.write(f"Demo password: {DEMO_PASSWORD}")

    def _with_progress(self, steps, verbosity):
        """A progress bar on a terminal; otherwise a line per step, or about 25 lines for a long run."""
        if verbosity == 0:
            yield from steps
        elif self.stderr.isatty():
            # tqdm redraws with carriage returns, so it needs the raw stream, not Django's line-ending wrapper.
            yield from tqdm(steps, desc="Seeding demo", unit="step", file=self.stderr._out)
        else:
            interval = max(1, len(steps) // 25)
            for number, (label, step) in enumerate(steps, start=1):
                if number % interval == 0 or number == 1 or number == len(steps):
                    self.stderr.write(f"Seeding: {label} ({number}/{len(steps)})")
                yield label, step
