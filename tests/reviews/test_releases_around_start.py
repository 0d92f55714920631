"""A review's page says which releases were around the incident's start, from the calendars connected.

Reviews and releases never import each other; the page reads them through
insights.templatetags.insights (one query). The clock stands at 20 Nov 2026 12:00 UTC;
the incident started two days before, at 18 Nov 12:00.

Payments API depends on Card Vault. Three calendars are connected and imported as
people do (`import_ics`): Payments' release train (default service Payments API),
Platform changes (Card Vault) and Search releases (Search API, unrelated). What is
around the start: from 72 hours before to 24 hours after for releases and maintenance,
and freeze windows in force at the start, of the affected services and their
dependencies, and releases entered by hand too.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from insights.templatetags.insights import releases_around

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=2)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def stamp(moment):
    return moment.strftime("%Y%m%dT%H%M%SZ")


def ics(*events):
    """An iCalendar file of (uid, summary, start, end, status) events."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SLA Portal tests//EN", "X-WR-TIMEZONE:UTC"]
    for uid, summary, start, end, status in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@tests.example",
            f"DTSTAMP:{stamp(NOW - timedelta(days=7))}",
            f"DTSTART:{stamp(start)}",
            f"DTEND:{stamp(end)}",
            f"STATUS:{status}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def import_into(calendar, tmp_path, *events):
    path = tmp_path / f"{calendar.slug}.ics"
    path.write_text(ics(*events))
    call_command("import_ics", str(path), calendar=calendar.name, stdout=None)


def hour(offset):
    return START + timedelta(hours=offset)


@pytest.fixture
def connected(governed_sla, make_service, make_calendar, make_release, tmp_path):
    payments_api = governed_sla.sla.service
    vault = make_service("Card Vault", owner_team=governed_sla.provider)
    payments_api.dependencies.add(vault)
    search = make_service("Search API")
    train = make_calendar("Payments release train", team=governed_sla.provider, default_services=[payments_api])
    platform = make_calendar("Platform changes", default_services=[vault])
    search_calendar = make_calendar("Search releases", default_services=[search])
    import_into(
        train,
        tmp_path,
        ("pay-3", "Payments 2026.11.3 risk:high", hour(-10), hour(-9), "CONFIRMED"),
        ("freeze", "Black Friday freeze", hour(-24), hour(240), "CONFIRMED"),
        ("early", "Payments 2026.11.1", hour(-120), hour(-119), "CONFIRMED"),  # 5 days before: not around
        ("off", "Payments 2026.11.4", hour(-2), hour(-1), "CANCELLED"),  # called off: never happened
        ("after", "Payments 2026.11.5", hour(3), hour(4), "CONFIRMED"),
    )
    import_into(platform, tmp_path, ("vault", "Vault key rotation maintenance", hour(-20), hour(-19), "CONFIRMED"))
    import_into(search_calendar, tmp_path, ("search", "Search 2026.11.9", hour(-1), hour(0), "CONFIRMED"))
    by_hand = make_release("Payments hotfix", services=[payments_api], starts_at=hour(-30))
    return {"train": train, "platform": platform, "by_hand": by_hand}


@pytest.fixture
def review(governed_sla, make_review):
    return make_review([governed_sla.sla.service], started_at=START, title="Card payments failing")


def review_page(client, user, review):
    client.force_login(user)
    response = client.get(reverse("reviews:review_detail", args=[review.reference]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_review_lists_the_releases_around_its_start_from_the_connected_calendars(
    client, governed_sla, connected, review
):
    html = review_page(client, governed_sla.author, review)
    facts = html[html.index("<dt>Releases around the start</dt>") : html.index("<dt>Authors</dt>")]

    titles = [
        "Payments hotfix",
        "Black Friday freeze",
        "Vault key rotation maintenance",
        "Payments 2026.11.3 risk:high",
        "Payments 2026.11.5",
    ]
    positions = [facts.index(f">{title}</a>") for title in titles]
    assert positions == sorted(positions)  # earliest first
    for absent in ("Payments 2026.11.1", "Payments 2026.11.4", "Search 2026.11.9", "no release calendar"):
        assert absent not in html
    train = connected["train"]
    assert f'from the calendar <a href="{train.get_absolute_url()}">Payments release train</a>' in facts
    assert "release, high risk, started" in facts and "10 h before the start" in facts
    assert "3 h after the start" in facts
    assert "dependency Card Vault · from the calendar" in facts
    assert "freeze window, in force from" in facts
    assert "1 d 6 h before the start · Payments API · entered by hand" in facts


def test_a_review_with_nothing_around_its_start_says_none(client, governed_sla, connected, make_review):
    quiet = make_review([governed_sla.sla.service], started_at=NOW - timedelta(days=40), title="Quiet")
    html = review_page(client, governed_sla.author, quiet)
    assert (
        '<dt>Releases around the start</dt> <dd class="releases-around-start"> <p class="muted">None: no release, '
        "maintenance or freeze window of the affected services or their dependencies from 3 d before the start to "
        "1 d after it, in any release calendar or entered by hand.</p>"
    ) in html


def test_the_releases_are_read_in_one_query(governed_sla, connected, review, django_assert_num_queries):
    services = [service.pk for service in review.services.all()]
    with django_assert_num_queries(1):
        found = releases_around(services, review.started_at)
    assert [entry.release.title for entry in found][:2] == ["Payments hotfix", "Black Friday freeze"]
    vault = next(entry for entry in found if entry.release.title == "Vault key rotation maintenance")
    assert ([s.name for s in vault.services], [s.name for s in vault.dependencies]) == ([], ["Card Vault"])
    assert vault.started_before == timedelta(hours=20)
