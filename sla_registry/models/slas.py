from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from sla_registry.choices import Coverage
from sla_registry.models.governed import GovernedDocument


class ServiceLevelAgreement(GovernedDocument):
    """The terms a provider team commits to for a service, towards its consumer teams (SLA-0001…)."""

    REFERENCE_PREFIX = "SLA"

    title = models.CharField(max_length=200)
    service = models.ForeignKey("sla_registry.Service", on_delete=models.PROTECT, related_name="slas")
    provider_team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="slas_provided")
    consumer_teams = models.ManyToManyField("sla_registry.Team", related_name="slas_consumed", blank=True)
    executive_summary = models.TextField(blank=True, help_text="Markdown. What leadership needs to know, first.")
    technical_annex = models.TextField(blank=True, help_text="Markdown. Measurement details, exclusions, contacts.")
    business_impact = models.TextField(blank=True, help_text="What breaking these terms costs the business.")

    history = HistoricalRecords(m2m_fields=[consumer_teams], bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["pk"]
        verbose_name = "service level agreement"

    def get_absolute_url(self):
        return reverse("sla_registry:sla_detail", kwargs={"reference": self.reference})


class Objective(models.Model):
    """A customer-facing indicator the provider commits to: "99.95 % of checkouts succeed over 28 days"."""

    sla = models.ForeignKey(ServiceLevelAgreement, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField(default=1)
    indicator = models.CharField(max_length=200, help_text="What is measured, as a customer would see it.")
    target = models.DecimalField(max_digits=10, decimal_places=4, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=20, default="%", help_text='"%" for ratios; "ms", "s" for latencies.')
    window = models.DurationField(default=timedelta(days=28), help_text="The rolling window it is measured over.")
    dashboard_url = models.URLField(blank=True, help_text="The dashboard that measures it.")

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["sla", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(window__gt=timedelta(0)), name="objective_window_positive"),
        ]

    def __str__(self):
        return f"{self.indicator}: {self.target_display}"

    @property
    def target_display(self):
        target = self.target.normalize() if self.target is not None else ""
        separator = "" if self.unit == "%" else " "
        return f"{target:f}{separator}{self.unit}" if target != "" else ""

    def clean(self):
        errors = {}
        if self.unit == "%" and self.target is not None and not 0 < self.target <= 100:
            errors["target"] = "A percentage target must be above 0 and at most 100."
        if self.window is not None and self.window <= timedelta(0):
            errors["window"] = "The window must be positive."
        if errors:
            raise ValidationError(errors)


class ResponseTarget(models.Model):
    """How fast the provider responds to an incident of a given severity (and optionally category)."""

    sla = models.ForeignKey(ServiceLevelAgreement, on_delete=models.CASCADE, related_name="response_targets")
    severity = models.ForeignKey("sla_registry.Severity", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        "sla_registry.IncidentCategory",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Leave empty for every category.",
    )
    time_to_acknowledge = models.DurationField()
    time_to_restore = models.DurationField()
    time_to_resolve = models.DurationField()
    customer_update_interval = models.DurationField(null=True, blank=True)
    coverage = models.CharField(max_length=16, choices=Coverage, default=Coverage.ALWAYS)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["sla", "severity__rank", "category__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sla", "severity"],
                condition=Q(category__isnull=True),
                name="response_target_one_per_severity",
                violation_error_message="This SLA already has a target for this severity.",
            ),
            models.UniqueConstraint(
                fields=["sla", "severity", "category"],
                condition=Q(category__isnull=False),
                name="response_target_one_per_severity_category",
                violation_error_message="This SLA already has a target for this severity and category.",
            ),
            models.CheckConstraint(
                condition=Q(time_to_acknowledge__gt=timedelta(0)),
                name="response_target_acknowledge_positive",
            ),
            models.CheckConstraint(
                condition=Q(time_to_acknowledge__lte=F("time_to_restore"))
                & Q(time_to_restore__lte=F("time_to_resolve")),
                name="response_target_ordered",
            ),
            models.CheckConstraint(
                condition=Q(customer_update_interval__isnull=True) | Q(customer_update_interval__gt=timedelta(0)),
                name="response_target_update_interval_positive",
            ),
        ]

    def __str__(self):
        return f"{self.severity} {self.category or 'any category'}"

    def clean(self):
        errors = {}
        for field in ("time_to_acknowledge", "time_to_restore", "time_to_resolve", "customer_update_interval"):
            value = getattr(self, field)
            if value is not None and value <= timedelta(0):
                errors[field] = "Must be a positive duration."
        if not errors and None not in (self.time_to_acknowledge, self.time_to_restore, self.time_to_resolve):
            if self.time_to_restore < self.time_to_acknowledge:
                errors["time_to_restore"] = "Cannot be shorter than the time to acknowledge."
            elif self.time_to_resolve < self.time_to_restore:
                errors["time_to_resolve"] = "Cannot be shorter than the time to restore."
        if errors:
            raise ValidationError(errors)
