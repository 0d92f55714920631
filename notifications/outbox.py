"""Queue notifications with the event, deliver them after commit.

`notify()` writes outbox rows in the caller's transaction: if the event rolls
back, so do its notifications. After commit it asks the background worker to
deliver. Delivery failures stay in the outbox with a growing back-off; nothing is
lost when the worker or the mail server is down.

The same call fans the event out to webhooks: one WebhookDelivery per matching
active subscription (every global one, and those of the teams concerned),
written in the same transaction, delivered by notifications.webhooks.

Visibility: one filter for every outbound message
-------------------------------------------------
An event about something not everyone may read (a restricted post-incident
review) carries a `Restriction`, made by the app that owns the rule (reviews
registers nothing here: it hands the Restriction over with the event, so this
module knows no domain app). Every recipient goes through `reads_in_full`:

* an email to a person: the full text if the rule lets that person read the source;
* an email to a team's address (its members): the full text if the team may read it;
* a team's webhook subscription: the full text if its team may read it;
* a global webhook subscription (its owner is no team in particular): never the full text.

Everyone else gets `redacted()`: the restriction's words, which say only that
something restricted waits in the portal (and its link), never a title or any
other text of the source. Every webhook payload says `"restricted": true` or
`"restricted": false`; callers cannot set that field themselves.
"""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
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


@dataclass(frozen=True)
class Restriction:
    """An event about something not everyone may read: who may, and what the others are told instead.

    `may_read_team(team)` and `may_read_user(user)` apply the owning app's rule (the same as its pages);
    `subject` and `body` hold none of the source's text, only that there is something to open in the
    portal (and its link); `data` is what a webhook payload may carry for a reader who may not read it
    (references only).
    """

    may_read_team: Callable
    may_read_user: Callable
    subject: str
    body: str
    data: dict = field(default_factory=dict)


def reads_in_full(restriction, *, team=None, user=None):
    """The visibility filter: whether a recipient gets the full text of an event with `restriction`.

    The recipient is a team (its email address, or its webhook subscription), a user (their address), or
    neither (a global webhook subscription, which speaks for no team: it gets the full text only of events
    that are not restricted).
    """
    if restriction is None:
        return True
    if team is not None:
        return bool(restriction.may_read_team(team))
    if user is not None:
        return bool(restriction.may_read_user(user))
    return False


def redacted(restriction, *, subject, body):
    """(subject, body) for a recipient who may not read the source: the restriction's words, else the text."""
    return (restriction.subject, restriction.body) if restriction is not None else (subject, body)


def recipients_of(*, teams=(), users=(), restriction=None):
    """{address: whether it gets the full text} for teams (their shared inbox) and people.

    An address reached both as a reader and as a non-reader gets the redacted words.
    """
    addresses = {}
    for holder, as_team in (*((team, True) for team in teams), *((user, False) for user in users)):
        address = getattr(holder, "email", "")
        if address:
            full = reads_in_full(restriction, **{"team" if as_team else "user": holder})
            addresses[address] = addresses.get(address, True) and full
    return dict(sorted(addresses.items()))


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
    restriction=None,
):
    """Write one outbox row per recipient and one webhook delivery per matching subscription; deliver after commit.

    `link` is the page the event is about (by default the first portal address in
    `body`); `data` adds structured fields to the webhook payload (shown only to
    subscriptions that get the full text); `concerned_teams` are teams whose
    webhooks hear the event although they are not emailed; `webhooks=False` keeps
    it off webhooks (the message saying a webhook is failing must not be sent to
    that webhook). `restriction` (a Restriction) marks an event about something
    restricted: every recipient goes through the filter described in the module's
    docstring.
    """
    now = timezone.now()
    rows = []
    for address, full in recipients_of(teams=teams, users=users, restriction=restriction).items():
        shown_subject, shown_body = (subject, body) if full else redacted(restriction, subject=subject, body=body)
        rows.append(
            Notification(
                event=event, recipient=address, subject=shown_subject[:200], body=shown_body, next_attempt_at=now
            )
        )
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
            restriction=restriction,
        )
    if rows or deliveries:
        transaction.on_commit(request_delivery)
    return rows


# Fields every payload has, which a caller's structured fields may not replace.
PAYLOAD_FIELDS = ("event", "occurred_at", "subject", "body", "link", "teams", "restricted")
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


def _as_json(fields):
    return json.loads(json.dumps(fields, cls=DjangoJSONEncoder))


def _fan_out(event, *, subject, body, link, data, teams, now, restriction=None):
    clashes = set(PAYLOAD_FIELDS) & set(data)
    if clashes:
        raise ValueError(f"Webhook data may not replace {', '.join(sorted(clashes))}.")
    team_ids = {team.pk for team in teams}
    restricted = restriction is not None
    link = link if link is not None else _first_portal_link(body)
    # What a subscription is shown, by whether it reads the source in full (the filter decides, per subscription).
    shown = {True: _as_json({**data, "restricted": restricted, "subject": subject, "body": body})}
    if restricted:
        words_subject, words_body = redacted(restriction, subject=subject, body=body)
        shown[False] = _as_json({**restriction.data, "restricted": True, "subject": words_subject, "body": words_body})
    audience = Q(team__isnull=True) | Q(team_id__in=team_ids)
    deliveries = []
    for subscription in WebhookSubscription.objects.filter(audience, active=True).select_related("team").order_by("pk"):
        full = reads_in_full(restriction, team=subscription.team)
        for webhook_event in webhook_events_for(event, data):
            if not subscription.wants(webhook_event):
                continue
            payload = {
                **shown[full],
                "event": webhook_event,
                "occurred_at": now.isoformat(),
                "link": link,
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


def message_id(notification):
    """The email's Message-ID: the same on every attempt, so a copy sent twice (a worker killed after sending,
    before recording it) reads as one message to mail clients that deduplicate on it."""
    host = urlsplit(settings.PORTAL_BASE_URL).hostname or "sla-portal.invalid"
    return f"<notification-{notification.pk}.{notification.created_at:%Y%m%d%H%M%S}@{host}>"


def deliver_due(*, limit=100):
    """Send what is due; return (sent, failed) counts. Safe to run from several workers.

    Each email is sent with its row locked and recorded in the same transaction: a worker killed between
    the two leaves it pending, sent again (with the same Message-ID) by the next run.
    """
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
                EmailMessage(
                    notification.subject,
                    notification.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [notification.recipient],
                    headers={"Message-ID": message_id(notification)},
                ).send(fail_silently=False)
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
