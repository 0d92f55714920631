"""Pages agree with each other and with themselves.

- One vocabulary: "incidents that breached an SLA" and "response targets missed" are two
  figures with two labels on every page and export, and they differ when an incident
  misses more than one target.
- One way to write and choose a quarter: "Q4 2026" on every page, chosen from a select of
  the quarters with data (plus the current one), with the previous and next quarters.
- A scorecard names its team in its heading.
- An SLA "last reviewed 2 Nov 2026" does not also say the committee has not reviewed it.

The clock stands at 20 Nov 2026 12:00 UTC, in Q4 2026.
"""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from reviews.choices import ReviewStatus
from sla_registry.choices import TeamKind
from sla_registry.models import ServiceLevelAgreement
from sla_registry.review_cycle import record_periodic_review

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Acknowledged 50 min after detection (target 30 min) and restored after 3 h (target 2 h): two targets, one incident.
TWO_MISSED = {"detect": 5, "acknowledge": 55, "restore": 180, "resolve": 240}
MEETING = {"detect": 5, "acknowledge": 20, "restore": 90, "resolve": 240}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def world(governed_sla, make_review, make_team, make_user, make_service):
    service = governed_sla.sla.service
    published = {"status": ReviewStatus.PUBLISHED}
    make_review(
        [service], started_at=datetime(2026, 11, 2, 9, tzinfo=UTC), title="Slow acks", **published, **TWO_MISSED
    )
    make_review([service], started_at=datetime(2026, 11, 9, 9, tzinfo=UTC), title="Fine", **published, **MEETING)
    make_review([service], started_at=datetime(2026, 5, 9, 9, tzinfo=UTC), title="In Q2", **published, **MEETING)
    # Q3 2026 has only a draft, Q1 2026 only a restricted review: neither is data for an outsider's select.
    make_review([service], started_at=datetime(2026, 8, 9, 9, tzinfo=UTC), title="Draft in Q3", **MEETING)
    security = make_team("Security", kind=TeamKind.SECURITY)
    make_review(
        [service],
        started_at=datetime(2026, 2, 9, 9, tzinfo=UTC),
        title="Restricted in Q1",
        is_restricted=True,
        restricted_to=[security, governed_sla.provider],
        **published,
        **MEETING,
    )
    leader = make_user("cto", teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])
    outsider = make_user("checkout.engineer", teams=[governed_sla.consumer])
    return governed_sla, leader, outsider


def page(user, path, **query):
    client = Client()
    client.force_login(user)
    response = client.get(path, query)
    assert response.status_code == 200, path
    return " ".join(response.content.decode().split())


def visible_text(html):
    """What a reader sees: no tags, so no attribute values (addresses and form values keep "2026-Q4")."""
    main = html.split("<main", 1)[-1]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def pages(governed_sla):
    return {
        "executive summary": reverse("executive_summary"),
        "scorecard": reverse("team_scorecard", args=[governed_sla.provider.slug]),
        "incident metrics": reverse("reviews:review_metrics"),
    }


# One vocabulary -------------------------------------------------------------------------


def test_incidents_that_breached_and_targets_missed_are_two_figures_with_two_labels(world):
    governed_sla, leader, _ = world
    executive = page(leader, reverse("executive_summary"))
    scorecard = page(leader, reverse("team_scorecard", args=[governed_sla.provider.slug]))
    metrics = page(leader, reverse("reviews:review_metrics"))

    assert "1 of 2 incidents breached an SLA" in executive  # the headline tile
    assert '<strong class="exec-incidents-breached">1</strong> incident that breached an SLA' in executive
    assert '<strong class="exec-targets-missed">2</strong> response targets missed' in executive
    assert "Incidents that<br>breached it</th>" in executive
    assert '<th scope="col">Response targets missed</th>' in executive
    assert "<strong>1</strong> incident that breached an SLA</li>" in scorecard
    assert "<strong>2</strong> response targets missed</li>" in scorecard
    assert (
        "<strong>1</strong> incident that breached this SLA, <strong>2</strong> response targets missed:" in scorecard
    )
    assert "<strong>1</strong> incident that breached an SLA, <strong>2</strong> response targets missed." in metrics
    # The old, ambiguous count is gone: "2 SLA breaches" meant targets on one page and incidents on another.
    for html in (executive, scorecard, metrics):
        assert not re.search(r"\d+</strong> (SLA )?breach", html)


def test_the_review_list_and_the_breaches_export_count_targets_missed(world):
    _, leader, _ = world
    listing = page(leader, reverse("reviews:review_list"))
    assert '<th scope="col">Response targets missed</th>' in listing
    assert '<span class="badge badge-bad">2 missed</span>' in listing

    client = Client()
    client.force_login(leader)
    breaches = client.get(reverse("executive_export", args=["breaches"]), {"quarter": "2026Q4"}).content.decode()
    assert breaches.splitlines()[0] == "Review,Title,Severity,Started,SLA,Response targets missed"


# One way to write and choose a quarter ----------------------------------------------------------


