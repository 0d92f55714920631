"""Post-incident reviews and their action items over the API, through the one visibility rule:
a restricted review, and every action item of it, is absent for those who may not see it."""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import viewsets

from approvals.api.governed import GovernedDocumentViewSet, governed_document_examples
from reviews.api.examples import REVIEW_EXAMPLE_DOCUMENT, REVIEW_EXAMPLE_EARLIER
from reviews.api.serializers import ActionItemSerializer, ReviewSerializer
from reviews.choices import OPEN_ACTION_STATUSES, ActionStatus, Priority, ReviewStatus
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import visible_reviews
from sla_registry.models import Service


class ReviewFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="services__slug", distinct=True)
    severity = django_filters.CharFilter(field_name="severity__key")
    category = django_filters.CharFilter(field_name="category__slug")
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = PostIncidentReview
        fields = ["service", "severity", "category", "status", "is_drill", "started_after", "started_before"]


@governed_document_examples(
    reference="PIR-0003",
    url="/reviews/PIR-0003/",
    kind="review",
    document=REVIEW_EXAMPLE_DOCUMENT,
    earlier=REVIEW_EXAMPLE_EARLIER,
    versions=[
        {
            "number": 2,
            "effective_at": "2026-07-24T14:31:09Z",
            "recorded_at": "2026-07-24T14:31:09Z",
            "content_hash": "fbba636e46205fc631f83ab894414581290ce8cb088df3a1cffef7f812729c2b",
            "change_request": "CR-0045",
        },
        {
            "number": 1,
            "effective_at": "2026-07-17T10:12:40Z",
            "recorded_at": "2026-07-17T10:12:40Z",
            "content_hash": "6e88b75a6b303831c0fc419fd8b9f60a6349b0564963ef5e1a490e0eca259e03",
            "change_request": "CR-0041",
        },
    ],
    changes=["Customers affected: 8700 → 9400"],
    fields=[{"path": "customers_affected", "old": "8700", "new": "9400"}],
)
class ReviewViewSet(GovernedDocumentViewSet):
    """Blameless post-incident reviews: timeline, impact, root cause, action items, pinned terms."""

    kind_key = "review"
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["started_at", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        queryset = PostIncidentReview.objects.select_related("severity", "category").prefetch_related(
            Prefetch("services", Service.objects.only("pk", "slug"))
        )
        return visible_reviews(self.request.user, queryset)


class ActionItemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    owner_team = django_filters.CharFilter(field_name="owner_team__slug")
    review = django_filters.CharFilter(method="filter_review", help_text="A review reference, e.g. PIR-0003.")
    service = django_filters.CharFilter(field_name="review__services__slug", distinct=True)
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="Open and past its due date.")

    class Meta:
        model = ActionItem
        fields = ["status", "priority", "owner_team", "review", "service", "overdue"]

    def filter_review(self, queryset, name, value):
        pk = PostIncidentReview.pk_from_reference(value.strip())
        return queryset.filter(review_id=pk) if pk is not None else queryset.none()

    def filter_overdue(self, queryset, name, value):
        overdue = {"due_date__lt": timezone.localdate(), "status__in": OPEN_ACTION_STATUSES}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class ActionItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Action items from post-incident reviews: who owns each, when it is due, and whether it is done."""

    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    ordering_fields = ["due_date", "priority", "id"]
    ordering = ["due_date", "id"]

    def get_queryset(self):
        return ActionItem.objects.filter(review__in=visible_reviews(self.request.user)).select_related(
            "review", "owner_team", "assignee"
        )
