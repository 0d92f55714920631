"""Every write to webhooks: subscribing, rotating the secret, deactivating, retrying, sending a test event."""

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.log import record_event
from notifications.models import WEBHOOK_EVENTS, WEBHOOK_TEST_EVENT, WebhookDelivery, WebhookSubscription
from notifications.outbox import request_delivery
from notifications.permissions import may_manage_subscription
from notifications.webhooks import WebhookRefused, check_url


def _require_manager(user, subscription):
    if not may_manage_subscription(user, subscription):
        whose = "global webhooks" if subscription.team_id is None else f"the webhooks of {subscription.team}"
        raise PermissionDenied(f"You may not manage {whose}.")


@transaction.atomic
def create_subscription(team, *, url, events=(), acting_user):
    """Subscribe `url` to `events` (all when empty) of `team` (every team's when None); returns it with its secret.

    The secret is shown to the user once, on the page that answers this action.
    """
    known = {name for name, _label in WEBHOOK_EVENTS}
    unknown = sorted(set(events) - known)
    if unknown:
        raise ValidationError({"events": f"Unknown event(s): {', '.join(unknown)}."})
    subscription = WebhookSubscription(
        team=team,
        url=(url or "").strip(),
        events=[name for name, _label in WEBHOOK_EVENTS if name in set(events)],
        secret=secrets.token_urlsafe(32),
        created_by=acting_user,
    )
    _require_manager(acting_user, subscription)
    subscription.full_clean()
    try:
        check_url(subscription.url)
    except WebhookRefused as error:
        raise ValidationError({"url": str(error)}) from error
    subscription.save()
    record_event(
        "webhook.created",
        subscription,
        actor=acting_user,
        payload={"url": subscription.url, "team": str(team) if team else None, "events": subscription.events},
    )
    return subscription


@transaction.atomic
def deactivate_subscription(subscription, *, acting_user):
    """Stop sending to a subscription; what is pending stays in its log, unsent."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    _require_manager(acting_user, subscription)
    if not subscription.active:
        raise ValidationError(f"{subscription} is already inactive.")
    subscription.active = False
    subscription.deactivated_at = timezone.now()
    subscription.save(update_fields=["active", "deactivated_at"])
    record_event("webhook.deactivated", subscription, actor=acting_user, payload={"url": subscription.url})
    return subscription


@transaction.atomic
def rotate_secret(subscription, *, acting_user, now=None):
    """Issue a new signing secret; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP, then stops.

    Returns the subscription holding its new secret (shown to the user once). The receiver has the overlap
    to switch: every delivery in it carries both signatures. Rotating again within the overlap ends the
    oldest secret at once (only two sign at a time).
    """
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    _require_manager(acting_user, subscription)
    if not subscription.active:
        raise ValidationError(f"{subscription} is inactive: there is nothing to sign.")
    now = now or timezone.now()
    ended_early = subscription.in_overlap(now)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + settings.WEBHOOK_SECRET_OVERLAP
    subscription.secret = secrets.token_urlsafe(32)
    subscription.secret_created_at = now
    subscription.save(update_fields=["secret", "secret_created_at", "previous_secret", "previous_secret_until"])
    record_event(
        "webhook.secret_rotated",
        subscription,
        actor=acting_user,
        payload={
            "url": subscription.url,
            "previous_signs_until": subscription.previous_secret_until,
            "earlier_secret_ended": ended_early,
        },
    )
    return subscription


@transaction.atomic
def retry_delivery(delivery, *, acting_user):
    """Make a pending delivery (and those before it, which go first) due now, and ask the worker to send them."""
    locked = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription")
    delivery = locked.get(pk=delivery.pk)
    subscription = delivery.subscription
    _require_manager(acting_user, subscription)
    if delivery.state != WebhookDelivery.State.PENDING:
        raise ValidationError(f"Delivery {delivery.pk} was already delivered.")
    if not subscription.active:
        raise ValidationError(f"{subscription} is inactive: nothing is sent to it.")
    WebhookDelivery.objects.filter(
        subscription=subscription, state=WebhookDelivery.State.PENDING, pk__lte=delivery.pk
    ).update(next_attempt_at=timezone.now())
    record_event("webhook.retried", subscription, actor=acting_user, payload={"delivery": delivery.pk})
    transaction.on_commit(request_delivery)
    return delivery


@transaction.atomic
def send_test_event(subscription, *, acting_user):
    """Queue a test event for this subscription only, so its receiver (and signature check) can be tried."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    _require_manager(acting_user, subscription)
    if not subscription.active:
        raise ValidationError(f"{subscription} is inactive: nothing is sent to it.")
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=WEBHOOK_TEST_EVENT,
        payload={
            "event": WEBHOOK_TEST_EVENT,
            "occurred_at": now.isoformat(),
            "subject": "Test event from the SLA Portal",
            "body": f"{acting_user} sent this to check the receiver and its signature check.",
            "link": "",
            "teams": [subscription.team.slug] if subscription.team_id else [],
        },
        next_attempt_at=now,
    )
    transaction.on_commit(request_delivery)
    return delivery
