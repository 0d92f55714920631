"""A team's scorecard: its SLAs' attainment and breaches in a quarter, action items, approvals and reviews due.

Every figure is checked against a small fixed dataset, computed by hand in the comments. Its reviews are
published: only published reviews count (tests/insights/test_counted_figures.py covers drafts).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from approvals import actions as approval_actions
from core.moments import Quarter
from reviews.models import ActionItem
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.models import Measurement, Objective
from tests.conftest import GovernedSla, with_acknowledge

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # in 2026-Q4: 1 Oct 2026 to 31 Dec 2026 (UTC)
# The SLA's SEV1 target: acknowledge within 30 min. Acknowledged 37 min after detection: breached by 7 min.
BREACHING = {"detect": 5, "acknowledge": 42, "restore": 90, "resolve": 240}
MEETING = {"detect": 5, "acknowledge": 20, "restore": 90, "resolve": 240}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def url(slug, **query):
    return reverse("team_scorecard", args=[slug]), query


def day(month, number, year=2026):
    return datetime(year, month, number, tzinfo=UTC)


def measure(sla, start, good, total, indicator="Successful requests"):
    Measurement.objects.create(
        sla=sla, indicator=indicator, period_start=start, period_end=start + timedelta(days=1), good=good, total=total
    )


@pytest.fixture
def org(make_team, make_service, make_sla, make_user, make_matrix, admin_actor):
    payments, checkout, identity = make_team("Payments"), make_team("Checkout"), make_team("Identity")
    security = make_team("Security")
    committee = make_team("SLA Committee", is_sla_committee=True)
    api = make_service("Payments API", owner_team=payments)
    sla = make_sla(
        "Payments for Checkout",
        service=api,
        provider_team=payments,
        consumer_teams=[checkout],
        effective_from=NOW - timedelta(days=200),  # reviewed every 90 days from then: overdue since 110 days
    )
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    consumed = make_sla(
        "Identity for everyone",
        service=make_service("Identity API", owner_team=identity),
        provider_team=identity,
        consumer_teams=[payments, checkout],
        objectives=[Objective(indicator="Logins that succeed", target=Decimal("99.95"), unit="%")],
        effective_from=NOW - timedelta(days=20),
    )
    make_matrix(api, effective_from=NOW - timedelta(days=80))  # due in 10 days
    make_matrix(make_service("Payments worker", owner_team=payments), effective_from=NOW - timedelta(days=30))
    author = make_user("payments.engineer", teams=[payments])
    approvers = {
        team: make_user(f"{team.slug}.approver", approver_for=[team]) for team in (payments, checkout, committee)
    }
    return {
        "payments": payments,
        "security": security,
        "committee": committee,
        "api": api,
        "sla": sla,
        "consumed": consumed,
        "governed": GovernedSla(sla, payments, checkout, committee, author, approvers),
    }


@pytest.fixture
def reader(org, make_user):
    """A Payments engineer: not in Security, so Security's restricted reviews are hidden from them."""
    return make_user("reader", teams=[org["payments"]])


