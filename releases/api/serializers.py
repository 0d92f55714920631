from rest_framework import serializers

from releases.models import Calendar, Release


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
