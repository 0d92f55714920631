"""Release calendars and releases over the API (read-only: calendars sync from their feeds)."""

import django_filters
from django.db.models import Prefetch
from rest_framework import viewsets

from releases.api.serializers import CalendarSerializer, ReleaseSerializer
from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus
from releases.models import Calendar, Release
from sla_registry.models import Service


class CalendarViewSet(viewsets.ReadOnlyModelViewSet):
    """Release calendars: whose they are, the services their releases touch, and how their feed last synced."""

    queryset = Calendar.objects.select_related("team").prefetch_related(
        Prefetch("default_services", Service.objects.only("pk", "slug"))
    )
    serializer_class = CalendarSerializer
    lookup_field = "slug"
    filterset_fields = {"team__slug": ["exact"]}
    ordering_fields = ["name"]
    ordering = ["name"]


class ReleaseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReleaseKind.choices)
    risk = django_filters.ChoiceFilter(choices=ReleaseRisk.choices)
    status = django_filters.ChoiceFilter(choices=ReleaseStatus.choices)
    calendar = django_filters.CharFilter(field_name="calendar__slug")
    service = django_filters.CharFilter(field_name="services__slug", distinct=True)
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Release
        fields = ["kind", "risk", "status", "calendar", "service", "starts_after", "starts_before"]


class ReleaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Releases, freeze windows and maintenance from the calendars, with the services they touch."""

    queryset = Release.objects.select_related("calendar").prefetch_related(
        Prefetch("services", Service.objects.only("pk", "slug"))
    )
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter
    ordering_fields = ["starts_at", "id"]
    ordering = ["starts_at", "id"]
