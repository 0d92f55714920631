from django.db import models


class ChangeKind(models.TextChoices):
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    RETIRE = "retire", "Retire"


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved, scheduled"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    STALE = "stale", "Stale: needs rebase"


# A request in one of these states still holds its document: no second request may open.
OPEN_STATES = (ChangeState.DRAFT, ChangeState.IN_REVIEW, ChangeState.APPROVED, ChangeState.REJECTED, ChangeState.STALE)


# The author may still revise the proposal in these states.
REVISABLE_STATES = (ChangeState.DRAFT, ChangeState.IN_REVIEW, ChangeState.REJECTED)


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
