"""Contract tests: the same hits on whichever database the suite runs on (SQLite FTS5 or PostgreSQL).

Membership and order of tiers only, never scores: the two backends rank differently inside a tier.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releases.choices import ReleaseStatus
from reviews.models import ActionItem, TimelineEntry
from search.backends import Filters, search
from search.models import SearchDocument
from sla_registry import actions
from sla_registry.choices import AgreementStatus
from sla_registry.models import Objective, PlaybookStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(make_team, make_service, make_sla, make_matrix, severities):
    payments = make_team("Payments")
    platform = make_team("Platform")
    gateway = make_service("API Gateway", owner_team=platform, description="Routes every public request.")
    ledger = make_service("Ledger", owner_team=payments, description="Double-entry bookkeeping of card payments.")
    sla = make_sla(
        "Ledger for Checkout",
        service=ledger,
        provider_team=payments,
        consumer_teams=[platform],
        executive_summary="Reconciliation finishes before the **nightly settlement** run.",
        objectives=[Objective(indicator="Settlement files delivered on time", target="99.5", unit="%")],
    )
    matrix = make_matrix(
        gateway,
        playbook_steps=[
            PlaybookStep(
                title="Drain the canary pool",
                instructions="Shift traffic away from the zebrafish cluster.",
                timebox_minutes=10,
                checkpoint_question="Did error rates drop?",
            )
        ],
    )
    return {
        "payments": payments,
        "platform": platform,
        "gateway": gateway,
        "ledger": ledger,
        "sla": sla,
        "matrix": matrix,
    }


def test_everything_is_searchable(registry, find, make_review, make_release, make_journey):
    make_journey("Pay by card", services=[registry["ledger"]], business_impact="Lost baskets.")
    make_review(
        [registry["gateway"]],
        title="Gateway saturation",
        summary="A thundering herd of retries.",
        timeline=[TimelineEntry(at=registry["sla"].effective_from, entry="Pager fired for quokka alerts")],
        action_items=[ActionItem(title="Add jitter to client retries", owner_team=registry["platform"])],
    )
    make_release("2026.7 gateway rollout", services=[registry["gateway"]], description="Enables HTTP/3 ocelot mode.")
    expectations = {
        "ledger": "Ledger",
        "settlement": f"{registry['sla'].reference} Ledger for Checkout",  # SLA text and objective
        "zebrafish": f"{registry['matrix'].reference} API Gateway escalation",  # playbook instructions
        "quokka": None,  # timeline entry: the review
        "jitter": "Add jitter to client retries",  # an action item on its own…
        "ocelot": "2026.7 gateway rollout",
        "baskets": "Pay by card",
        "Platform": "Platform",
    }
    for text, title in expectations.items():
        titles = find(text)
        assert titles, text
        if title:
            assert title in titles, (text, titles)
    assert any(title.endswith("Gateway saturation") for title in find("quokka"))
    # …and inside its review.
    assert any(title.endswith("Gateway saturation") for title in find("jitter"))


def test_phrase_exclusion_or_and_prefix(registry, find):
    assert find('"nightly settlement"') == [f"{registry['sla'].reference} Ledger for Checkout"]
    assert find('"settlement nightly"') == []
    assert "Ledger" not in find("bookkeeping -card")
    assert "Ledger" in find("bookkeeping -zebrafish")
    both = find("zebrafish OR bookkeeping")
    assert "Ledger" in both and f"{registry['matrix'].reference} API Gateway escalation" in both
    assert "Ledger" in find("bookkee")  # the last word is a prefix
    # …but only the last one: "bookkee" matches nothing, so only "gateway" does (said to be a partial match).
    found = search("bookkee gateway", user=None)
    assert found.match == "partial" and (found.matched_words, found.query_words) == (1, 2)
    assert "Ledger" not in [hit.document.title for hit in found.hits]


def test_exact_service_name_is_the_first_hit(registry, make_sla, find):
    # Other documents mention the gateway in their titles; the service itself still comes first.
    make_sla("API Gateway for Ledger", service=registry["gateway"], provider_team=registry["platform"])
    titles = find("api gateway")
    assert titles[0] == "API Gateway"
    assert len(titles) >= 3
    assert search("API Gateway", user=None, filters=Filters()).hits[0].is_exact_name


def test_title_matches_rank_before_passing_mentions(registry, make_service, find):
    make_service("Reconciler", owner_team=registry["payments"], description="Talks to the ledger now and then.")
    titles = find("ledger")
    assert titles.index("Ledger") < titles.index("Reconciler")


def test_update_and_delete_keep_the_index_in_sync(registry, find, admin_actor, make_release):
    gateway = registry["gateway"]
    gateway.description = "Terminates TLS for the wombat fleet."
    actions.save_service(gateway, acting_user=admin_actor, reason="test")
    assert find("wombat") == ["API Gateway"]
    assert find("routes every public") == []

    sla = registry["sla"]
    actions.save_sla(
        sla,
        consumer_teams=[registry["platform"]],
        objectives=[Objective(indicator="Capybara ledger lag below a minute", target="99", unit="%")],
        response_targets=list(sla.response_targets.all()),
        acting_user=admin_actor,
        reason="test",
    )
    # A child's change reindexes its document: the old objective is gone, the new one found.
    assert find("capybara") == [f"{sla.reference} Ledger for Checkout"]
    assert find('"settlement files"') == []

    release = make_release("Marmot migration", services=[gateway])
    assert find("marmot") == ["Marmot migration"]
    release.delete()
    assert find("marmot") == []
    assert not SearchDocument.objects.filter(kind="release").exists()


def test_retired_and_cancelled_stay_searchable_marked(registry, admin_actor, make_release):
    sla = registry["sla"]
    sla.status = AgreementStatus.RETIRED
    actions.save_sla(
        sla,
        consumer_teams=[registry["platform"]],
        objectives=list(sla.objectives.all()),
        response_targets=list(sla.response_targets.all()),
        acting_user=admin_actor,
        reason="retire",
    )
    release = make_release("Narwhal cutover", status=ReleaseStatus.CANCELLED)
    hits = {hit.document.kind: hit.document for hit in search("settlement OR narwhal", user=admin_actor).hits}
    assert hits["sla"].is_archived and hits["sla"].labels["status"] == "Retired"
    assert hits["release"].is_archived and release.title == hits["release"].title


def test_filters_by_kind_service_and_team(registry, find, make_release):
    make_release("Ledger schema change", services=[registry["ledger"]])
    assert set(find("ledger")) >= {"Ledger", "Ledger schema change"}
    assert find("ledger", filters=Filters(kinds=("release",))) == ["Ledger schema change"]
    assert "API Gateway" not in find("gateway OR ledger", filters=Filters(service="ledger"))
    assert "Ledger" in find("gateway OR ledger", filters=Filters(service="ledger"))
    assert find("ledger", filters=Filters(team="platform")) == [f"{registry['sla'].reference} Ledger for Checkout"]
    assert find("ledger", filters=Filters(service="no-such-service")) == []


def test_restricted_reviews_follow_visible_reviews(registry, make_review, make_user, make_team):
    security = make_team("Security")
    insider = make_user("insider", teams=[security])
    outsider = make_user("outsider", teams=[registry["platform"]])
    make_review(
        [registry["gateway"]],
        title="Credential stuffing wave",
        is_restricted=True,
        restricted_to=[security],
        summary="Attackers replayed leaked passwords.",
        action_items=[ActionItem(title="Rate-limit logins per credential", owner_team=security)],
    )

    def titles(user):
        return [hit.document.title for hit in search("credential", user=user).hits]

    assert len(titles(insider)) == 2  # the review and its action item
    assert titles(outsider) == []
    committee_member = make_user("chair", teams=[make_team("SLA Committee", is_sla_committee=True)])
    assert len(titles(committee_member)) == 2


BAD_INPUTS = [
    "api-gateway",
    'foo"bar',
    "NOT",
    '");DROP TABLE',
    "",
    "x" * 10_000,
    "AND",
    "OR",
    "*",
    "NEAR(a b)",
    "{title}: x",
    "'; select 1; --",
    "a:*",
    "!!",
    "-",
    '"',
    "\x00",
    "ü̈ñí©ødé",
    "title:gateway",
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_inputs_give_results_or_nothing(registry, text, admin_actor):
    results = search(text, user=admin_actor)
    assert isinstance(results.hits, list)


def test_api_gateway_finds_the_gateway(registry, find):
    assert find("api-gateway")[0] == "API Gateway"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_errors(registry, admin_actor, text):
    with transaction.atomic():
        search(text, user=admin_actor)


@pytest.mark.django_db(transaction=True)
def test_index_is_written_when_the_write_commits(make_service, admin_actor):
    with transaction.atomic():
        make_service("Okapi", description="Herds okapis.")
        # Not yet in the table: the index is written on commit…
        assert not SearchDocument.objects.filter(title="Okapi").exists()
    # …and then it is.
    assert SearchDocument.objects.filter(kind="service", title="Okapi").exists()
    assert [hit.document.title for hit in search("okapis", user=admin_actor).hits] == ["Okapi"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_no_document(make_team, admin_actor):
    team = make_team("Tapirs")
    try:
        with transaction.atomic():
            team.description = "Wallaby wranglers."
            actions.save_team(team, acting_user=admin_actor, reason="test")
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert search("wallaby", user=admin_actor).hits == []
    assert SearchDocument.objects.filter(kind="team", title="Tapirs").exists()


def test_backend_matches_the_database(registry):
    assert connection.vendor in {"sqlite", "postgresql"}
    assert search("ledger", user=None).hits  # anonymous sees unrestricted documents
    assert timedelta(0) == timedelta(0)


def test_a_typed_prefix_finds_the_words_it_can_finish_as(registry, find):
    from search.models import SearchTerm

    # Every indexed word is recorded, so "zebraf" is expanded to "zebrafish" before the index is read…
    assert find("zebraf") == [f"{registry['matrix'].reference} API Gateway escalation"]
    assert SearchTerm.objects.filter(term="zebrafish").exists()
    # …and a word table that lost its words (never filled, restored from an old backup) hides nothing:
    # the index's own prefix search answers instead.
    SearchTerm.objects.all().delete()
    assert find("zebraf") == [f"{registry['matrix'].reference} API Gateway escalation"]
    assert find("bookkee") == ["Ledger"]


def test_a_prefix_that_finishes_no_known_word_finds_nothing(registry, find):
    assert find("zebrafishy") == []
    assert find("zzzzq") == []
    # With another word, the unknown one is left out, and the page says so: "1 of the 2 words".
    found = search("ledger zzzzq", user=None)
    assert found.match == "partial" and (found.matched_words, found.query_words) == (1, 2)
    assert "Ledger" in [hit.document.title for hit in found.hits]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Reading a broad query newest first is PostgreSQL's plan")
def test_a_broad_query_shows_its_newest_matches_and_never_loses_rarer_ones(registry, find, monkeypatch):
    from search import backends
    from search.registry import flush_pending

    flush_pending()  # the registry's documents, written as a search would write them
    # Whatever the statistics say, treat every query as matching most of a large index.
    monkeypatch.setattr(backends.PostgresBackend, "estimated_matches", lambda self, query, expansions: 10**6)
    monkeypatch.setattr(backends, "_documents", lambda: 10**6)
    newest = SearchDocument.objects.order_by("-id")

    # The newest documents hold enough matches: the body tier is the newest of them.
    monkeypatch.setattr(backends, "RECENT_WINDOW", SearchDocument.objects.count())
    monkeypatch.setattr(backends, "BODY_CANDIDATES", 1)
    newest_match = next(d.title for d in newest if "gateway" in f"{d.title} {d.body}".lower())
    assert newest_match in find("gateway")
    assert "Ledger" not in find("bookkeeping -card")  # exclusions are checked on the rows read

    # They hold too few (the estimate was wrong): every match is still found.
    monkeypatch.setattr(backends, "RECENT_WINDOW", 2)
    monkeypatch.setattr(backends, "BODY_CANDIDATES", 300)
    assert "Ledger" in find("bookkeeping")
    assert "Ledger" in find("bookkeeping -zebrafish")
    assert f"{registry['matrix'].reference} API Gateway escalation" in find("zebrafish")
