"""The header box's type-ahead (/search/suggest/): services first, then escalation matrices, SLAs, teams and
reviews; a service's line opens its on-call card; one request of a few queries, whatever the index holds."""

import re

import pytest
from django.urls import reverse

from reviews.models import ActionItem
from search.backends import suggest

pytestmark = pytest.mark.django_db

MOST_QUERIES = 9  # the bar: under 10, session and user included


@pytest.fixture
def checkout(make_team, make_service, make_matrix, make_sla, make_review):
    team = make_team("Checkout", description="Builds the basket and runs the Checkout API.")
    service = make_service("Checkout API", owner_team=team, description="Turns a basket into an order.")
    make_matrix(service)
    make_sla("Checkout API for web and apps", service=service, provider_team=team)
    make_review([service], title="Checkout latency after the basket-pricing deploy")
    return service


@pytest.fixture
def reader_client(client, make_user):
    client.force_login(make_user("reader"))
    return client


def suggestions(client, text):
    response = client.get(reverse("search:suggest"), {"q": text})
    assert response.status_code == 200
    return response.content.decode()


def option_titles(html):
    return [re.sub(r"<[^>]+>", "", title).strip() for title in re.findall(r'role="option"[^>]*>(.*?)</a>', html)]


def test_services_come_first_then_matrices_slas_teams_and_reviews(reader_client, checkout):
    html = suggestions(reader_client, "checkout")
    groups = [
        html.index(f">{label}</div>") for label in ("Services", "Escalation matrices", "SLAs", "Teams", "Reviews")
    ]
    assert groups == sorted(groups)
    titles = option_titles(html)
    # A team is called Checkout too, but the service is offered first.
    assert titles[0].startswith("Checkout API")
    assert "Checkout" in titles and titles.index("Checkout") > titles.index("Checkout API · on-call card")
    assert titles[-1] == "All results for “checkout”"


def test_a_service_line_opens_its_on_call_card(reader_client, checkout):
    html = suggestions(reader_client, "checko")
    first = html.index('role="option"')
    assert f'href="{reverse("oncall_card", args=[checkout.slug])}"' in html[first - 200 : first + 300]
    assert suggest("checko", user=None).first.page_url == checkout.get_absolute_url()
    # The last line gives every result, on the search page.
    assert 'href="/search/?q=checko"' in html


def test_nothing_typed_suggests_nothing(reader_client, checkout):
    assert 'role="listbox"' not in suggestions(reader_client, "")
    assert 'role="listbox"' not in suggestions(reader_client, '"-')


def test_restricted_reviews_are_not_suggested_to_outsiders(
    reader_client, client, checkout, make_review, make_team, make_user
):
    security = make_team("Security")
    make_review(
        [checkout],
        title="Checkout card skimming",
        is_restricted=True,
        restricted_to=[security],
        action_items=[ActionItem(title="Rotate keys", owner_team=security)],
    )
    assert "Checkout card skimming" not in suggestions(reader_client, "skimming")
    client.force_login(make_user("analyst", teams=[security]))
    assert "Checkout card skimming" in suggestions(client, "skimming")


@pytest.mark.parametrize(
    "text",
    [
        "checko",  # a prefix: the word table, one statement
        "checkout api",  # whole words
        "chekout",  # a typo: the corrections, then the corrected word
        "chekout zebra quokka lemur",  # the typo corrected, then all words but one
    ],
)
def test_one_request_of_a_few_queries_whatever_the_index_holds(
    reader_client, checkout, make_service, make_team, make_review, django_assert_max_num_queries, text
):
    # A restricted review among the matches: PostgreSQL asks which of them the reader may see.
    make_review([checkout], title="Checkout card skimming", is_restricted=True, restricted_to=[make_team("Security")])

    def count():
        suggestions(reader_client, text)  # applies the set-up's pending index writes (at commit in production)
        with django_assert_max_num_queries(MOST_QUERIES) as captured:
            suggestions(reader_client, text)
        return len(captured)

    few = count()
    team = make_team("Owners")
    for index in range(50):
        make_service(f"Checkout Worker {index}", owner_team=team, description="Checkout background work.")
        make_review([checkout], title=f"Checkout outage {index}", is_restricted=index % 2 == 0)
    assert count() == few