@pytest.fixture
def dataset(org, make_review, submit_acknowledge, frozen_now):
    sla, api, payments = org["sla"], org["api"], org["payments"]

    def make_review_published(*args, **fields):
        return make_review(*args, status="published", **fields)

    # Q4 so far: 99,950 + 99,800 good of 200,000 = 99.875 % < 99.9 %; 200 may fail, 250 did: budget -25 %.
    measure(sla, day(11, 1), 99_950, 100_000)
    measure(sla, day(11, 2), 99_800, 100_000)
    measure(sla, day(9, 30) - timedelta(days=1), 0, 100_000)  # ends 30 Sep: Q3
    measure(sla, day(11, 3), 10, 10, indicator="An objective since removed")

    breached = make_review_published(
        [api],
        started_at=day(11, 10),
        title="Gateway timeouts",
        action_items=[
            ActionItem(title="Alert on gateway 5xx", owner_team=payments, due_date=date(2026, 11, 28)),
            ActionItem(title="Add a canary", owner_team=payments, due_date=date(2026, 12, 10)),
            ActionItem(title="Write the runbook", owner_team=payments, status="done"),
        ],
        **BREACHING,
    )
    make_review_published([api], started_at=day(11, 12), title="Brief blip", **MEETING)
    make_review_published(
        [api], started_at=day(11, 14), title="Failover drill", is_drill=True, drill_kind="live", **BREACHING
    )
    make_review_published(
        [api],
        started_at=day(11, 15),
        title="Leaked key",
        is_restricted=True,
        restricted_to=[org["security"]],
        action_items=[ActionItem(title="Rotate the signing key", owner_team=payments, due_date=date(2026, 11, 1))],
        **BREACHING,
    )
    make_review_published([api], started_at=day(9, 20), title="Q3 outage", **BREACHING)

    frozen_now.move_to(NOW - timedelta(days=3))
    change_request = submit_acknowledge(org["governed"], 20)
    frozen_now.move_to(NOW)
    return {"breached": breached, "change_request": change_request}


def get(client, user, slug, **query):
    client.force_login(user)
    path, query = url(slug, **query)
    response = client.get(path, query)
    assert response.status_code == 200
    return response


def test_the_scorecard_shows_the_quarters_figures(client, reader, org, dataset):
    response = get(client, reader, "payments")
    context = response.context
    assert context["quarter"] == Quarter.of("2026-Q4")

    (provided,) = context["provided"]
    assert provided.sla == org["sla"]
    (attainment,) = provided.attainments
    assert (attainment.good, attainment.total, attainment.periods) == (199_750, 200_000, 2)
    assert attainment.ratio == Decimal("99.875")
    assert attainment.met is False
    assert attainment.budget_left == Decimal("-25")
    # One breached target in one incident: the meeting one, the drill, the Q3 one and the restricted one do not count.
    assert [(review.title, [str(check) for check in checks]) for review, checks in provided.breaching_reviews] == [
        ("Gateway timeouts", ["SEV1 acknowledge target 30 min, took 37 min: breached by 7 min"])
    ]
    assert (
        context["targets_missed_count"],
        context["incidents_breached_count"],
        context["below_target_count"],
    ) == (1, 1, 1)

    (consumed,) = context["consumed"]
    assert consumed.sla == org["consumed"]
    assert [(a.objective.indicator, a.has_data) for a in consumed.attainments] == [("Logins that succeed", False)]

    # Open items only, overdue first by due date; the restricted review's item stays hidden.
    assert [(item.title, item.is_overdue) for item in context["action_items"]] == [
        ("Alert on gateway 5xx", True),
        ("Add a canary", False),
    ]
    assert context["overdue_action_count"] == 1

    (waiting,) = context["approvals_waiting"]
    assert waiting.change_request == dataset["change_request"]
    assert waiting.age == timedelta(days=3)

    # The SLA (due 110 days ago) and the matrix due in 10 days; not the matrix due in 60.
    assert [(document.reference, document.is_overdue) for document in context["documents_due"]] == [
        (org["sla"].reference, True),
        (org["api"].escalation_matrix.reference, False),
    ]

    html = response.content.decode()
    assert "<h1>Payments scorecard · Q4 2026</h1>" in html
    assert "99.875%" in html and "Missed" in html and "overspent: -25.0%" in html
    assert "No measurements yet." in html
    assert "Leaked key" not in html and "Rotate the signing key" not in html
    assert dataset["change_request"].reference in html and "3 d" in html
    assert "style=" not in html.split("<main", 1)[-1]


def test_the_committee_sees_the_restricted_reviews_breach(client, org, dataset, make_user):
    member = make_user("committee.member", teams=[org["committee"]])
    context = get(client, member, "payments").context
    (provided,) = context["provided"]
    assert [review.title for review, _checks in provided.breaching_reviews] == ["Gateway timeouts", "Leaked key"]
    assert context["targets_missed_count"] == 2
    assert [item.title for item in context["action_items"]] == [
        "Rotate the signing key",
        "Alert on gateway 5xx",
        "Add a canary",
    ]


