from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.references import ReferencedByNumber
from incidents.choices import AlertStatus, ClockKind, ClockState, EventKind, IncidentSource, IncidentStatus

OPEN_STATUSES = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESTORED)


class Incident(ReferencedByNumber, models.Model):
    """Something going wrong now (or a drill of it), measured live against the agreements in force at its start."""

    REFERENCE_PREFIX = "INC"

    title = models.CharField(max_length=200)
    services = models.ManyToManyField("sla_registry.Service", related_name="incidents")
    severity = models.ForeignKey("sla_registry.Severity", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        "sla_registry.IncidentCategory", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=IncidentStatus, default=IncidentStatus.TRIGGERED, db_index=True)
    # The sender's time of the event that set the status: an older event arriving late fills in times only.
    status_changed_at = models.DateTimeField()
    is_drill = models.BooleanField("drill", default=False)
    is_restricted = models.BooleanField(
        "restricted",
        default=False,
        help_text="Only the teams owning its services, the SLA committee and leadership see it (security incidents).",
    )

    started_at = models.DateTimeField("started", db_index=True)
    detected_at = models.DateTimeField("detected", null=True, blank=True)
    acknowledged_at = models.DateTimeField("acknowledged", null=True, blank=True)
    restored_at = models.DateTimeField("restored", null=True, blank=True)
    resolved_at = models.DateTimeField("resolved", null=True, blank=True)

    source = models.CharField(max_length=16, choices=IncidentSource, default=IncidentSource.MANUAL)
    integration = models.ForeignKey(
        "incidents.Integration", on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    dedup_key = models.CharField(
        "external id / dedup key", max_length=255, blank=True, help_text="Events with this key join this incident."
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One open incident per key and integration: a repeated trigger joins it instead.
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=~Q(dedup_key="") & ~Q(status=IncidentStatus.RESOLVED),
                name="incident_one_open_per_dedup_key",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("incidents:incident_detail", kwargs={"reference": self.reference})

    @property
    def is_open(self):
        return self.status != IncidentStatus.RESOLVED


class IncidentPinnedVersion(models.Model):
    """An agreement version an incident is measured against: the one in force at its start."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="pinned_versions")
    service = models.ForeignKey("sla_registry.Service", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("approvals.DocumentVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["service__name", "version__document_kind", "version__document_id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "version"], name="incident_pinned_version_once"),
        ]

    def __str__(self):
        return f"{self.incident.reference} pins {self.version}"


class IncidentEvent(models.Model):
    """One entry of an incident's append-only timeline: an inbound event, a status change or a note."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind)
    source = models.CharField(max_length=16, choices=IncidentSource)
    summary = models.CharField(max_length=500, blank=True)
    raw_payload = models.JSONField(null=True, blank=True, help_text="The sender's payload, as received.")
    occurred_at = models.DateTimeField(help_text="The sender's time (or the actor's, by hand).")
    received_at = models.DateTimeField(default=timezone.now)
    # sha256 of sender id + status + time: the same event twice is stored once.
    fingerprint = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(fingerprint=""), name="incident_event_fingerprint_once"
            ),
        ]

    def __str__(self):
        return f"{self.incident.reference} {self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One alert of the sender inside an incident (an Alertmanager fingerprint, or the incident's own key)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=AlertStatus, default=AlertStatus.FIRING)
    fire_count = models.PositiveIntegerField(default=1, help_text="How many times the sender said it fired.")
    first_fired_at = models.DateTimeField()
    last_changed_at = models.DateTimeField()

    class Meta:
        ordering = ["first_fired_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "fingerprint"], name="alert_once_per_incident"),
        ]

    def __str__(self):
        return f"{self.incident.reference} alert {self.fingerprint}"


class Clock(models.Model):
    """One response target of a pinned SLA version, running against the incident: due, met or breached."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=16, choices=ClockKind)
    service = models.ForeignKey("sla_registry.Service", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("approvals.DocumentVersion", on_delete=models.PROTECT, related_name="+")
    target = models.DurationField()
    business_hours = models.BooleanField(default=False)
    repeats = models.BooleanField(default=False, help_text="A customer-update interval: due again after each.")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=ClockState, default=ClockState.RUNNING)
    met_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "version", "kind"], name="clock_once_per_target"),
            models.CheckConstraint(
                condition=Q(met_at__isnull=True) | ~Q(state=ClockState.RUNNING), name="clock_met_only_when_stopped"
            ),
        ]

    def __str__(self):
        return f"{self.incident.reference} {self.kind} due {self.due_at:%Y-%m-%d %H:%M}"

    def state_at(self, now):
        """The stored state, or breached once a running clock is past due at `now`."""
        if self.state == ClockState.RUNNING and not self.repeats and now > self.due_at:
            return ClockState.BREACHED
        return self.state

    def next_due(self, now):
        """When it is next due: a repeating clock's next occurrence after `now`."""
        if not self.repeats or now <= self.due_at:
            return self.due_at
        periods = (now - self.due_at) // self.target + 1
        return self.due_at + periods * self.target
