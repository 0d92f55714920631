"""Queue notifications with the event, deliver them after commit.

`notify()` writes outbox rows in the caller's transaction: if the event rolls
back, so do its notifications. After commit it asks the background worker to
deliver. Delivery failures stay in the outbox with a growing back-off; nothing is
lost when the worker or the mail server is down.

The same call fans the event out to webhooks: one WebhookDelivery per matching
active subscription (every global one, and those of the teams concerned),
written in the same transaction, delivered by notifications.webhooks.
"""

import json
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import Notification, WebhookDelivery, WebhookSubscription

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


def notify(
    event,
    *,
    subject,
    body,
    teams=(),
    users=(),
    link=None,
    data=None,
    concerned_teams=(),
    webhooks=True,
):
    """Write one outbox row per recipient and one webhook delivery per matching subscription; deliver after commit.

    `link` is the page the event is about (by default the first portal address in
    `body`); `data` adds structured fields to the webhook payload (with
    "restricted": True only the concerned teams' subscriptions hear it, never a
    global one); `concerned_teams` are teams whose webhooks hear the event
    although they are not emailed; `webhooks=False` keeps it off webhooks (the
    message saying a webhook is failing must not be sent to that webhook).
    """
    now = timezone.now()
    rows = [
        Notification(event=event, recipient=address, subject=subject[:200], body=body, next_attempt_at=now)
        for address in recipients_of(teams=teams, users=users)
    ]
    Notification.objects.bulk_create(rows)
    deliveries = []
    if webhooks:
        deliveries = _fan_out(
            event,
            subject=subject,
            body=body,
            link=link,
            data=data or {},
            teams=[*teams, *concerned_teams],
            now=now,
        )
    if rows or deliveries:
        transaction.on_commit(request_delivery)
    return rows


# Structured fields a caller passes may not replace these.
PAYLOAD_FIELDS = ("event", "occurred_at", "subject", "body", "link", "teams")
# An event the portal knows more precisely from its data: an applied change to a review publishes it.
DERIVED_EVENTS = {("change_request.applied", "review"): "review.published"}


def webhook_events_for(event, data):
    """The webhook events one notified event stands for: itself, and what it means for its kind of document."""
    derived = DERIVED_EVENTS.get((event, data.get("kind")))
    return [event, derived] if derived else [event]


def _first_portal_link(body):
    base = re.escape(settings.PORTAL_BASE_URL.rstrip("/"))
    found = re.search(rf"{base}\S*", body)
    return found.group(0) if found else ""


def _fan_out(event, *, subject, body, link, data, teams, now):
    clashes = set(PAYLOAD_FIELDS) & set(data)
    if clashes:
        raise ValueError(f"Webhook data may not replace {', '.join(sorted(clashes))}.")
    team_ids = {team.pk for team in teams}
    restricted = bool(data.get("restricted"))
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    audience = Q(team_id__in=team_ids) if restricted else Q(team__isnull=True) | Q(team_id__in=team_ids)
    deliveries = []
    for subscription in WebhookSubscription.objects.filter(audience, active=True).order_by("pk"):
        for webhook_event in webhook_events_for(event, data):
            if not subscription.wants(webhook_event):
                continue
            payload = {
                **data,
                "event": webhook_event,
                "occurred_at": now.isoformat(),
                "subject": subject,
                "body": body,
                "link": link if link is not None else _first_portal_link(body),
                "teams": sorted({getattr(team, "slug", str(team)) for team in teams}),
            }
            deliveries.append(
                WebhookDelivery(subscription=subscription, event=webhook_event, payload=payload, next_attempt_at=now)
            )
    return WebhookDelivery.objects.bulk_create(deliveries)


def request_delivery():
    """Ask the background worker to deliver now (run after commit)."""
    from notifications.tasks import deliver_notifications

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
