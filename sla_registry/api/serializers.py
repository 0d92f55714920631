from rest_framework import serializers

from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    IncidentCategory,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)


class TeamSerializer(serializers.ModelSerializer):
    # Wall-clock times in the team's own time zone, not instants: "09:00", without an offset.
    working_day_starts = serializers.SerializerMethodField(help_text="Local time in time_zone, e.g. 09:00.")
    working_day_ends = serializers.SerializerMethodField(help_text="Local time in time_zone, e.g. 17:30.")

    class Meta:
        model = Team
        fields = [
            "slug",
            "name",
            "kind",
            "description",
            "is_sla_committee",
            "email",
            "chat_channel",
            "pager_handle",
            "primary_channel",
            "fallback_channel",
            "time_zone",
            "working_days",
            "working_day_starts",
            "working_day_ends",
        ]

    def get_working_day_starts(self, team) -> str:
        return team.working_day_starts.strftime("%H:%M")

    def get_working_day_ends(self, team) -> str:
        return team.working_day_ends.strftime("%H:%M")


class ServiceSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    dependencies = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Service
        fields = ["slug", "name", "owner_team", "tier", "description", "dependencies"]


class CustomerJourneySerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = CustomerJourney
        fields = ["slug", "name", "description", "business_impact", "services"]


class SeveritySerializer(serializers.ModelSerializer):
    class Meta:
        model = Severity
        fields = ["key", "name", "rank", "customer_impact"]


class IncidentCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentCategory
        fields = ["slug", "name", "description"]


class DocumentSummaryFields(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)


class AgreementSerializer(DocumentSummaryFields, serializers.ModelSerializer):
    """An SLA in a list; GET of one SLA returns its whole document."""

    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    provider_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    consumer_teams = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = ServiceLevelAgreement
        fields = [
            "reference",
            "title",
            "service",
            "provider_team",
            "consumer_teams",
            "status",
            "effective_from",
            "next_review_due",
            "url",
        ]


class EscalationMatrixSerializer(DocumentSummaryFields, serializers.ModelSerializer):
    """An escalation matrix in a list; GET of one returns its whole document."""

    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = EscalationMatrix
        fields = ["reference", "title", "service", "owner_team", "status", "effective_from", "next_review_due", "url"]


class MeasurementSerializer(serializers.Serializer):
    """One period of one objective, as monitoring counts it (the same columns as the CSV import)."""

    indicator = serializers.CharField(help_text="The objective's indicator, spelt as on the SLA page.")
    period_start = serializers.CharField(help_text="ISO 8601 with a time zone, or a date (midnight UTC).")
    period_end = serializers.CharField()
    good = serializers.IntegerField(min_value=0, help_text="Good events in the period.")
    total = serializers.IntegerField(min_value=0, help_text="All events in the period, at least `good`.")


class MeasurementBatchSerializer(serializers.Serializer):
    measurements = MeasurementSerializer(many=True, allow_empty=False, max_length=10_000)


class RecordedMeasurementsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replaced = serializers.IntegerField()
    objectives = serializers.IntegerField()
