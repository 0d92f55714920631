"""What monitoring measured for an SLA's objectives, and the committee's periodic reviews of the documents."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Measurement(models.Model):
    """Good and total events of one objective over one period, as monitoring counted them.

    Keyed on the objective's indicator (not its row) so measurements outlive an
    objective that a change request rewords or removes; re-sending a period
    replaces it.
    """

    sla = models.ForeignKey("sla_registry.ServiceLevelAgreement", on_delete=models.CASCADE, related_name="measurements")
    indicator = models.CharField(max_length=200)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    good = models.PositiveBigIntegerField()
    total = models.PositiveBigIntegerField()
    source = models.CharField(max_length=32, blank=True, help_text="Where it came from: csv, api…")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sla", "indicator", "period_start"]
        indexes = [models.Index(fields=["sla", "indicator", "period_end"], name="measurement_objective_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["sla", "indicator", "period_start", "period_end"], name="measurement_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(good__lte=F("total")),
                name="measurement_good_within_total",
                violation_error_message="Good events cannot outnumber all events.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="measurement_period_ends_after_it_starts",
                violation_error_message="A period must end after it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.indicator}: {self.good}/{self.total} ({self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d})"


class ReviewOutcome(models.TextChoices):
    UNCHANGED = "unchanged", "Reviewed, no change"
    CHANGES_PROPOSED = "changes_proposed", "Changes proposed"
    RETIRE_PROPOSED = "retire_proposed", "Retirement proposed"


class PeriodicReview(models.Model):
    """The SLA committee's periodic review of an SLA or escalation matrix, and what came of it."""

    document_kind = models.CharField(max_length=32, help_text="The governed kind: sla or escalation_matrix.")
    document_id = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=20, choices=ReviewOutcome)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    change_request = models.ForeignKey(
        "approvals.ChangeRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        indexes = [
            models.Index(fields=["document_kind", "document_id", "reviewed_at"], name="periodic_review_document")
        ]

    def __str__(self):
        return f"{self.document_kind} #{self.document_id}: {self.get_outcome_display()}"
