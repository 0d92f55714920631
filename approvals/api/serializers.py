from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from approvals.choices import ChangeKind, Verdict
from approvals.models import ChangeRequest, Decision, RequiredApproval
from approvals.registry import all_kinds

# The change request the examples tell of: Checkout asks Payments to acknowledge a SEV1 on
# SLA-0001 within 15 minutes instead of 30, from the day Payments' second on-call starts.
EXAMPLE_PROPOSED_SLA = {
    "title": "Payments Gateway for checkout",
    "service": "payments-gateway",
    "provider_team": "payments",
    "consumer_teams": ["checkout", "checkout-product"],
    "status": "active",
    "effective_from": "2026-01-05T09:00:00Z",
    "review_cadence_days": 90,
    "executive_summary": "Payments restores payments **within 2 hours**, around the clock.",
    "technical_annex": "## Measurement\n\nAuthorisations answered ÷ attempts, from the gateway's metrics.",
    "business_impact": "Each hour without payments loses about £42,000 of gross merchandise value at peak.",
    "objectives": [
        {
            "indicator": "Payment authorisations answered without a gateway error",
            "target": "99.95",
            "unit": "%",
            "window_days": 28,
            "dashboard_url": "https://grafana.example.com/d/payments-slo",
        }
    ],
    "response_targets": [
        {
            "severity": "SEV1",
            "category": None,
            "time_to_acknowledge_minutes": 15,
            "time_to_restore_minutes": 120,
            "time_to_resolve_minutes": 1440,
            "customer_update_interval_minutes": 30,
            "coverage": "24x7",
        }
    ],
}
EXAMPLE_CHANGE_REQUEST = {
    "reference": "CR-0042",
    "document_kind": "sla",
    "document": "SLA-0001",
    "kind": "change",
    "state": "in_review",
    "summary": "SEV1 acknowledge 30 → 15 min",
    "rationale": "Checkout's on-call needs an answer sooner during peak: in PIR-0003 acknowledgement took 22 minutes.",
    "revision": 1,
    "base_version": 1,
    "content_hash": "121fafcb1a07f53805a0794f292cb9c4a032e76b3b9dc73f084c92b4cebb2f32",
    "effective_at": "2026-11-02T09:00:00Z",
    "effective_with": "",
    "author": "checkout.engineer",
    "created_at": "2026-10-19T13:02:44Z",
    "submitted_at": "2026-10-19T13:10:05Z",
    "applied_at": None,
    "url": "/changes/CR-0042/",
}
EXAMPLE_REQUIRED_APPROVALS = [
    {"team": "checkout", "reason": "consumer"},
    {"team": "checkout-product", "reason": "consumer"},
    {"team": "payments", "reason": "provider"},
    {"team": "sla-committee", "reason": "the SLA committee approves every change to an agreement"},
]
EXAMPLE_CHECKOUT_APPROVAL = {
    "team": "checkout",
    "verdict": "approve",
    "comment": "",
    "revision": 1,
    "decided_by": "checkout.approver",
    "decided_at": "2026-10-19T15:41:27Z",
    "counts": True,
}


def example_change_request_detail(**fields):
    """CR-0042 in review as ChangeRequestDetailSerializer gives it, with `fields` replaced (e.g. after an action)."""
    return {
        **EXAMPLE_CHANGE_REQUEST,
        "proposed": EXAMPLE_PROPOSED_SLA,
        "changes": ["SEV1 time to acknowledge: 30 min → 15 min"],
        "required_approvals": EXAMPLE_REQUIRED_APPROVALS,
        "decisions": [EXAMPLE_CHECKOUT_APPROVAL],
        **fields,
    }


class RequiredApprovalSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = RequiredApproval
        fields = ["team", "reason"]


class DecisionSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    counts = serializers.SerializerMethodField(help_text="Made on the current revision, so it counts.")

    class Meta:
        model = Decision
        fields = ["team", "verdict", "comment", "revision", "decided_by", "decided_at", "counts"]

    def get_counts(self, decision) -> bool:
        request = decision.change_request
        return decision.revision == request.revision and decision.content_hash == request.content_hash


@extend_schema_serializer(
    examples=[OpenApiExample("In review", summary="CR-0042 waiting for approvals", value=EXAMPLE_CHANGE_REQUEST)]
)
class ChangeRequestSerializer(serializers.ModelSerializer):
    """A change request as automation reads it: state, the proposal, who must approve and who has."""

    reference = serializers.CharField(read_only=True)
    document = serializers.SerializerMethodField(help_text="The document's reference, e.g. SLA-0007.")
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "reference",
            "document_kind",
            "document",
            "kind",
            "state",
            "summary",
            "rationale",
            "revision",
            "base_version",
            "content_hash",
            "effective_at",
            "effective_with",
            "author",
            "created_at",
            "submitted_at",
            "applied_at",
            "url",
        ]

    def get_document(self, change_request) -> str | None:
        if change_request.document_id is None:
            return None
        return change_request.governed_kind.reference_of(change_request.document_id)

    def get_url(self, change_request) -> str:
        return change_request.get_absolute_url()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "In review", summary="CR-0042 approved by one of four teams", value=example_change_request_detail()
        )
    ]
)
class ChangeRequestDetailSerializer(ChangeRequestSerializer):
    required_approvals = RequiredApprovalSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    changes = serializers.SerializerMethodField(help_text="What the proposal changes, in words.")

    class Meta(ChangeRequestSerializer.Meta):
        fields = [*ChangeRequestSerializer.Meta.fields, "proposed", "changes", "required_approvals", "decisions"]

    def get_changes(self, change_request) -> list[str]:
        return self.context["changes"]


def _kind_choices():
    return [(kind.key, kind.label) for kind in all_kinds()]


class ProposalSerializer(serializers.Serializer):
    """What a new change request proposes. The document itself is validated by its kind's adapter."""

    document_kind = serializers.ChoiceField(choices=[], help_text="sla, escalation_matrix or review.")
    document = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="The reference to change; empty to create."
    )
    kind = serializers.ChoiceField(choices=ChangeKind.choices, required=False)
    proposed = serializers.JSONField(
        required=False, help_text="The whole proposed document, in the shape GET of the document returns."
    )
    summary = serializers.CharField(max_length=200)
    rationale = serializers.CharField()
    effective_at = serializers.DateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_kind"].choices = _kind_choices()


class RevisionSerializer(serializers.Serializer):
    proposed = serializers.JSONField()
    summary = serializers.CharField(max_length=200)
    rationale = serializers.CharField()
    effective_at = serializers.DateTimeField(required=False, allow_null=True)


class DecisionInputSerializer(serializers.Serializer):
    team = serializers.SlugField(help_text="The team you decide for (you need its approve permission).")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


VERDICTS = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT}
