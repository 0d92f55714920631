"""The home page puts first what the person does most: approving, reading the summary, or answering an incident."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from approvals import actions as approval_actions
from sla_registry.choices import TeamKind
from sla_registry.documents import ServiceLevelAgreementKind
from tests.conftest import with_acknowledge

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)

# Every home page: the session, the user, their teams, the approvals waiting for them, four overview counts and
# the navigation's approvals count (9); someone in a team also reads that team's services (10). Leadership adds
# the headline: the quarter's incidents and their pinned versions, overdue action items, change requests in
# review (4; a list that comes back empty skips its prefetches).


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def position(html, text):
    assert text in html, f"{text!r} is not on the page"
    return html.index(text)


@pytest.fixture
def waiting_request(governed_sla):
    """A change to the Payments SLA, submitted two days ago, that every team still has to approve."""
    current = ServiceLevelAgreementKind().snapshot(governed_sla.sla)
    change_request = approval_actions.propose_change(
        "sla",
        governed_sla.sla,
        data=with_acknowledge(current, 10),
        summary="Faster SEV1 acknowledgement",
        rationale="Checkout loses orders while nobody acknowledges.",
        acting_user=governed_sla.author,
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    change_request.submitted_at = NOW - timedelta(days=2)
    change_request.save(update_fields=["submitted_at"])
    return change_request


def test_an_approver_sees_the_approvals_waiting_first(client, governed_sla, waiting_request, django_assert_num_queries):
    approver = governed_sla.approvers[governed_sla.consumer]

    client.force_login(approver)
    with django_assert_num_queries(10):
        html = home(client)

    first = position(html, "Waiting for your approval")
    assert first < position(html, "The portal")
    assert f'href="{waiting_request.get_absolute_url()}"' in html
    assert f"{waiting_request.reference} Faster SEV1 acknowledgement" in html
    assert "for Checkout · by payments.engineer · submitted 2\xa0days ago" in html
    assert 'href="/changes/approvals/">Open My approvals' in html
    assert "This quarter at a glance" not in html  # not leadership
    assert 'id="home-search-q"' not in html  # owns no service


def test_an_engineer_sees_search_and_the_oncall_cards_of_their_teams_services(
    client, make_team, make_service, make_user, django_assert_num_queries
):
    payments = make_team("Payments")
    make_service("Payments API", owner_team=payments)
    make_service("Refunds", owner_team=payments)
    make_service("Basket", owner_team=make_team("Checkout"))
    engineer = make_user("pay.engineer", teams=[payments])

    client.force_login(engineer)
    with django_assert_num_queries(10):
        html = home(client)

    assert position(html, "During an incident") < position(html, "The portal")
    assert 'action="/search/"' in html and 'id="home-search-q" name="q"' in html
    assert '<a href="/services/payments-api/oncall/">Payments API</a>' in html
    assert '<a href="/services/refunds/oncall/">Refunds</a>' in html
    assert "/services/basket/oncall/" not in html  # another team's service
    assert "Waiting for your approval" not in html
    assert "This quarter at a glance" not in html


def test_the_engineers_home_reads_as_many_queries_for_many_services(
    client, make_team, make_service, make_user, django_assert_num_queries
):
    payments = make_team("Payments")
    for index in range(8):
        make_service(f"Payments service {index}", owner_team=payments)
    engineer = make_user(teams=[payments])

    client.force_login(engineer)
    with django_assert_num_queries(10):
        html = home(client)
    assert html.count("/oncall/") == 8


@pytest.mark.parametrize("kind", ["leadership", "committee"])
def test_leadership_and_the_committee_see_the_headline_figures_first(
    kind, client, make_team, make_service, make_user, make_review, django_assert_num_queries
):
    if kind == "leadership":
        team = make_team("Executives", kind=TeamKind.LEADERSHIP)
    else:
        team = make_team("SLA Committee", kind=TeamKind.GOVERNANCE, is_sla_committee=True)
    reader = make_user(teams=[team])
    service = make_service("Ledger")
    make_review([service], started_at=datetime(2026, 4, 3, 9, tzinfo=UTC), status="published")
    make_review(
        [service],
        started_at=datetime(2026, 5, 3, 9, tzinfo=UTC),
        is_drill=True,
        drill_kind="tabletop",
        status="published",
    )

    client.force_login(reader)
    with django_assert_num_queries(14):
        html = home(client)

    assert position(html, "This quarter at a glance") < position(html, "The portal")
    tile = '<span class="exec-tile-value">1</span>\n      <span class="exec-tile-label">Incidents in Q2 2026</span>'
    assert tile in html
    assert 'href="/executive/">Read the executive summary' in html
    assert 'id="home-search-q"' not in html  # their team owns no service


def test_someone_with_no_team_keeps_the_portal_overview(client, make_user, make_sla, django_assert_num_queries):
    make_sla()
    reader = make_user()

    client.force_login(reader)
    with django_assert_num_queries(9):
        html = home(client)

    assert '<span class="figure">1</span> active SLAs' in html
    assert 'href="/executive/">Executive summary of this quarter' in html
    for personal in ("Waiting for your approval", "This quarter at a glance", "During an incident", "Your teams"):
        assert personal not in html
