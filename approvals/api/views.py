"""Change requests over the API: the same actions, rules and messages as the pages.

Each transition is a POST that calls one function of approvals.actions; the
errors those raise become 400 (invalid data), 403 (not yours to do) or 409 (not
in a state that allows it) in api.errors.
"""

from django.apps import apps
from django.conf import settings
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.idempotency import IdempotentPostMixin
from approvals import actions
from approvals.api.examples import (
    EXAMPLE_CHANGE_REQUEST,
    EXAMPLE_CHECKOUT_APPROVAL,
    EXAMPLE_PROPOSED_SLA,
    example_change_request_detail,
    example_payments_decision,
)
from approvals.api.serializers import (
    VERDICTS,
    ChangeRequestDetailSerializer,
    ChangeRequestSerializer,
    DecisionInputSerializer,
    ProposalSerializer,
    RevisionSerializer,
)
from approvals.choices import ChangeKind
from approvals.filters import ChangeRequestFilter
from approvals.models import ChangeRequest, Decision, DocumentVersion, RequiredApproval
from approvals.permissions import access_change_request, visible_change_requests
from approvals.registry import get_kind

EXAMPLE_PROPOSAL = OpenApiExample(
    "Tighten SEV1 acknowledgement",
    value={
        "document_kind": "sla",
        "document": "SLA-0001",
        "kind": "change",
        "proposed": EXAMPLE_PROPOSED_SLA,
        "summary": EXAMPLE_CHANGE_REQUEST["summary"],
        "rationale": EXAMPLE_CHANGE_REQUEST["rationale"],
        "effective_at": EXAMPLE_CHANGE_REQUEST["effective_at"],
    },
    request_only=True,
)


PAYMENTS_APPROVES = "Our second on-call starts on 2 November; agreed from then."
PAYMENTS_REJECTS = "15 minutes needs a second on-call; not staffed yet."


def _response(name, summary, value, status_code=200):
    return OpenApiExample(name, summary=summary, value=value, response_only=True, status_codes=[status_code])


