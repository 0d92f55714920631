"""The SLA committee's review cycle: what is due for review, and recording a periodic review.

Every active SLA and escalation matrix is reviewed every `review_cadence_days`
(GovernedDocument.next_review_due is the last review, or the start, plus the
cadence). The committee records each review with one of three outcomes:

- unchanged: the terms stand. The document's last_reviewed_at becomes now, which
  moves its next review a cadence away; its History tab shows the write as
  "Reviewed, no change: <note>".
- changes proposed / retirement proposed: the review opened (or points at) a
  change request for the document, which then goes through approval like any
  other. The clock resets at the review too: the committee did review the
  document, and what follows is tracked by the change request (open requests
  show on the document page), not by the review cycle. Waiting for the request
  to apply would keep a reviewed document "overdue" for as long as its approvers
  take, and forever if they reject it.

Both the reading (documents_due, for the Review due page and the reminders) and
the one write live here rather than in actions.py so that the rules of the cycle
read in one place; the write follows the actions' conventions (keyword-only
acting_user, validate first, history reason, audit event, one transaction).
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals.choices import OPEN_STATES, ChangeKind
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.permissions import teams_user_may_approve_for
from approvals.registry import kind_for
from audit.log import record_event
from core.history import stamp
from sla_registry.choices import AgreementStatus
from sla_registry.models import EscalationMatrix, PeriodicReview, ReviewOutcome, ServiceLevelAgreement, Team

# Documents due within this many days are listed, and their owners reminded.
REVIEW_WINDOW_DAYS = 14
# Every history reason a periodic review writes starts with this.
REVIEW_REASON_PREFIX = "Reviewed, "

CHANGE_KIND_OF_OUTCOME = {
    ReviewOutcome.CHANGES_PROPOSED: ChangeKind.CHANGE,
    ReviewOutcome.RETIRE_PROPOSED: ChangeKind.RETIRE,
}


# Who reviews -------------------------------------------------------------------


def committee_teams_of(user):
    """The SLA committee, if `user` is in it: a member of its group, or an approver for it."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(is_sla_committee=True).filter(
        Q(group__user=user) | Q(pk__in=teams_user_may_approve_for(user))
    )


def is_committee_member(user):
    """Whether `user` may record periodic reviews (one query)."""
    return committee_teams_of(user).exists()


# What is due ---------------------------------------------------------------------


@dataclass(frozen=True)
class DueDocument:
    """An active SLA or escalation matrix whose review is due soon or overdue, as of `now`."""

    kind_key: str  # "sla" or "escalation_matrix", as PeriodicReview.document_kind
    document: object
    owner_team: object
    now: object

    @property
    def reference(self):
        return self.document.reference

    @property
    def kind_label(self):
        return "SLA" if self.kind_key == "sla" else "Escalation matrix"

    @property
    def due(self):
        return self.document.next_review_due

    @property
    def is_overdue(self):
        return self.due < self.now

    @property
    def days_overdue(self):
        """Whole days past the due date, in the portal's time zone (0 on the day it fell due)."""
        return max(0, (timezone.localdate(self.now) - timezone.localdate(self.due)).days)

    @property
    def days_left(self):
        """Whole days until the due date (0 when it is due today)."""
        return max(0, (timezone.localdate(self.due) - timezone.localdate(self.now)).days)


def documents_due(within_days=REVIEW_WINDOW_DAYS, now=None):
    """Active SLAs and escalation matrices overdue or due within `within_days`, soonest first (two queries).

    The owner is the SLA's provider team or the matrix's owning team.
    """
    now = now or timezone.now()
    due = Q(status=AgreementStatus.ACTIVE, next_review_due__lte=now + timedelta(days=within_days))
    items = [
        DueDocument("sla", sla, sla.provider_team, now)
        for sla in ServiceLevelAgreement.objects.filter(due).select_related("provider_team", "service")
    ]
    items += [
        DueDocument("escalation_matrix", matrix, matrix.owner_team, now)
        for matrix in EscalationMatrix.objects.filter(due).select_related("owner_team", "service")
    ]
    items.sort(key=lambda item: (item.due, item.kind_key, item.document.pk))
    return items


