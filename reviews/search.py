"""How post-incident reviews and their action items read in search.

Both carry the review's id and restricted flag: search filters them with the rule reviews
registers (reviews.permissions.restricted_reviews_sql), the same as reviews.permissions.visible_reviews.
"""

from django.db.models import Prefetch

from search.registry import Dependency, SearchAdapter


def _review_keys(row):
    return [("review", row.review_id)]


def _documents_naming_service(service):
    """Reviews show their services' names, and action items their review's services."""
    from reviews.models import ActionItem

    reviews = list(service.reviews.values_list("pk", flat=True))
    items = ActionItem.objects.filter(review__in=reviews).values_list("pk", flat=True)
    return [*(("review", pk) for pk in reviews), *(("action_item", pk) for pk in items)]


def _documents_naming_team(team):
    """An action item shows its owner team's name, and its review lists the item with it."""
    rows = team.action_items.values_list("pk", "review_id")
    return [key for pk, review_id in rows for key in (("action_item", pk), ("review", review_id))]


def _action_item_keys(item):
    return [("review", item.review_id), ("action_item", item.pk)]


class ReviewAdapter(SearchAdapter):
    kind = "review"
    model = "reviews.PostIncidentReview"
    m2m_fields = ("services", "journeys", "restricted_to")
    children = (
        Dependency("reviews.TimelineEntry", _review_keys),
        Dependency("reviews.ActionItem", _action_item_keys),
        # A renamed service or team is searchable under its new name here too.
        Dependency("sla_registry.Service", _documents_naming_service),
        Dependency("sla_registry.Team", _documents_naming_team),
    )

    def get_queryset(self):
        from reviews.models import ActionItem

        return (
            super()
            .get_queryset()
            .select_related("severity", "category")
            .prefetch_related(
                "services",
                "journeys",
                "timeline",
                Prefetch("action_items", ActionItem.objects.select_related("owner_team")),
            )
        )

    def document(self, review):
        services = list(review.services.all())
        items = list(review.action_items.all())
        return {
            "title": f"{review.reference} {review.title}",
            "body": [
                f"{review.severity.key} {review.severity.name}"
                + (f" {review.category.name}" if review.category else "")
                + (" drill" if review.is_drill else " incident")
                + f" affecting {', '.join(service.name for service in services)}."
                if services
                else "",
                ", ".join(journey.name for journey in review.journeys.all()),
                review.summary,
                review.customer_impact,
                review.trigger,
                review.root_causes,
                review.contributing_factors,
                review.detection,
                review.resolution,
                review.went_well,
                review.went_wrong,
                review.got_lucky,
                *(f"{entry.get_kind_display()}: {entry.entry}" for entry in review.timeline.all()),
                *(f"Action: {item.title} ({item.owner_team.name})" for item in items),
                review.links,
            ],
            "url": review.get_absolute_url(),
            "services": [(service.slug, service.name) for service in services],
            "teams": [(item.owner_team.slug, item.owner_team.name) for item in items],
            "status": review.status,
            "status_label": review.get_status_display() + (" · drill" if review.is_drill else ""),
            "visibility_key": review.pk,
            "is_restricted": review.is_restricted,
            "updated_at": review.updated_at,
        }

    def related_keys(self, review):
        # Action items show the review's services and inherit its restriction.
        return [("action_item", item.pk) for item in review.action_items.all()]


class ActionItemAdapter(SearchAdapter):
    kind = "action_item"
    model = "reviews.ActionItem"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("review", "owner_team", "assignee")
            .prefetch_related("review__services")
        )

    def document(self, item):
        review = item.review
        return {
            "title": item.title,
            "body": [
                f"{item.get_kind_display()} action, {item.get_priority_display().lower()} priority, "
                f"owned by {item.owner_team.name}, from {review.reference} {review.title}.",
                f"Due {item.due_date:%Y-%m-%d}." if item.due_date else "",
                item.completion_note,
                item.link,
            ],
            "url": item.get_absolute_url(),
            "services": [(service.slug, service.name) for service in review.services.all()],
            "teams": [(item.owner_team.slug, item.owner_team.name)],
            "status": item.status,
            "status_label": item.get_status_display(),
            "is_archived": item.status in ("done", "wont_do"),
            "visibility_key": review.pk,
            "is_restricted": review.is_restricted,
            "updated_at": item.completed_at or review.updated_at,
        }


ADAPTERS = [ReviewAdapter(), ActionItemAdapter()]