class ChangeRequestViewSet(IdempotentPostMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Propose, revise, submit, approve, reject, withdraw and rebase changes to governed documents."""

    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z]+-\d{1,10}"
    filterset_class = ChangeRequestFilter
    ordering_fields = ["created_at", "submitted_at", "applied_at", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        return visible_change_requests(self.request.user, ChangeRequest.objects.select_related("author"))

    def get_serializer_class(self):
        if self.action == "create":
            return ProposalSerializer
        return ChangeRequestSerializer

    def get_object(self):
        return access_change_request(self.request.user, self.kwargs["reference"])

    def _detail(self, change_request, *, status_code=status.HTTP_200_OK):
        change_request = (
            ChangeRequest.objects.select_related("author")
            .prefetch_related(
                Prefetch("required_approvals", RequiredApproval.objects.select_related("team")),
                Prefetch("decisions", Decision.objects.select_related("team", "decided_by")),
            )
            .get(pk=change_request.pk)
        )
        base = None
        if change_request.document_id is not None and change_request.base_version:
            base = (
                DocumentVersion.objects.of(change_request.document_kind, change_request.document_id)
                .filter(number=change_request.base_version)
                .values_list("snapshot", flat=True)
                .first()
            )
        changes = change_request.governed_kind.describe(base, change_request.proposed)
        serializer = ChangeRequestDetailSerializer(
            change_request, context={"request": self.request, "changes": changes}
        )
        return Response(serializer.data, status=status_code)

    @extend_schema(responses=ChangeRequestDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        """One change request with its proposal, what it changes, who must approve and who has decided."""
        return self._detail(self.get_object())

    @extend_schema(
        request=ProposalSerializer,
        responses={201: ChangeRequestDetailSerializer},
        examples=[
            EXAMPLE_PROPOSAL,
            _response(
                "Draft",
                "CR-0042 opened as a draft",
                example_change_request_detail(state="draft", submitted_at=None, required_approvals=[], decisions=[]),
                status_code=201,
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Propose a new document, a change to one or its retirement, as a draft to revise and then submit."""
        proposal = ProposalSerializer(data=request.data)
        proposal.is_valid(raise_exception=True)
        data = proposal.validated_data
        kind = get_kind(data["document_kind"])
        reference = (data.get("document") or "").strip()
        document = None
        if reference:
            document_id = kind.document_id_from_reference(reference)
            if document_id is None:
                raise ValidationError({"document": [f"“{reference[:40]}” is not a {kind.label} reference."]})
            document = kind.model._default_manager.filter(pk=document_id).first()
            if document is None:
                raise ValidationError({"document": [f"No {kind.label} {reference.upper()}."]})
        change_kind = data.get("kind") or (ChangeKind.CHANGE if document else ChangeKind.CREATE)
        if change_kind != ChangeKind.RETIRE and "proposed" not in data:
            raise ValidationError({"proposed": ["Give the whole proposed document."]})
        change_request = actions.propose_change(
            kind.key,
            document,
            data=data.get("proposed"),
            change_kind=change_kind,
            summary=data["summary"],
            rationale=data["rationale"],
            effective_at=data.get("effective_at"),
            acting_user=request.user,
        )
        return self._detail(change_request, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=RevisionSerializer,
        responses=ChangeRequestDetailSerializer,
        examples=[
            OpenApiExample(
                "Later start",
                value={
                    "proposed": EXAMPLE_PROPOSED_SLA,
                    "summary": EXAMPLE_CHANGE_REQUEST["summary"],
                    "rationale": "Payments' second on-call starts in November; the tighter target starts with them.",
                    "effective_at": "2026-11-09T09:00:00Z",
                },
                request_only=True,
            ),
            _response(
                "Revised",
                "CR-0042 back to draft at revision 2; the earlier approval no longer counts",
                example_change_request_detail(
                    state="draft",
                    revision=2,
                    rationale="Payments' second on-call starts in November; the tighter target starts with them.",
                    effective_at="2026-11-09T09:00:00Z",
                    decisions=[{**EXAMPLE_CHECKOUT_APPROVAL, "counts": False}],
                ),
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def revise(self, request, *args, **kwargs):
        """Replace the proposal (author only): the request returns to draft and earlier decisions stop counting."""
        revision = RevisionSerializer(data=request.data)
        revision.is_valid(raise_exception=True)
        data = revision.validated_data
        change_request = actions.revise_change_request(
            self.get_object(),
            data=data["proposed"],
            summary=data["summary"],
            rationale=data["rationale"],
            effective_at=data.get("effective_at"),
            acting_user=request.user,
        )
        return self._detail(change_request)

    @extend_schema(
        request=None,
        responses=ChangeRequestDetailSerializer,
        examples=[
            _response(
                "Submitted",
                "CR-0042 sent to the four teams that must approve it",
                example_change_request_detail(decisions=[]),
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        """Send the draft for review (author only) to every team whose approval the document's policy requires."""
        return self._detail(actions.submit_change_request(self.get_object(), acting_user=request.user))

    def _decide(self, request, verdict):
        decision = DecisionInputSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        team_model = apps.get_model(settings.APPROVALS_TEAM_MODEL)
        team = team_model.objects.filter(slug=decision.validated_data["team"]).first()
        if team is None:
            raise ValidationError({"team": [f"No team {decision.validated_data['team']!r}."]})
        change_request = actions.decide_change_request(
            self.get_object(),
            team,
            verdict=VERDICTS[verdict],
            comment=decision.validated_data["comment"],
            revision=decision.validated_data.get("revision"),
            acting_user=request.user,
        )
        return self._detail(change_request)

    @extend_schema(
        request=DecisionInputSerializer,
        responses=ChangeRequestDetailSerializer,
        examples=[
            OpenApiExample(
                "Approve for Payments",
                value={"team": "payments", "comment": PAYMENTS_APPROVES},
                request_only=True,
            ),
            _response(
                "Approved by Payments",
                "CR-0042 approved by two of four teams",
                example_change_request_detail(
                    decisions=[EXAMPLE_CHECKOUT_APPROVAL, example_payments_decision("approve", PAYMENTS_APPROVES)]
                ),
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve the current revision for one of your teams; the last approval applies it or schedules it."""
        return self._decide(request, "approve")

    @extend_schema(
        request=DecisionInputSerializer,
        responses=ChangeRequestDetailSerializer,
        examples=[
            OpenApiExample(
                "Reject for Payments",
                value={"team": "payments", "comment": PAYMENTS_REJECTS},
                request_only=True,
            ),
            _response(
                "Rejected by Payments",
                "CR-0042 rejected: the author can revise it",
                example_change_request_detail(
                    state="rejected",
                    decisions=[EXAMPLE_CHECKOUT_APPROVAL, example_payments_decision("reject", PAYMENTS_REJECTS)],
                ),
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """Reject the current revision for one of your teams, saying why in the comment."""
        return self._decide(request, "reject")

    @extend_schema(
        request=None,
        responses=ChangeRequestDetailSerializer,
        examples=[
            _response("Withdrawn", "CR-0042 withdrawn by its author", example_change_request_detail(state="withdrawn"))
        ],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        """Withdraw an open request (author only); it stays in the record but can no longer be approved."""
        return self._detail(actions.withdraw_change_request(self.get_object(), acting_user=request.user))

    @extend_schema(
        request=None,
        responses=ChangeRequestDetailSerializer,
        examples=[
            _response(
                "Rebased",
                "CR-0042 re-proposed on the current version of SLA-0001, back to draft for new approvals",
                example_change_request_detail(
                    state="draft",
                    revision=2,
                    base_version=2,
                    decisions=[{**EXAMPLE_CHECKOUT_APPROVAL, "counts": False}],
                ),
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def rebase(self, request, *args, **kwargs):
        """Re-propose a stale request (author only) on top of the document's current version; approvals start again."""
        change_request, _conflicts = actions.rebase_change_request(self.get_object(), acting_user=request.user)
        return self._detail(change_request)
