from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp


class Severity(models.Model):
    """How bad an incident is (SEV1 … SEV4), defined by its impact on customers."""

    key = models.CharField(max_length=8, unique=True, help_text="Short label used everywhere, e.g. SEV1.")
    name = models.CharField(max_length=50, help_text="e.g. Critical.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most severe.")
    customer_impact = models.TextField(help_text="The customer-impact criteria that make an incident this severe.")

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"
        constraints = [
            models.CheckConstraint(condition=models.Q(rank__gte=1), name="severity_rank_positive"),
        ]

    def __str__(self):
        return self.key

    def get_absolute_url(self):
        return reverse("sla_registry:taxonomy") + f"#severity-{self.key}"


class IncidentCategory(models.Model):
    """What kind of failure an incident is: availability, performance, data integrity, security…"""

    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.TextField(blank=True)

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "incident categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sla_registry:taxonomy") + f"#category-{self.slug}"