def by_owner(items):
    """[(team, [DueDocument, …]), …]: each team's documents soonest first, the team with the most urgent first."""
    groups = OrderedDict()
    for item in items:  # already soonest first
        groups.setdefault(item.owner_team.pk, (item.owner_team, []))[1].append(item)
    return list(groups.values())


# Recording a review ----------------------------------------------------------------


def periodic_reviews_of(kind_key, document_id):
    """The document's periodic reviews, latest first, with who reviewed and the change request they opened."""
    return PeriodicReview.objects.filter(document_kind=kind_key, document_id=document_id).select_related(
        "reviewed_by", "change_request"
    )


def review_reason(outcome, note, change_request=None):
    """The history reason of a periodic review's write."""
    if outcome == ReviewOutcome.UNCHANGED:
        return f"{REVIEW_REASON_PREFIX}no change: {note}"
    proposed = "changes" if outcome == ReviewOutcome.CHANGES_PROPOSED else "retirement"
    return f"{REVIEW_REASON_PREFIX}{proposed} proposed in {change_request.reference}: {note}"


def _check_change_request(document, kind, outcome, change_request):
    if outcome == ReviewOutcome.UNCHANGED:
        if change_request is not None:
            raise ValidationError({"outcome": "A review that changes nothing opens no change request."})
        return
    expected = CHANGE_KIND_OF_OUTCOME[outcome]
    if change_request is None:
        raise ValidationError({"outcome": f"“{outcome.label}” needs the change request that proposes it."})
    if change_request.document_kind != kind.key or change_request.document_id != document.pk:
        raise ValidationError({"outcome": f"{change_request.reference} is not about {document.reference}."})
    if change_request.kind != expected:
        raise ValidationError(
            {"outcome": f"{change_request.reference} is a {change_request.get_kind_display().lower()} request."}
        )
    if change_request.state not in OPEN_STATES:
        raise InvalidTransition(
            f"{change_request.reference} is {change_request.get_state_display().lower()}; "
            "a review can only point at an open change request."
        )


@transaction.atomic
def record_periodic_review(document, *, outcome, note, acting_user, change_request=None):
    """Record the committee's periodic review of an active SLA or escalation matrix, and reset its review clock.

    `change_request` is the open request a "changes proposed" (a change) or
    "retirement proposed" (a retirement) review opened. Raises NotAllowed unless
    `acting_user` is on the SLA committee.
    """
    if not is_committee_member(acting_user):
        raise NotAllowed("Only members of the SLA committee record periodic reviews.")
    try:
        outcome = ReviewOutcome(outcome)
    except ValueError:
        raise ValidationError({"outcome": "Choose the outcome of the review."}) from None
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what the committee looked at and concluded."})
    kind = kind_for(document)
    document = kind.get_object(document.pk, lock=True)
    if document.status != AgreementStatus.ACTIVE:
        raise InvalidTransition(
            f"{document.reference} is {document.get_status_display().lower()}; only active documents are reviewed."
        )
    _check_change_request(document, kind, outcome, change_request)

    now = timezone.now()
    previous_due = document.next_review_due
    document.last_reviewed_at = now
    stamp(document, acting_user, review_reason(outcome, note, change_request))
    document.save(update_fields=["last_reviewed_at", "next_review_due", "updated_at"])
    review = PeriodicReview.objects.create(
        document_kind=kind.key,
        document_id=document.pk,
        outcome=outcome,
        note=note,
        reviewed_by=acting_user,
        reviewed_at=now,
        change_request=change_request,
    )
    record_event(
        "document.periodic_review",
        document,
        actor=acting_user,
        payload={
            "outcome": outcome.value,
            "note": note,
            "change_request": change_request.reference if change_request else None,
            "was_due": previous_due,
            "next_review_due": document.next_review_due,
        },
    )
    return review
