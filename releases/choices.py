"""Fixed vocabularies of the releases app."""

from django.db import models


class ReleaseKind(models.TextChoices):
    RELEASE = "release", "Release"
    FREEZE = "freeze", "Freeze window"
    MAINTENANCE = "maintenance", "Maintenance"


class ReleaseRisk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ReleaseStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class RuleField(models.TextChoices):
    """Which part of an imported event a service rule looks at."""

    SUMMARY = "summary", "Summary contains"
    CATEGORY = "category", "Category is"
    LOCATION = "location", "Location contains"
    DESCRIPTION = "description", "Description contains"


class SyncSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    FEED = "feed", "Feed"
    COMMAND = "command", "import_ics"


class ImportState(models.TextChoices):
    """Where a background import of an uploaded file stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
