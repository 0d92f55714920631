"""Post-incident reviews and their action items over the API, through the one visibility rule:
a restricted review, and every action item of it, is absent for those who may not see it."""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import viewsets

from approvals.api.governed import GovernedDocumentViewSet, governed_document_examples
from reviews.api.serializers import ActionItemSerializer, ReviewSerializer
from reviews.choices import OPEN_ACTION_STATUSES, ActionStatus, Priority, ReviewStatus
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import visible_reviews
from sla_registry.models import Service

# The review the examples tell of: PIR-0003 as published, then corrected by CR-0045 once billing
# had counted the customers affected.
REVIEW_EXAMPLE_DOCUMENT = {
    "title": "Card payments failed while the primary acquirer was down",
    "severity": "SEV1",
    "category": "third-party",
    "services": ["checkout-api", "payments-gateway"],
    "journeys": ["check-out-and-pay"],
    "is_drill": False,
    "drill_kind": "",
    "is_restricted": False,
    "restricted_to": [],
    "started_at": "2026-07-12T19:04:00Z",
    "detected_at": "2026-07-12T19:08:00Z",
    "acknowledged_at": "2026-07-12T19:30:00Z",
    "restored_at": "2026-07-12T20:56:00Z",
    "resolved_at": "2026-07-13T19:04:00Z",
    "summary": (
        "Our primary acquirer had a partial outage during the evening peak. Authorisations through it timed out "
        "after 30 s until Payments routed traffic to the failover acquirer by hand."
    ),
    "customer_impact": "About **38 %** of card payments failed for 108 minutes at peak; wallet payments worked.",
    "trigger": "The acquirer's authorisation endpoint timed out for four in ten requests after a network change.",
    "root_causes": "- Failover to the second acquirer is a manual flag.\n- The gateway waits 30 s for an answer.",
    "contributing_factors": "- The acquirer's status page stayed green for the first 50 minutes.",
    "detection": "The SLO burn-rate alert fired 4 minutes after the timeouts started.",
    "resolution": "Payments switched `payments.acquirer.routing` to the failover acquirer and retried the queue.",
    "went_well": "- The failover acquirer took the whole load without errors.",
    "went_wrong": "- Acknowledgement took 22 minutes against the SLA's 15.",
    "got_lucky": "- The outage began after the evening's marketing email had gone out, not before.",
    "links": "https://grafana.example.com/d/payments-slo",
    "customers_affected": 9400,
    "support_contacts": 1130,
    "status": "published",
    "timeline": [
        {
            "at": "2026-07-12T19:04:00Z",
            "entry": "Acquirer timeouts start: 38 % of authorisations wait 30 s and fail.",
            "kind": "trigger",
        },
        {
            "at": "2026-07-12T19:08:00Z",
            "entry": "Payments SLO burn-rate alert fires; primary on-call paged.",
            "kind": "detection",
        },
        {
            "at": "2026-07-12T19:30:00Z",
            "entry": "Secondary on-call acknowledges and declares a SEV1 in #incidents.",
            "kind": "escalation",
        },
        {
            "at": "2026-07-12T20:56:00Z",
            "entry": "Traffic on the failover acquirer; approval rate back to normal.",
            "kind": "resolution",
        },
    ],
    "action_items": [
        {
            "title": "Alert on timeouts per acquirer, separate from issuer declines",
            "kind": "detect",
            "owner_team": "payments",
            "assignee": "payments.engineer",
            "due_date": "2026-08-09",
            "priority": "medium",
            "link": "https://tickets.basketly.example/browse/PAY-1414",
        },
        {
            "title": "Fail over to the second acquirer automatically when one acquirer's timeouts pass 10 %",
            "kind": "prevent",
            "owner_team": "payments",
            "assignee": "payments.engineer",
            "due_date": "2026-08-11",
            "priority": "high",
            "link": "https://tickets.basketly.example/browse/PAY-1412",
        },
    ],
}
REVIEW_EXAMPLE_EARLIER = {"customers_affected": 8700}


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
