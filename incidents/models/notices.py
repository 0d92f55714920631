from django.db import models

from incidents.choices import NoticeStatus, NoticeThreshold
from sla_registry.choices import Channel


class Notice(models.Model):
    """One team told that an incident's clock reached 50 %, 80 % of its target or breached it.

    Unique per incident, clock, threshold and team: a retry or a restarted worker finds the row and never
    creates a second one. `level` is the escalation step's level; empty for the teams a breach adds (the SLA's
    consumers and the SLA committee).
    """

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="notices")
    # Re-planning an incident (a new severity) replaces its clocks; the notices already sent stay, clockless.
    clock = models.ForeignKey(
        "incidents.Clock", on_delete=models.SET_NULL, null=True, blank=True, related_name="notices"
    )
    threshold = models.CharField(max_length=8, choices=NoticeThreshold)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel)
    fallback_channel = models.CharField(max_length=16, choices=Channel, blank=True)
    status = models.CharField(max_length=16, choices=NoticeStatus, default=NoticeStatus.PENDING, db_index=True)
    fallback_used = models.BooleanField(default=False)
    due_at = models.DateTimeField(help_text="When the clock reached the threshold.")
    sent_at = models.DateTimeField(null=True, blank=True)
    late_by = models.DurationField(null=True, blank=True, help_text="Sent this long after it fell due (an outage).")
    last_error = models.TextField(blank=True)
    # Set by the worker sending it: another worker leaves it alone until the lease is over (escalation.CLAIM_LEASE).
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_at", "level", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "clock", "threshold", "team"], name="notice_once_per_team"),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.threshold} to {self.team_id}"
