"""Template tags that show post-incident reviews on other apps' pages."""

from django import template
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q

from reviews.choices import OPEN_ACTION_STATUSES
from reviews.permissions import visible_reviews
from sla_registry.choices import ServiceTier

register = template.Library()


def _viewer(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user") or AnonymousUser()


@register.inclusion_tag("reviews/includes/last_drill.html", takes_context=True)
def last_drill(context, service):
    """The service's most recent drill the viewer may see, with its gaps (open action items); one query.

    A critical service with no drill says so, since critical services are expected to rehearse.
    """
    drill = (
        visible_reviews(_viewer(context))
        .filter(is_drill=True, services=service)
        .annotate(gaps=Count("action_items", filter=Q(action_items__status__in=OPEN_ACTION_STATUSES), distinct=True))
        .order_by("-started_at", "-pk")
        .first()
    )
    return {"drill": drill, "service": service, "expects_drills": service.tier == ServiceTier.CRITICAL}
