from django.db import models


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review for publication"
    PUBLISHED = "published", "Published"


class DrillKind(models.TextChoices):
    TABLETOP = "tabletop", "Tabletop exercise"
    LIVE = "live", "Live test of the escalation path"


class TimelineKind(models.TextChoices):
    TRIGGER = "trigger", "Trigger"
    DETECTION = "detection", "Detection"
    ESCALATION = "escalation", "Escalation"
    COMMUNICATION = "communication", "Communication"
    MITIGATION = "mitigation", "Mitigation"
    RESOLUTION = "resolution", "Resolution"
    NOTE = "note", "Note"


class ActionKind(models.TextChoices):
    PREVENT = "prevent", "Prevent"
    MITIGATE = "mitigate", "Mitigate"
    DETECT = "detect", "Detect"
    PROCESS = "process", "Process"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
