from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from approvals.choices import OPEN_STATES, ChangeKind, ChangeState, Verdict
from approvals.registry import get_kind
from core.references import ReferencedByNumber


class ChangeRequest(ReferencedByNumber, models.Model):
    """A proposal to create, change or retire one governed document (CR-0001…).

    It holds the whole proposed document as validated data; decisions bind to the
    hash of that data, so revising a proposal makes earlier decisions stop counting.
    """

    REFERENCE_PREFIX = "CR"

    document_kind = models.CharField(max_length=32, help_text="The governed kind's key, e.g. sla.")
    document_id = models.PositiveBigIntegerField(
        null=True, blank=True, db_index=True, help_text="Empty until a create request is applied."
    )
    kind = models.CharField(max_length=16, choices=ChangeKind, default=ChangeKind.CHANGE)
    state = models.CharField(max_length=16, choices=ChangeState, default=ChangeState.DRAFT, db_index=True)
    summary = models.CharField(max_length=200)
    rationale = models.TextField(help_text="Why this change is needed. Required.")
    proposed = models.JSONField(help_text="The whole proposed document, validated.")
    content_hash = models.CharField(max_length=64)
    revision = models.PositiveIntegerField(
        default=1, help_text="Raised by every revise and rebase; decisions count only for the current one."
    )
    base_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The document version the proposal was made against."
    )
    effective_at = models.DateTimeField(
        null=True, blank=True, help_text="When the change takes effect once approved; empty means at once."
    )
    effective_with = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the effective time follows, e.g. “release 2026.12.1 (3 Dec)”; set by the app that owns it.",
    )
    effective_with_url = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="change_requests")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["document_kind", "document_id", "state"], name="change_request_document")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ChangeKind.CREATE) | Q(document_id__isnull=False),
                name="change_request_change_names_document",
            ),
            models.CheckConstraint(
                condition=~Q(state=ChangeState.APPLIED) | Q(applied_at__isnull=False),
                name="change_request_applied_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.summary}"

    def get_absolute_url(self):
        return reverse("approvals:change_request_detail", kwargs={"reference": self.reference})

    @property
    def governed_kind(self):
        return get_kind(self.document_kind)

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    def current_decisions(self):
        """Decisions that count: made on the current revision of the proposal."""
        return [
            decision
            for decision in self.decisions.all()
            if decision.revision == self.revision and decision.content_hash == self.content_hash
        ]


class RequiredApproval(models.Model):
    """A team that must approve a change request, and why (the policy's reason)."""

    change_request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="required_approvals")
    team = models.ForeignKey(settings.APPROVALS_TEAM_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["team__name"]
        constraints = [
            models.UniqueConstraint(fields=["change_request", "team"], name="required_approval_once_per_team"),
        ]

    def __str__(self):
        return f"{self.team} ({self.reason})"


class Decision(models.Model):
    """One team's approval or rejection of one revision of a change request."""

    change_request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="decisions")
    team = models.ForeignKey(settings.APPROVALS_TEAM_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=16, choices=Verdict)
    comment = models.TextField(blank=True)
    revision = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["change_request", "team", "revision"],
                name="decision_once_per_team_and_revision",
                violation_error_message="This team has already decided on this revision.",
            ),
        ]

    def __str__(self):
        return f"{self.team}: {self.get_verdict_display()}"
