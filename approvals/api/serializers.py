from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from approvals.api.examples import (
    EXAMPLE_CHANGE_REQUEST,
    example_change_request_detail,
)
from approvals.choices import ChangeKind, Verdict
from approvals.models import ChangeRequest, Decision, RequiredApproval
from approvals.registry import all_kinds


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
    revision = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The revision you read. If the request has been revised since, nothing is recorded (409).",
    )


VERDICTS = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT}
