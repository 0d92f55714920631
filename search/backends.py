"""Ranked full-text search with bounded work, on SQLite FTS5 or PostgreSQL, chosen by connection.vendor.

Ranking every match of a broad word ("latency" is in most incident documents) costs time in proportion
to the matches, so each query here does a bounded amount of work whatever the corpus size. Results come
in three tiers, in this order:

  0. an exact name: the service whose name is the query (one index lookup on title_key), so a
     service's on-call card is always the first hit for its name;
  1. title matches: documents whose title holds every query term (at most TITLE_CANDIDATES);
  2. any matches (at most BODY_CANDIDATES).

A typed prefix ("escal") is first expanded into the whole words it can finish as (SearchTerm), because
both indexes answer a long prefix by merging the document lists of all its words before the first row.

SQLite: the title tier reads a title-only FTS5 table (title document lists are short) and is ranked by
bm25. The body tier reads the whole-document table in rowid order, newest first, with `LIMIT` and no
auxiliary function, so FTS5 stops after k matches; it is ranked by bm25 only when a probe (each word
read up to SELECTIVE matches) shows every word is selective, since bm25 reads each phrase's whole
document list. A phrase of common words is checked among the newest PHRASE_WINDOW documents holding its
words.

PostgreSQL: `LIMIT` without `ORDER BY` over a GIN bitmap scan reads only k heap rows; the heap is kept
narrow (migration 0003) so those reads are cheap. When the planner's word frequencies say the query is
broad, `gin_fuzzy_search_limit` (set for the statement only) also caps what each GIN scan collects;
when they say it is selective, nothing is sampled, so a rare combination of common words is found.
When they say most documents match (and there is no phrase), the body tier is the newest matches, read
newest first by primary key as on SQLite: a GIN scan would first collect every match into a bitmap, and
the cap samples nothing once one word of the query (such as a rare ending of a typed prefix) is rare.
Phrases and exclusions need the stored vector, so they are checked on the few rows kept. Title matches
are ranked by ts_rank; the body tier is ranked when it holds every match.

When a tier holds fewer rows than its limit it holds every match, so for specific queries (rare words,
phrases, names: what an engineer types during an incident) the ranking is exact; broad queries show a
bounded selection, recent (SQLite; PostgreSQL when most documents match) or in table order (PostgreSQL),
marked as "the best of more than N".
Filters (kind, service, team) are applied inside each tier, so they never empty a page that has matches;
visibility too on SQLite, and once over the candidates on PostgreSQL (one plan for it, not three).
"""

import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.db import connection, transaction

from search import schema
from search.models import SearchDocument
from search.query import Query, excluded_fts5, excluded_tsquery, expand, parse, to_fts5, to_tsquery
from search.registry import flush_pending, readable_keys_sql
from search.snippets import snippet

TITLE_CANDIDATES = 200
BODY_CANDIDATES = 300
PAGE_SIZE = 20
SELECTIVE = 2000  # a word in at most this many documents is cheap to rank exactly
MAX_PROBES = 12
PHRASE_WINDOW = 2000  # documents holding a phrase's words, newest first, checked for the phrase itself
PREFIX_EXPANSIONS = 24  # whole words a typed prefix stands for, shortest first
GIN_FUZZY_LIMIT = 1000  # PostgreSQL: about how many rows one GIN scan may return
PHRASE_CHECKS = 300  # PostgreSQL: rows whose stored vector is read to check a phrase or an exclusion
# Set for the search statement only (see PostgresBackend): GIN's cap; no sequential scan, the one unbounded
# plan; and no JIT, which the cost of a plan without sequential scans would otherwise trigger (a second of
# compiling for a millisecond query).
PG_SETTINGS = ["gin_fuzzy_search_limit", "enable_seqscan", "jit"]
EXACT_MATCHES = 1000  # PostgreSQL: a query expected to match at most this many documents is answered exactly
# PostgreSQL: a query expected to match at least this share of the documents takes its body tier from the newest
# RECENT_WINDOW documents (read newest first, by primary key), as SQLite does for broad queries.
RECENT_SHARE = 0.3
RECENT_WINDOW = 1500
STATISTICS_SECONDS = 300  # PostgreSQL: how long the planner's word frequencies are reused

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
    ranked_ids: list = field(default_factory=list)  # every document ranked, best first (bounded like the rest)

    @property
    def first_rank(self):
        return (self.page - 1) * self.page_size + 1


