from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from reviews.choices import ActionKind, ActionStatus, Priority, TimelineKind


class TimelineEntry(models.Model):
    """One moment of the incident as it unfolded."""

    review = models.ForeignKey("reviews.PostIncidentReview", on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    entry = models.TextField()
    kind = models.CharField(max_length=16, choices=TimelineKind, default=TimelineKind.NOTE)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["review", "at", "pk"]
        verbose_name_plural = "timeline entries"

    def __str__(self):
        return f"{self.at:%H:%M} {self.entry[:60]}"


class ActionItem(models.Model):
    """Follow-up work a review commits a team to, tracked until it is done."""

    review = models.ForeignKey("reviews.PostIncidentReview", on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ActionKind, default=ActionKind.PREVENT)
    owner_team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="action_items")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=8, choices=Priority, default=Priority.MEDIUM)
    status = models.CharField(max_length=16, choices=ActionStatus, default=ActionStatus.OPEN, db_index=True)
    link = models.URLField(blank=True, help_text="The ticket that tracks it.")
    completion_note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("reviews:review_detail", kwargs={"reference": self.review.reference}) + f"#action-{self.pk}"
