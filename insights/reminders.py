"""Daily reminders: documents due for their periodic review, and overdue action items.

Lives in portal because it spans apps (the registry's review cycle and the
reviews' action items). Each reminder goes through the outbox (`notify`) and is
sent at most once a day per subject and recipient: the ReminderSent row for
(subject, recipient, day) is inserted first, in the same transaction as the
outbox rows, and a reminder whose row already exists is skipped. Two runs at
once are safe: the database's unique constraint lets only one of them insert
the row (the other waits for it on PostgreSQL and then skips).

A reminder about an action item of a restricted review carries the review's
Restriction (reviews.permissions.review_restriction), so the outbox's one filter
gives its text only to the team, assignee and webhooks that may read the review.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import ReminderSent
from notifications.outbox import notify
from reviews.choices import OPEN_ACTION_STATUSES
from reviews.models import ActionItem
from reviews.permissions import review_restriction
from sla_registry.review_cycle import documents_due

REVIEW_DUE = "review_due"
ACTION_ITEM_OVERDUE = "action_item_overdue"


def _link(path):
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _plural(count, noun, plural=None):
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


@dataclass
class Reminder:
    """One reminder to one recipient (a team's inbox or a person) about one subject."""

    category: str  # REVIEW_DUE or ACTION_ITEM_OVERDUE
    subject_key: str  # "review-due:sla:7", "action-item-overdue:12"
    recipient_key: str  # "team:payments", "user:12"
    recipient_label: str
    event: str
    subject: str
    body: str
    teams: list = field(default_factory=list)
    users: list = field(default_factory=list)
    data: dict = field(default_factory=dict)  # structured fields for webhook receivers
    restriction: object = None  # a notifications Restriction when the source is restricted (a review)

    def __str__(self):
        return f"{self.subject} → {self.recipient_label}"


def review_due_reminders(now):
    """A reminder to the owner team of every document overdue or due within the review window."""
    review_page = _link(reverse("sla_registry:review_due"))
    reminders = []
    for item in documents_due(now=now):
        document, team = item.document, item.owner_team
        if item.is_overdue:
            when = f"was due on {timezone.localtime(item.due):%-d %b %Y} ({_plural(item.days_overdue, 'day')} overdue)"
        else:
            when = f"is due on {timezone.localtime(item.due):%-d %b %Y}"
        reminders.append(
            Reminder(
                category=REVIEW_DUE,
                subject_key=f"review-due:{item.kind_key}:{document.pk}",
                recipient_key=f"team:{team.slug}",
                recipient_label=team.name,
                event="review.due",
                subject=f"{document.reference} {document.title}: periodic review {when}",
                body=(
                    f"The SLA committee reviews {document.reference} {document.title} every "
                    f"{_plural(document.review_cadence_days, 'day')}. "
                    f"Its review {when}. As the owner, please prepare what has changed for the committee.\n\n"
                    f"{_link(document.get_absolute_url())}\nEverything due: {review_page}"
                ),
                teams=[team],
                data={
                    "kind": item.kind_key,
                    "document": document.reference,
                    "due": item.due,
                    "overdue": item.is_overdue,
                    "team": team.slug,
                },
            )
        )
    return reminders


def action_item_reminders(now):
    """A reminder to the owner team, and one to the assignee, of every open action item past its due date."""
    today = timezone.localdate(now)
    overdue = (
        ActionItem.objects.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=today)
        .select_related("owner_team", "assignee", "review")
        .order_by("due_date", "pk")
    )
    reminders = []
    for item in overdue:
        days = (today - item.due_date).days
        subject = f"Overdue action item from {item.review.reference}: {item.title} (due {item.due_date:%-d %b %Y})"
        body = (
            f"“{item.title}” from {item.review.reference} {item.review.title} was due on {item.due_date:%-d %b %Y}, "
            f"{_plural(days, 'day')} ago, and is still {item.get_status_display().lower()}. Finish it, or update its "
            f"due date with the reason.\n\n{_link(item.get_absolute_url())}"
        )
        common = {"category": ACTION_ITEM_OVERDUE, "subject_key": f"action-item-overdue:{item.pk}"}
        common.update(event="action_item.overdue", subject=subject, body=body)
        data = {"review": item.review.reference, "action_item": item.pk, "title": item.title, "due": item.due_date}
        common["restriction"] = review_restriction(
            item.review, about="An overdue action item", link=_link(item.get_absolute_url())
        )
        reminders.append(
            Reminder(
                recipient_key=f"team:{item.owner_team.slug}",
                recipient_label=item.owner_team.name,
                teams=[item.owner_team],
                data={**data, "team": item.owner_team.slug},
                **common,
            )
        )
        if item.assignee is not None:
            reminders.append(
                Reminder(
                    recipient_key=f"user:{item.assignee.pk}",
                    recipient_label=item.assignee.get_full_name() or item.assignee.username,
                    users=[item.assignee],
                    **common,
                )
            )
    return reminders


@dataclass
class ReminderRun:
    sent: list = field(default_factory=list)
    already_sent: list = field(default_factory=list)

    def count(self, category):
        return sum(reminder.category == category for reminder in self.sent)

    def summary(self):
        review_due = self.count(REVIEW_DUE)
        overdue = self.count(ACTION_ITEM_OVERDUE)
        return (
            f"Sent {_plural(len(self.sent), 'reminder')} ({review_due} review due, "
            f"{_plural(overdue, 'action item')} overdue); {len(self.already_sent)} already sent today."
        )


def _send_once(reminder, day):
    """Send `reminder` unless it already went out on `day`; True when sent."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderSent.objects.create(
                    subject_key=reminder.subject_key, recipient_key=reminder.recipient_key, day=day
                )
        except IntegrityError:
            return False
        notify(
            reminder.event,
            subject=reminder.subject,
            body=reminder.body,
            teams=reminder.teams,
            users=reminder.users,
            data=reminder.data,
            restriction=reminder.restriction,
            # The assignee's copy is the same event as the team's: webhooks hear it once, with the team's.
            webhooks=bool(reminder.teams),
        )
    return True


def send_reminders(now=None):
    """Send today's reminders that have not gone out yet; return what was sent and what was skipped."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    run = ReminderRun()
    for reminder in [*review_due_reminders(now), *action_item_reminders(now)]:
        (run.sent if _send_once(reminder, day) else run.already_sent).append(reminder)
    return run