@dataclass(frozen=True)
class Filters:
    kinds: tuple = ()
    service: str = ""
    team: str = ""


def _visibility(user):
    """SQL over alias d that keeps restricted documents only for those the registered visibility rule allows."""
    if user is not None and user.is_superuser:
        return "", []
    if user is None or not user.is_authenticated:
        return "NOT d.is_restricted", []
    sql, params = readable_keys_sql(user)
    if sql is None:
        return "NOT d.is_restricted", []
    return f"(NOT d.is_restricted OR d.visibility_key IN ({sql}))", list(params)


def _visible_rows(rows, user):
    """(id, tier, score) of the candidate rows (id, tier, score, is_restricted, visibility_key) `user` may see.

    The same rule as `_visibility`, applied to the few candidate rows instead of inside the search
    statement: on PostgreSQL, planning the rule's subquery costs one to three milliseconds in every
    search, while restricted documents are rarely among the candidates. When some are, one query asks which
    of their keys the user may read.
    """
    restricted = {row[4] for row in rows if row[3]}
    if not restricted or (user is not None and user.is_superuser):
        allowed = restricted
    elif user is None or not user.is_authenticated:
        allowed = set()
    else:
        allowed = _readable_keys(user, restricted)
    return [row[:3] for row in rows if not row[3] or row[4] in allowed]


def _readable_keys(user, keys):
    """Which of these visibility keys `user` (authenticated, not a superuser) may read."""
    sql, params = readable_keys_sql(user)
    if sql is None:
        return set()
    wanted = sorted(key for key in keys if key is not None)
    if not wanted:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.pk FROM ({sql}) a WHERE a.pk IN ({', '.join(['%s'] * len(wanted))})", [*params, *wanted]
        )
        return {row[0] for row in cursor.fetchall()}


class Backend:
    contains = ""  # SQL function: position of a substring

    def where(self, filters, user, *, visibility=True):
        """SQL conditions over alias d for the filters and (unless `visibility` is false) the user's access."""
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
        if visibility:
            access, access_params = _visibility(user)
            if access:
                clauses.append(access)
                params += access_params
        return clauses, params

    native_prefix_length = 0  # typed prefixes up to this length are read by the index itself, in order

    def candidates(self, query, filters, user, expansions=None):
        """[(document id, tier, score)], score higher is better, from a bounded amount of work."""
        raise NotImplementedError

    def words_starting(self, cursor, prefix):
        raise NotImplementedError

    def expansions(self, query):
        """{prefix Term: [whole words]} for the typed prefixes the index would otherwise merge in full."""
        expansions = {}
        wanted = [term for term in query.terms if term.prefix and len(term.tokens[-1]) > self.native_prefix_length]
        if wanted:
            with connection.cursor() as cursor:
                for term in wanted:
                    words = self.words_starting(cursor, term.tokens[-1])
                    if words:  # an empty word table (never filled) must not hide matches: keep the native prefix
                        expansions[term] = words
        return expansions

    def optimize(self):
        """Compact the index after a bulk load."""

    def bulk_load(self):
        """A context manager for loading many documents at once: the index is built once, at the end."""
        return nullcontext()


