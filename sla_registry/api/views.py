"""The registry over the API: teams, services, journeys, taxonomy (read-only), and the
two governed kinds, SLAs and escalation matrices, with their versions and formats."""

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.idempotency import IdempotentPostMixin
from approvals.api.governed import GovernedDocumentViewSet, governed_document_examples
from core.exceptions import NotAllowed
from sla_registry.api.examples import (
    MATRIX_EXAMPLE_DOCUMENT,
    MATRIX_EXAMPLE_EARLIER,
    OPENSLO_EXAMPLE,
    PAGERDUTY_EXAMPLE,
    SLA_EXAMPLE_DOCUMENT,
    SLA_EXAMPLE_EARLIER,
)
from sla_registry.api.serializers import (
    AgreementSerializer,
    CustomerJourneySerializer,
    EscalationMatrixSerializer,
    IncidentCategorySerializer,
    MeasurementBatchSerializer,
    RecordedMeasurementsSerializer,
    ServiceSerializer,
    SeveritySerializer,
    TeamSerializer,
)
from sla_registry.choices import AgreementStatus, ServiceTier, TeamKind
from sla_registry.formats import openslo, pagerduty
from sla_registry.measurements import MeasurementsRejected, record_measurements
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    IncidentCategory,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)
from sla_registry.permissions import may_record_measurements


class TeamFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TeamKind.choices)
    member = django_filters.CharFilter(field_name="group__user__username", help_text="A member's username.")

    class Meta:
        model = Team
        fields = ["kind", "is_sla_committee", "member"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams: who they are, how to reach them, and the hours they work."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    lookup_field = "slug"
    filterset_class = TeamFilter
    ordering_fields = ["name", "slug"]
    ordering = ["name"]


class ServiceFilter(django_filters.FilterSet):
    owner_team = django_filters.CharFilter(field_name="owner_team__slug")
    tier = django_filters.ChoiceFilter(choices=ServiceTier.choices)
    journey = django_filters.CharFilter(field_name="journeys__slug")

    class Meta:
        model = Service
        fields = ["owner_team", "tier", "journey"]


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Services: their owner team, tier and the services they depend on."""

    queryset = Service.objects.select_related("owner_team").prefetch_related(
        Prefetch("dependencies", Service.objects.only("pk", "slug"))
    )
    serializer_class = ServiceSerializer
    lookup_field = "slug"
    filterset_class = ServiceFilter
    ordering_fields = ["name", "slug", "tier"]
    ordering = ["name"]


class CustomerJourneyViewSet(viewsets.ReadOnlyModelViewSet):
    """Customer journeys: what customers do, what it is worth, and the services it passes through."""

    queryset = CustomerJourney.objects.prefetch_related(Prefetch("services", Service.objects.only("pk", "slug")))
    serializer_class = CustomerJourneySerializer
    lookup_field = "slug"
    filterset_fields = {"services__slug": ["exact"]}
    ordering_fields = ["name", "slug"]
    ordering = ["name"]


class SeverityViewSet(viewsets.ReadOnlyModelViewSet):
    """The severity taxonomy, most severe first, with the customer impact that makes an incident each one."""

    queryset = Severity.objects.all()
    serializer_class = SeveritySerializer
    lookup_field = "key"
    ordering_fields = ["rank"]
    ordering = ["rank"]


class IncidentCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Incident categories, which SLAs can give their own response targets."""

    queryset = IncidentCategory.objects.all()
    serializer_class = IncidentCategorySerializer
    lookup_field = "slug"
    ordering_fields = ["name"]
    ordering = ["name"]


class AgreementFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    provider_team = django_filters.CharFilter(field_name="provider_team__slug")
    consumer_team = django_filters.CharFilter(field_name="consumer_teams__slug")
    status = django_filters.ChoiceFilter(choices=AgreementStatus.choices)

    class Meta:
        model = ServiceLevelAgreement
        fields = ["service", "provider_team", "consumer_team", "status"]


@governed_document_examples(
    reference="SLA-0001",
    url="/slas/SLA-0001/",
    kind="sla",
    document=SLA_EXAMPLE_DOCUMENT,
    earlier=SLA_EXAMPLE_EARLIER,
    versions=[
        {
            "number": 2,
            "effective_at": "2026-11-02T09:00:00Z",
            "recorded_at": "2026-11-02T09:00:04Z",
            "content_hash": "448a9c44464980c694b5165e3f44ffa94a95a013dd49bb7b62014ba246c57b42",
            "change_request": "CR-0042",
        },
        {
            "number": 1,
            "effective_at": "2026-01-05T09:00:00Z",
            "recorded_at": "2026-01-05T09:00:02Z",
            "content_hash": "0c8bbcffb302130ccb0b4eb2f8149e34bd236fdd21298462724b897dce65dd65",
            "change_request": None,
        },
    ],
    changes=["SEV1 time to acknowledge: 30 min → 15 min"],
    fields=[{"path": "response_targets[SEV1].time_to_acknowledge_minutes", "old": "30", "new": "15"}],
)
class AgreementViewSet(IdempotentPostMixin, GovernedDocumentViewSet):
    """SLAs: objectives and per-severity response targets between a provider and its consumers."""

    kind_key = "sla"
    queryset = ServiceLevelAgreement.objects.select_related("service", "provider_team").prefetch_related(
        Prefetch("consumer_teams", Team.objects.only("pk", "slug"))
    )
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    ordering_fields = ["id", "title", "next_review_due", "effective_from"]
    ordering = ["id"]

    @extend_schema(
        request=MeasurementBatchSerializer,
        responses={201: RecordedMeasurementsSerializer},
        examples=[
            OpenApiExample(
                "One day of availability",
                value={
                    "measurements": [
                        {
                            "indicator": "Checkout requests answered without error",
                            "period_start": "2026-11-28T00:00:00Z",
                            "period_end": "2026-11-29T00:00:00Z",
                            "good": 998_812,
                            "total": 999_300,
                        }
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                summary="One objective's day recorded",
                value={"created": 1, "replaced": 0, "objectives": 1, "replaced_periods": []},
                response_only=True,
                status_codes=[201],
            ),
            OpenApiExample(
                "A correction",
                summary="A stored day replaced, asked for with replace: true",
                value={
                    "measurements": [
                        {
                            "indicator": "Checkout requests answered without error",
                            "period_start": "2026-11-28T00:00:00Z",
                            "period_end": "2026-11-29T00:00:00Z",
                            "good": 998_790,
                            "total": 999_300,
                        }
                    ],
                    "replace": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Replaced",
                summary="The stored day replaced, with the figures it had",
                value={
                    "created": 0,
                    "replaced": 1,
                    "objectives": 1,
                    "replaced_periods": [
                        {
                            "indicator": "Checkout requests answered without error",
                            "period_start": "2026-11-28T00:00:00Z",
                            "period_end": "2026-11-29T00:00:00Z",
                            "previous": {"good": 998_812, "total": 999_300, "source": "api:checkout.monitor"},
                            "good": 998_790,
                            "total": 999_300,
                        }
                    ],
                },
                response_only=True,
                status_codes=[201],
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def measurements(self, request, *args, **kwargs):
        """Monitoring pushes objective measurements; the same rules and messages as the CSV import.

        Only members of the SLA's provider team (or a token of theirs) and superusers may: 403 for anyone else,
        whatever the body. A period already stored is refused (400, naming it) unless the request says
        `replace: true`; then the replacement is audited and listed in `replaced_periods` with the figures
        it replaced."""
        sla = self.get_object()
        # Before the body is read: an outsider is refused whatever they send (and learns nothing from its errors).
        if not may_record_measurements(request.user, sla):
            raise NotAllowed(
                f"Only members of the provider team ({sla.provider_team.name}) record measurements of "
                f"{sla.reference}; nothing was written."
            )
        batch = MeasurementBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        rows = [
            (f"measurements[{index}]", {**row, "sla": sla.reference})
            for index, row in enumerate(batch.validated_data["measurements"])
        ]
        try:
            recorded = record_measurements(
                rows,
                source=f"api:{request.user.username}",
                acting_user=request.user,
                replace=batch.validated_data["replace"],
            )
        except MeasurementsRejected as rejected:
            raise ValidationError({"measurements": [str(error) for error in rejected.errors]}) from rejected
        body = {
            "created": recorded.created,
            "replaced": recorded.replaced,
            "objectives": recorded.objectives,
            "replaced_periods": [
                {
                    "indicator": period.indicator,
                    "period_start": period.period_start,
                    "period_end": period.period_end,
                    "previous": {
                        "good": period.previous_good,
                        "total": period.previous_total,
                        "source": period.previous_source,
                    },
                    "good": period.good,
                    "total": period.total,
                }
                for period in recorded.replaced_periods
            ],
        }
        return Response(RecordedMeasurementsSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "application/yaml"): OpenApiTypes.STR},
        examples=[
            OpenApiExample(
                "OpenSLO",
                summary="SLA-0001: its service and one objective",
                value=OPENSLO_EXAMPLE,
                media_type="application/yaml",
                response_only=True,
            )
        ],
    )
    def openslo(self, request, *args, **kwargs):
        """The SLA's objectives as OpenSLO v1 documents (a Service and one SLO per objective)."""
        sla = self.get_object()
        text = openslo.dump(openslo.export_documents(sla))
        response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{sla.reference}.openslo.yaml"'
        return response


class MatrixFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    owner_team = django_filters.CharFilter(field_name="owner_team__slug")
    status = django_filters.ChoiceFilter(choices=AgreementStatus.choices)

    class Meta:
        model = EscalationMatrix
        fields = ["service", "owner_team", "status"]


@governed_document_examples(
    reference="ESC-0001",
    url="/escalation/ESC-0001/",
    kind="escalation_matrix",
    document=MATRIX_EXAMPLE_DOCUMENT,
    earlier=MATRIX_EXAMPLE_EARLIER,
    versions=[
        {
            "number": 2,
            "effective_at": "2026-09-08T09:00:00Z",
            "recorded_at": "2026-09-08T09:00:03Z",
            "content_hash": "d0f9617a5164386ff2ac5d574599354364d36752085ed18bd236700d591d4128",
            "change_request": "CR-0037",
        },
        {
            "number": 1,
            "effective_at": "2026-05-13T09:00:00Z",
            "recorded_at": "2026-05-13T09:00:02Z",
            "content_hash": "e864471be8897a7286c80e6e6cc4a451455f993754c08f82a45facdd127c87b1",
            "change_request": None,
        },
    ],
    changes=["Level 2 of SEV1 wait before escalating: 15 min → 10 min"],
    fields=[{"path": "steps[SEV1, 2].wait_minutes", "old": "15", "new": "10"}],
)
class EscalationMatrixViewSet(GovernedDocumentViewSet):
    """Escalation matrices: who is notified at which tier, after how long, through which channel."""

    kind_key = "escalation_matrix"
    queryset = EscalationMatrix.objects.select_related("service", "owner_team")
    serializer_class = EscalationMatrixSerializer
    filterset_class = MatrixFilter
    ordering_fields = ["id", "title", "next_review_due"]
    ordering = ["id"]

    @extend_schema(
        parameters=[OpenApiParameter("severity", str, description="The severity's key; SEV1 when absent.")],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("SEV1 policy", summary="ESC-0001 for SEV1", value=PAGERDUTY_EXAMPLE, response_only=True)
        ],
    )
    @action(detail=True, methods=["get"])
    def pagerduty(self, request, *args, **kwargs):
        """The steps for one severity as a PagerDuty escalation policy (the body POST /escalation_policies takes)."""
        matrix = self.get_object()
        severity = request.query_params.get("severity", "SEV1").strip()
        try:
            policy = pagerduty.escalation_policy(matrix, severity)
        except pagerduty.EscalationPolicyError as error:
            raise ValidationError({"severity": error.messages}) from error
        return Response(policy)
