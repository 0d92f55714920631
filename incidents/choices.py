from django.db import models


class IncidentStatus(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESTORED = "restored", "Restored"
    RESOLVED = "resolved", "Resolved"


class IntegrationKind(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty"
    OPSGENIE = "opsgenie", "Opsgenie"
    ALERTMANAGER = "alertmanager", "Alertmanager"
    GENERIC = "generic", "Generic JSON"


class IncidentSource(models.TextChoices):
    MANUAL = "manual", "Declared by hand"
    PAGERDUTY = "pagerduty", "PagerDuty"
    OPSGENIE = "opsgenie", "Opsgenie"
    ALERTMANAGER = "alertmanager", "Alertmanager"
    GENERIC = "generic", "Generic JSON"
    PORTAL = "portal", "The portal"


class EventKind(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    REFIRED = "refired", "Fired again"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESTORED = "restored", "Restored"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    ALERT_RESOLVED = "alert_resolved", "One alert resolved"
    CHANGED = "changed", "Severity or services changed"
    ROUTED = "routed", "Routed from the unrouted inbox"
    NOTICE = "notice", "Notice sent or attempted"
    NOTE = "note", "Note"


class ClockKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    RESTORE = "restore", "Restore"
    RESOLVE = "resolve", "Resolve"
    CUSTOMER_UPDATE = "customer_update", "Customer update"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class NoticeThreshold(models.TextChoices):
    HALF = "50", "50 % of the target"
    EIGHTY = "80", "80 % of the target"
    BREACH = "breach", "Breach"


class NoticeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
