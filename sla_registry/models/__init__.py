from sla_registry.models.access import AccessPolicy
from sla_registry.models.escalation import (
    EscalationMatrix,
    EscalationStep,
    PlaybookStep,
    Responsibility,
    check_escalation_levels,
)
from sla_registry.models.governed import GovernedDocument
from sla_registry.models.measurements import Measurement, PeriodicReview, ReviewOutcome
from sla_registry.models.services import CustomerJourney, Service
from sla_registry.models.slas import Objective, ResponseTarget, ServiceLevelAgreement
from sla_registry.models.taxonomy import IncidentCategory, Severity
from sla_registry.models.teams import Team

__all__ = [
    "AccessPolicy",
    "CustomerJourney",
    "EscalationMatrix",
    "EscalationStep",
    "GovernedDocument",
    "IncidentCategory",
    "Measurement",
    "Objective",
    "PeriodicReview",
    "PlaybookStep",
    "ResponseTarget",
    "Responsibility",
    "ReviewOutcome",
    "Service",
    "ServiceLevelAgreement",
    "Severity",
    "Team",
    "check_escalation_levels",
]
