from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from core.references import ReferencedByNumber
from reviews.choices import DrillKind, ReviewStatus

# The incident's moments, in the order they must happen.
INCIDENT_TIMES = ("started_at", "detected_at", "acknowledged_at", "restored_at", "resolved_at")


class PostIncidentReview(ReferencedByNumber, models.Model):
    """A blameless review of one incident (or drill), measured against the agreements in force when it started."""

    REFERENCE_PREFIX = "PIR"

    title = models.CharField(max_length=200)
    severity = models.ForeignKey("sla_registry.Severity", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        "sla_registry.IncidentCategory", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    services = models.ManyToManyField("sla_registry.Service", related_name="reviews", help_text="Affected services.")
    journeys = models.ManyToManyField("sla_registry.CustomerJourney", related_name="reviews", blank=True)
    status = models.CharField(max_length=16, choices=ReviewStatus, default=ReviewStatus.DRAFT, db_index=True)
    is_drill = models.BooleanField(
        "drill", default=False, help_text="A rehearsal, not a real incident: kept out of incident metrics and breaches."
    )
    drill_kind = models.CharField(max_length=16, choices=DrillKind, blank=True)
    is_restricted = models.BooleanField(
        "restricted",
        default=False,
        help_text="Only the named teams, the SLA committee and leadership can see it (security incidents).",
    )
    restricted_to = models.ManyToManyField("sla_registry.Team", related_name="restricted_reviews", blank=True)

    started_at = models.DateTimeField("started")
    detected_at = models.DateTimeField("detected", null=True, blank=True)
    acknowledged_at = models.DateTimeField("acknowledged", null=True, blank=True)
    restored_at = models.DateTimeField("mitigated / restored", null=True, blank=True)
    resolved_at = models.DateTimeField("resolved", null=True, blank=True)

    summary = models.TextField(blank=True, help_text="Markdown. What happened, in a paragraph.")
    customer_impact = models.TextField(blank=True, help_text="Markdown. Who was affected, how, for how long.")
    customers_affected = models.PositiveIntegerField(null=True, blank=True)
    support_contacts = models.PositiveIntegerField(null=True, blank=True, help_text="Contacts to customer support.")
    trigger = models.TextField(blank=True)
    root_causes = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    detection = models.TextField(blank=True, help_text="How we found out, and how we could have sooner.")
    resolution = models.TextField(blank=True)
    went_well = models.TextField("what went well", blank=True)
    went_wrong = models.TextField("what went wrong", blank=True)
    got_lucky = models.TextField("where we got lucky", blank=True)
    links = models.TextField(blank=True, help_text="Supporting links, one per line: dashboards, chat, tickets.")

    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="authored_reviews")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[services, journeys, restricted_to], bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "post-incident review"
        permissions = [("view_restricted_review", "Can see this restricted review")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(detected_at__isnull=True) | Q(detected_at__gte=F("started_at")))
                & (Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=F("detected_at")))
                & (Q(restored_at__isnull=True) | Q(restored_at__gte=F("acknowledged_at")))
                & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("restored_at"))),
                name="review_times_ordered",
                violation_error_message="The incident's times must be in order.",
            ),
            models.CheckConstraint(
                condition=Q(is_drill=True) | Q(drill_kind=""), name="review_drill_kind_only_for_drills"
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("reviews:review_detail", kwargs={"reference": self.reference})

    def clean(self):
        errors = {}
        previous_name = previous = None
        for name in INCIDENT_TIMES:
            moment = getattr(self, name)
            if moment is None:
                continue
            if previous is not None and moment < previous:
                label = self._meta.get_field(previous_name).verbose_name
                errors[name] = f"Cannot be before {label} ({previous:%Y-%m-%d %H:%M %Z})."
            previous_name, previous = name, moment
        if self.drill_kind and not self.is_drill:
            errors["drill_kind"] = "Only a drill has a drill kind."
        if self.is_drill and not self.drill_kind:
            errors["drill_kind"] = "Say what kind of drill this was."
        if errors:
            raise ValidationError(errors)


class PinnedVersion(models.Model):
    """An agreement version a review is measured against: the one in force when the incident started."""

    review = models.ForeignKey(PostIncidentReview, on_delete=models.CASCADE, related_name="pinned_versions")
    service = models.ForeignKey("sla_registry.Service", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("approvals.DocumentVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["service__name", "version__document_kind", "version__document_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "version"], name="pinned_version_once_per_review"),
        ]

    def __str__(self):
        return f"{self.review.reference} pins {self.version}"
