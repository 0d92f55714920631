from django.db import models


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
