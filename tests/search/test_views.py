"""The /search/ page: results, filters, the htmx partial, escaping, visibility and a query count that does not grow."""

import pytest
from django.urls import reverse

from reviews.models import ActionItem
from tests.html import select_options

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(make_user):
    return make_user("reader")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def get(client, **params):
    response = client.get(reverse("search:results"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def ledger(make_team, make_service, make_sla):
    payments = make_team("Payments")
    service = make_service("Ledger", owner_team=payments, description="Books every card payment.")
    make_sla("Ledger for Checkout", service=service, provider_team=payments, executive_summary="Nightly settlement.")
    return service


def test_results_show_kind_service_team_last_change_and_snippet(reader_client, ledger):
    html = get(reader_client, q="settlement")
    assert "Ledger for Checkout" in html
    assert "SLA</span>" in html
    assert "Service: Ledger" in html and "Payments" in html
    assert "Last change" in html
    assert "<mark>settlement</mark>" in html.lower() or "<mark>Settlement</mark>" in html


def test_empty_and_no_results_states(reader_client, ledger):
    assert "Type what you are looking for" in get(reader_client)
    html = get(reader_client, q="zanzibar")
    assert "No results for “zanzibar”" in html
    assert "Nothing to search for" in get(reader_client, q="-ledger")


def test_filters_work_without_javascript(reader_client, ledger, make_release):
    make_release("Ledger schema change", services=[ledger])
    both = get(reader_client, q="ledger")
    assert "Ledger schema change" in both and "Ledger for Checkout" in both
    only_releases = get(reader_client, q="ledger", kind="release")
    assert "Ledger schema change" in only_releases and "Ledger for Checkout" not in only_releases
    assert 'value="release" selected' in only_releases
    assert "No results" in get(reader_client, q="ledger", team="nobody")


def test_htmx_request_gets_only_the_results(reader_client, ledger):
    response = reader_client.get(reverse("search:results"), {"q": "ledger"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Ledger for Checkout" in html
    assert "<html" not in html and "search-form" not in html


def test_filter_lists_offer_what_the_results_concern_not_the_whole_registry(
    reader_client, ledger, make_team, make_service
):
    elsewhere = make_team("Warehouse Robotics")
    make_service("Conveyor Control", owner_team=elsewhere, description="Moves parcels.")
    html = get(reader_client, q="ledger")
    services, teams = select_options(html, "search-service"), select_options(html, "search-team")
    assert '<option value="ledger">Ledger</option>' in services and "Conveyor Control" not in services
    assert '<option value="payments">Payments</option>' in teams and "Warehouse Robotics" not in teams

    # The service filtered on stays offered (and selected) even when nothing matches with it.
    narrowed = get(reader_client, q="ledger", service="conveyor-control")
    offered = select_options(narrowed, "search-service")
    assert '<option value="conveyor-control" selected>Conveyor Control</option>' in offered

    # Typing (htmx) swaps the lists out of band with the results, so they follow what is found.
    response = reader_client.get(reverse("search:results"), {"q": "conveyor"}, headers={"HX-Request": "true"})
    update = response.content.decode()
    assert 'id="search-service-filter" hx-swap-oob="true"' in update
    assert '<option value="conveyor-control">Conveyor Control</option>' in select_options(update, "search-service")
    assert "Ledger" not in select_options(update, "search-service")
    assert 'id="search-service-filter" hx-swap-oob' not in get(reader_client, q="conveyor")


def test_page_loads_htmx_and_the_shortcut_from_files(reader_client):
    html = get(reader_client, q="")
    assert 'src="/static/vendor/htmx/htmx.min.js" defer' in html
    assert 'src="/static/js/search-shortcut.js" defer' in html
    assert "<script>" not in html  # no inline script: a CSP will forbid them


def test_header_has_the_search_box_on_every_page(reader_client):
    html = reader_client.get(reverse("home")).content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html and "data-search-box" in html


def test_html_in_documents_shows_as_text(reader_client, make_service, make_team):
    make_service("Widget", owner_team=make_team(), description='Broken by <img src=x onerror="alert(1)"> tags.')
    html = get(reader_client, q="broken")
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<mark>Broken</mark>" in html


def test_restricted_reviews_are_hidden_from_those_who_may_not_see_them(
    reader_client, client, ledger, make_review, make_team, make_user
):
    security = make_team("Security")
    make_review(
        [ledger],
        title="Card skimming investigation",
        is_restricted=True,
        restricted_to=[security],
        action_items=[ActionItem(title="Rotate skimming detection keys", owner_team=security)],
    )
    make_review([ledger], title="Skimming false alarm drill")
    html = get(reader_client, q="skimming")
    assert "Skimming false alarm drill" in html
    assert "Card skimming investigation" not in html and "Rotate skimming" not in html
    client.force_login(make_user("analyst", teams=[security]))
    html = get(client, q="skimming")
    assert "Card skimming investigation" in html and "Rotate skimming detection keys" in html


def test_exact_service_name_is_first(reader_client, ledger, make_sla):
    html = get(reader_client, q="ledger")
    first = html.index('class="search-hit-title"')
    assert html[first : first + 200].count(">Ledger</a>") == 1


def test_query_count_does_not_grow_with_results(reader_client, django_assert_max_num_queries, make_team, make_service):
    team = make_team("Owners")
    make_service("Lonely", owner_team=team, description="One lonely match.")

    def count():
        # The first request applies the set-up's pending index writes (in production they ran at commit).
        reader_client.get(reverse("search:results"), {"q": "lonely OR many"})
        # Session, user, the prefix's words, the search (with the backend's own bounded-work statements:
        # a selectivity probe on SQLite; on PostgreSQL per-statement settings, set and restored inside the
        # test's transaction), the shown documents and the filter choices: a fixed number, whatever the
        # number of matches.
        with django_assert_max_num_queries(12) as captured:
            reader_client.get(reverse("search:results"), {"q": "lonely OR many"})
        return len(captured)

    first = count()
    for index in range(30):
        make_service(f"Many {index}", owner_team=team, description="Many matches.")
    assert count() == first


def test_the_service_named_links_its_on_call_card_and_its_page(reader_client, ledger):
    html = get(reader_client, q="Ledger")
    first = html.index('class="search-hit-title"')
    assert f'href="{reverse("oncall_card", args=[ledger.slug])}"' in html[first : first + 300]
    assert f'<a href="{ledger.get_absolute_url()}">Service page</a>' in html


def test_htmx_adds_no_inline_style_for_a_strict_csp(reader_client):
    html = get(reader_client)
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html
    assert html.index('name="htmx-config"') < html.index("htmx.min.js")
