from django.core.management.base import BaseCommand

from portal.notifications.models import Notification
from portal.notifications.outbox import deliver_due


class Command(BaseCommand):
    help = "Deliver the notifications that are due now, retrying earlier failures whose back-off has passed."

    def handle(self, *args, **options):
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
