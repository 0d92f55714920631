from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from releases.models import Calendar, Release


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Checkout release train",
            value={
                "slug": "checkout-release-train",
                "name": "Checkout release train",
                "team": "checkout",
                "default_services": ["basket-service", "checkout-api"],
                "has_feed": True,
                "sync_interval": "01:00:00",
                "last_synced_at": "2026-11-30T08:00:12Z",
                "last_error": "",
            },
            response_only=True,
        )
    ]
)
class CalendarSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    default_services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    has_feed = serializers.SerializerMethodField()

    class Meta:
        model = Calendar
        fields = [
            "slug",
            "name",
            "team",
            "default_services",
            "has_feed",
            "sync_interval",
            "last_synced_at",
            "last_error",
        ]

    def get_has_feed(self, calendar) -> bool:
        # The feed address may carry a secret token; only whether there is one is shown.
        return bool(calendar.feed_url)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Weekly release",
            value={
                "id": 214,
                "title": "Checkout weekly release train",
                "description": "Every Tuesday: checkout-api and basket-service ship what passed staging by Monday.",
                "kind": "release",
                "risk": "low",
                "status": "scheduled",
                "calendar": "checkout-release-train",
                "services": ["basket-service", "checkout-api"],
                "starts_at": "2026-12-01T10:00:00Z",
                "ends_at": "2026-12-01T11:00:00Z",
                "all_day": False,
                "location": "",
                "categories": "release",
                "uid": "checkout-train-20261201@basketly.example",
                "url": "/releases/214/",
            },
            response_only=True,
        )
    ]
)
class ReleaseSerializer(serializers.ModelSerializer):
    calendar = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "risk",
            "status",
            "calendar",
            "services",
            "starts_at",
            "ends_at",
            "all_day",
            "location",
            "categories",
            "uid",
            "url",
        ]
