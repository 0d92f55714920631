"""Signed webhooks: how the portal POSTs its events, and how a receiver checks them.

What a receiver gets
--------------------
A POST with a JSON body::

    {"event": "change_request.applied", "occurred_at": "2026-05-04T09:30:00+00:00",
     "subject": "…", "body": "…", "link": "https://portal/…", "teams": ["payments"],
     "restricted": false, …}

(plus structured fields of the event, such as "change_request" and "kind") and
these headers:

    X-SLA-Portal-Event       the event name (also in the body)
    X-SLA-Portal-Delivery    the delivery id: the same on every retry of one delivery
    X-SLA-Portal-Timestamp   Unix seconds when this attempt was signed
    X-SLA-Portal-Signature   sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body, keyed by the secret>;
                             after a secret is rotated, two of them, comma separated (new, then old),
                             until the overlap window ends: accept the request if any one matches

Answer 2xx once the event is safely stored. Anything else (a redirect too: they
are not followed), a timeout (10 s) or a refused connection is retried with a
growing back-off of at most an hour, for as long as it takes: nothing is dropped.

Delivery is at least once. A delivery is marked delivered only after the
receiver has answered 2xx, so if the portal's worker dies between sending and
recording the answer, the same delivery is sent again. Deduplicate on
X-SLA-Portal-Delivery. One subscription's deliveries are sent in the order they
were created: a later one waits while an earlier one is failing.

Verifying (copy this into a receiver; it needs only the standard library)::

    import hashlib, hmac, time

    def verify_signature(secret, timestamp, body, header, *, tolerance=300):
        try:
            signed_at = int(timestamp)
        except (TypeError, ValueError):
            return False
        if abs(time.time() - signed_at) > tolerance:
            return False  # an old request replayed, or a clock far off
        message = f"{signed_at}.".encode() + body
        expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected, value.strip()) for value in (header or "").split(","))

    # e.g. in a Flask view:
    # ok = verify_signature(SECRET, request.headers["X-SLA-Portal-Timestamp"],
    #                       request.get_data(), request.headers["X-SLA-Portal-Signature"])

Verify the raw bytes received, before parsing the JSON.

"restricted" is true when the event is about something not everyone may read (a
restricted post-incident review). A team's receiver then gets the full text only
if that team may read it; other teams' receivers and every global one get the
redacted form: "subject" and "body" say only that something restricted waits in
the portal, with "link" and the review's reference, and no structured fields.
"""

import hashlib
import hmac
import http.client
import json
import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef
from django.urls import NoReverseMatch
from django.utils import timezone

from core import outbound
from core.outbound import internal_address_of
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.outbox import backoff, notify

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
SIGNATURE_TOLERANCE_SECONDS = 300
# How much of a failing receiver's answer is kept as the error.
ERROR_EXCERPT_BYTES = 500
USER_AGENT = "SLA-Portal-Webhooks/1"
FALLBACK_EVENT = "webhook.failing"


# Signing -------------------------------------------------------------------------


def sign(secret, timestamp, body):
    """The hex HMAC-SHA256 of f"{timestamp}." + body (bytes), keyed by `secret`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(secret, timestamp, body, header, *, tolerance=SIGNATURE_TOLERANCE_SECONDS):
    """Whether one of `header`'s signatures ("sha256=<hex>", comma separated) signs `body` at `timestamp` with
    `secret`, within `tolerance` s of now."""
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - signed_at) > tolerance:
        return False
    expected = f"sha256={sign(secret, signed_at, body)}"
    return any(hmac.compare_digest(expected, value.strip()) for value in (header or "").split(","))


def payload_bytes(payload):
    """The exact bytes POSTed (and signed) for a payload."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(delivery, body, *, secrets, timestamp):
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-SLA-Portal-Event": delivery.event,
        "X-SLA-Portal-Delivery": str(delivery.pk),
        "X-SLA-Portal-Timestamp": str(timestamp),
        "X-SLA-Portal-Signature": ", ".join(f"sha256={sign(secret, timestamp, body)}" for secret in secrets),
    }


# Sending -------------------------------------------------------------------------


