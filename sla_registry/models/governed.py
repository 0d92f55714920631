"""What SLAs and escalation matrices share as governed documents: a readable
reference, a status, an effective time and a review cadence."""

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core.references import ReferencedByNumber
from sla_registry.choices import AgreementStatus


class GovernedDocument(ReferencedByNumber, models.Model):
    """Abstract base of the documents whose changes need approval."""

    status = models.CharField(max_length=16, choices=AgreementStatus, default=AgreementStatus.DRAFT)
    effective_from = models.DateTimeField(null=True, blank=True, help_text="When these terms started to apply.")
    review_cadence_days = models.PositiveIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="How often the SLA committee reviews this document.",
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    next_review_due = models.DateTimeField(
        null=True, blank=True, editable=False, db_index=True, help_text="Last review (or start) plus the cadence."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.reference} {self.title}"

    def save(self, *args, **kwargs):
        reviewed_from = self.last_reviewed_at or self.effective_from
        self.next_review_due = reviewed_from + timedelta(days=self.review_cadence_days) if reviewed_from else None
        super().save(*args, **kwargs)

    @property
    def is_review_overdue(self):
        return (
            self.status == AgreementStatus.ACTIVE
            and self.next_review_due is not None
            and self.next_review_due < timezone.now()
        )
