from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Notification(models.Model):
    """One message to one address, waiting in the outbox until it is delivered."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"

    event = models.CharField(max_length=64, help_text="What happened, e.g. change_request.submitted.")
    recipient = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self):
        return f"{self.event} → {self.recipient}"


class ReminderSent(models.Model):
    """A reminder that went out: one per subject, recipient and day, so nobody is reminded twice a day."""

    subject_key = models.CharField(max_length=100, help_text="What it is about, e.g. review-due:sla:7.")
    recipient_key = models.CharField(max_length=100, help_text="Who was reminded, e.g. team:payments or user:12.")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "subject_key"]
        constraints = [
            models.UniqueConstraint(fields=["subject_key", "recipient_key", "day"], name="reminder_once_a_day"),
        ]

    def __str__(self):
        return f"{self.subject_key} → {self.recipient_key} on {self.day}"


# Webhooks ----------------------------------------------------------------------

# The events a webhook can subscribe to (an empty list on a subscription means all of them).
WEBHOOK_EVENTS = [
    ("change_request.submitted", "A change request is submitted for approval"),
    ("change_request.approved", "A team approves a change request"),
    ("change_request.rejected", "A team rejects a change request"),
    ("change_request.applied", "A change request is applied (a new document version)"),
    ("change_request.stale", "A change request needs a rebase"),
    ("change_request.rescheduled", "A change request's effective time changes"),
    ("review.published", "A post-incident review is published"),
    ("review.due", "A document is due for its periodic review"),
    ("action_item.overdue", "An action item is overdue"),
    ("incident.notice", "An incident's SLA clock reaches 50 %, 80 % or its breach"),
]
WEBHOOK_TEST_EVENT = "webhook.test"


class WebhookSubscription(models.Model):
    """A receiver's URL that is sent the portal's events, signed with a secret only it and the portal know.

    A team's subscription hears the events its team is notified of; a global one
    (no team) hears every event. Failures are counted so the team can be told,
    by email, when its receiver keeps failing.
    """

    team = models.ForeignKey(
        settings.APPROVALS_TEAM_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
        help_text="Empty for a global subscription, which hears every team's events.",
    )
    url = models.URLField("URL", max_length=500, help_text="Where events are POSTed as signed JSON.")
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty means all events.")
    secret = models.CharField(max_length=100, editable=False, help_text="Signs every delivery (HMAC-SHA256).")
    secret_created_at = models.DateTimeField(default=timezone.now, editable=False)
    # After a rotation the old secret signs too, beside the new one, until `previous_secret_until`.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    fallback_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the team was last told the receiver is failing; cleared on success."
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Webhook {self.pk} to {self.url}"

    def get_absolute_url(self):
        return reverse("notifications:webhook_detail", kwargs={"pk": self.pk})

    def in_overlap(self, now=None):
        """Whether the secret before the last rotation still signs (its overlap window has not ended)."""
        return bool(self.previous_secret) and (now or timezone.now()) < self.previous_secret_until

    def signing_secrets(self, now=None):
        """The secrets every delivery is signed with now: the current one, and the previous during the overlap."""
        return [self.secret, self.previous_secret] if self.in_overlap(now) else [self.secret]

    @property
    def is_global(self):
        return self.team_id is None

    def wants(self, event):
        """Whether this subscription hears `event` (the test event is sent only on request, never fanned out)."""
        return not self.events or event in self.events

    def event_labels(self):
        labels = dict(WEBHOOK_EVENTS)
        return [labels.get(event, event) for event in self.events]


class WebhookDelivery(models.Model):
    """One event for one subscription: pending until the receiver answers 2xx, retried with back-off until then.

    Deliveries of one subscription go out in the order they were created: a later
    one waits while an earlier one is pending. Nothing is given up on.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "state", "id"], name="webhook_delivery_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="pending", delivered_at__isnull=True)
                | models.Q(state="delivered", delivered_at__isnull=False),
                name="webhook_delivered_has_time",
                violation_error_message="A delivered webhook records when it was delivered; a pending one does not.",
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription.url}"
