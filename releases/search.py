"""How releases, freeze windows and maintenance read in search; cancelled ones stay, marked."""

from django.utils import timezone

from search.registry import Dependency, SearchAdapter


def _releases_of(service):
    return [("release", pk) for pk in service.releases.values_list("pk", flat=True)]


class ReleaseAdapter(SearchAdapter):
    kind = "release"
    model = "releases.Release"
    m2m_fields = ("services",)
    # A renamed service is searchable under its new name in its releases too.
    children = (
        Dependency(
            "sla_registry.Service",
            lambda service: [("release", pk) for pk in service.releases.values_list("pk", flat=True)],
        ),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("calendar__team").prefetch_related("services")

    def document(self, release):
        services = list(release.services.all())
        starts = timezone.localtime(release.starts_at)
        team = release.calendar.team if release.calendar_id else None
        return {
            "title": release.title,
            "body": [
                f"{release.get_kind_display()} on {starts:%Y-%m-%d %H:%M}, {release.get_risk_display().lower()} risk"
                + (f", for {', '.join(service.name for service in services)}" if services else "")
                + ".",
                release.description,
                release.location,
                release.categories,
            ],
            "url": release.get_absolute_url(),
            "services": [(service.slug, service.name) for service in services],
            "teams": [(team.slug, team.name)] if team else [],
            "status": release.status,
            "status_label": f"{release.get_kind_display()} · {release.get_status_display()}",
            "is_archived": release.status == "cancelled",
            "updated_at": release.updated_at,
        }


ADAPTERS = [ReleaseAdapter()]
