from incidents.models.incidents import OPEN_STATUSES, Alert, Clock, Incident, IncidentEvent, IncidentPinnedVersion
from incidents.models.integrations import Integration, UnroutedEvent
from incidents.models.notices import Notice

__all__ = [
    "OPEN_STATUSES",
    "Alert",
    "Clock",
    "Incident",
    "IncidentEvent",
    "IncidentPinnedVersion",
    "Integration",
    "Notice",
    "UnroutedEvent",
]
