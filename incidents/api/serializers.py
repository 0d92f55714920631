from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from incidents.models import Clock, Incident, IncidentEvent, Notice
from sla_registry.models import IncidentCategory, Service, Severity

INCIDENT_EXAMPLE = {
    "reference": "INC-0042",
    "title": "Card payments failing",
    "severity": "SEV1",
    "category": None,
    "services": ["payments-api"],
    "status": "acknowledged",
    "is_drill": False,
    "is_restricted": False,
    "source": "pagerduty",
    "dedup_key": "PGR0VU2",
    "started_at": "2026-07-12T19:04:00Z",
    "detected_at": "2026-07-12T19:04:00Z",
    "acknowledged_at": "2026-07-12T19:12:00Z",
    "restored_at": None,
    "resolved_at": None,
    "url": "/incidents/INC-0042/",
}


@extend_schema_serializer(examples=[OpenApiExample("INC-0042", value=INCIDENT_EXAMPLE, response_only=True)])
class IncidentSerializer(serializers.ModelSerializer):
    """An incident in a list."""

    reference = serializers.CharField(read_only=True)
    severity = serializers.SlugRelatedField(slug_field="key", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "reference", "title", "severity", "category", "services", "status", "is_drill", "is_restricted",
            "source", "dedup_key", "started_at", "detected_at", "acknowledged_at", "restored_at", "resolved_at", "url",
        ]  # fmt: skip
        read_only_fields = fields


class ClockSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sla_version = serializers.SerializerMethodField()
    target_minutes = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Clock
        fields = ["kind", "service", "sla_version", "target_minutes", "business_hours", "repeats", "due_at", "state",
                  "met_at"]  # fmt: skip

    def get_sla_version(self, clock) -> str:
        return f"{clock.version.document_kind}:{clock.version.document_id} v{clock.version.number}"

    def get_target_minutes(self, clock) -> int:
        return int(clock.target.total_seconds() // 60)

    def get_state(self, clock) -> str:
        return clock.state_at(self.context.get("now") or timezone.now())


class IncidentEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ["kind", "source", "summary", "occurred_at", "received_at", "actor"]


class NoticeSerializer(serializers.ModelSerializer):
    """A notice: a team told that a clock reached 50 %, 80 % of its target or breached it."""

    clock = serializers.CharField(source="clock.kind", read_only=True, allow_null=True, default=None)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    late_by_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["clock", "threshold", "level", "team", "channel", "fallback_channel", "status", "fallback_used",
                  "due_at", "sent_at", "late_by_seconds"]  # fmt: skip

    def get_late_by_seconds(self, notice) -> int | None:
        return int(notice.late_by.total_seconds()) if notice.late_by else None


DETAIL_EXAMPLE = {
    **INCIDENT_EXAMPLE,
    "clocks": [
        {
            "kind": "acknowledge",
            "service": "payments-api",
            "sla_version": "sla:7 v3",
            "target_minutes": 15,
            "business_hours": False,
            "repeats": False,
            "due_at": "2026-07-12T19:19:00Z",
            "state": "met",
            "met_at": "2026-07-12T19:12:00Z",
        },
        {
            "kind": "restore",
            "service": "payments-api",
            "sla_version": "sla:7 v3",
            "target_minutes": 120,
            "business_hours": False,
            "repeats": False,
            "due_at": "2026-07-12T21:04:00Z",
            "state": "running",
            "met_at": None,
        },
    ],
    "notices": [
        {
            "clock": "acknowledge",
            "threshold": "50",
            "level": 1,
            "team": "payments",
            "channel": "page",
            "fallback_channel": "email",
            "status": "sent",
            "fallback_used": False,
            "due_at": "2026-07-12T19:11:30Z",
            "sent_at": "2026-07-12T19:11:31Z",
            "late_by_seconds": None,
        }
    ],
    "events": [
        {
            "kind": "triggered",
            "source": "pagerduty",
            "summary": "Card payments failing",
            "occurred_at": "2026-07-12T19:04:00Z",
            "received_at": "2026-07-12T19:04:02Z",
            "actor": None,
        },
        {
            "kind": "acknowledged",
            "source": "manual",
            "summary": "Looking at the acquirer",
            "occurred_at": "2026-07-12T19:12:00Z",
            "received_at": "2026-07-12T19:12:00Z",
            "actor": "payments.oncall",
        },
    ],
}


@extend_schema_serializer(examples=[OpenApiExample("INC-0042", value=DETAIL_EXAMPLE, response_only=True)])
class IncidentDetailSerializer(IncidentSerializer):
    """An incident with its clocks and its timeline."""

    clocks = ClockSerializer(many=True, read_only=True)
    events = IncidentEventSerializer(many=True, read_only=True)
    notices = NoticeSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "clocks", "events", "notices"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Declare a SEV1",
            value={"title": "Card payments failing", "services": ["payments-api"], "severity": "SEV1"},
            request_only=True,
        )
    ]
)
class DeclareSerializer(serializers.Serializer):
    """Declare an incident by hand."""

    title = serializers.CharField(max_length=200)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Service.objects.all())
    severity = serializers.SlugRelatedField(slug_field="key", queryset=Severity.objects.all())
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=IncidentCategory.objects.all(), required=False, allow_null=True
    )
    started_at = serializers.DateTimeField(required=False, help_text="Now when left out.")
    is_drill = serializers.BooleanField(default=False)
    is_restricted = serializers.BooleanField(default=False)

    def validate_services(self, services):
        if not services:
            raise serializers.ValidationError("Name at least one affected service.")
        return services

    def validate_started_at(self, moment):
        now = timezone.now()
        if moment > now + timedelta(days=1):
            raise serializers.ValidationError("The start cannot be more than a day in the future.")
        if moment.year < 2000:
            raise serializers.ValidationError("The start must be after the year 2000.")
        return moment


@extend_schema_serializer(
    examples=[OpenApiExample("With a note", value={"note": "Looking at the acquirer"}, request_only=True)]
)
class ActionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Opened one", value={"incidents": ["INC-0042"], "unrouted": 0, "duplicates": 0}, response_only=True
        )
    ]
)
class IngestionResultSerializer(serializers.Serializer):
    incidents = serializers.ListField(child=serializers.CharField(), help_text="References of incidents touched.")
    unrouted = serializers.IntegerField(help_text="Events kept in the unrouted inbox (service not known).")
    duplicates = serializers.IntegerField(help_text="Events already received: stored once.")
