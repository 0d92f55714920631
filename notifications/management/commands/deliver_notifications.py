"""`manage.py deliver_notifications [--schedule]`: deliver what is due now, or queue the worker's run for it.

A delivery run killed with its worker (the machine restarted, the process was OOM-killed) never queues its
successor; `manage.py worker` queues it again at start, and `--schedule` does the same by hand.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications.models import Notification, WebhookDelivery
from notifications.outbox import deliver_due
from notifications.tasks import next_attempt_at, schedule_next_delivery
from notifications.webhooks import deliver_due_webhooks


class Command(BaseCommand):
    help = (
        "Deliver the notifications and webhooks that are due now, retrying earlier failures whose back-off has passed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Deliver nothing here: queue the background run (manage.py worker) for the earliest email or "
            "webhook waiting, unless one that early is already queued. The worker does so itself at start.",
        )

    def handle(self, *args, schedule, **options):
        if schedule:
            self._schedule()
            return
        total_sent = total_failed = 0
        while True:
            sent, failed = deliver_due()
            total_sent, total_failed = total_sent + sent, total_failed + failed
            if sent + failed == 0:
                break
            self.stdout.write(f"  … {total_sent} sent, {total_failed} failed so far")
            if sent == 0:
                break  # only failures left: they wait for their back-off
        waiting = Notification.objects.filter(state=Notification.State.PENDING).count()
        self.stdout.write(
            self.style.SUCCESS(f"Delivered {total_sent} notification(s); {total_failed} failed and will be retried; ")
            + f"{waiting} waiting in the outbox."
        )
        # deliver_due_webhooks keeps going until nothing is due (or its limit), so a failing receiver
        # stops after one attempt: its queue waits for the back-off.
        delivered = failed = 0
        while True:
            batch_delivered, batch_failed = deliver_due_webhooks()
            delivered, failed = delivered + batch_delivered, failed + batch_failed
            if batch_delivered == 0:
                break
        waiting = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).count()
        self.stdout.write(
            self.style.SUCCESS(f"Delivered {delivered} webhook(s); {failed} failed and will be retried; ")
            + f"{waiting} waiting."
        )

    def _schedule(self):
        moment = next_attempt_at()
        if moment is None:
            self.stdout.write("Nothing is waiting for delivery: no run queued.")
            return
        queued = schedule_next_delivery()
        when = f"{timezone.localtime(max(moment, timezone.now())):%Y-%m-%d %H:%M:%S %Z}"
        self.stdout.write(
            self.style.SUCCESS(f"Queued a delivery run for {when}.")
            if queued
            else f"A delivery run for {when} or earlier was already queued."
        )
