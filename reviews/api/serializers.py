from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from reviews.api.examples import REVIEW_EXAMPLE_DOCUMENT
from reviews.models import ActionItem, PostIncidentReview


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "PIR-0003",
            value={
                "reference": "PIR-0003",
                "title": "Card payments failed while the primary acquirer was down",
                "severity": "SEV1",
                "category": "third-party",
                "services": ["checkout-api", "payments-gateway"],
                "status": "published",
                "is_drill": False,
                "is_restricted": False,
                "started_at": "2026-07-12T19:04:00Z",
                "detected_at": "2026-07-12T19:08:00Z",
                "acknowledged_at": "2026-07-12T19:30:00Z",
                "restored_at": "2026-07-12T20:56:00Z",
                "resolved_at": "2026-07-13T19:04:00Z",
                "url": "/reviews/PIR-0003/",
            },
            response_only=True,
        )
    ]
)
class ReviewSerializer(serializers.ModelSerializer):
    """A post-incident review in a list; GET of one returns its whole document."""

    reference = serializers.CharField(read_only=True)
    severity = serializers.SlugRelatedField(slug_field="key", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = PostIncidentReview
        fields = [
            "reference",
            "title",
            "severity",
            "category",
            "services",
            "status",
            "is_drill",
            "is_restricted",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "restored_at",
            "resolved_at",
            "url",
        ]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Open action item",
            value={
                "id": 17,
                "review": "PIR-0003",
                **REVIEW_EXAMPLE_DOCUMENT["action_items"][-1],
                "status": "in_progress",
                "completed_at": None,
            },
            response_only=True,
        )
    ]
)
class ActionItemSerializer(serializers.ModelSerializer):
    review = serializers.CharField(source="review.reference", read_only=True)
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "review",
            "title",
            "kind",
            "owner_team",
            "assignee",
            "due_date",
            "priority",
            "status",
            "link",
            "completed_at",
        ]
