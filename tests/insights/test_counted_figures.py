"""Figures count published reviews only: a junk draft never moves a headline figure, and shows as awaiting review.

The clock stands at 20 Nov 2026 12:00 UTC, in Q4 2026. Payments runs Payments API
under an SLA (SEV1: acknowledge within 30 min, restore within 2 h, resolve within
1 day). Six SEV1 incidents of the quarter have published reviews: five met every
target, one was acknowledged after 50 minutes. So the quarter reads "6 incidents,
83 % within SLA targets, 1 of 6 incidents breached an SLA".

Then somebody saves a junk draft: a SEV1 that ran 33 hours, never detected,
acknowledged or restored, with an overdue action item. Before reviews.counting, it
made the quarter "7 incidents, 86 %", counted as within SLA, because a target whose
point was never reached counted as met. Now the figures do not move, the draft is
listed as awaiting review, and, once published, the same incident counts as breaching
all three targets.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.moments import Quarter
from insights.executive import EXPORTS, executive_summary, headline_figures
from reviews.actions import submit_for_publication
from reviews.choices import ReviewStatus
from reviews.models import ActionItem
from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Q4 = Quarter.of("2026-Q4")
MEETING = {"detect": 5, "acknowledge": 20, "restore": 90, "resolve": 240}
LATE = {"detect": 5, "acknowledge": 55, "restore": 90, "resolve": 240}  # acknowledged 50 min after detection
JUNK = {"detect": None, "acknowledge": None, "restore": None, "resolve": 33 * 60}  # 33 hours, never acknowledged


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def quarter(governed_sla, make_review, make_team, make_user, make_category, admin_actor):
    """Six published SEV1 incidents in Q4 2026 on Payments API, one of them late to acknowledge; a leader."""
    service = governed_sla.sla.service
    availability = make_category("Availability")
    for day in range(6):
        make_review(
            [service],
            started_at=datetime(2026, 10, 25 + day, 9, tzinfo=UTC),
            title=f"Payments incident {day + 1}",
            category=availability,
            status=ReviewStatus.PUBLISHED,
            action_items=[ActionItem(title=f"Follow-up {day + 1}", owner_team=governed_sla.provider)],
            **(LATE if day == 0 else MEETING),
        )
    leader = make_user("cto", teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])
    return governed_sla, leader


def save_junk_draft(governed_sla, make_review):
    """The draft in the issue: saved today through reviews.actions.save_review, as the editor does."""
    return make_review(
        [governed_sla.sla.service],
        started_at=NOW - timedelta(hours=33),
        title="asdf",
        acting_user=governed_sla.author,
        action_items=[
            ActionItem(title="junk item", owner_team=governed_sla.provider, due_date=date(2026, 11, 1)),
        ],
        **JUNK,
    )


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def summary_figures(user):
    """Every figure of the executive summary, as plain values."""
    summary = executive_summary(Q4, user=user)
    return {
        "tiles": [(tile.label, tile.value, tile.note) for tile in summary.headline],
        "by_severity": [(row.label, row.count) for row in summary.incidents_by_severity],
        "categories": [(row.label, row.count) for row in summary.top_categories],
        "attainment": [(row.reference, row.within, row.breached, row.targets_missed) for row in summary.attainment],
        "measured": (summary.measured_reviews, summary.breached_reviews, summary.targets_missed),
        "times": [(trend.key, [bar.median for bar in trend.bars]) for trend in summary.times],
        "overdue": [item.title for item in summary.overdue_actions],
    }


def exports(client):
    """Every CSV table of the executive summary for Q4 2026."""
    return {
        table: client.get(reverse("executive_export", args=[table]), {"quarter": "2026-Q4"}).content.decode()
        for table in EXPORTS
    }


def scorecard_figures(client, team):
    context = client.get(reverse("team_scorecard", args=[team.slug])).context
    return {
        "incidents_breached": context["incidents_breached_count"],
        "targets_missed": context["targets_missed_count"],
        "below_target": context["below_target_count"],
        "breaching": [
            (review.title, [str(check) for check in checks])
            for row in context["provided"]
            for review, checks in row.breaching_reviews
        ],
        "action_items": [item.title for item in context["action_items"]],
        "overdue_actions": context["overdue_action_count"],
    }


def metrics_figures(client):
    context = client.get(reverse("reviews:review_metrics"), {"quarter": "2026-Q4"}).context
    (service_row,) = context["tables"][0][1]
    return {
        "incidents": len(context["incidents"].counted),
        "incidents_breached": len(context["incidents"].breached),
        "targets_missed": context["incidents"].targets_missed,
        "service_row": (service_row.incidents, service_row.breaches, service_row.figures),
    }


def test_the_quarter_reads_six_incidents_83_percent_within_sla(quarter):
    _, leader = quarter
    tiles = {label: (value, note) for label, value, note in summary_figures(leader)["tiles"]}

    assert tiles["Incidents in Q4 2026"][0] == 6
    assert tiles["Incidents within SLA targets"] == ("83%", "1 of 6 incidents breached an SLA")


def test_a_junk_draft_moves_no_executive_scorecard_metrics_csv_or_home_figure(quarter, make_review):
    governed_sla, leader = quarter
    client = client_for(leader)
    before = (
        summary_figures(leader),
        exports(client),
        [(tile.label, tile.value, tile.note) for tile in headline_figures(leader).tiles],
        scorecard_figures(client, governed_sla.provider),
        metrics_figures(client),
    )

    junk = save_junk_draft(governed_sla, make_review)

    after = (
        summary_figures(leader),
        exports(client),
        [(tile.label, tile.value, tile.note) for tile in headline_figures(leader).tiles],
        scorecard_figures(client, governed_sla.provider),
        metrics_figures(client),
    )
    assert junk.status == ReviewStatus.DRAFT
    assert after == before
    assert ("Incidents in Q4 2026", 6, "drills not counted") in after[2]
    assert "junk item" not in after[1]["overdue-actions"] and junk.reference not in after[1]["breaches"]


def test_the_draft_is_listed_apart_as_awaiting_review_on_every_page_with_figures(quarter, make_review):
    governed_sla, leader = quarter
    junk = save_junk_draft(governed_sla, make_review)
    client = client_for(leader)

    awaiting = (
        "<strong>Awaiting review:</strong> 1 incident whose review is not published yet, not counted in these figures:"
    )
    link = f'<a href="{junk.get_absolute_url()}">{junk.reference}</a> <span class="muted">asdf (draft)</span>'
    for path, query in (
        (reverse("executive_summary"), {}),
        (reverse("home"), {}),
        (reverse("team_scorecard", args=[governed_sla.provider.slug]), {}),
        (reverse("reviews:review_metrics"), {}),
    ):
        html = client.get(path, query).content.decode()
        assert awaiting in html, path
        assert link in html, path
    assert executive_summary(Q4, user=leader).awaiting_review == [junk]
    assert headline_figures(leader).awaiting_review == [junk]


def test_once_published_the_33_hour_unacknowledged_sev1_counts_as_breached(quarter, make_review, approve_all):
    governed_sla, leader = quarter
    junk = save_junk_draft(governed_sla, make_review)

    change_request = submit_for_publication(
        junk, summary="Publish", rationale="Reviewed.", acting_user=governed_sla.author
    )
    approve_all(governed_sla, change_request, teams=(governed_sla.provider, governed_sla.committee))
    junk.refresh_from_db()
    assert junk.status == ReviewStatus.PUBLISHED

    summary = executive_summary(Q4, user=leader)
    tiles = {tile.label: tile for tile in summary.headline}
    assert tiles["Incidents in Q4 2026"].value == 7
    # Not "86 %": never acknowledged in 33 hours is not within a 30-minute target.
    assert (tiles["Incidents within SLA targets"].value, tiles["Incidents within SLA targets"].note) == (
        "71%",
        "2 of 7 incidents breached an SLA",
    )
    (breach,) = [breach for breach in summary.breaches if breach.review == junk]
    assert [str(check) for check in breach.missed] == [
        "SEV1 acknowledge target 30 min: not reached in 1 d 9 h until resolved: breached by 1 d 8 h 30 min",
        "SEV1 restore target 2 h: not reached in 1 d 9 h until resolved: breached by 1 d 7 h",
        "SEV1 resolve target 1 d, took 1 d 9 h: breached by 9 h",
    ]
    assert summary.awaiting_review == []
    assert "junk item" in exports(client_for(leader))["overdue-actions"]


def test_an_unresolved_draft_that_later_gets_published_counts_its_running_clock(quarter, make_review, time_machine):
    """A review published while the incident is still open is measured up to now: over target, it has breached."""
    governed_sla, leader = quarter
    make_review(
        [governed_sla.sla.service],
        started_at=NOW - timedelta(minutes=45),
        title="Still open",
        status=ReviewStatus.PUBLISHED,
        detect=5,
        acknowledge=None,
        restore=None,
        resolve=None,
    )
    summary = executive_summary(Q4, user=leader)
    (breach,) = [breach for breach in summary.breaches if breach.review.title == "Still open"]
    assert [str(check) for check in breach.missed] == [
        "SEV1 acknowledge target 30 min: not reached in 40 min so far: breached by 10 min"
    ]

    # Ten minutes earlier the acknowledge clock was still within its target: not a breach yet.
    time_machine.move_to(NOW - timedelta(minutes=15), tick=False)
    summary = executive_summary(Q4, user=leader)
    assert [breach for breach in summary.breaches if breach.review.title == "Still open"] == []


def queries(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        result = function(*args, **kwargs)
    return len(captured.captured_queries), result


def test_drafts_cost_the_summary_and_the_home_page_no_query(quarter, make_review):
    governed_sla, leader = quarter
    summary_queries, _ = queries(executive_summary, Q4, user=leader)
    home_queries, _ = queries(headline_figures, leader)

    for _ in range(3):
        save_junk_draft(governed_sla, make_review)

    # Drafts are read in the same query as the counted reviews and split apart, so the counts pinned in
    # tests/insights/test_executive.py hold.
    assert queries(executive_summary, Q4, user=leader)[0] == summary_queries
    assert queries(headline_figures, leader)[0] == home_queries
    assert len(executive_summary(Q4, user=leader).awaiting_review) == 3


def test_csv_of_breaches_after_publication_names_the_response_targets_missed(quarter):
    _, leader = quarter
    (header, *body) = list(csv.reader(io.StringIO(exports(client_for(leader))["breaches"])))
    assert header == ["Review", "Title", "Severity", "Started", "SLA", "Response targets missed"]
    assert [row[1] for row in body] == ["Payments incident 1"]
