"""Incidents over the API (list, one with its clocks, declare, transitions) and the inbound events endpoint.

Transitions call incidents.actions; what they raise becomes 400, 403 or 409 in api.errors. The events
endpoint is open to the internet: the integration's key in the URL names it, its secret proves the sender.
"""

import json

import django_filters
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import PayloadTooLarge, nesting_depth
from audit.log import record_event
from incidents import actions
from incidents.api.serializers import (
    ActionNoteSerializer,
    DeclareSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    IngestionResultSerializer,
)
from incidents.choices import IncidentStatus
from incidents.ingestion import MAX_BODY_BYTES, BadPayload, receive, signature_ok
from incidents.models import Clock, Incident, IncidentEvent, Integration, Notice
from incidents.permissions import access_incident, visible_incidents
from sla_registry.models import Service


class IncidentFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="services__slug", distinct=True)
    severity = django_filters.CharFilter(field_name="severity__key")
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    opened_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Incident
        fields = ["service", "severity", "status", "is_drill", "opened_after", "opened_before"]


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents: what is happening, its SLA clocks and its timeline."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["started_at", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        queryset = Incident.objects.select_related("severity", "category").prefetch_related(
            Prefetch("services", Service.objects.only("pk", "slug"))
        )
        return visible_incidents(self.request.user, queryset)

    def get_object(self):
        incident = access_incident(self.request.user, self.kwargs["reference"])
        return (
            Incident.objects.select_related("severity", "category")
            .prefetch_related(
                Prefetch("services", Service.objects.only("pk", "slug")),
                Prefetch("clocks", Clock.objects.select_related("service", "version")),
                Prefetch("events", IncidentEvent.objects.select_related("actor")),
                Prefetch("notices", Notice.objects.select_related("team", "clock")),
            )
            .get(pk=incident.pk)
        )

    def _detail(self, incident, status_code=status.HTTP_200_OK):
        incident = self.get_object() if incident is None else incident
        self.kwargs["reference"] = incident.reference
        return Response(IncidentDetailSerializer(self.get_object(), context={"now": timezone.now()}).data,
                        status=status_code)  # fmt: skip

    @extend_schema(responses=IncidentDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        """One incident with its clocks (due, met or breached) and its timeline."""
        return self._detail(None)

    @extend_schema(request=DeclareSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Declare an incident by hand: it pins the agreements in force at its start and starts its clocks."""
        declared = DeclareSerializer(data=request.data)
        declared.is_valid(raise_exception=True)
        data = declared.validated_data
        incident = actions.open_incident(
            title=data["title"],
            services=data["services"],
            severity=data["severity"],
            category=data.get("category"),
            started_at=data.get("started_at") or timezone.now(),
            is_drill=data["is_drill"],
            is_restricted=data["is_restricted"],
            acting_user=request.user,
        )
        return self._detail(incident, status.HTTP_201_CREATED)

    def _act(self, request, name):
        incident = access_incident(request.user, self.kwargs["reference"])
        note = ActionNoteSerializer(data=request.data if isinstance(request.data, dict) else {})
        note.is_valid(raise_exception=True)
        incident = actions.act_on_incident(incident, name, acting_user=request.user, note=note.validated_data["note"])
        return self._detail(incident)

    @extend_schema(request=ActionNoteSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, *args, **kwargs):
        """Acknowledge a triggered incident now: its acknowledge clocks stop."""
        return self._act(request, "acknowledge")

    @extend_schema(request=ActionNoteSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        """Service restored now: the restore clocks stop."""
        return self._act(request, "restore")

    @extend_schema(request=ActionNoteSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, *args, **kwargs):
        """Resolve the incident now: every clock stops."""
        return self._act(request, "resolve")

    @extend_schema(request=ActionNoteSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        """Reopen a restored or resolved incident: its restore and resolve clocks run again."""
        return self._act(request, "reopen")


def _problem(detail, status_code, errors=None):
    return Response({"detail": detail, "errors": errors or {}}, status=status_code)


class IntegrationEventsView(APIView):
    """Inbound incident events from PagerDuty, Opsgenie, Alertmanager or generic JSON (see README "Incidents")."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the raw body is verified before it is read as JSON

    @extend_schema(
        operation_id="integration_events_create",
        request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Generic JSON",
                value={
                    "service": "payments-api",
                    "severity": "SEV2",
                    "summary": "Refunds slow",
                    "dedup_key": "refunds-latency",
                    "status": "trigger",
                    "occurred_at": "2026-07-12T19:04:00Z",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Opened one",
                value={"incidents": ["INC-0042"], "unrouted": 0, "duplicates": 0},
                response_only=True,
                status_codes=["202"],
            ),
        ],
        responses={
            202: IngestionResultSerializer,
            400: OpenApiResponse(description="Malformed JSON or a missing field: `errors` names it."),
            401: OpenApiResponse(description="Missing or wrong signature or secret."),
            404: OpenApiResponse(description="No integration has this key."),
            413: OpenApiResponse(description="The body is larger than 1 MB."),
        },
    )
    def post(self, request, key):
        integration = Integration.objects.filter(key=key, is_active=True).first() if "\x00" not in key else None
        if integration is None:
            raise Http404("No integration has this key.")
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.")
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.")
        if not signature_ok(integration, request.headers, body):
            with transaction.atomic():
                record_event(
                    "integration.signature_rejected",
                    integration,
                    actor=None,
                    payload={"kind": integration.kind, "remote_addr": request.META.get("REMOTE_ADDR", "")},
                )
            return _problem("The request's signature or secret is missing or does not match.", 401)
        try:
            text = body.decode("utf-8")
            if nesting_depth(text, settings.API_MAX_JSON_DEPTH) > settings.API_MAX_JSON_DEPTH:
                return _problem("The JSON nests too deep.", 400, {"body": ["The JSON nests too deep."]})
            payload = json.loads(text)
        except (UnicodeDecodeError, ValueError) as error:
            return _problem(f"The body is not valid JSON: {error}", 400, {"body": ["Not valid JSON."]})
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    outcome = receive(integration, payload)
                    actions.touch_integration(integration)
                break
            except BadPayload as error:
                return _problem(error.message, 400, {error.field: [error.message]})
            except IntegrityError:
                # Two deliveries raced to open the same key (or store the same event): the second try joins
                # the incident the first opened, or finds its event already stored.
                if attempt == 2:
                    raise
        return Response(
            IngestionResultSerializer(outcome).data,
            status=status.HTTP_202_ACCEPTED,
        )
