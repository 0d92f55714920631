from rest_framework import serializers

from reviews.models import ActionItem, PostIncidentReview


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
