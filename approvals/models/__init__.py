from approvals.models.change_requests import ChangeRequest, Decision, RequiredApproval
from approvals.models.emergency import EmergencyGrant
from approvals.models.versions import DocumentVersion

__all__ = ["ChangeRequest", "Decision", "DocumentVersion", "EmergencyGrant", "RequiredApproval"]
