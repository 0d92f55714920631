"""Ranked full-text search with bounded work, on SQLite FTS5 or PostgreSQL, chosen by connection.vendor.

Ranking every match of a broad word ("latency" is in most incident documents)
costs time in proportion to the matches. Here each query does a fixed amount
of work, whatever the corpus size, in three candidate sets fetched by one SQL
statement:

  0. an exact name: the service whose name is the query (one index lookup on
     title_key), so a service's card is always the first hit for its name;
  1. title matches: documents whose title holds every query term, the newest
     TITLE_CANDIDATES of them, taken in index order (FTS5 rowid order, reverse;
     PostgreSQL: the first rows a GIN bitmap scan of the title vector yields);
  2. any matches: the newest BODY_CANDIDATES documents matching anywhere.

Only those (at most 1 + 200 + 300) rows are scored: FTS5 bm25 with the title
weighted 10× the body, PostgreSQL ts_rank with title weight A over body B.
The final order is tier, then score: a document whose title says everything
asked comes before one that mentions it in passing. When a set holds fewer
rows than its limit it holds *every* match, so for specific queries (rare
words, phrases, names: what an engineer types during an incident) the ranking
is exact; only broad queries are approximated, by recency, which is what an
incident responder wants from "latency" anyway.

Filters (kind, service, team) and review visibility are applied inside each
candidate set, so they never empty a page that has matches.
"""

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection

from portal.search import schema
from portal.search.models import SearchDocument
from portal.search.query import excluded_tsquery, parse, to_fts5, to_tsquery
from portal.search.registry import flush_pending
from portal.search.snippets import snippet

TITLE_CANDIDATES = 200
BODY_CANDIDATES = 300
PAGE_SIZE = 20

EXACT, TITLE, BODY = 0, 1, 2


@dataclass
class Hit:
    document: SearchDocument
    tier: int
    score: float
    snippet: str = ""

    @property
    def is_exact_name(self):
        return self.tier == EXACT


@dataclass
class Results:
    query: object
    hits: list = field(default_factory=list)
    total: int = 0  # matches considered (all of them unless `more`)
    more: bool = False  # a candidate set was full: there are more matches than were ranked
    page: int = 1
    pages: int = 1
    page_size: int = PAGE_SIZE

    @property
    def first_rank(self):
        return (self.page - 1) * self.page_size + 1


@dataclass(frozen=True)
class Filters:
    kinds: tuple = ()
    service: str = ""
    team: str = ""


def _visibility(user):
    """SQL over alias d that keeps documents of restricted reviews only for those `visible_reviews` allows."""
    if user is not None and user.is_superuser:
        return "", []
    from reviews.models import PostIncidentReview
    from reviews.permissions import visible_reviews

    if user is None or not user.is_authenticated:
        return "NOT d.is_restricted", []
    try:
        allowed = visible_reviews(user, PostIncidentReview.objects.filter(is_restricted=True)).values("pk")
        sql, params = allowed.query.sql_with_params()
    except EmptyResultSet:
        return "NOT d.is_restricted", []
    return f"(NOT d.is_restricted OR d.review_id IN ({sql}))", list(params)


class Backend:
    contains = ""  # SQL function: position of a substring

    def where(self, filters, user):
        clauses, params = [], []
        if filters.kinds:
            clauses.append(f"d.kind IN ({', '.join(['%s'] * len(filters.kinds))})")
            params += list(filters.kinds)
        if filters.service:
            clauses.append(f"{self.contains}(d.service_slugs, %s) > 0")
            params.append(f" {filters.service} ")
        if filters.team:
            clauses.append(f"{self.contains}(d.team_slugs, %s) > 0")
            params.append(f" {filters.team} ")
        visibility, visibility_params = _visibility(user)
        if visibility:
            clauses.append(visibility)
            params += visibility_params
        return clauses, params

    def candidates(self, query, filters, user):
        """[(document id, tier, score)], score higher is better, from one bounded statement."""
        raise NotImplementedError

    def optimize(self):
        """Compact the index after a bulk load."""

    def bulk_load(self):
        """A context manager for loading many documents at once: the index is built once, at the end."""
        return nullcontext()