def test_every_quarter_page_writes_q4_2026_and_offers_the_quarters_with_data(world):
    governed_sla, leader, _ = world
    for name, path in pages(governed_sla).items():
        html = page(leader, path)
        text = visible_text(html)
        assert "Q4 2026" in text, name
        assert not re.search(r"\b20\d\d-Q[1-4]\b", text), f"{name} writes a quarter as 2026-Q4"
        select = re.search(r'<select id="quarter-picker" name="quarter">(.*?)</select>', html).group(1)
        # Q4 (current, with data), Q2 (data), Q1 (a restricted review leadership may read); not Q3 (a draft only).
        assert re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select) == [
            ("2026-Q4", "Q4 2026"),
            ("2026-Q2", "Q2 2026"),
            ("2026-Q1", "Q1 2026"),
        ], name
        assert '<option value="2026-Q4" selected>' in select, name
        assert f'href="{path}?quarter=2026-Q3" rel="prev">← Q3 2026</a>' in html, name
        assert 'rel="next"' not in html, name  # Q1 2027 has not started


def test_a_past_quarter_is_chosen_the_same_way_on_every_page(world):
    governed_sla, leader, _ = world
    for name, path in pages(governed_sla).items():
        html = page(leader, path, quarter="2026Q2")
        assert "Q2 2026" in visible_text(html), name
        assert '<option value="2026-Q2" selected>' in html, name
        assert f'href="{path}?quarter=2026-Q1" rel="prev">← Q1 2026</a>' in html, name
        assert f'href="{path}?quarter=2026-Q3" rel="next">Q3 2026 →</a>' in html, name


def test_a_quarter_without_data_is_still_offered_when_it_is_shown(world):
    _, leader, _ = world
    html = page(leader, reverse("executive_summary"), quarter="2025-Q3")
    assert '<option value="2025-Q3" selected>Q3 2025</option>' in html


def test_a_restricted_review_the_reader_may_not_see_adds_no_quarter(world):
    _, _, outsider = world
    html = page(outsider, reverse("reviews:review_metrics"))
    select = re.search(r'<select id="quarter-picker" name="quarter">(.*?)</select>', html).group(1)
    assert "Q1 2026" not in select and "Q2 2026" in select


def test_the_review_list_filters_by_the_same_quarters_written_the_same_way(world):
    _, leader, _ = world
    html = page(leader, reverse("reviews:review_list"), quarter="2026Q4")
    select = re.search(r'<select name="quarter" id="id_quarter">(.*?)</select>', html).group(1)
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', select) == [
        ("", "Any quarter"),
        ("2026-Q4", "Q4 2026"),
        ("2026-Q2", "Q2 2026"),
        ("2026-Q1", "Q1 2026"),
    ]
    assert '<option value="2026-Q4" selected>' in select
    assert "Slow acks" in html and "In Q2" not in html


def test_the_executive_links_to_the_published_reviews_it_counts(world):
    _, leader, _ = world
    html = page(leader, reverse("executive_summary"))
    assert 'href="/reviews/?quarter=2026-Q4&amp;kind=incidents&amp;status=published&amp;breached=yes"' in html


# The scorecard's heading ------------------------------------------------------------------------


def test_the_scorecard_names_its_team_in_the_heading(world):
    governed_sla, leader, _ = world
    html = page(leader, reverse("team_scorecard", args=[governed_sla.provider.slug]))
    assert "<h1>Payments scorecard · Q4 2026</h1>" in html
    assert "<title>Payments scorecard Q4 2026" in html


# Last reviewed ------------------------------------------------------------------------------------


def test_an_sla_last_reviewed_on_a_date_does_not_say_it_was_never_reviewed(governed_sla):
    sla = governed_sla.sla
    # Reviewed on 2 Nov 2026 as an import or the demo data record it: the date, without the committee's notes.
    ServiceLevelAgreement.objects.filter(pk=sla.pk).update(last_reviewed_at=datetime(2026, 11, 2, 10, tzinfo=UTC))

    html = page(governed_sla.author, sla.get_absolute_url())

    assert "<dt>Last reviewed</dt> <dd><time" in html and ">2 Nov 2026</time></dd>" in html
    assert "has not recorded a periodic review" not in html
    assert "Last reviewed <time" in html and "recorded without the committee's outcome and notes" in html


def test_an_sla_never_reviewed_says_so_in_both_places(governed_sla):
    html = page(governed_sla.author, governed_sla.sla.get_absolute_url())
    assert "<dt>Last reviewed</dt> <dd>Never</dd>" in html
    assert f"The SLA committee has not recorded a periodic review of {governed_sla.sla.reference} yet." in html


def test_a_recorded_periodic_review_is_listed_with_its_date(governed_sla, make_user):
    member = make_user("committee.member", teams=[governed_sla.committee])
    record_periodic_review(governed_sla.sla, outcome="unchanged", note="Targets still fit.", acting_user=member)

    html = page(governed_sla.author, governed_sla.sla.get_absolute_url())
    assert ">20 Nov 2026</time></dd>" in html  # last reviewed
    assert "Targets still fit." in html
    assert "has not recorded a periodic review" not in html and "without the committee's outcome" not in html