class WebhookRefused(ValueError):
    """The portal will not send to this address (an internal host, or not http/https)."""


def may_send_to_internal_hosts():
    return getattr(settings, "WEBHOOKS_MAY_BE_INTERNAL", settings.DEBUG)


def check_url(url):
    """Refuse what the portal must not POST to: other schemes, and (outside development) internal addresses.

    Otherwise anyone who may add a webhook could make the portal call its own
    network (metadata services, admin ports). WEBHOOKS_MAY_BE_INTERNAL lifts the
    address check, for development and for tests that listen on 127.0.0.1.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebhookRefused(f"{url} is not an http or https address.")
    if may_send_to_internal_hosts():
        return
    ip = internal_address_of(parts.hostname, parts.port or 443)
    if ip is not None:
        raise WebhookRefused(
            f"{parts.hostname} is an internal address ({ip}); webhooks go to receivers outside the portal's network."
        )


def post(url, body, headers, *, timeout=TIMEOUT_SECONDS, subscription=None):
    """POST `body` through core.outbound (no redirects followed: one is an answer like any non-2xx).

    Returns the Answer; OutboundRefused, TimeoutError or OSError when nothing was answered.
    """
    return outbound.request(
        "POST",
        url,
        body=body,
        headers=headers,
        allow_internal=may_send_to_internal_hosts(),
        connect_timeout=timeout,
        read_timeout=timeout,
        total_timeout=timeout * 2,
        max_bytes=ERROR_EXCERPT_BYTES,
        truncate=True,
        subject=subscription,
    )


def _describe_answer(answer):
    excerpt = answer.body.decode("utf-8", "replace").strip()
    text = f"HTTP {answer.status} {answer.reason}"
    return f"{text}: {excerpt}" if excerpt else text


def _describe(error):
    if isinstance(error, outbound.OutboundRefused):
        return f"Refused: {error}"
    if isinstance(error, TimeoutError):
        return f"Timed out after {TIMEOUT_SECONDS} s"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return f"{type(error).__name__}: {error}"


# The worker ----------------------------------------------------------------------


def pending_heads():
    """Each active subscription's oldest pending delivery: the only one of its queue that may be sent now."""
    earlier = WebhookDelivery.objects.filter(
        subscription=OuterRef("subscription"), state=WebhookDelivery.State.PENDING, pk__lt=OuterRef("pk")
    )
    return WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, subscription__active=True).exclude(
        Exists(earlier)
    )


def next_webhook_attempt_at():
    """When the next webhook delivery falls due (None when nothing is waiting)."""
    return pending_heads().aggregate(at=Min("next_attempt_at"))["at"]


def deliver_due_webhooks(limit=100):
    """Send the deliveries that are due; return (delivered, failed) counts. Safe to run from several workers.

    Each delivery is first claimed in a short transaction (its row locked, its
    attempt counted and its next attempt pushed back by the back-off), then sent
    with no transaction open, then its outcome recorded. A worker that dies while
    sending leaves the delivery pending, due again after the back-off.
    """
    delivered = failed = 0
    while delivered + failed < limit:
        due = pending_heads().filter(next_attempt_at__lte=timezone.now()).order_by("next_attempt_at", "pk")
        candidates = list(due.values_list("pk", flat=True)[: limit - delivered - failed])
        progressed = False
        for pk in candidates:
            delivery = _claim(pk)
            if delivery is None:
                continue  # another worker has it, or it was sent meanwhile
            progressed = True
            if _send(delivery):
                delivered += 1
            else:
                failed += 1
        if not progressed:
            break
    return delivered, failed


def _claim(pk):
    with transaction.atomic():
        now = timezone.now()
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(
                pk=pk,
                state=WebhookDelivery.State.PENDING,
                next_attempt_at__lte=now,
                subscription__active=True,
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def _send(delivery):
    """POST one claimed delivery and record the answer; True when the receiver took it."""
    subscription = delivery.subscription
    body = payload_bytes(delivery.payload)
    timestamp = int(timezone.now().timestamp())
    headers = signed_headers(delivery, body, secrets=subscription.signing_secrets(), timestamp=timestamp)
    try:
        answer = post(subscription.url, body, headers, subscription=subscription)
    except (OSError, http.client.HTTPException, ValueError) as error:
        _record_failure(delivery, status_code=None, error=_describe(error))
        return False
    if not 200 <= answer.status < 300:
        _record_failure(delivery, status_code=answer.status, error=_describe_answer(answer))
        return False
    _record_success(delivery, status_code=answer.status)
    return True


@transaction.atomic
def _record_success(delivery, *, status_code):
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.DELIVERED, delivered_at=now, last_status_code=status_code, last_error=""
    )
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
        consecutive_failures=0, fallback_notified_at=None
    )


