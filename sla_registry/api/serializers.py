from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from sla_registry.api.examples import SLA_EXAMPLE_DOCUMENT
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    IncidentCategory,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Payments",
            value={
                "slug": "payments",
                "name": "Payments",
                "kind": "engineering",
                "description": "Runs card and wallet payments, fraud scoring, refunds and both acquirers.",
                "is_sla_committee": False,
                "email": "payments@basketly.example",
                "chat_channel": "#payments-oncall",
                "pager_handle": "pd-payments-primary",
                "primary_channel": "page",
                "fallback_channel": "phone",
                "time_zone": "Europe/London",
                "working_days": "1,2,3,4,5",
                "working_day_starts": "09:00",
                "working_day_ends": "17:30",
            },
            response_only=True,
        )
    ]
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


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Checkout API",
            value={
                "slug": "checkout-api",
                "name": "Checkout API",
                "owner_team": "checkout",
                "tier": "critical",
                "description": "Turns a basket into an order: delivery, stock reservation, payment, confirmation.",
                "dependencies": ["basket-service", "inventory-service", "payments-gateway", "postgresql-cluster"],
            },
            response_only=True,
        )
    ]
)
class ServiceSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    dependencies = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Service
        fields = ["slug", "name", "owner_team", "tier", "description", "dependencies"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Check out and pay",
            value={
                "slug": "check-out-and-pay",
                "name": "Check out and pay",
                "description": "A customer reviews the basket, chooses delivery, pays and gets a confirmation.",
                "business_impact": "Every order passes through here: about £42,000 of orders an hour at peak.",
                "services": ["api-gateway", "basket-service", "checkout-api", "payments-gateway"],
            },
            response_only=True,
        )
    ]
)
class CustomerJourneySerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = CustomerJourney
        fields = ["slug", "name", "description", "business_impact", "services"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "SEV1",
            value={
                "key": "SEV1",
                "name": "Critical",
                "rank": 1,
                "customer_impact": (
                    "A core journey (sign-up, search, checkout, payment, refund) is down or failing for more than 5 % "
                    "of customers, money is at risk, or customer data is exposed."
                ),
            },
            response_only=True,
        )
    ]
)
class SeveritySerializer(serializers.ModelSerializer):
    class Meta:
        model = Severity
        fields = ["key", "name", "rank", "customer_impact"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Third party",
            value={
                "slug": "third-party",
                "name": "Third party",
                "description": "Caused by a supplier: acquirers, SMS and email providers, carriers, the cloud.",
            },
            response_only=True,
        )
    ]
)
class IncidentCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentCategory
        fields = ["slug", "name", "description"]


class DocumentSummaryFields(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "SLA-0001",
            value={
                "reference": "SLA-0001",
                **{
                    name: SLA_EXAMPLE_DOCUMENT[name]
                    for name in ("title", "service", "provider_team", "consumer_teams", "status", "effective_from")
                },
                "next_review_due": "2027-01-31T09:00:00Z",
                "url": "/slas/SLA-0001/",
            },
            response_only=True,
        )
    ]
)
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


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "ESC-0001",
            value={
                "reference": "ESC-0001",
                "title": "Payments Gateway escalation",
                "service": "payments-gateway",
                "owner_team": "payments",
                "status": "active",
                "effective_from": "2026-05-13T09:00:00Z",
                "next_review_due": "2026-12-07T09:00:00Z",
                "url": "/escalation/ESC-0001/",
            },
            response_only=True,
        )
    ]
)
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
    replace = serializers.BooleanField(
        default=False,
        help_text="Replace periods already stored. Without it a period sent again is refused (400), naming it; "
        "with it the replacement is recorded in the audit log.",
    )


class PreviousFiguresSerializer(serializers.Serializer):
    good = serializers.IntegerField()
    total = serializers.IntegerField()
    source = serializers.CharField(help_text="Where the replaced figures came from (csv, api:<username>, …).")


class ReplacedPeriodSerializer(serializers.Serializer):
    """A stored period the request replaced: the figures it had, and those it has now."""

    indicator = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    previous = PreviousFiguresSerializer()
    good = serializers.IntegerField()
    total = serializers.IntegerField()


class RecordedMeasurementsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replaced = serializers.IntegerField()
    objectives = serializers.IntegerField()
    replaced_periods = ReplacedPeriodSerializer(
        many=True, help_text="Each stored period replaced (only with replace: true), with its previous figures."
    )
