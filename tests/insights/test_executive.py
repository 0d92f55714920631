"""The executive summary against hand-computed figures on a small, fixed organisation.

The clock stands at 20 May 2026 12:00 UTC, in Q2 2026 (1 April – 1 July).

Payments (engineering) runs Payments API (critical) under SLA A; Checkout runs
Basket (high) under SLA B; a draft SLA is not in force. Both SLAs promise, for
SEV1: acknowledge within 30 min, restore within 2 h, resolve within 1 day; there
is no SEV2 target. Incidents (minutes after the start: detect, acknowledge,
restore, resolve):

  R0  Q1  10 Feb  Payments API  SEV2  Capacity       20  50 120 300   no target
  Rq  Q4  5 Nov 2025  Payments  SEV3                  8  18  60 120   no target
  R1  Q2  10 Apr  Payments API  SEV1  Availability    5  20  90 240   within (acknowledged in 15)
  R2  Q2  2 May   Payments API  SEV1  Availability   10  60 180 600   breached: acknowledge 50 > 30, restore 180 > 120
  R3  Q2  5 May   Basket        SEV2  Performance     2  10  30  60   no target
  R4  Q2  12 May  Basket        SEV1  Security       30  40 100 200   within; RESTRICTED to Security
  D   Q2  10 May  Payments API  SEV1  drill        huge times        never counted

Leadership sees R4 (restricted reviews are visible to leadership and the committee);
an engineer of Payments does not. Every review here is published: only published
reviews count (tests/insights/test_counted_figures.py covers drafts).
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from approvals import actions as approval_actions
from insights.executive import Quarter, executive_summary, headline_figures, parse_quarter
from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus
from reviews.choices import ReviewStatus
from reviews.models import ActionItem
from sla_registry.choices import AgreementStatus, ServiceTier, TeamKind
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.models import Measurement
from tests.conftest import with_acknowledge

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
Q2 = Quarter.of("2026-Q2")


def minutes(value):
    return timedelta(minutes=value)


def at(*args):
    return datetime(*args, tzinfo=UTC)


class Org:
    """What the fixture built, by name."""


def change(sla, minutes_to_acknowledge, author, summary):
    current = ServiceLevelAgreementKind().snapshot(sla)
    change_request = approval_actions.propose_change(
        "sla",
        sla,
        data=with_acknowledge(current, minutes_to_acknowledge),
        summary=summary,
        rationale="Customers wait too long.",
        acting_user=author,
    )
    return approval_actions.submit_change_request(change_request, acting_user=author)


def approve(change_request, teams, approvers):
    for team in teams:
        change_request = approval_actions.decide_change_request(
            change_request, team, verdict="approve", comment="OK", acting_user=approvers[team]
        )
    return change_request


@pytest.fixture
def org(
    time_machine,
    make_team,
    make_user,
    make_service,
    make_sla,
    make_matrix,
    make_review,
    make_category,
    make_release,
    admin_actor,
):
    o = Org()
    time_machine.move_to(at(2026, 4, 2, 9), tick=False)
    o.payments = make_team("Payments")
    o.checkout = make_team("Checkout")
    o.security = make_team("Security", kind=TeamKind.SECURITY)
    o.committee = make_team("SLA Committee", kind=TeamKind.GOVERNANCE, is_sla_committee=True)
    o.leadership = make_team("Leadership", kind=TeamKind.LEADERSHIP)
    o.payments_api = make_service("Payments API", owner_team=o.payments, tier=ServiceTier.CRITICAL)
    o.basket = make_service("Basket", owner_team=o.checkout, tier=ServiceTier.HIGH)
    # SLA A is reviewed every two years (not due); SLA B yearly, so due on 1 Jan 2026: overdue.
    o.sla_a = make_sla(
        "Payments for Checkout",
        service=o.payments_api,
        consumer_teams=[o.checkout],
        effective_from=LONG_AGO,
        review_cadence_days=730,
    )
    o.sla_b = make_sla(
        "Basket for Payments",
        service=o.basket,
        consumer_teams=[o.payments],
        effective_from=LONG_AGO,
        review_cadence_days=365,
    )
    make_sla("Basket draft", service=o.basket, status=AgreementStatus.DRAFT, effective_from=LONG_AGO)
    for sla in (o.sla_a, o.sla_b):
        approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    # Reviewed every 300 days from 1 Jun 2025: due 28 Mar 2026, overdue.
    o.matrix = make_matrix(o.payments_api, effective_from=at(2025, 6, 1), review_cadence_days=300)

    o.leader = make_user("cto", teams=[o.leadership])
    o.engineer = make_user("pay.engineer", teams=[o.payments])
    o.approvers = {
        team: make_user(f"{team.slug}.approver", approver_for=[team]) for team in (o.payments, o.checkout, o.committee)
    }

    # CR2 on SLA B waits for everyone since 6 May.
    time_machine.move_to(at(2026, 5, 6, 9), tick=False)
    o.cr_waiting_long = change(o.sla_b, 20, o.engineer, "Faster basket acknowledgement")
    # CR1 on SLA A is approved by every team on 15 May: version 2 applies then.
    time_machine.move_to(at(2026, 5, 15, 9), tick=False)
    o.cr_applied = approve(
        change(o.sla_a, 20, o.engineer, "Faster payments acknowledgement"),
        (o.payments, o.checkout, o.committee),
        o.approvers,
    )
    # CR3 on SLA A: Payments approved on 18 May; Checkout and the committee have not.
    time_machine.move_to(at(2026, 5, 18, 9), tick=False)
    o.cr_waiting = approve(change(o.sla_a, 10, o.engineer, "Even faster"), (o.payments,), o.approvers)

    time_machine.move_to(NOW, tick=False)
    availability = make_category("Availability")
    performance = make_category("Performance")
    security = make_category("Security")
    capacity = make_category("Capacity")

    def review(services, started, times, **fields):
        detect, acknowledge, restore, resolve = times
        fields.setdefault("status", ReviewStatus.PUBLISHED)
        return make_review(
            services,
            started_at=started,
            detect=detect,
            acknowledge=acknowledge,
            restore=restore,
            resolve=resolve,
            **fields,
        )

    o.r_q4 = review([o.payments_api], at(2025, 11, 5, 10), (8, 18, 60, 120), severity="SEV3", title="Q4 2025")
    o.r0 = review([o.payments_api], at(2026, 2, 10, 10), (20, 50, 120, 300), severity="SEV2", category=capacity)
    o.r1 = review(
        [o.payments_api],
        at(2026, 4, 10, 10),
        (5, 20, 90, 240),
        category=availability,
        title="Card payments slow",
        action_items=[
            ActionItem(title="Alert on acquirer errors", owner_team=o.payments, due_date=date(2026, 5, 10)),
            ActionItem(title="Runbook for failover", owner_team=o.payments, due_date=date(2026, 5, 25)),
            ActionItem(
                title="Done already",
                owner_team=o.checkout,
                due_date=date(2026, 4, 30),
                status="done",
                completion_note="Shipped.",
            ),
        ],
    )
    o.r2 = review(
        [o.payments_api],
        at(2026, 5, 2, 8),
        (10, 60, 180, 600),
        category=availability,
        title="Payments down after a deploy",
        action_items=[
            ActionItem(title="Canary deploys", owner_team=o.checkout, due_date=date(2026, 5, 15), status="in_progress")
        ],
    )
    o.r3 = review([o.basket], at(2026, 5, 5, 15), (2, 10, 30, 60), severity="SEV2", category=performance)
    o.r4 = review(
        [o.basket],
        at(2026, 5, 12, 7),
        (30, 40, 100, 200),
        category=security,
        title="Leaked token",
        is_restricted=True,
        restricted_to=[o.security],
        action_items=[ActionItem(title="Rotate every token", owner_team=o.checkout, due_date=date(2026, 5, 1))],
    )
    o.drill = review(
        [o.payments_api],
        at(2026, 5, 10, 10),
        (60, 600, 900, 3000),
        category=availability,
        is_drill=True,
        drill_kind="tabletop",
        title="Tabletop",
    )

    # SLA A's objective (99.9 %) measured at 99.8 % in the 28 days before now: below target.
    # SLA B's at 99.95 %: met.
    for sla, good in ((o.sla_a, 99_800), (o.sla_b, 99_950)):
        Measurement.objects.create(
            sla=sla,
            indicator="Successful requests",
            period_start=at(2026, 5, 10),
            period_end=at(2026, 5, 17),
            good=good,
            total=100_000,
        )

    o.risky = make_release(
        "Payments 2.0", services=[o.payments_api], starts_at=at(2026, 5, 25, 10), risk=ReleaseRisk.HIGH
    )
    o.freeze = make_release(
        "Half-year freeze",
        services=[o.basket],
        starts_at=at(2026, 5, 30),
        lasts=timedelta(days=3),
        kind=ReleaseKind.FREEZE,
    )
    make_release("Small fix", services=[o.basket], starts_at=at(2026, 5, 22, 10), risk=ReleaseRisk.LOW)
    make_release("Too far", services=[o.basket], starts_at=at(2026, 6, 10, 10), risk=ReleaseRisk.HIGH)
    make_release(
        "Called off",
        services=[o.basket],
        starts_at=at(2026, 5, 23, 10),
        risk=ReleaseRisk.HIGH,
        status=ReleaseStatus.CANCELLED,
    )
    return o


# The figures, for leadership ---------------------------------------------------------


def test_agreements_in_force_by_tier_and_changed_this_quarter(org):
    summary = executive_summary(Q2, user=org.leader)

    tiers = [(row.label, row.count) for row in summary.in_force_by_tier]
    assert tiers == [("Critical", 1), ("High", 1), ("Standard", 0)]
    assert summary.in_force == 2  # the draft is not in force
    assert summary.changed_this_quarter == 1  # SLA A, version 2 on 15 May
    assert executive_summary(Quarter.of("2026-Q1"), user=org.leader).changed_this_quarter == 0


def test_incidents_by_severity_leave_drills_out_and_count_the_restricted_review_for_leadership(org):
    summary = executive_summary(Q2, user=org.leader)

    assert summary.incident_count == 4  # R1 R2 R3 R4; the drill is not an incident
    assert [(row.label, row.count) for row in summary.incidents_by_severity] == [
        ("SEV1 Critical", 3),
        ("SEV2 Major", 1),
        ("SEV3 Minor", 0),
        ("SEV4 Low", 0),
    ]
    assert (
        summary.incidents_by_severity[0].url
        == "/reviews/?quarter=2026-Q2&kind=incidents&status=published&severity=SEV1"
    )


def test_sla_attainment_per_sla_and_overall_from_the_pinned_versions(org):
    summary = executive_summary(Q2, user=org.leader)

    # R3 is SEV2, for which neither SLA has a target: not measured.
    assert (summary.measured_reviews, summary.breached_reviews, summary.within_reviews) == (3, 1, 2)
    assert summary.percent_within == 67
    assert [(row.reference, row.within, row.breached, row.percent_within) for row in summary.attainment] == [
        (org.sla_a.reference, 1, 1, 50),
        (org.sla_b.reference, 1, 0, 100),
    ]
    (breach,) = summary.breaches
    assert breach.review == org.r2
    assert breach.sla_reference == org.sla_a.reference
    # Measured against version 1 (30 min), in force on 2 May, not version 2 (20 min) applied on 15 May.
    assert [(check.measure, check.took, check.target) for check in breach.missed] == [
        ("acknowledge", minutes(50), minutes(30)),
        ("restore", minutes(180), minutes(120)),
    ]


def test_median_times_against_the_previous_quarter_with_a_four_quarter_trend(org):
    summary = executive_summary(Q2, user=org.leader)
    by_key = {trend.key: trend for trend in summary.times}

    # Q2 medians over R1 R2 R3 R4 (each an even count: the mean of the middle two).
    assert by_key["time_to_detect"].current == minutes(7.5)  # 2 5 10 30
    assert by_key["time_to_acknowledge"].current == minutes(12.5)  # 8 10 15 50
    assert by_key["time_to_restore"].current == minutes(95)  # 30 90 100 180
    assert by_key["time_to_resolve"].current == minutes(220)  # 60 200 240 600
    # Q1: R0 alone.
    assert [by_key[key].previous for key in by_key] == [minutes(20), minutes(30), minutes(120), minutes(300)]
    assert by_key["time_to_restore"].direction == "faster"
    assert by_key["time_to_restore"].change_size == minutes(25)
    assert by_key["time_to_detect"].previous_label == "Q1 2026"

    restore = by_key["time_to_restore"]
    assert [bar.quarter.label for bar in restore.bars] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert [bar.median for bar in restore.bars] == [None, minutes(60), minutes(120), minutes(95)]
    assert [bar.incidents for bar in restore.bars] == [0, 1, 1, 4]
    assert [bar.is_chosen for bar in restore.bars] == [False, False, False, True]
    # The longest median fills the plot; the others are in proportion; an empty quarter has no bar.
    assert restore.bars[2].height == 72
    assert restore.bars[1].height == 36
    assert restore.bars[0].height == 0


def test_most_frequent_categories_and_objectives_below_target(org):
    summary = executive_summary(Q2, user=org.leader)

    assert [(row.label, row.count) for row in summary.top_categories] == [
        ("Availability", 2),
        ("Performance", 1),
        ("Security", 1),
    ]
    (below,) = summary.objectives_below
    assert below.sla == org.sla_a
    assert below.ratio == Decimal("99.8")
    assert below.budget_left == Decimal("-100")  # 200 failed of the 100 allowed
    # Q1 is judged at its end (1 April), when there was no measurement yet.
    assert executive_summary(Quarter.of("2026-Q1"), user=org.leader).objectives_below == []


def test_overdue_action_items_by_team(org):
    summary = executive_summary(Q2, user=org.leader)

    # Open or in progress and due before today (20 May); done and future items are not overdue.
    assert [item.title for item in summary.overdue_actions] == [
        "Rotate every token",
        "Alert on acquirer errors",
        "Canary deploys",
    ]
    assert [(row.team.name, row.count, row.oldest_due) for row in summary.overdue_by_team] == [
        ("Checkout", 2, date(2026, 5, 1)),
        ("Payments", 1, date(2026, 5, 10)),
    ]
    assert summary.overdue_by_team[0].url == "/action-items/?team=checkout"


def test_approvals_waiting_oldest_first_with_the_teams_still_to_approve(org):
    summary = executive_summary(Q2, user=org.leader)

    assert [(waiting.change_request, waiting.waiting_for, waiting.age) for waiting in summary.approvals_waiting] == [
        (org.cr_waiting_long, ["Checkout", "Payments", "SLA Committee"], timedelta(days=14, hours=3)),
        (org.cr_waiting, ["Checkout", "SLA Committee"], timedelta(days=2, hours=3)),
    ]
    assert summary.approvals_waiting[0].waited == "14 days"


def test_documents_past_their_review_date(org):
    summary = executive_summary(Q2, user=org.leader)

    assert [(doc.reference, doc.due, doc.overdue_by.days) for doc in summary.documents_due] == [
        (org.sla_b.reference, at(2026, 1, 1), 139),
        (org.matrix.reference, at(2026, 3, 28), 53),
    ]


def test_high_risk_releases_and_freeze_windows_in_the_next_14_days(org):
    summary = executive_summary(Q2, user=org.leader)

    # Not the low-risk fix, not the cancelled one, not the one 21 days away.
    assert summary.upcoming == [org.risky, org.freeze]


def test_headline_tiles_say_the_figures_in_words(org):
    tiles = {tile.label: tile for tile in executive_summary(Q2, user=org.leader).headline}

    assert tiles["Agreements in force"].value == 2
    assert tiles["Incidents in Q2 2026"].value == 4
    assert tiles["Incidents in Q2 2026"].note == "3 SEV1, drills not counted"
    assert tiles["Incidents within SLA targets"].value == "67%"
    assert tiles["Incidents within SLA targets"].note == "1 of 3 incidents breached an SLA"
    assert (
        tiles["Incidents within SLA targets"].url
        == "/reviews/?quarter=2026-Q2&kind=incidents&status=published&breached=yes"
    )
    assert tiles["Median time to restore"].value == "1 h 35 min"
    assert tiles["Median time to restore"].note == "faster than Q1 2026"
    assert tiles["Overdue action items"].value == 3
    assert tiles["Approvals waiting"].value == 2
    assert tiles["Approvals waiting"].note == "oldest waiting 14 days"
    assert tiles["Documents past review date"].value == 2
    assert tiles["Risky releases and freezes, next 14 days"].note == "1 high-risk, 1 freeze window"


def test_headline_figures_for_the_home_page(org):
    assert [(tile.label, tile.value) for tile in headline_figures(org.leader).tiles] == [
        ("Incidents in Q2 2026", 4),
        ("Incidents within SLA targets", "67%"),
        ("Overdue action items", 3),
        ("Approvals waiting", 2),
    ]


# Who sees what --------------------------------------------------------------------


def test_restricted_review_is_left_out_for_those_who_may_not_see_it(org):
    summary = executive_summary(Q2, user=org.engineer)

    assert summary.incident_count == 3
    assert [(row.key, row.count) for row in summary.incidents_by_severity[:2]] == [("SEV1", 2), ("SEV2", 1)]
    assert (summary.measured_reviews, summary.breached_reviews) == (2, 1)
    assert [row.reference for row in summary.attainment] == [org.sla_a.reference]
    assert [row.label for row in summary.top_categories] == ["Availability", "Performance"]
    by_key = {trend.key: trend for trend in summary.times}
    assert by_key["time_to_detect"].current == minutes(5)  # 2 5 10
    assert by_key["time_to_restore"].current == minutes(90)  # 30 90 180
    # Its action item is hidden too.
    assert [item.title for item in summary.overdue_actions] == ["Alert on acquirer errors", "Canary deploys"]
    html = page(client_for(org.engineer))
    assert "Leaked token" not in html and org.r4.reference not in html
    assert "Rotate every token" not in export(client_for(org.engineer), "overdue-actions")


def test_leadership_sees_the_restricted_review_in_the_page(org):
    html = page(client_for(org.leader))
    assert "2 of 3 incidents within every response target (67%)" in html  # R4 within; R3 has no target
    assert "Rotate every token" in export(client_for(org.leader), "overdue-actions")


# Quarter boundaries -------------------------------------------------------------------


def test_an_incident_at_2359_on_the_last_day_belongs_to_that_quarter_and_0000_to_the_next(
    time_machine, make_service, make_review, make_user, make_team
):
    time_machine.move_to(at(2026, 7, 15, 12), tick=False)
    service = make_service("Ledger")
    reader = make_user(teams=[make_team("Leaders", kind=TeamKind.LEADERSHIP)])
    make_review(
        [service], started_at=at(2026, 6, 30, 23, 59), severity="SEV1", title="Late on 30 June", status="published"
    )
    make_review(
        [service], started_at=at(2026, 7, 1, 0, 0), severity="SEV2", title="Midnight, 1 July", status="published"
    )

    q2 = executive_summary(Quarter.of("2026-Q2"), user=reader)
    q3 = executive_summary(Quarter.of("2026-Q3"), user=reader)

    assert [(row.key, row.count) for row in q2.incidents_by_severity if row.count] == [("SEV1", 1)]
    assert [(row.key, row.count) for row in q3.incidents_by_severity if row.count] == [("SEV2", 1)]
    assert [bar.incidents for bar in q3.times[0].bars] == [0, 0, 1, 1]
    assert Quarter.of("2026-Q2").end == at(2026, 7, 1) == Quarter.of("2026-Q3").start


def test_quarters_parse_in_both_spellings_and_default_to_the_current_one(time_machine):
    time_machine.move_to(NOW, tick=False)
    assert parse_quarter("2026Q3") == (Quarter.of("2026-Q3"), None)
    assert parse_quarter("2025-q4") == (Quarter.of("2025-Q4"), None)
    assert parse_quarter("") == (Q2, None)
    assert parse_quarter(None) == (Q2, None)
    assert parse_quarter("2026Q5") == (Q2, "Write a quarter as 2026-Q4.")
    assert Quarter.of("2026-Q1").previous == Quarter.of("2025-Q4")
    assert Quarter.of("2025-Q4").next == Quarter.of("2026-Q1")


# The page and its exports ----------------------------------------------------------------


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def page(client, **params):
    response = client.get(reverse("executive_summary"), params)
    assert response.status_code == 200
    return response.content.decode()


def export(client, table, quarter="2026Q2"):
    response = client.get(reverse("executive_export", kwargs={"table": table}), {"quarter": quarter})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.content.decode()


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_every_figure_links_to_its_detail(org):
    html = page(client_for(org.leader), quarter="2026Q2")

    assert f'href="{org.r2.get_absolute_url()}" class="exec-breach-link">{org.r2.reference}</a>' in html
    assert f'href="{org.sla_a.get_absolute_url()}"' in html
    assert f'href="{org.cr_waiting_long.get_absolute_url()}"' in html
    assert 'href="/action-items/?team=checkout"' in html
    assert f'href="{org.risky.get_absolute_url()}"' in html
    assert f'href="{org.matrix.get_absolute_url()}"' in html
    assert 'href="/reviews/?quarter=2026-Q2&amp;kind=incidents&amp;status=published&amp;category=availability"' in html
    assert 'href="/reviews/metrics/?quarter=2026-Q2"' in html
    assert 'href="/executive/?quarter=2026-Q1" rel="prev"' in html
    assert 'href="/executive/export/breaches.csv?quarter=2026-Q2"' in html


def test_trend_charts_are_svg_without_scripts_or_inline_styles(org):
    html = page(client_for(org.leader))

    assert html.count('<svg class="trend-svg"') == 4
    label = "Median time to restore per quarter: Q3 2025 —; Q4 2025 1 h; Q1 2026 2 h; Q2 2026 1 h 35 min."
    assert f'aria-label="{label}"' in html
    assert "<script>" not in html and "style=" not in html


def test_a_bad_quarter_says_so_and_shows_the_current_one(org):
    client = client_for(org.leader)
    for bad in ("2026Q5", "next quarter", "99999-Q1"):
        html = page(client, quarter=bad)
        assert "Write a quarter as 2026-Q4. Showing Q2 2026, the current quarter." in html
        assert "<h1>Q2 2026" in html


def test_csv_exports_hold_the_tables(org):
    client = client_for(org.leader)

    assert rows(export(client, "breaches")) == [
        ["Review", "Title", "Severity", "Started", "SLA", "Response targets missed"],
        [
            org.r2.reference,
            "Payments down after a deploy",
            "SEV1",
            "2026-05-02 08:00",
            org.sla_a.reference,
            "SEV1 acknowledge target 30 min, took 50 min: breached by 20 min; "
            "SEV1 restore target 2 h, took 3 h: breached by 1 h",
        ],
    ]
    assert rows(export(client, "objectives-below-target"))[1] == [
        org.sla_a.reference,
        "Payments API",
        "Successful requests",
        "99.9%",
        "99.80",
        "-100.00",
        "2026-05-20 12:00",
    ]
    assert rows(export(client, "overdue-actions")) == [
        ["Team", "Action item", "Review", "Due", "Days overdue", "Status"],
        ["Checkout", "Rotate every token", org.r4.reference, "2026-05-01", "19", "Open"],
        ["Payments", "Alert on acquirer errors", org.r1.reference, "2026-05-10", "10", "Open"],
        ["Checkout", "Canary deploys", org.r2.reference, "2026-05-15", "5", "In progress"],
    ]
    assert rows(export(client, "approvals-waiting"))[1:] == [
        [
            org.cr_waiting_long.reference,
            "Faster basket acknowledgement",
            "pay.engineer",
            "2026-05-06 09:00",
            "Checkout, Payments, SLA Committee",
            "14",
        ],
        [org.cr_waiting.reference, "Even faster", "pay.engineer", "2026-05-18 09:00", "Checkout, SLA Committee", "2"],
    ]
    assert rows(export(client, "reviews-due"))[1:] == [
        [org.sla_b.reference, "Basket for Payments", "SLA", "Checkout", "2026-01-01 00:00", "139"],
        [org.matrix.reference, "Payments API escalation", "Escalation matrix", "Payments", "2026-03-28 00:00", "53"],
    ]
    assert rows(export(client, "upcoming-releases"))[1:] == [
        ["Payments 2.0", "Release", "High", "2026-05-25 10:00", "2026-05-25 11:00", "Payments API"],
        ["Half-year freeze", "Freeze window", "Low", "2026-05-30 00:00", "2026-06-02 00:00", "Basket"],
    ]


def test_csv_export_of_a_past_quarter_and_an_unknown_table(org):
    client = client_for(org.leader)
    assert rows(export(client, "breaches", quarter="2026-Q1")) == [
        ["Review", "Title", "Severity", "Started", "SLA", "Response targets missed"]
    ]
    response = client.get(reverse("executive_export", kwargs={"table": "salaries"}))
    assert response.status_code == 404


def test_csv_cells_that_look_like_formulas_are_kept_as_text(org):
    org.r2.title = "=HYPERLINK(1)"
    org.r2.save(update_fields=["title"])
    (_, breach) = rows(export(client_for(org.leader), "breaches"))
    assert breach[1] == "'=HYPERLINK(1)"


# Queries ----------------------------------------------------------------------------------


def build_units(count, *, make_team, make_service, make_sla, make_review, make_release, make_user, admin_actor):
    """`count` teams, each with a service, an SLA (baseline version), a breached SEV1 incident with an overdue
    action item, a past-due review date, a high-risk release and a change request waiting."""
    for index in range(count):
        team = make_team(f"Unit {index}")
        service = make_service(f"Unit {index} API", owner_team=team, tier=ServiceTier.CRITICAL)
        sla = make_sla(service=service, effective_from=LONG_AGO, review_cadence_days=30)
        approval_actions.record_baseline_version(sla, acting_user=admin_actor)
        author = make_user(teams=[team])
        change(sla, 20, author, f"Change {index}")
        make_review(
            [service],
            started_at=at(2026, 5, 1, 10) + timedelta(hours=index),
            acknowledge=90,
            severity="SEV1",
            status=ReviewStatus.PUBLISHED,
            action_items=[ActionItem(title=f"Fix {index}", owner_team=team, due_date=date(2026, 5, 1))],
        )
        make_review(
            [service], started_at=at(2026, 2, 1, 10) + timedelta(hours=index), severity="SEV1", status="published"
        )
        make_release(f"Big bang {index}", services=[service], starts_at=at(2026, 5, 25), risk=ReleaseRisk.HIGH)


@pytest.mark.parametrize("count", [1, 6])
def test_the_summary_reads_a_fixed_number_of_queries(
    count,
    time_machine,
    django_assert_num_queries,
    make_team,
    make_service,
    make_sla,
    make_review,
    make_release,
    make_user,
    make_category,
    admin_actor,
):
    time_machine.move_to(NOW, tick=False)
    make_team("SLA Committee", kind=TeamKind.GOVERNANCE, is_sla_committee=True)
    leader = make_user(teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])
    build_units(
        count,
        make_team=make_team,
        make_service=make_service,
        make_sla=make_sla,
        make_review=make_review,
        make_release=make_release,
        make_user=make_user,
        admin_actor=admin_actor,
    )
    Measurement.objects.create(
        sla=make_sla(service=make_service(), effective_from=LONG_AGO),
        indicator="Successful requests",
        period_start=at(2026, 5, 10),
        period_end=at(2026, 5, 17),
        good=0,
        total=10,
    )

    with django_assert_num_queries(16):
        summary = executive_summary(Q2, user=leader)
    assert summary.incident_count == count
    assert summary.breached_reviews == count
    assert len(summary.approvals_waiting) == count
    assert len(summary.upcoming) == count

    with django_assert_num_queries(7):
        headline_figures(leader)
