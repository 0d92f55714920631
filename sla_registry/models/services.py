from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from sla_registry.choices import ServiceTier
from sla_registry.validators import validate_slug_not_reserved


class Service(models.Model):
    """Something a team runs for others: an API, an application, a platform component."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_slug_not_reserved])
    owner_team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="services")
    tier = models.CharField(max_length=16, choices=ServiceTier, default=ServiceTier.STANDARD)
    description = models.TextField(blank=True)
    dependencies = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="dependents",
        blank=True,
        help_text="Services this one needs in order to work.",
    )
    pagerduty_service_id = models.CharField(
        "PagerDuty service id",
        max_length=32,
        blank=True,
        db_index=True,
        help_text="Incidents PagerDuty sends for this id open against this service (incidents).",
    )

    history = HistoricalRecords(m2m_fields=[dependencies], bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sla_registry:service_detail", kwargs={"slug": self.slug})


class CustomerJourney(models.Model):
    """What a customer is trying to do (sign up, check out, get paid) and the services it crosses."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_slug_not_reserved])
    description = models.TextField(blank=True)
    business_impact = models.TextField(
        blank=True, help_text="What the business loses when this journey is broken, in plain words."
    )
    services = models.ManyToManyField(Service, related_name="journeys", blank=True)

    history = HistoricalRecords(m2m_fields=[services], bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sla_registry:journey_detail", kwargs={"slug": self.slug})
