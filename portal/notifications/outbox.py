"""Queue notifications with the event, deliver them after commit.

`notify()` writes outbox rows in the caller's transaction: if the event rolls
back, so do its notifications. After commit it asks the background worker to
deliver. Delivery failures stay in the outbox with a growing back-off; nothing is
lost when the worker or the mail server is down.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from portal.notifications.models import Notification

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts):
    """1, 2, 4, 8 … minutes after each failure, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def recipients_of(*, teams=(), users=()):
    """Addresses for teams (their shared inbox) and people, without duplicates."""
    addresses = [team.email for team in teams if getattr(team, "email", "")]
    addresses += [user.email for user in users if getattr(user, "email", "")]
    return sorted(set(addresses))


def notify(event, *, subject, body, teams=(), users=()):
    """Write one outbox row per recipient and schedule delivery after commit."""
    now = timezone.now()
    rows = [
        Notification(event=event, recipient=address, subject=subject[:200], body=body, next_attempt_at=now)
        for address in recipients_of(teams=teams, users=users)
    ]
    Notification.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(_request_delivery)
    return rows


def _request_delivery():
    from portal.notifications.tasks import deliver_notifications

    try:
        deliver_notifications.enqueue()
    except Exception:  # the rows are safe in the outbox; the next run picks them up
        logger.exception("Could not enqueue notification delivery")


def deliver_due(*, limit=100):
    """Send what is due; return (sent, failed) counts. Safe to run from several workers."""
    sent = failed = 0
    due = Notification.objects.filter(state=Notification.State.PENDING, next_attempt_at__lte=timezone.now())
    for pk in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=Notification.State.PENDING)
                .first()
            )
            if notification is None:
                continue  # another worker has it
            notification.attempts += 1
            try:
                send_mail(
                    notification.subject,
                    notification.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [notification.recipient],
                    fail_silently=False,
                )
            except Exception as error:
                notification.last_error = f"{type(error).__name__}: {error}"[:2000]
                notification.next_attempt_at = timezone.now() + backoff(notification.attempts)
                failed += 1
            else:
                notification.state = Notification.State.SENT
                notification.sent_at = timezone.now()
                notification.last_error = ""
                sent += 1
            notification.save()
    return sent, failed
