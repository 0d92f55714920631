"""The SLA page's attainment panel: each objective over its current window, against hand-computed figures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sla_registry.models import Measurement, Objective
from tests.html import fragment, table_row, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader_client(client, make_user):
    client.force_login(make_user("reader"))
    return client


def measure(sla, indicator, days_ago, good, total):
    end = timezone.now() - timedelta(days=days_ago)
    Measurement.objects.create(
        sla=sla, indicator=indicator, period_start=end - timedelta(days=1), period_end=end, good=good, total=total
    )


def attainment(html):
    """The attainment table of an SLA page."""
    return fragment(html, 'id="attainment"', "</table>")


def row_of(html, indicator):
    """The text and the markup of the cells of the attainment row of `indicator`, its heading left out."""
    cells = table_row(attainment(html), f'<th scope="row">{indicator}</th>').split("</th>", 1)[1]
    return text_of(cells), cells


@pytest.fixture
def sla(make_sla):
    sla = make_sla(
        objectives=[
            Objective(indicator="Checkout requests that succeed", target=Decimal("99.9"), unit="%", position=1),
            Objective(indicator="Search requests that succeed", target=Decimal("99.5"), unit="%", position=2),
            Objective(indicator="Place-order latency, p95", target=Decimal("1200"), unit="ms", position=3),
            Objective(indicator="Refunds on time", target=Decimal("99"), unit="%", position=4),
        ]
    )
    measure(sla, "Checkout requests that succeed", 1, 99_950, 100_000)
    measure(sla, "Checkout requests that succeed", 10, 99_900, 100_000)
    measure(sla, "Checkout requests that succeed", 40, 0, 100_000)  # outside the 28-day window
    measure(sla, "Search requests that succeed", 2, 9_900, 10_000)
    measure(sla, "Place-order latency, p95", 1, 95, 100)
    return sla


def test_each_objective_shows_its_ratio_verdict_budget_and_periods(reader_client, sla):
    html = reader_client.get(sla.get_absolute_url()).content.decode()

    assert "Attainment in the current window" in html
    # 199,850 good of 200,000: 99.925 %; 200 may fail (0.1 %), 150 did: a quarter of the budget is left.
    text, cells = row_of(html, "Checkout requests that succeed")
    assert text == "28 d 99.925% good 99.9% Met 25.0% left 2 periods"
    assert 'value="25.0"' in cells and "<meter" in cells
    # 9,900 of 10,000: 99 % against 99.5 %; 50 may fail, 100 did: overspent by the whole budget again.
    text, cells = row_of(html, "Search requests that succeed")
    assert text == "28 d 99.000% good 99.5% Missed overspent: -100.0% 1 period"
    assert 'value="0"' in cells
    # A latency objective has no ratio target: the measured share is shown without a verdict.
    text, _ = row_of(html, "Place-order latency, p95")
    assert text == "28 d 95.000% good 1200 ms No ratio target — 1 period"
    text, _ = row_of(html, "Refunds on time")
    assert text == "28 d No measurements yet."
    assert "style=" not in attainment(html)


def test_an_older_version_of_the_terms_shows_no_attainment(reader_client, sla):
    moment = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    html = reader_client.get(sla.get_absolute_url(), {"at": moment}).content.decode()
    assert "Attainment in the current window" not in html


def test_the_team_page_links_to_the_scorecard(reader_client, sla):
    html = reader_client.get(sla.provider_team.get_absolute_url()).content.decode()
    assert f'href="{reverse("team_scorecard", args=[sla.provider_team.slug])}"' in html
