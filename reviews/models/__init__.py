from reviews.models.reviews import INCIDENT_TIMES, PinnedVersion, PostIncidentReview
from reviews.models.timeline import ActionItem, TimelineEntry

__all__ = ["INCIDENT_TIMES", "ActionItem", "PinnedVersion", "PostIncidentReview", "TimelineEntry"]
