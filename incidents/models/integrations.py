import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from incidents.choices import IntegrationKind


def new_integration_key():
    return secrets.token_urlsafe(24)


def new_integration_secret():
    return secrets.token_urlsafe(32)


class Integration(models.Model):
    """A sender of incident events (PagerDuty, Opsgenie, Alertmanager, generic JSON) with its URL key and secret."""

    kind = models.CharField(max_length=16, choices=IntegrationKind)
    name = models.CharField(max_length=100, unique=True)
    key = models.CharField(max_length=64, unique=True, default=new_integration_key, editable=False)
    secret = models.CharField(max_length=100, default=new_integration_secret, editable=False)
    # After a rotation the old secret is accepted too, until `previous_secret_until`.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    team = models.ForeignKey(
        "sla_registry.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="integrations"
    )
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def get_events_path(self):
        return reverse("api:integration-events", kwargs={"key": self.key})

    def accepted_secrets(self, now=None):
        """The current secret, and the previous one during its overlap after a rotation."""
        now = now or timezone.now()
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


class UnroutedEvent(models.Model):
    """An inbound event whose service could not be told: kept, never dropped, until the committee routes it."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="unrouted_events")
    summary = models.CharField(max_length=500)
    dedup_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16)
    severity_key = models.CharField(max_length=8, blank=True)
    service_hint = models.CharField(max_length=255, blank=True, help_text="What the sender named as its service.")
    raw_payload = models.JSONField()
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    fingerprint = models.CharField(max_length=64, unique=True)
    routed_incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    routed_at = models.DateTimeField(null=True, blank=True)
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"Unrouted: {self.summary}"
