from django.core.management.base import BaseCommand

from portal.notifications.models import Notification, WebhookDelivery
from portal.notifications.outbox import deliver_due
from portal.notifications.webhooks import deliver_due_webhooks


class Command(BaseCommand):
    help = (
        "Deliver the notifications and webhooks that are due now, retrying earlier failures whose back-off has passed."
    )

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
