import json
from io import StringIO

import pytest
from django.core.management import call_command

from search.backends import search
from search.models import SearchDocument


@pytest.mark.django_db
def test_rebuild_search_index_restores_a_lost_index(make_sla, make_review, admin_actor):
    sla = make_sla("Ledger for Checkout", executive_summary="Nightly settlement.")
    make_review([sla.service], title="Settlement delayed")
    search("x", user=admin_actor)  # apply the set-up's pending index writes
    SearchDocument.objects.all().delete()
    assert search("settlement", user=admin_actor).hits == []

    out = StringIO()
    call_command("rebuild_search_index", stdout=out, verbosity=0)
    lines = dict(line.split(": ") for line in out.getvalue().splitlines() if ": " in line)
    assert lines["sla"] == "1" and lines["review"] == "1" and lines["service"] == "1"
    assert int(lines["team"]) >= 2
    titles = {hit.document.title for hit in search("settlement", user=admin_actor).hits}
    assert len(titles) == 2 and f"{sla.reference} Ledger for Checkout" in titles


@pytest.mark.django_db(transaction=True)
def test_bench_search_runs_in_its_own_database_and_ends_with_json(make_service):
    make_service("Untouched")
    out = StringIO()
    call_command("bench_search", docs=300, repeat=1, scan_queries=5, verbosity=0, stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {"docs", "database", "query_ms", "search_call_ms", "page_ms", "grep_ms", "icontains_ms", "top5"} <= set(
        figures
    )
    assert figures["docs"] == 300
    assert {"p50", "p95", "p99"} <= set(figures["query_ms"])
    assert figures["top5"]["expected"] > 0
    assert "oncall_card" in figures  # the on-call card's figures are added by its own benchmark section
    # As people type: the type-ahead's latency and query count, the typo queries' service, the judged set.
    assert {"p50", "p95", "p99"} <= set(figures["typeahead_ms"]) and {"p95"} <= set(figures["typo_query_ms"])
    assert 0 < max(figures["typeahead_queries"]) <= 9
    typos = figures["typo_service_first"]
    assert typos["expected"] > 0 and typos["typeahead"] == typos["pinned"] == typos["expected"], typos
    assert figures["judged"]["demo"]["queries"] >= 40 and figures["judged"]["demo"]["recall_at_3"] >= 0.9
    # The benchmark never wrote into this database.
    assert not SearchDocument.objects.filter(url__startswith="/bench/").exists()
    assert SearchDocument.objects.filter(kind="service", title="Untouched").exists()
