"""Template tags that show, on other apps' pages, what only insights may read together.

Reviews and releases never import each other (the layers in pyproject.toml), so a
review's page learns which releases were around its incident's start from here:
`{% load insights %}{% releases_around_start review %}` in the review's template.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django import template
from django.db.models import Q

from releases.choices import ReleaseKind, ReleaseStatus
from releases.models import Release
from sla_registry.models import Service

register = template.Library()

# The on-call card's window: what shipped in the three days before, and during the first day after.
BEFORE_START = timedelta(hours=72)
AFTER_START = timedelta(hours=24)


@dataclass
class ReleaseAroundStart:
    """A release, maintenance or freeze window near an incident's start, and which concerned services it touched."""

    release: object
    started_before: timedelta  # how long before the incident's start it started (negative: after)
    services: list = field(default_factory=list)
    dependencies: list = field(default_factory=list)  # services the affected ones depend on

    @property
    def started_after(self):
        return -self.started_before


def releases_around(services, started_at):
    """Scheduled releases and maintenance of `services` (ids) and their dependencies that were under way between
    BEFORE_START before `started_at` and AFTER_START after it, and freeze windows in force at `started_at`, from
    every calendar and those entered by hand; earliest first. One query."""
    if started_at is None or not services:
        return []
    services = set(services)
    dependencies = Service.dependencies.through.objects.filter(from_service__in=services).values("to_service")
    nearby = Q(
        release__kind__in=[ReleaseKind.RELEASE, ReleaseKind.MAINTENANCE],
        release__starts_at__lte=started_at + AFTER_START,
        release__ends_at__gte=started_at - BEFORE_START,
    )
    freeze = Q(release__kind=ReleaseKind.FREEZE, release__starts_at__lte=started_at, release__ends_at__gte=started_at)
    concerned = (
        Release.services.through.objects.filter(Q(service__in=services) | Q(service__in=dependencies))
        .filter(nearby | freeze, release__status=ReleaseStatus.SCHEDULED)
        .select_related("release", "release__calendar", "service")
        .order_by("release__starts_at", "release_id", "service__name")
    )
    found = {}
    for row in concerned:
        entry = found.setdefault(row.release_id, ReleaseAroundStart(row.release, started_at - row.release.starts_at))
        (entry.services if row.service_id in services else entry.dependencies).append(row.service)
    return list(found.values())


@register.inclusion_tag("insights/includes/releases_around_start.html")
def releases_around_start(review):
    """The releases around a review's start, as facts of its page (inside a <dl>); one query."""
    return {
        "review": review,
        "releases": releases_around([service.pk for service in review.services.all()], review.started_at),
        "before": BEFORE_START,
        "after": AFTER_START,
    }