class SqliteBackend(Backend):
    contains = "instr"

    def optimize(self):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")

    @contextmanager
    def bulk_load(self):
        with connection.cursor() as cursor:
            for statement in schema.SQLITE_DROP_TRIGGERS:
                cursor.execute(statement)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
                for statement in schema.SQLITE_TRIGGERS:
                    cursor.execute(statement)

    def candidates(self, query, filters, user):
        clauses, params = self.where(filters, user)
        extra = "".join(f" AND {clause}" for clause in clauses)
        # Without filters the FTS table is read alone; with them each candidate row is joined to its document.
        join = " JOIN search_searchdocument d ON d.id = search_fts.rowid" if clauses else ""
        stage = (
            "SELECT * FROM (SELECT search_fts.rowid AS id, {tier} AS tier, -bm25(search_fts, 10.0, 1.0) AS score"
            f" FROM search_fts{join} WHERE search_fts MATCH %s{extra}"
            " ORDER BY search_fts.rowid DESC LIMIT {limit})"
        )
        sql = " UNION ALL ".join(
            [
                f"SELECT d.id, {EXACT}, 0.0 FROM search_searchdocument d"
                f" WHERE d.kind = 'service' AND d.title_key = %s{extra}",
                stage.format(tier=TITLE, limit=TITLE_CANDIDATES),
                stage.format(tier=BODY, limit=BODY_CANDIDATES),
            ]
        )
        arguments = [
            query.name_key,
            *params,
            to_fts5(query, column="title"),
            *params,
            to_fts5(query),
            *params,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, arguments)
            return cursor.fetchall()


class PostgresBackend(Backend):
    contains = "strpos"

    def optimize(self):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")

    @contextmanager
    def bulk_load(self):
        indexes = [statement for statement in schema.POSTGRES_FORWARD if statement.startswith("CREATE INDEX")]
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS search_document_vector, search_document_title_vector")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for statement in indexes:
                    cursor.execute(statement)

    def candidates(self, query, filters, user):
        clauses, params = self.where(filters, user)
        extra = "".join(f" AND {clause}" for clause in clauses)
        matching = to_tsquery(query, with_exclusions=False)
        exclusion, exclusion_params = "", []
        if query.excluded:
            exclusion = " AND NOT (d.search_vector @@ to_tsquery('simple', %s))"
            exclusion_params = [excluded_tsquery(query)]
        # LIMIT inside the subqueries: rows are taken as the GIN bitmap scan yields them, and only
        # those few hundred are ranked (ts_rank reads the whole stored vector of each row it ranks).
        sql = f"""
            SELECT d.id, {EXACT}, 0.0 FROM search_searchdocument d
             WHERE d.kind = 'service' AND d.title_key = %s{extra}
            UNION ALL
            SELECT t.id, {TITLE}, ts_rank(t.title_vector, to_tsquery('simple', %s)) FROM (
                SELECT d.id, d.title_vector FROM search_searchdocument d
                 WHERE d.title_vector @@ to_tsquery('simple', %s){exclusion}{extra}
                 LIMIT {TITLE_CANDIDATES}) t
            UNION ALL
            SELECT b.id, {BODY}, ts_rank(b.search_vector, to_tsquery('simple', %s)) FROM (
                SELECT d.id, d.search_vector FROM search_searchdocument d
                 WHERE d.search_vector @@ to_tsquery('simple', %s){exclusion}{extra}
                 LIMIT {BODY_CANDIDATES}) b
        """
        arguments = [
            query.name_key,
            *params,
            matching,
            matching,
            *exclusion_params,
            *params,
            matching,
            matching,
            *exclusion_params,
            *params,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, arguments)
            return cursor.fetchall()


BACKENDS = {"sqlite": SqliteBackend(), "postgresql": PostgresBackend()}


def backend():
    try:
        return BACKENDS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"Search supports SQLite and PostgreSQL, not {connection.vendor}.") from None


def rank(rows):
    """Candidate rows to (id, tier, score), one per document, best first."""
    best = {}
    for document_id, tier, score in rows:
        if document_id not in best or tier < best[document_id][0]:
            best[document_id] = (tier, float(score or 0.0))
    return sorted(((pk, tier, score) for pk, (tier, score) in best.items()), key=lambda row: (row[1], -row[2], -row[0]))


def search(text, *, user, filters=None, page=1, page_size=PAGE_SIZE):
    """Search for `text` as `user` may see it; never raises on any input. Two queries when there is a query."""
    query = parse(text)
    results = Results(query=query, page_size=page_size)
    if not query:
        return results
    flush_pending()
    filters = filters or Filters()
    rows = backend().candidates(query, filters, user)
    ranked = rank(rows)
    results.total = len(ranked)
    title_rows = sum(1 for row in rows if row[1] == TITLE)
    body_rows = sum(1 for row in rows if row[1] == BODY)
    results.more = title_rows >= TITLE_CANDIDATES or body_rows >= BODY_CANDIDATES
    results.pages = max(1, -(-len(ranked) // page_size))
    results.page = min(max(1, page), results.pages)
    shown = ranked[(results.page - 1) * page_size : results.page * page_size]
    documents = SearchDocument.objects.in_bulk([pk for pk, _tier, _score in shown])
    results.hits = [
        Hit(documents[pk], tier, score, snippet(documents[pk].body, query))
        for pk, tier, score in shown
        if pk in documents
    ]
    return results
