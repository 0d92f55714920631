"""`manage.py bench_search --docs 100000`: search latency at scale, in a database of its own.

The command never touches the dev or test data: it creates a separate database
(a temporary SQLite file by default; with a PostgreSQL DATABASE_URL, the
database "<name>_bench" on the same server, dropped at the end), and runs the
measurement in a child process pointed at it. The child migrates, bulk-loads
a synthetic corpus (search.bench_corpus), builds the index once, then for 50
fixed queries prints p50/p95/p99 of: the database query (search(), the two SQL
statements plus snippets), the full /search/ page through the Django test
client (signed in), grep/ripgrep over the corpus written as one markdown file
per document, and a naive icontains scan; and whether the expected document is
in the top 5. It ends with one JSON line of the figures.
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
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

PAGE_TARGET_MS = 100
QUERY_TARGET_MS = 10


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
        from portal.search.bench_corpus import QUERIES

        quiet = verbosity == 0
        call_command("migrate", verbosity=0)
        self.seed(docs, workdir, quiet)
        user = self.make_user()
        figures = {"docs": docs, "database": connection.vendor, "repeat": repeat}

        query_ms, search_ms, page_ms = [], [], []
        top5 = {"expected": 0, "found": 0, "missed": []}
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from portal.search.backends import Filters, backend, search
        from portal.search.query import parse

        # Pages render without a collectstatic manifest (as in the tests); the benchmark measures views, not files.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(user)
        page_queries = set()
        for text, expected in tqdm(QUERIES, desc="Queries", disable=quiet):
            search(text, user=user)  # warm up
            for _ in range(repeat):
                started = time.perf_counter()
                rows = backend().candidates(parse(text), Filters(), user) if parse(text) else []
                query_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                results = search(text, user=user)
                search_ms.append((time.perf_counter() - started) * 1000)
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
        figures["search_call_ms"] = percentiles(search_ms)
        figures["page_ms"] = percentiles(page_ms)
        figures["page_queries"] = sorted(page_queries)
        figures["top5"] = top5
        figures.update(self.scans(QUERIES[:scan_queries], workdir, quiet))
        figures["oncall_card"] = self.bench_oncall_card(client)
        self.report(figures)

    def seed(self, docs, workdir, quiet):
        from portal.search.backends import backend
        from portal.search.bench_corpus import SERVICES, TEAMS, Corpus
        from portal.search.models import SearchDocument, slug_list
        from portal.search.query import tokens_of

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
                        object_id=position + 1,
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
                    written += len(batch)
                    progress.update(len(batch))
                    batch = []
            SearchDocument.objects.bulk_create(batch)
            progress.update(len(batch))
            progress.close()
            if not quiet:
                self.stderr.write("Building the full-text index…")
        backend().optimize()

    def make_user(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.create_user("bench.reader", "bench@example.com", "unused-password-1")

    def scans(self, queries, workdir, quiet):
        """The same queries by grep/ripgrep over markdown files and by a naive icontains scan."""
        from portal.search.models import SearchDocument
        from portal.search.query import parse

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

    def bench_oncall_card(self, client):
        """Hook for the on-call card benchmark (p50/p95 and query count of /services/<slug>/oncall/).

        The card is built separately (issue 6, second half); its author seeds a service with its
        matrix, SLA, releases and reviews here and returns {"p50":…, "p95":…, "queries":…}.
        """
        return None

    def report(self, figures):
        def line(label, values):
            if values:
                self.stdout.write(
                    f"{label:<28} p50 {values['p50']:>8} ms   p95 {values['p95']:>8} ms   p99 {values['p99']:>8} ms"
                )

        self.stdout.write(f"\n{figures['docs']} documents on {figures['database']}, 50 queries × {figures['repeat']}")
        line("query (database)", figures["query_ms"])
        line("search() incl. snippets", figures["search_call_ms"])
        line("/search/ page", figures["page_ms"])
        line(f"{figures['grep_tool']} over markdown files", figures["grep_ms"])
        line("naive icontains scan", figures["icontains_ms"])
        top5 = figures["top5"]
        self.stdout.write(f"expected document in top 5:  {top5['found']}/{top5['expected']}")
        if top5["missed"]:
            self.stdout.write(f"  missed: {', '.join(top5['missed'])}")
        self.stdout.write(f"queries per page: {figures['page_queries']}")
        verdict = figures["query_ms"]["p95"] <= QUERY_TARGET_MS and figures["page_ms"]["p95"] <= PAGE_TARGET_MS
        self.stdout.write(
            f"targets (query p95 ≤ {QUERY_TARGET_MS} ms, page p95 ≤ {PAGE_TARGET_MS} ms): "
            f"{'met' if verdict else 'NOT met'}"
        )
        self.stdout.write(json.dumps(figures, sort_keys=True))


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable
