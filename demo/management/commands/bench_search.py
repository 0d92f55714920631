"""`manage.py bench_search --docs 100000`: search latency at scale, in a database of its own.

The command never touches the dev or test data: it creates a separate database
(a temporary SQLite file by default; with a PostgreSQL DATABASE_URL, the
database "<name>_bench" on the same server, dropped at the end), and runs the
measurement in a child process pointed at it. The child migrates, seeds the demo
organisation through the real actions (so the on-call card has a real service,
matrix, SLAs, reviews and releases), bulk-loads a synthetic corpus
(search.bench_corpus) up to --docs documents, builds the index once and
refreshes the statistics, then for 50 fixed queries prints p50/p95/p99 of: the
database query (the candidate statements), search() (plus the shown documents
and snippets), the full /search/ page through the Django test client (signed
in), grep/ripgrep over the corpus written as one markdown file per document,
and a naive icontains scan; whether the expected document is in the top 5; and
the on-call card's p50/p95 and query count, at the demo's small index and at
full size.

Search as people type: the judged query set (demo.search_judgements, 40+ queries
as engineers type them during incidents) is scored on the demo organisation
before the corpus is loaded (recall@3 and MRR; again at full size, where the
synthetic corpus competes), and the type-ahead is timed on every keystroke of
typo and prefix queries (suggest() and the /search/suggest/ endpoint, with its
query count), with the typo queries' service checked first in the type-ahead
and pinned first on the results page. It ends with one JSON line of the figures.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from tqdm import tqdm

PAGE_TARGET_MS = 100
QUERY_TARGET_MS = 10
TYPEAHEAD_TARGET_MS = 10
TYPEAHEAD_MOST_QUERIES = 9  # the type-ahead endpoint's queries, session and user included
RECALL_TARGET = 0.9
CARD_TARGET_MS = 60
BENCH_OBJECT_IDS = 1_000_000_000


def percentiles(samples):
    if not samples:
        return None
    ordered = sorted(samples)

    def at(fraction):
        return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 2)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


class Command(BaseCommand):
    help = "Seed a separate database with N synthetic documents and measure search latency and quality."

    def add_arguments(self, parser):
        parser.add_argument("--docs", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=5, help="Timed runs of each query (default 5).")
        parser.add_argument("--scan-queries", type=int, default=50, help="Queries also run by grep and icontains.")
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark database and files.")
        parser.add_argument("--inner", action="store_true", help="(internal) run inside the benchmark database")
        parser.add_argument("--workdir", default="", help="(internal)")

    # The parent: make a database of our own and run the benchmark in it --------------------------------

    def handle(self, *args, docs, repeat, scan_queries, keep, inner, workdir, verbosity, **options):
        if docs < 50:
            raise CommandError("--docs must be at least 50.")
        if inner:
            return self.run_inner(docs, repeat, scan_queries, Path(workdir), verbosity)
        workdir = Path(tempfile.mkdtemp(prefix="bench_search_"))
        database_url, drop = self.make_database(workdir)
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only"}
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_search", "--inner"]
        command += [f"--docs={docs}", f"--repeat={repeat}", f"--scan-queries={scan_queries}", f"--workdir={workdir}"]
        command += [f"--verbosity={verbosity}"]
        try:
            child = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
            self.stdout.write(child.stdout, ending="")
            if child.returncode:
                raise CommandError(f"The benchmark failed (exit {child.returncode}).")
        finally:
            if not keep:
                drop()
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                self.stderr.write(f"Kept {database_url} and {workdir}")

    def make_database(self, workdir):
        if connection.vendor == "sqlite":
            return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None
        if connection.vendor != "postgresql":
            raise CommandError(f"No benchmark for {connection.vendor}.")
        name = f"{connection.settings_dict['NAME']}_bench"
        quoted = connection.ops.quote_name(name)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
            cursor.execute(f"CREATE DATABASE {quoted}")

        def drop():
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")

        current = settings.DATABASES["default"]
        user = current.get("USER") or ""
        password = f":{current['PASSWORD']}" if current.get("PASSWORD") else ""
        host = current.get("HOST") or "localhost"
        port = f":{current['PORT']}" if current.get("PORT") else ""
        netloc = f"{user}{password}@{host}{port}" if user else f"{host}{port}"
        url = urlunsplit(("postgres", netloc, f"/{name}", "", ""))
        assert urlsplit(url).path == f"/{name}"
        return url, drop

    # The child: seed, index, measure ---------------------------------------------------------------------

    def run_inner(self, docs, repeat, scan_queries, workdir, verbosity):
        from demo.bench_corpus import QUERIES
        from search.models import SearchDocument

        quiet = verbosity == 0
        call_command("migrate", verbosity=0)
        card_service = self.seed_registry(quiet)
        user = self.make_user()
        client = self.make_client(user)
        small_index = SearchDocument.objects.count()
        card_queries_small = self.card_queries(client, card_service)
        judged_demo = self.judged(small_index)
        if docs < small_index + 50:
            raise CommandError(f"--docs must be at least {small_index + 50}: the demo organisation has {small_index}.")
        self.seed(docs - small_index, workdir, quiet)
        figures = {"docs": SearchDocument.objects.count(), "database": connection.vendor, "repeat": repeat}

        query_ms, search_ms, page_ms = [], [], []
        top5 = {"expected": 0, "found": 0, "missed": []}
        from django.test.utils import CaptureQueriesContext

        from search.backends import Filters, find, search
        from search.query import parse

        page_queries = set()
        for text, expected in tqdm(QUERIES, desc="Queries", disable=quiet):
            search(text, user=user)  # warm up
            for _ in range(repeat):
                started = time.perf_counter()
                rows = find(parse(text), Filters(), user).rows if parse(text) else []
                query_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                results = search(text, user=user)
                search_ms.append((time.perf_counter() - started) * 1000)
                reset_queries()  # the query log keeps 9,000 entries: a full log would count nothing
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get("/search/", {"q": text}, secure=True)
                page_ms.append((time.perf_counter() - started) * 1000)
                page_queries.add(len(captured))
                assert response.status_code == 200, response.status_code
            del rows
            if expected:
                top5["expected"] += 1
                titles = [hit.document.title for hit in results.hits[:5]]
                if expected in titles:
                    top5["found"] += 1
                else:
                    top5["missed"].append(text)

        figures["query_ms"] = percentiles(query_ms)
        figures["typo_query_ms"] = self.typo_queries(user, repeat, quiet)
        figures.update(self.typeahead(client, user, repeat, quiet))
        figures["judged"] = {"demo": judged_demo, "full": self.judged(figures["docs"])}
        figures["search_call_ms"] = percentiles(search_ms)
        figures["page_ms"] = percentiles(page_ms)
        figures["page_queries"] = sorted(page_queries)
        figures["top5"] = top5
        figures.update(self.scans(QUERIES[:scan_queries], workdir, quiet))
        figures["oncall_card"] = self.bench_oncall_card(client, card_service, repeat, quiet)
        figures["oncall_card"]["queries_at_small_index"] = card_queries_small
        figures["oncall_card"]["small_index_docs"] = small_index
        self.report(figures)

    def judged(self, documents):
        """recall@3 and MRR of the judged query set, read as a superuser (every document visible)."""
        from django.contrib.auth import get_user_model

        from demo.search_judgements import judge
        from search.backends import search

        judge_user = get_user_model().objects.filter(username="bench.judge").first()
        if judge_user is None:
            judge_user = get_user_model().objects.create_superuser("bench.judge", "judge@example.com", "unused-1")
        return {**judge(lambda text: search(text, user=judge_user)), "docs": documents}

    def typo_queries(self, user, repeat, quiet):
        """The database part of search (find: every statement, corrections and widening included) for the
        type-ahead's typo and prefix queries, as typed in full."""
        from demo.search_judgements import TYPEAHEAD_QUERIES
        from search.backends import Filters, find
        from search.query import parse

        timings = []
        for text, _service in tqdm(TYPEAHEAD_QUERIES, desc="Typo queries", disable=quiet):
            find(parse(text), Filters(), user)  # warm up
            for _ in range(repeat):
                started = time.perf_counter()
                find(parse(text), Filters(), user)
                timings.append((time.perf_counter() - started) * 1000)
        return percentiles(timings)

    def typeahead(self, client, user, repeat, quiet):
        """The type-ahead on every keystroke of the typo and prefix queries (two letters on): suggest() (its
        statements and the shaping of its lines) and the /search/suggest/ endpoint signed in, with its query
        count; and, for each query as typed in full, whether its service is the first suggestion and the first
        pinned service of the results page."""
        from django.test.utils import CaptureQueriesContext

        from demo.search_judgements import TYPEAHEAD_QUERIES, TYPO_QUERIES
        from search.backends import search, suggest

        keystrokes = list(
            dict.fromkeys(text[:length] for text, _service in TYPEAHEAD_QUERIES for length in range(2, len(text) + 1))
        )
        suggest_ms, endpoint_ms, counts = [], [], set()
        for text in tqdm(keystrokes, desc="Type-ahead", disable=quiet):
            suggest(text, user=user)  # warm up
            for _ in range(repeat):
                started = time.perf_counter()
                suggest(text, user=user)
                suggest_ms.append((time.perf_counter() - started) * 1000)
                reset_queries()  # the query log keeps 9,000 entries: a full log would count nothing
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get("/search/suggest/", {"q": text}, secure=True)
                endpoint_ms.append((time.perf_counter() - started) * 1000)
                counts.add(len(captured))
                assert response.status_code == 200, response.status_code
        first = {"expected": 0, "typeahead": 0, "pinned": 0, "missed": []}
        for text, service in TYPEAHEAD_QUERIES:
            if text not in TYPO_QUERIES:
                continue
            first["expected"] += 1
            suggestion = suggest(text, user=user).first
            pinned = search(text, user=user).services
            in_typeahead = suggestion is not None and suggestion.title == service
            in_results = bool(pinned) and pinned[0].title == service
            first["typeahead"] += in_typeahead
            first["pinned"] += in_results
            if not (in_typeahead and in_results):
                first["missed"].append(text)
        return {
            "typeahead_ms": percentiles(suggest_ms),
            "typeahead_endpoint_ms": percentiles(endpoint_ms),
            "typeahead_queries": sorted(counts),
            "typeahead_keystrokes": len(keystrokes),
            "typo_service_first": first,
        }

    def make_client(self, user):
        from django.test import Client

        # Pages render without a collectstatic manifest (as in the tests); the benchmark measures views, not files.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(user)
        return client

    def seed_registry(self, quiet):
        """The demo organisation (teams, services, SLAs and matrices with their versions, reviews, releases),
        written through the real actions, so the on-call card has a real service to show; returns its slug."""
        from demo.registry_seeding import DemoSeeder
        from demo.release_seeding import ReleaseSeeder
        from demo.review_seeding import ReviewSeeder
        from sla_registry.models import Service

        registry = DemoSeeder(size=1)
        steps = [*registry.steps(), *ReviewSeeder(now=registry.now).steps(), *ReleaseSeeder(now=registry.now).steps()]
        with transaction.atomic():
            for _label, step in tqdm(steps, desc="Seeding the registry", unit="step", disable=quiet):
                step()
        service = (
            Service.objects.filter(escalation_matrix__isnull=False, slas__isnull=False)
            .annotate(agreements=Count("slas", distinct=True), dependency_count=Count("dependencies", distinct=True))
            .order_by("-agreements", "-dependency_count", "slug")
            .first()
        )
        if service is None:
            raise CommandError("The demo seeders made no service with an escalation matrix and an SLA.")
        return service.slug

    def card_queries(self, client, slug):
        from django.test.utils import CaptureQueriesContext

        url = reverse("oncall_card", args=[slug])
        client.get(url, secure=True)  # warm up (sessions, caches)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, secure=True)
        assert response.status_code == 200, response.status_code
        return len(captured)

    def seed(self, docs, workdir, quiet):
        from demo.bench_corpus import SERVICES, TEAMS, Corpus
        from search.backends import backend
        from search.indexing import record_words
        from search.models import SearchDocument, slug_list
        from search.query import tokens_of

        def slug(name):
            return "-".join(tokens_of(name))

        corpus_dir = workdir / "corpus"
        corpus_dir.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        names = [("service", name) for name in SERVICES] + [("team", name) for name in TEAMS]
        batch, written = [], 0
        with transaction.atomic(), backend().bulk_load():
            progress = tqdm(total=docs, desc="Seeding", unit="doc", disable=quiet)
            rows = (
                (kind, name, f"{name} is a {kind} of the portal.", name if kind == "service" else "", name)
                for kind, name in names
            )
            corpus = Corpus().documents(docs - len(names))
            for position, (kind, title, body, service, team) in enumerate(_chain(rows, corpus)):
                batch.append(
                    SearchDocument(
                        kind=kind,
                        object_id=BENCH_OBJECT_IDS + position + 1,  # clear of the seeded registry's objects
                        title=title,
                        title_key=" ".join(tokens_of(title)),
                        body=body,
                        url=f"/bench/{position + 1}/",
                        service_slugs=slug_list([slug(service)] if service else []),
                        team_slugs=slug_list([slug(team)]),
                        labels={"services": [service] if service else [], "teams": [team]},
                        is_archived=position % 50 == 0,
                        updated_at=now,
                    )
                )
                (corpus_dir / f"{position + 1:07d}.md").write_text(f"# {title}\n\n{body}\n")
                if len(batch) >= 2000:
                    SearchDocument.objects.bulk_create(batch)
                    record_words(batch)
                    written += len(batch)
                    progress.update(len(batch))
                    batch = []
            SearchDocument.objects.bulk_create(batch)
            record_words(batch)
            progress.update(len(batch))
            progress.close()
            if not quiet:
                self.stderr.write("Building the full-text index…")
        if not quiet:
            self.stderr.write("Optimising the index and refreshing the planner's statistics…")
        backend().optimize()

    def make_user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.create_user("bench.reader", "bench@example.com", "unused-password-1")

    def scans(self, queries, workdir, quiet):
        """The same queries by grep/ripgrep over markdown files and by a naive icontains scan."""
        from search.models import SearchDocument
        from search.query import parse

        tool = shutil.which("rg") or shutil.which("grep")
        name = Path(tool).name if tool else "none"
        grep_ms, icontains_ms = [], []
        for text, _expected in tqdm(queries, desc="Scans", disable=quiet):
            query = parse(text)
            if not query:
                continue
            needle = " ".join(query.terms[0].tokens)
            if tool:
                command = [tool, "-l", "-i", "-F", "--", needle, str(workdir / "corpus")]
                if name == "grep":
                    command.insert(1, "-r")
                started = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                grep_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            matches = SearchDocument.objects.all()
            for term in query.terms:
                matches = matches.filter(body__icontains=" ".join(term.tokens))
            list(matches.values_list("pk", flat=True)[:20])
            icontains_ms.append((time.perf_counter() - started) * 1000)
        return {"grep_tool": name, "grep_ms": percentiles(grep_ms), "icontains_ms": percentiles(icontains_ms)}

    def bench_oncall_card(self, client, slug, repeat, quiet):
        """p50/p95 and query count of /services/<slug>/oncall/ (SEV1 and SEV2) for a seeded service."""
        from django.test.utils import CaptureQueriesContext

        url = reverse("oncall_card", args=[slug])
        timings, counts = [], set()
        for _ in tqdm(range(max(20, 10 * repeat)), desc="On-call card", disable=quiet):
            for severity in ("SEV1", "SEV2"):
                reset_queries()  # the query log keeps 9,000 entries: a full log would count nothing
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url, {"severity": severity}, secure=True)
                timings.append((time.perf_counter() - started) * 1000)
                counts.add(len(captured))
                assert response.status_code == 200, response.status_code
        return {**percentiles(timings), "service": slug, "queries": sorted(counts)}

    def report(self, figures):
        def line(label, values):
            if values:
                self.stdout.write(
                    f"{label:<28} p50 {values['p50']:>8} ms   p95 {values['p95']:>8} ms   p99 {values['p99']:>8} ms"
                )

        self.stdout.write(f"\n{figures['docs']} documents on {figures['database']}, 50 queries × {figures['repeat']}")
        line("query (database)", figures["query_ms"])
        line("typo/prefix query (database)", figures["typo_query_ms"])
        line("type-ahead suggest()", figures["typeahead_ms"])
        line("/search/suggest/ endpoint", figures["typeahead_endpoint_ms"])
        self.stdout.write(
            f"type-ahead: {figures['typeahead_keystrokes']} keystrokes,"
            f" queries per request {figures['typeahead_queries']}"
        )
        typos = figures["typo_service_first"]
        self.stdout.write(
            f"typo queries with their service first: {typos['typeahead']}/{typos['expected']} in the type-ahead, "
            f"{typos['pinned']}/{typos['expected']} pinned on the results page"
            + (f"  (missed: {', '.join(typos['missed'])})" if typos["missed"] else "")
        )
        for label, judged in figures["judged"].items():
            self.stdout.write(
                f"judged queries ({label}, {judged['docs']} documents): recall@3 {judged['recall_at_3']:.3f} "
                f"({judged['answered']}/{judged['queries']}), MRR {judged['mrr']:.3f}"
            )
            for text, wanted, rank in judged["missed"]:
                self.stdout.write(f"  missed: {text!r} wants {wanted!r} (rank {rank or '-'})")
        line("search() incl. snippets", figures["search_call_ms"])
        line("/search/ page", figures["page_ms"])
        line(f"{figures['grep_tool']} over markdown files", figures["grep_ms"])
        line("naive icontains scan", figures["icontains_ms"])
        top5 = figures["top5"]
        self.stdout.write(f"expected document in top 5:  {top5['found']}/{top5['expected']}")
        if top5["missed"]:
            self.stdout.write(f"  missed: {', '.join(top5['missed'])}")
        self.stdout.write(f"queries per page: {figures['page_queries']}")
        card = figures["oncall_card"]
        line(f"on-call card ({card['service']})", card)
        self.stdout.write(
            f"queries per on-call card: {card['queries']} at {figures['docs']} documents, "
            f"{card['queries_at_small_index']} at {card['small_index_docs']}"
        )
        verdict = (
            figures["query_ms"]["p95"] <= QUERY_TARGET_MS
            and figures["page_ms"]["p95"] <= PAGE_TARGET_MS
            and card["p95"] <= CARD_TARGET_MS
            and card["queries"] == [card["queries_at_small_index"]]
        )
        self.stdout.write(
            f"targets (query p95 ≤ {QUERY_TARGET_MS} ms, page p95 ≤ {PAGE_TARGET_MS} ms, card p95 ≤ {CARD_TARGET_MS} ms"
            f" with a query count independent of the index size): {'met' if verdict else 'NOT met'}"
        )
        typing = (
            figures["typo_query_ms"]["p95"] <= QUERY_TARGET_MS
            and figures["typeahead_ms"]["p95"] <= TYPEAHEAD_TARGET_MS
            and max(figures["typeahead_queries"]) <= TYPEAHEAD_MOST_QUERIES
            and typos["typeahead"] == typos["pinned"] == typos["expected"]
            and figures["judged"]["demo"]["recall_at_3"] >= RECALL_TARGET
        )
        self.stdout.write(
            f"targets as people type (typo query and type-ahead p95 ≤ {TYPEAHEAD_TARGET_MS} ms, at most "
            f"{TYPEAHEAD_MOST_QUERIES} queries a type-ahead request, every typo's service first, judged recall@3 ≥ "
            f"{RECALL_TARGET:.0%} on the demo): {'met' if typing else 'NOT met'}"
        )
        self.stdout.write(json.dumps(figures, sort_keys=True))


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable
