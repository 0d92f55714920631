"""Seed the review cycle of the demo organisation, after the registry, reviews and releases seeders.

Makes every review-cycle panel non-empty:
- a change request that has waited several days for its approvals comes from the
  registry seeder, which dates each step of the demo requests (demo.clock), so its
  timeline, decisions and times agree; nothing here moves them;
- a document overdue for its review and one due within the review window (the
  demo SLAs' review dates give the overdue ones; if none falls due within the
  window, the document due soonest after it is dated back to fall due in 10 days);
- two periodic reviews by the committee chair, through the real action: one
  "reviewed, no change" of the most overdue document (others stay overdue),
  and one "changes proposed" pointing at the change request in review.
Overdue open action items come from the reviews' demo data.

Converges like the other seeders: each part is written only when it is missing.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from approvals.choices import ChangeKind, ChangeState
from approvals.models import ChangeRequest
from sla_registry import review_cycle
from sla_registry.choices import AgreementStatus
from sla_registry.models import EscalationMatrix, PeriodicReview, ReviewOutcome, ServiceLevelAgreement

COMMITTEE_REVIEWER = "committee.chair"
DUE_SOON_DAYS = 10


class ReviewCycleSeeder:
    """Like the other seeders: `steps()` for progress, `run()` for all; inside one transaction."""

    def __init__(self, *, now=None):
        self.now = now or timezone.now()
        self.done = []

    def steps(self):
        return [
            ("periodic reviews", self.seed_periodic_reviews),
            ("document due for review", self.seed_document_due_soon),
        ]

    def run(self):
        for _label, step in self.steps():
            step()
        return self

    @property
    def changed(self):
        return bool(self.done)

    def summary(self):
        if not self.done:
            return "Review cycle already seeded; nothing changed."
        return "Seeded the review cycle: " + "; ".join(self.done) + "."

    def seed_document_due_soon(self):
        window_end = self.now + timedelta(days=review_cycle.REVIEW_WINDOW_DAYS)
        candidates = []
        for model in (ServiceLevelAgreement, EscalationMatrix):
            active = model.objects.filter(status=AgreementStatus.ACTIVE, next_review_due__isnull=False)
            if active.filter(next_review_due__gt=self.now, next_review_due__lte=window_end).exists():
                return
            candidates += list(active.filter(next_review_due__gt=window_end).order_by("next_review_due")[:1])
        if not candidates:
            return
        document = min(candidates, key=lambda candidate: candidate.next_review_due)
        # Demo calendar only, not a change of terms: the seeded review date moves, as the seeders set it.
        last_reviewed = self.now + timedelta(days=DUE_SOON_DAYS - document.review_cadence_days)
        type(document).objects.filter(pk=document.pk).update(
            last_reviewed_at=last_reviewed, next_review_due=last_reviewed + timedelta(days=document.review_cadence_days)
        )
        self.done.append(f"{document.reference} due for review in {DUE_SOON_DAYS} days")

    def seed_periodic_reviews(self):
        if PeriodicReview.objects.exists():
            return
        reviewer = get_user_model().objects.filter(username=COMMITTEE_REVIEWER).first()
        if reviewer is None:
            return
        overdue = [item for item in review_cycle.documents_due(now=self.now) if item.is_overdue]
        if len(overdue) >= 2:  # keep one overdue for the Review due page
            document = overdue[0].document
            review_cycle.record_periodic_review(
                document,
                outcome=ReviewOutcome.UNCHANGED,
                note="Targets still match what the consumers need; last quarter had no breach. No change.",
                acting_user=reviewer,
            )
            self.done.append(f"{document.reference} reviewed, no change")
        change_request = (
            ChangeRequest.objects.filter(
                state=ChangeState.IN_REVIEW, kind=ChangeKind.CHANGE, document_kind="sla", document_id__isnull=False
            )
            .order_by("pk")
            .first()
        )
        if change_request is not None:
            sla = ServiceLevelAgreement.objects.get(pk=change_request.document_id)
            if sla.status == AgreementStatus.ACTIVE:
                review_cycle.record_periodic_review(
                    sla,
                    outcome=ReviewOutcome.CHANGES_PROPOSED,
                    note=(
                        "The SEV1 acknowledgement target is too slow for Customer Support; "
                        f"{change_request.reference} proposes the fix and is with the approvers."
                    ),
                    acting_user=reviewer,
                    change_request=change_request,
                )
                self.done.append(f"{sla.reference} reviewed, changes proposed in {change_request.reference}")
