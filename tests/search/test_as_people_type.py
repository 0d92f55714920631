"""Search reads as people type, not as the index stores: the same answers on SQLite (FTS5, porter) and on
PostgreSQL (english configuration, pg_trgm) for plurals, typos, unfinished words, extra words, shorthand and
error strings, and the services whose name matches pinned above the ranking."""

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.backends import CORRECTED, PARTIAL, search, suggest
from search.models import SearchTerm
from search.query import parse
from search.registry import flush_pending
from search.snippets import snippet

pytestmark = pytest.mark.django_db


@pytest.fixture
def basketly(make_team, make_service, make_review, make_matrix, make_sla, severities):
    payments = make_team("Payments", description="Runs card and wallet payments.")
    checkout_team = make_team("Checkout", description="Builds the basket and places orders.")
    platform = make_team("Platform", description="Kubernetes clusters and the PostgreSQL databases.")
    database = make_service(
        "PostgreSQL Cluster", owner_team=platform, description="Primary and replica per region, PgBouncer pooling."
    )
    kubernetes = make_service("Kubernetes Platform", owner_team=platform, description="Runs every stateless service.")
    gateway = make_service(
        "Payments Gateway",
        owner_team=payments,
        dependencies=[database],
        description="Authorises card payments through two acquirers.",
    )
    checkout = make_service("Checkout API", owner_team=checkout_team, dependencies=[gateway], description="Orders.")
    make_matrix(gateway)
    make_sla("Payments Gateway for checkout", service=gateway, provider_team=payments, consumer_teams=[checkout_team])
    make_review(
        [kubernetes],
        title="Logins failed after the key rotation",
        summary="The new **signing key** was used before `verifiers` fetched it: ECONNREFUSED from the "
        "token service, then HTTP 503 for 40 minutes. See [the runbook](https://runbooks.example/keys).",
    )
    make_review(
        [database],
        title="Losing the PostgreSQL primary during the spring sale",
        summary="A tabletop exercise: PgBouncer reports no server connections.",
    )
    return {"gateway": gateway, "checkout": checkout, "kubernetes": kubernetes, "database": database}


def titles(results):
    return [hit.document.title for hit in results.hits]


def pinned(results):
    return [service.title for service in results.services]


def test_singular_and_plural_find_the_same_documents(basketly, admin_actor):
    # "payment gateway" used to miss the Payments Gateway service: only the plural matched.
    singular = search("payment gateway", user=admin_actor)
    assert singular.match == "all"
    assert pinned(singular)[0] == "Payments Gateway" and "Payments Gateway" in titles(singular)
    login, logins = search("login failed", user=admin_actor), search("logins failed", user=admin_actor)
    assert titles(login) == titles(logins) != []
    assert any(title.endswith("Logins failed after the key rotation") for title in titles(login))
    assert titles(search("failing logins", user=admin_actor)) == titles(login)


def test_a_mistyped_word_finds_the_service_it_was_meant_for(basketly, admin_actor):
    for typed, corrected, service in [
        ("paymnts", "payments", "Payments Gateway"),
        ("chekout", "checkout", "Checkout API"),
        ("kuberntes platform", "kubernetes", "Kubernetes Platform"),
        ("postgress", "postgresql", "PostgreSQL Cluster"),
    ]:
        results = search(typed, user=admin_actor)
        assert results.match == CORRECTED, typed
        assert corrected in next(iter(results.corrections.values())), typed
        assert pinned(results)[0] == service, typed
        assert suggest(typed, user=admin_actor).first.title == service, typed
    # An unfinished word with a typo is corrected too ("paymn" is one letter from "payme…").
    assert suggest("paymn", user=admin_actor).first.title == "Payments Gateway"


def test_a_correction_never_outranks_a_word_as_typed(basketly, make_service, admin_actor):
    # Someone really wrote "paymnts": that document matches as typed, so nothing is corrected.
    make_service("Legacy Billing", description="Old paymnts exports.")
    results = search("paymnts", user=admin_actor)
    assert results.match == "all" and results.corrections == {}
    assert titles(results) == ["Legacy Billing"]


def test_corrections_are_near_title_words_only(basketly, admin_actor):
    flush_pending()  # the set-up's index writes, as a search applies them first
    assert SearchTerm.objects.filter(term="payments", in_title=True).exists()
    # "pooling" is in a description, not a title: a typo of it is not corrected to it.
    assert SearchTerm.objects.filter(term="pooling", in_title=False).exists()
    assert search("poolng", user=admin_actor).corrections == {}
    # Nothing near enough: no correction, no results.
    nothing = search("xylophone", user=admin_actor)
    assert nothing.hits == [] and nothing.corrections == {} and nothing.match == ""