class SqliteBackend(Backend):
    """FTS5: a title-only table for the title tier, the whole-document table for the body tier.

    FTS5 reads a document list lazily in rowid order, so `ORDER BY rowid DESC LIMIT k` with no
    auxiliary function stops after k matches. bm25() is the expensive part: it counts each phrase's
    documents by reading the phrase's whole document list, once per statement. So the body tier uses
    bm25 only when every word of the query is selective (a probe, each word read up to SELECTIVE
    matches, says so); otherwise it takes the newest matches. A phrase of common words costs position
    checks on every document holding all its words, so then the body tier looks only among the newest
    PHRASE_WINDOW documents holding the words (the title tier still sees every title).
    """

    contains = "instr"
    native_prefix_length = 3  # prefix='2 3': the index holds these prefixes as words of their own

    def optimize(self):
        with connection.cursor() as cursor:
            for table in schema.SQLITE_FTS_TABLES:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

    @contextmanager
    def bulk_load(self):
        with connection.cursor() as cursor:
            for statement in schema.SQLITE_DROP_TRIGGERS:
                cursor.execute(statement)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for table in schema.SQLITE_FTS_TABLES:
                    cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
                for statement in schema.SQLITE_TRIGGERS:
                    cursor.execute(statement)

    def words_starting(self, cursor, prefix):
        cursor.execute(
            "SELECT term FROM search_searchterm WHERE term >= %s AND term < %s ORDER BY length(term), term LIMIT %s",
            [prefix, prefix + "\U0010ffff", PREFIX_EXPANSIONS],
        )
        return [row[0] for row in cursor.fetchall()]

    def _all_selective(self, cursor, query, expansions):
        """Whether every word the query reads has at most SELECTIVE documents (bm25 is then cheap)."""
        tokens, native_prefix = set(), False
        for term in query.terms:
            for form, prefix in expand(term, expansions):
                tokens.update(form)
                native_prefix = native_prefix or prefix
        # One statement whatever the answer, so a page's query count depends on the query, not the data.
        tokens = sorted(tokens)[:MAX_PROBES]
        probe = f"(SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH %s LIMIT {SELECTIVE + 1}))"
        cursor.execute("SELECT " + ", ".join([probe] * len(tokens)), [f'"{token}"' for token in tokens])
        counts = cursor.fetchone()
        return not native_prefix and len(tokens) < MAX_PROBES and all(count <= SELECTIVE for count in counts)

    def _phrase_window(self, cursor, query, expansions):
        """The lowest rowid worth checking a phrase against, or None to check every document."""
        if not any(len(form) > 1 for term in query.terms for form, _prefix in expand(term, expansions)):
            return None
        cursor.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY rowid DESC LIMIT 1 OFFSET %s",
            [to_fts5(query, expansions=expansions, loose_phrases=True), PHRASE_WINDOW - 1],
        )
        row = cursor.fetchone()
        return row[0] if row else None

    def candidates(self, query, filters, user, expansions=None):
        matching = to_fts5(query, expansions=expansions)
        if matching is None:
            return []
        clauses, params = self.where(filters, user)
        extra = "".join(f" AND {clause}" for clause in clauses)
        with connection.cursor() as cursor:
            exact = (
                f"SELECT d.id, {EXACT}, 0.0 FROM search_searchdocument d"
                f" WHERE d.kind = 'service' AND d.title_key = %s{extra}"
            )
            arguments = [query.name_key, *params]

            # The title tier: every title holding all the terms (the newest TITLE_CANDIDATES), ranked by bm25.
            title_join = " JOIN search_searchdocument d ON d.id = t.rowid" if clauses else ""
            excluded = excluded_fts5(query)
            title_exclusion = (
                " AND NOT EXISTS (SELECT 1 FROM search_fts x WHERE search_fts MATCH %s AND x.rowid = t.rowid)"
                if excluded
                else ""
            )
            title = (
                f"SELECT t.rowid, {TITLE}, -bm25(search_title_fts) FROM search_title_fts t{title_join}"
                f" WHERE search_title_fts MATCH %s{title_exclusion}{extra}"
                f" ORDER BY t.rowid DESC LIMIT {TITLE_CANDIDATES}"
            )
            arguments += [to_fts5(Query(groups=query.groups), expansions=expansions)]
            arguments += [excluded] if excluded else []
            arguments += params

            # The body tier: ranked exactly when the words are selective, else the newest matches.
            body_join = " JOIN search_searchdocument d ON d.id = f.rowid" if clauses else ""
            if self._all_selective(cursor, query, expansions):
                score, order, window = "-bm25(search_fts, 10.0, 1.0)", "3 DESC", None
            else:
                score, order, window = "0.0", "f.rowid DESC", self._phrase_window(cursor, query, expansions)
            bounded = " AND f.rowid >= %s" if window is not None else ""
            body = (
                f"SELECT f.rowid, {BODY}, {score} FROM search_fts f{body_join}"
                f" WHERE search_fts MATCH %s{bounded}{extra} ORDER BY {order} LIMIT {BODY_CANDIDATES}"
            )
            arguments += [matching, *([window] if window is not None else []), *params]

            sql = " UNION ALL ".join([exact, f"SELECT * FROM ({title})", f"SELECT * FROM ({body})"])
            cursor.execute(sql, arguments)
            return cursor.fetchall()