@transaction.atomic
def _record_failure(delivery, *, status_code, error):
    now = timezone.now()
    error = error[:2000]
    WebhookDelivery.objects.filter(pk=delivery.pk, state=WebhookDelivery.State.PENDING).update(
        last_status_code=status_code, last_error=error, next_attempt_at=now + backoff(delivery.attempts)
    )
    subscription = (
        WebhookSubscription.objects.select_for_update(of=("self",))
        .select_related("team", "created_by")
        .get(pk=delivery.subscription_id)
    )
    subscription.consecutive_failures = F("consecutive_failures") + 1
    subscription.save(update_fields=["consecutive_failures"])
    subscription.refresh_from_db(fields=["consecutive_failures", "fallback_notified_at"])
    logger.warning("Webhook %s to %s failed (%s): %s", delivery.pk, subscription.url, status_code, error)
    threshold = getattr(settings, "WEBHOOK_FALLBACK_AFTER_FAILURES", 3)
    if subscription.consecutive_failures >= threshold and subscription.fallback_notified_at is None:
        _notify_fallback(subscription, error)
        subscription.fallback_notified_at = now
        subscription.save(update_fields=["fallback_notified_at"])


def _notify_fallback(subscription, error):
    """Tell the people behind a failing receiver by email (the outbox), once until it recovers."""
    try:
        page = f"\n\n{settings.PORTAL_BASE_URL.rstrip('/')}{subscription.get_absolute_url()}"
    except NoReverseMatch:  # the webhook pages are not routed
        page = ""
    teams = [subscription.team] if subscription.team_id else []
    users = [subscription.created_by] if subscription.team_id is None and subscription.created_by_id else []
    notify(
        FALLBACK_EVENT,
        subject=f"Webhook to {subscription.url} is failing",
        body=(
            f"Webhook to {subscription.url} is failing: {error}; events are kept and retried "
            f"({subscription.consecutive_failures} failures in a row so far).{page}"
        ),
        teams=teams,
        users=users,
        webhooks=False,
    )


def send_to_team_receivers(event, team, *, subject, body, link, data, restricted=False):
    """Queue one delivery of `event` per active subscription of `team` that wants it, and send each at once.

    For messages that must reach someone now and have a fallback of their own (an incident's notices):
    [(url, delivered, error)], empty when the team has no receiver for it. An undelivered one stays in the
    outbox and is retried like any other delivery. Call outside a transaction: it waits for the receivers.
    """
    now = timezone.now()
    payload_base = _as_json_payload(
        data, subject=subject, body=body, link=link, team=team, event=event, now=now, restricted=restricted
    )
    outcomes = []
    for subscription in WebhookSubscription.objects.filter(team=team, active=True).order_by("pk"):
        if not subscription.wants(event):
            continue
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event=event, payload=payload_base, next_attempt_at=now
        )
        claimed = _claim(delivery.pk)
        if claimed is None:
            outcomes.append((subscription.url, False, "Being sent by another worker"))
            continue
        delivered = _send(claimed)
        error = "" if delivered else WebhookDelivery.objects.values_list("last_error", flat=True).get(pk=delivery.pk)
        outcomes.append((subscription.url, delivered, error))
    return outcomes


def _as_json_payload(data, *, subject, body, link, team, event, now, restricted):
    return json.loads(
        json.dumps(
            {
                **data,
                "event": event,
                "occurred_at": now.isoformat(),
                "subject": subject,
                "body": body,
                "link": link,
                "teams": [team.slug],
                "restricted": restricted,
            },
            default=str,
        )
    )
