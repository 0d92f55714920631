"""`manage.py send_reminders [--schedule]`: remind owners of documents due for review and of overdue action items.

Lives in portal because the reminders span the registry (the review cycle) and
the reviews (action items); see insights.reminders.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from insights.reminders import send_reminders
from insights.tasks import REMINDERS_AT, schedule_reminders


class Command(BaseCommand):
    help = (
        "Notify, through the outbox, the owners of documents due for their periodic review within 14 days or "
        "overdue, and the owner team and assignee of every overdue open action item. Each reminder goes out at most "
        "once a day, however often this runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help=f"Also queue the background run, which then re-runs itself every day at {REMINDERS_AT:%H:%M} "
            "(manage.py worker, which queues it at start).",
        )

    def handle(self, *args, schedule, **options):
        now = timezone.now()
        run = send_reminders(now)
        for reminder in run.sent:
            self.stdout.write(f"  {reminder}")
        if schedule:
            queued = schedule_reminders(now)
            self.stdout.write(
                f"Queued the daily reminders for {timezone.localtime(queued.task.run_after):%Y-%m-%d %H:%M %Z}."
                if queued
                else "The daily reminders were already queued."
            )
        self.stdout.write(self.style.SUCCESS(run.summary()) if run.sent else run.summary())