def test_words_that_do_not_all_match_give_the_documents_matching_most_of_them(basketly, admin_actor):
    # "connection refused": no document holds both words; every one holding one of them is shown, and said so.
    results = search("connection refused", user=admin_actor)
    assert results.match == PARTIAL and (results.matched_words, results.query_words) == (1, 2)
    assert any("PostgreSQL primary" in title for title in titles(results))
    three = search("postgresql primary vanished", user=admin_actor)
    assert three.match == PARTIAL and (three.matched_words, three.query_words) == (2, 3)
    assert titles(three)[0].endswith("Losing the PostgreSQL primary during the spring sale")


def test_extra_words_are_read_as_people_type_them(basketly, admin_actor):
    # Stop words are dropped on both databases (PostgreSQL's index leaves them out), so a sentence works.
    sentence = search("why is the postgresql primary down", user=admin_actor)
    assert sentence.match == "all"
    assert titles(sentence) == titles(search("postgresql primary", user=admin_actor)) != []
    # A query of stop words only keeps them (there is nothing else to search for).
    assert parse("the who").terms


def test_shorthand_finds_what_it_stands_for(basketly, admin_actor):
    # No document says k8s, but it stands for kubernetes.
    assert pinned(search("k8s", user=admin_actor)) == ["Kubernetes Platform"]
    assert "Kubernetes Platform" in titles(search("k8s", user=admin_actor))
    assert pinned(search("payments gw", user=admin_actor))[0] == "Payments Gateway"
    assert suggest("payments gw", user=admin_actor).first.title == "Payments Gateway"


def test_error_strings_and_numbers_are_found_as_written(basketly, admin_actor):
    review = "Logins failed after the key rotation"
    for text in ["ECONNREFUSED", "econnrefused", "503", "HTTP 503", '"HTTP 503"', "ECONNREF"]:
        assert any(title.endswith(review) for title in titles(search(text, user=admin_actor))), text
    assert search("504", user=admin_actor).hits == []


def test_the_services_whose_name_matches_are_pinned_above_the_ranking(basketly, admin_actor):
    results = search("checkout", user=admin_actor)
    # The team called Checkout ranks first, as before: the page keeps its ranking…
    assert titles(results)[0] == "Checkout"
    # …and the service is pinned above it.
    assert pinned(results) == ["Checkout API"]
    assert suggest("checkout", user=admin_actor).first.title == "Checkout API"


def test_the_page_says_how_the_results_match(basketly, client, admin_actor):
    client.force_login(admin_actor)
    html = client.get(reverse("search:results"), {"q": "paymnts"}).content.decode()
    assert "showing matches for “payments”" in html
    assert 'id="search-services-heading">Services</h2>' in html
    assert f'<a href="{reverse("oncall_card", args=["payments-gateway"])}">Payments Gateway</a>' in html
    html = client.get(reverse("search:results"), {"q": "connection refused"}).content.decode()
    assert "No document holds every word of “connection refused”: showing those holding 1 of the 2" in html


def test_snippets_show_text_not_markdown(basketly, admin_actor):
    hit = next(hit for hit in search("signing key", user=admin_actor).hits if hit.document.kind == "review")
    assert "**" not in hit.snippet and "`" not in hit.snippet and "](" not in hit.snippet
    assert "<mark>signing</mark> <mark>key</mark>" in hit.snippet
    assert "the runbook" in hit.snippet and "https://runbooks.example" not in hit.snippet
    # The stemmed match is highlighted as the word written: "logins" for "login".
    assert "<mark>Logins</mark>" in snippet("Logins failed", parse("login"))
    table = snippet("| Indicator | Target |\n|---|---|\n| **Latency** p95 | 800 ms |", parse("latency"))
    assert "|" not in table and "---" not in table and "<mark>Latency</mark>" in table


HOSTILE = [
    '"); DROP TABLE search_searchdocument; --',
    '"',
    "'",
    '""',
    "''",
    "NEAR(payments gateway)",
    "payments NEAR gateway",
    "payments AND gateway",
    "AND",
    "OR OR",
    "NOT",
    "*",
    "paym*",
    "payments:*",
    "{title}: payments",
    "title:payments",
    "payments & !gateway",
    "<-> |",
    "^payments",
    'paymnts"); DROP',
    "ECONNREFUSED' OR 1=1 --",
    "-",
    "\\",
    "%",
    "_",
    "paym%",
    "\x00",
    "x" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_fails_search_the_type_ahead_or_the_api(basketly, client, admin_actor, text):
    assert isinstance(search(text, user=admin_actor).hits, list)
    assert isinstance(suggest(text, user=admin_actor).groups, list)
    client.force_login(admin_actor)
    for url in (reverse("search:results"), reverse("search:suggest"), reverse("api:search")):
        response = client.get(url, {"q": text})
        assert response.status_code == 200, (url, text, response.status_code)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120))
def test_arbitrary_text_never_fails_the_type_ahead(basketly, admin_actor, text):
    with transaction.atomic():
        suggestions = suggest(text, user=admin_actor)
    assert all(items for _kind, _label, items in suggestions.groups)