class PostgresBackend(Backend):
    """Stored tsvectors with GIN indexes; every scan stops after k rows of a narrow heap.

    A GIN bitmap scan with `LIMIT k` and no `ORDER BY` reads k heap rows, whatever the number of
    matches; migration 0003 keeps the heap narrow (the big columns in TOAST), so those rows sit on few,
    cached pages. When the planner's word frequencies say the query is broad, `gin_fuzzy_search_limit`
    also caps what each GIN scan collects (a sample, for a query whose matches could not all be shown
    anyway); when they say it is selective, nothing is sampled. When they say most documents match, the
    body tier reads the newest documents instead, and falls back to the GIN scan only if they hold too
    few matches. For the one statement, sequential scans (reading and parsing every stored vector) and
    JIT are off.

    The statement is sent with client-side binding (Django's default for psycopg 3), so psycopg's
    server-side prepared statements (`prepare_threshold`) never apply to it: the settings batch below
    needs several statements in one round trip, which server-side binding does not allow.
    """

    contains = "strpos"
    # A GIN prefix match collects every document of every word it could finish as; from 3 letters on the
    # prefix is expanded (shortest words first, up to PREFIX_EXPANSIONS of them) instead.
    native_prefix_length = 2

    def optimize(self):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")
            cursor.execute("ANALYZE search_searchterm")

    @contextmanager
    def bulk_load(self):
        with connection.cursor() as cursor:
            cursor.execute(schema.POSTGRES_DROP_INDEXES)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for statement in schema.POSTGRES_INDEXES:
                    cursor.execute(statement)

    def words_starting(self, cursor, prefix):
        # Tokens are letters and digits only, so the prefix holds no LIKE wildcard; the primary key's
        # varchar_pattern_ops index (which Django adds on PostgreSQL) serves the LIKE.
        cursor.execute(
            "SELECT term FROM search_searchterm WHERE term LIKE %s ORDER BY length(term), term LIMIT %s",
            [prefix + "%", PREFIX_EXPANSIONS],
        )
        return [row[0] for row in cursor.fetchall()]

    def candidates(self, query, filters, user, expansions=None):
        matching = to_tsquery(query, with_exclusions=False, expansions=expansions)
        if matching is None:
            return []
        clauses, params = self.where(filters, user, visibility=False)  # access is checked on the rows, below
        extra = "".join(f" AND {clause}" for clause in clauses)
        # Only GIN-answerable conditions inside the bounded scans: positions (phrases) and exclusions need
        # each row's stored vector, read from TOAST, so they are checked on the few rows kept, not all.
        loose = to_tsquery(query, with_exclusions=False, expansions=expansions, loose_phrases=True)
        exact = to_tsquery(query, expansions=expansions)
        recheck = loose != exact
        # Few expected matches: no sampling, and every match is checked for its phrase. Many: a sample of
        # about GIN_FUZZY_LIMIT rows per GIN scan, and PHRASE_CHECKS of them checked.
        estimate = self.estimated_matches(query, expansions)
        is_broad = estimate > EXACT_MATCHES
        checks = PHRASE_CHECKS if is_broad else EXACT_MATCHES
        checked = "WHERE c.search_vector @@ to_tsquery('simple', %s)" if recheck else ""
        title_checked = "WHERE NOT (c.search_vector @@ to_tsquery('simple', %s))" if query.excluded else ""
        # Most documents match: a GIN scan would collect every one of them into a bitmap before the first row
        # (tens of milliseconds at 100,000, and gin_fuzzy_search_limit samples nothing as soon as one word of
        # the query, such as a rare ending of a typed prefix, is rare). Reading the newest documents by primary
        # key and checking each one's vector (phrases and exclusions included) finds BODY_CANDIDATES matches
        # within a few hundred rows. Only when the newest RECENT_WINDOW documents hold fewer (the estimate was
        # wrong) does the GIN scan below run: its condition is a one-time filter, so it is skipped otherwise.
        # Not for a phrase: its words may be common while the phrase is rare (the estimate is for the words).
        has_phrase = loose != to_tsquery(query, with_exclusions=False, expansions=expansions)
        recent = not has_phrase and estimate >= RECENT_SHARE * _documents() > RECENT_WINDOW
        recent_sql = (
            f"""recent AS MATERIALIZED (
                SELECT w.id, w.is_restricted, w.visibility_key FROM (
                        SELECT d.id, d.search_vector, d.is_restricted, d.visibility_key FROM search_searchdocument d
                         WHERE TRUE{extra} ORDER BY d.id DESC LIMIT {RECENT_WINDOW}) w
                 WHERE w.search_vector @@ to_tsquery('simple', %s) LIMIT {BODY_CANDIDATES}
            ),"""
            if recent
            else ""
        )
        recent_body = (
            f"""UNION ALL
                SELECT r.id, {BODY}, 0.0::real, r.is_restricted, r.visibility_key FROM recent r
                 WHERE (SELECT count(*) FROM recent) >= {BODY_CANDIDATES}"""
            if recent
            else ""
        )
        gin_gate = f" WHERE (SELECT count(*) FROM recent) < {BODY_CANDIDATES}" if recent else ""
        # LIMIT without ORDER BY: a bitmap heap scan stops after k rows, so only k rows are read whatever
        # the number of matches (they come in table order). The body tier is ranked when it holds every
        # match; otherwise it is the first BODY_CANDIDATES matches, newest first.
        sql = f"""
            WITH {recent_sql} candidate AS (
                SELECT d.id, {EXACT} AS tier, 0.0::real AS score, d.is_restricted, d.visibility_key
                  FROM search_searchdocument d WHERE d.kind = 'service' AND d.title_key = %s{extra}
                UNION ALL
                SELECT t.id, {TITLE}, ts_rank(t.title_vector, to_tsquery('simple', %s)),
                       t.is_restricted, t.visibility_key
                  FROM (SELECT c.* FROM (
                        SELECT d.id, d.title_vector, d.search_vector, d.is_restricted, d.visibility_key
                          FROM search_searchdocument d
                         WHERE d.title_vector @@ to_tsquery('simple', %s){extra} LIMIT {TITLE_CANDIDATES}) c
                        {title_checked}) t
                {recent_body}
                UNION ALL
                SELECT b.id, {BODY}, CASE WHEN count(*) OVER () < {BODY_CANDIDATES}
                       THEN ts_rank(b.search_vector, to_tsquery('simple', %s)) ELSE 0 END,
                       b.is_restricted, b.visibility_key
                  FROM (SELECT c.* FROM (
                        SELECT d.id, d.search_vector, d.is_restricted, d.visibility_key FROM search_searchdocument d
                         WHERE d.search_vector @@ to_tsquery('simple', %s){extra}
                         LIMIT {checks if recheck else BODY_CANDIDATES}) c
                        {checked} LIMIT {BODY_CANDIDATES}) b{gin_gate}
            )
            SELECT d.id, d.tier, d.score, d.is_restricted, d.visibility_key FROM candidate d
        """
        arguments = [*params, exact] if recent else []
        arguments += [query.name_key, *params]
        arguments += [matching, matching, *params, *([excluded_tsquery(query)] if query.excluded else [])]
        arguments += [matching, loose, *params, *([exact] if recheck else [])]
        fuzzy_limit = GIN_FUZZY_LIMIT if is_broad else 0
        values = [str(fuzzy_limit), "off", "off"]
        nested = connection.in_atomic_block
        settings = (
            f"SELECT {', '.join(f'current_setting({name!r})' for name in PG_SETTINGS)},"
            f" {', '.join(f'set_config({name!r}, %s, true)' for name in PG_SETTINGS)}"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # One round trip: the client-side-bound batch runs its statements in order, so the settings
            # are in force when the search statement is planned and run.
            cursor.execute(f"{settings}; {sql}", [*values, *arguments])
            previous = cursor.fetchone()[: len(PG_SETTINGS)]
            try:
                cursor.nextset()
                rows = cursor.fetchall()
            finally:
                if nested:  # SET LOCAL lasts until the outermost transaction ends: the caller's, here
                    cursor.execute(
                        f"SELECT {', '.join(f'set_config({name!r}, %s, true)' for name in PG_SETTINGS)}",
                        list(previous),
                    )
        return _visible_rows(rows, user)

    def estimated_matches(self, query, expansions):
        """About how many documents match, from the planner's word frequencies (0 when there are none).

        gin_fuzzy_search_limit samples each broad word's documents independently before an AND, so a
        query whose words are each broad but rare together ("replication lag failover") would lose most
        of its few matches to the sampling: such a query, expected to match few documents, runs exactly.
        """
        statistics = _word_frequencies()
        if statistics is None:
            return 0
        documents, frequencies, floor = statistics

        def form(tokens, prefix):  # a phrase as its words anywhere (what GIN reads), as if independent
            share = 1.0
            for token in tokens[:-1] if prefix else tokens:
                share *= frequencies.get(token, floor)
            # A prefix long enough to be expanded that was not (`expansions` found no word it finishes as)
            # matches as rarely as an unknown word; a short one may finish as any word.
            return share * floor if prefix and len(tokens[-1]) > self.native_prefix_length else share

        def term(item):
            return min(1.0, sum(form(tokens, prefix) for tokens, prefix in expand(item, expansions)))

        estimate = documents
        for group in query.groups:
            estimate *= min(1.0, sum(term(item) for item in group))
        return estimate


_frequencies_cache = {}


def _documents():
    """About how many documents there are (the planner's count), 0 when unknown."""
    statistics = _word_frequencies()
    return statistics[0] if statistics else 0


def _word_frequencies():
    """(documents, {word: share of documents holding it}, share assumed for any other word), or None.

    Read from pg_stats (ANALYZE keeps the most common words of search_vector there, as the planner uses
    them), and kept for STATISTICS_SECONDS per database.
    """
    key = connection.alias
    cached = _frequencies_cache.get(key)
    if cached and time.monotonic() - cached[0] < STATISTICS_SECONDS:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs
                 FROM pg_class c
                 LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname
                      AND s.attname = 'search_vector'
                WHERE c.relname = 'search_searchdocument' AND c.relnamespace = current_schema()::regnamespace"""
        )
        row = cursor.fetchone()
    statistics = None
    if row and row[1] and row[0] > 0:
        words, shares = row[1], row[2][: len(row[1])]
        statistics = (row[0], dict(zip(words, shares, strict=True)), min(shares))
    _frequencies_cache[key] = (time.monotonic(), statistics)
    return statistics


BACKENDS = {"sqlite": SqliteBackend(), "postgresql": PostgresBackend()}


def backend():
    try:
        return BACKENDS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"Search supports SQLite and PostgreSQL, not {connection.vendor}.") from None


def candidates(query, filters, user):
    """The bounded candidate rows for a parsed, non-empty query: (document id, tier, score)."""
    engine = backend()
    return engine.candidates(query, filters, user, expansions=engine.expansions(query))


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
    rows = candidates(query, filters or Filters(), user)
    ranked = rank(rows)
    results.total = len(ranked)
    results.ranked_ids = [pk for pk, _tier, _score in ranked]
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