@pytest.mark.parametrize("quarter", ["2026Q3", "2026-Q3", "2026-q3"])
def test_another_quarter_can_be_chosen(client, reader, org, dataset, quarter):
    context = get(client, reader, "payments", quarter=quarter).context
    assert context["quarter"] == Quarter.of("2026-Q3")
    (provided,) = context["provided"]
    (attainment,) = provided.attainments
    # Only the period that ended on 30 September: 0 of 100,000.
    assert (attainment.good, attainment.total, attainment.ratio) == (0, 100_000, Decimal(0))
    assert [review.title for review, _checks in provided.breaching_reviews] == ["Q3 outage"]


def test_a_quarter_that_is_not_one_falls_back_to_the_current_with_a_message(client, reader, org):
    response = get(client, reader, "payments", quarter="last quarter")
    assert response.context["quarter"] == Quarter.of("2026-Q4")
    assert "Write a quarter as 2026-Q4. Showing Q4 2026 instead." in response.content.decode()


def test_a_team_with_nothing_shows_empty_states(client, make_team, make_user):
    make_team("Quiet Team")
    html = get(client, make_user(), "quiet-team").content.decode()
    for empty in (
        "This team provides no SLAs.",
        "This team consumes no SLAs.",
        "No open action items.",
        "No approvals waiting for this team.",
        "Nothing due for review in the next 14 days.",
    ):
        assert empty in html


def test_an_unknown_team_is_a_404(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("team_scorecard", args=["nobody"])).status_code == 404


def test_the_scorecard_reads_a_fixed_number_of_queries(
    client, reader, org, make_sla, make_service, make_review, admin_actor, django_assert_num_queries
):
    payments, author = org["payments"], org["governed"].author

    def add(count):
        for number in range(count):
            service = make_service(owner_team=payments)
            sla = make_sla(
                service=service,
                provider_team=payments,
                effective_from=NOW - timedelta(days=95),
                objectives=[
                    Objective(indicator="Requests that succeed", target=Decimal("99"), unit="%", position=1),
                    Objective(indicator="Latency, p95", target=Decimal("300"), unit="ms", position=2),
                ],
            )
            approval_actions.record_baseline_version(sla, acting_user=admin_actor)
            measure(sla, day(11, 1), 99, 100, indicator="Requests that succeed")
            change_request = approval_actions.propose_change(
                "sla",
                sla,
                data=with_acknowledge(ServiceLevelAgreementKind().snapshot(sla), 20),
                summary="Faster SEV1 acknowledgement",
                rationale="Checkout loses orders while nobody acknowledges.",
                acting_user=author,
            )
            approval_actions.submit_change_request(change_request, acting_user=author)
            make_review(
                [service],
                status="published",
                started_at=day(11, 5) + timedelta(hours=number),
                action_items=[ActionItem(title=f"Fix {number}", owner_team=payments, due_date=date(2026, 12, 1))],
                **BREACHING,
            )

    client.force_login(reader)
    path, _ = url("payments")
    # The session, the user, the navigation's approvals count; the team; the SLAs and their objectives;
    # the quarter's measurements; the reviews, their services, their pinned versions, the provider teams'
    # working weeks; the action items; the approvals waiting; the escalation matrices due; the quarters with
    # published incidents, for the quarter picker (one more than before the picker offered only quarters with data).
    expected = 15
    add(1)
    with django_assert_num_queries(expected):
        assert client.get(path).status_code == 200
    add(20)
    with django_assert_num_queries(expected):
        response = client.get(path)
    assert len(response.context["provided"]) == 22
    assert response.context["targets_missed_count"] == 21
    assert len(response.context["approvals_waiting"]) == 21
    assert len(response.context["action_items"]) == 21
