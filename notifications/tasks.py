"""The delivery task, run by `manage.py worker`: email from the outbox, then webhooks.

`notify()` enqueues it after each commit. When something is left waiting for
its back-off (a mail server or a receiver that is down), the task queues its own
next run for the moment the earliest retry falls due, unless a run that early is
already waiting; so retries happen without anyone asking for them. The worker
queues that run at start too (registered in NotificationsConfig.ready), and a run
killed with its worker is run again (core.workers): every email and webhook is
recorded delivered once; one may reach its receiver twice, with the same
Message-ID or X-SLA-Portal-Delivery to deduplicate on.
"""

from django.db.models import Min, Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import get_date_max

from core.tasks import enqueue_unless_waiting
from notifications.models import Notification
from notifications.outbox import deliver_due
from notifications.webhooks import deliver_due_webhooks, next_webhook_attempt_at


@task()
def deliver_notifications():
    """Deliver what is due in the outbox and to webhooks, then queue a run for the next retry."""
    try:
        sent, failed = deliver_due()
        webhooks_delivered, webhooks_failed = deliver_due_webhooks()
    finally:
        schedule_next_delivery()
    return {
        "sent": sent,
        "failed": failed,
        "webhooks_delivered": webhooks_delivered,
        "webhooks_failed": webhooks_failed,
    }


def next_attempt_at():
    """When the earliest waiting email or webhook falls due (None when nothing is waiting)."""
    email = Notification.objects.filter(state=Notification.State.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    moments = [moment for moment in (email, next_webhook_attempt_at()) if moment is not None]
    return min(moments, default=None)


def schedule_next_delivery():
    """Queue a run for the earliest retry, unless one that early is waiting; the queued result, or None."""
    moment = next_attempt_at()
    if moment is None:
        return None
    moment = max(moment, timezone.now())
    earlier_or_unscheduled = Q(run_after__lte=moment) | Q(run_after=get_date_max())
    return enqueue_unless_waiting(deliver_notifications, moment, waiting=earlier_or_unscheduled)
