"""The last drill on a service's page: `{% last_drill service %}`."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import ActionItem
from sla_registry.choices import ServiceTier

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(make_team):
    return make_team("Platform")


@pytest.fixture
def database(make_service, platform):
    return make_service("PostgreSQL Cluster", owner_team=platform, tier=ServiceTier.CRITICAL)


def service_page(client, service):
    response = client.get(reverse("sla_registry:service_detail", args=[service.slug]))
    assert response.status_code == 200
    return response.content.decode()


def drill(make_review, service, *, days_ago, kind="tabletop", title=None, gaps=0, done=0, **fields):
    items = [
        ActionItem(title=f"Gap {number}", owner_team=service.owner_team, status=status)
        for number, status in enumerate(["open"] * gaps + ["done"] * done, start=1)
    ]
    return make_review(
        [service],
        started_at=timezone.now() - timedelta(days=days_ago),
        is_drill=True,
        drill_kind=kind,
        title=title or f"{kind.title()} drill {days_ago} days ago",
        action_items=items,
        **fields,
    )


def test_the_service_page_shows_the_last_drill_with_its_open_gaps(client, make_user, make_review, database):
    drill(make_review, database, days_ago=90, kind="tabletop", gaps=1)
    latest = drill(make_review, database, days_ago=10, kind="live", gaps=2, done=1)
    client.force_login(make_user())

    page = service_page(client, database)

    assert "Last drill" in page
    assert f'href="{latest.get_absolute_url()}"' in page
    assert latest.started_at.strftime("%-d %b %Y") in page
    assert "Live test of the escalation path" in page
    assert "2 gaps still open" in page
    assert "Tabletop" not in page
    assert "No drill recorded yet" not in page


def test_a_restricted_drill_is_not_shown_to_outsiders(client, make_user, make_team, make_review, database):
    security = make_team("Security")
    older = drill(make_review, database, days_ago=60, kind="tabletop", title="Open tabletop")
    secret = drill(
        make_review,
        database,
        days_ago=5,
        kind="live",
        title="Restricted breach drill",
        is_restricted=True,
        restricted_to=[security],
    )

    client.force_login(make_user(teams=[security]))
    assert secret.get_absolute_url() in service_page(client, database)

    client.force_login(make_user())
    page = service_page(client, database)
    assert secret.get_absolute_url() not in page and "Live test" not in page
    assert older.get_absolute_url() in page


def test_a_critical_service_without_drills_says_so(client, make_user, make_service, make_review, platform, database):
    recommendations = make_service("Recommendations", owner_team=platform, tier=ServiceTier.STANDARD)
    make_review([database], title="A real incident, not a drill")
    client.force_login(make_user())

    assert "No drill recorded yet" in service_page(client, database)
    page = service_page(client, recommendations)
    assert "Last drill" not in page and "No drill recorded yet" not in page
