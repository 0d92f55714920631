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

Search reads as people type (`find`): both indexes stem, and when no document holds every word, the query
is widened in two steps, each one more bounded statement, run only when the step before found nothing:

  corrected: words no document holds ("paymnts") also match the nearest title words ("payments"), by
     trigram similarity and edit distance (search.fuzzy; pg_trgm on PostgreSQL, an FTS5 trigram table on
     SQLite), so a typo finds what the right word finds, and never outranks an exact match;
  partial: documents holding all but one of the words, then all but two, down to half of them
     (`Query.combos`), said so on the page ("2 of 3 words").

Every statement also reads the names index (services and teams only): the services whose name matches
are pinned above the results, and the type-ahead (`suggest`) lists services first, then escalation
matrices, SLAs, teams and reviews, in one statement with a few rows per kind.

When a tier holds fewer rows than its limit it holds every match, so for specific queries (rare words,
phrases, names: what an engineer types during an incident) the ranking is exact; broad queries show a
bounded selection, recent (SQLite; PostgreSQL when most documents match) or in table order (PostgreSQL),
marked as "the best of more than N".
Filters (kind, service, team) are applied inside each tier, so they never empty a page that has matches;
visibility too on SQLite, and once over the candidates on PostgreSQL (one plan for it, not three).
"""

import re
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from math import ceil, comb

from django.db import connection

from search import fuzzy, schema
from search.models import DocumentKind, SearchDocument
from search.query import Term, excluded_fts5, excluded_tsquery, expand, parse, to_fts5, to_tsquery
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

CONFIG = schema.POSTGRES_CONFIG  # PostgreSQL's text search configuration, the stored vectors'
# PostgreSQL: ts_rank divided by 1 + log(document length), so a short document about the words outranks a long
# one that mentions them often (as bm25 does on SQLite): "vp engineering" finds the team, not every matrix.
RANK_NORMALIZATION = 1
PINNED = 3  # services whose name matches, pinned above the search page's results
NAME_CANDIDATES = 200  # PostgreSQL: names matching a query, read before ranking them
# The type-ahead: the kinds it lists, in this order (incident-time objects first), and how many of each.
SUGGESTED_KINDS = (
    (DocumentKind.SERVICE, 5),
    (DocumentKind.ESCALATION_MATRIX, 3),
    (DocumentKind.SLA, 3),
    (DocumentKind.TEAM, 3),
    (DocumentKind.REVIEW, 3),
)
SUGGESTED_LABELS = {
    DocumentKind.SERVICE: "Services",
    DocumentKind.ESCALATION_MATRIX: "Escalation matrices",
    DocumentKind.SLA: "SLAs",
    DocumentKind.TEAM: "Teams",
    DocumentKind.REVIEW: "Reviews",
}
SUGGESTION_WINDOW = 50  # title matches of one kind, newest first, ranked for the type-ahead
MOST_COMBINATIONS = 20  # partial matching: sets of words tried at one level ("2 of 3" is 3 sets)

EXACT, TITLE, BODY = 0, 1, 2
NAME_TITLE, NAME_BODY = 10, 11  # the names index: not ranked with the rest (pinned, or the type-ahead's groups)
ALL, CORRECTED, PARTIAL = "all", "corrected", "partial"


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
    services: list = field(default_factory=list)  # SearchDocuments of the services whose name matches, pinned
    match: str = ""  # ALL, CORRECTED (typos corrected) or PARTIAL (most of the words); "" when nothing matched
    corrections: dict = field(default_factory=dict)  # typed word -> the title words it was taken for
    matched_words: int = 0  # PARTIAL: every document shown holds at least this many of the query's words…
    query_words: int = 0  # … out of this many

    @property
    def first_rank(self):
        return (self.page - 1) * self.page_size + 1

    @property
    def corrected_text(self):
        """The query as it was read, each corrected word replaced by its first correction."""
        text = self.query.text if self.query else ""
        for typed, words in self.corrections.items():
            text = _replace_word(text, typed, words[0])
        return text


def _replace_word(text, typed, word):
    return re.sub(rf"(?<![^\W_]){re.escape(typed)}(?![^\W_])", word, text, count=1, flags=re.IGNORECASE)


@dataclass
class Vocabulary:
    """What the word table says about a query's words: prefix endings, corrections and (PostgreSQL) stems."""

    expansions: dict = field(default_factory=dict)  # prefix Term -> whole words it can finish as
    stems: dict = field(default_factory=dict)  # PostgreSQL: word -> its lexemes in the english configuration


@dataclass
class Found:
    """Candidate rows and how they were found: with the query as typed, its typos corrected, or partly."""

    rows: list
    query: object  # the form of the query that matched (corrections and combinations included)
    match: str = ""
    corrections: dict = field(default_factory=dict)
    matched_words: int = 0
    query_words: int = 0


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
    """(id, tier, score, …) of the candidate rows (id, tier, score, is_restricted, visibility_key, …) `user` may see.

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
    return [row[:3] + row[5:] for row in rows if not row[3] or row[4] in allowed]


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

    def candidates(self, query, filters, user, vocabulary):
        """[(document id, tier, score)], score higher is better, from a bounded amount of work.

        Besides the ranked tiers, NAME_TITLE rows: the services whose name matches (to pin them).
        """
        raise NotImplementedError

    def suggestions(self, query, user, vocabulary):
        """[(id, tier, score, kind, title, url, service_slugs, is_archived)]: a few title matches of each
        SUGGESTED_KINDS kind (services and teams also by their description, NAME_BODY), one statement."""
        raise NotImplementedError

    def words_starting_sql(self):
        """SQL selecting (term) of the words starting with a prefix (one parameter pair), shortest first."""
        raise NotImplementedError

    def _prefixes_to_expand(self, query):
        return [term for term in query.terms if term.prefix and len(term.tokens[-1]) > self.native_prefix_length]

    def vocabulary(self, query):
        """The query's Vocabulary: {prefix Term: [whole words]} for the typed prefixes the index would otherwise
        merge in full. One statement when a prefix needs it (SQLite); PostgreSQL adds the words' stems."""
        vocabulary = Vocabulary()
        wanted = self._prefixes_to_expand(query)
        if wanted:
            with connection.cursor() as cursor:
                for term in wanted:
                    cursor.execute(self.words_starting_sql(), self._prefix_bounds(term.tokens[-1]))
                    words = [row[0] for row in cursor.fetchall()]
                    if words:  # an empty word table (never filled) must not hide matches: keep the native prefix
                        vocabulary.expansions[term] = words
        return vocabulary

    def _prefix_bounds(self, prefix):
        raise NotImplementedError

    def nearest_title_words_sql(self):
        """SQL selecting (word, term, stems) of the NEAREST title words to one word (parameters: the word,
        then the backend's match argument for it); stems is NULL where the backend has none."""
        raise NotImplementedError

    def _nearest_argument(self, word):
        return word

    def corrections(self, query, vocabulary):
        """{Term: [Term]}: for each word no document holds (and each unfinished word no indexed word starts
        with), the title words it is probably a typo of. One statement, only when there are such words."""
        words = {}
        for term in query.terms:
            if len(term.tokens) != 1 or term.tokens[0].isdigit() or len(term.tokens[0]) < fuzzy.MIN_LENGTH:
                continue
            if term.prefix and vocabulary.expansions.get(term):
                continue  # a prefix of known words is being typed, not mistyped
            words[term] = term.tokens[0]
        if not words:
            return {}
        distinct = sorted(set(words.values()))
        # The words already in the table (any of them, title or body) come back under the word "" (no word is empty).
        known_sql = f"SELECT '', term, NULL FROM search_searchterm WHERE term IN ({', '.join(['%s'] * len(distinct))})"
        arms, arguments = [known_sql], list(distinct)
        for word in distinct:
            arms.append(f"SELECT * FROM ({self.nearest_title_words_sql()}) AS nearest")
            arguments += [word, self._nearest_argument(word)]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(arms), arguments)
            rows = cursor.fetchall()
        known = {term for word, term, _stems in rows if word == ""}
        nearest = {}
        for word, term, stems in rows:
            if word != "":
                nearest.setdefault(word, []).append(term)
                if stems is not None:
                    vocabulary.stems[term] = tuple(stems)
                    _remember_stems([(term, stems)])
        corrections = {}
        for term, word in words.items():
            if word in known and not term.prefix:
                continue
            found = fuzzy.corrections_of(word, nearest.get(word, ()), prefix=term.prefix)
            if found:
                corrections[term] = [Term((correction,)) for correction in found]
        return corrections

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
    PHRASE_WINDOW documents holding the words (the title tier still sees every title). The names table
    (services and teams) is small whatever the index, so it is always ranked by bm25.
    """

    contains = "instr"
    native_prefix_length = 3  # prefix='2 3': the index holds these prefixes as words of their own

    def optimize(self):
        with connection.cursor() as cursor:
            for table in [*schema.SQLITE_FTS_TABLES, schema.SQLITE_NAME_TABLE]:
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
                for statement in schema.SQLITE_REFILL_NAMES:
                    cursor.execute(statement)
                for statement in schema.SQLITE_TRIGGERS:
                    cursor.execute(statement)

    def words_starting_sql(self):
        return (
            "SELECT term FROM search_searchterm WHERE term >= %s AND term < %s"
            f" ORDER BY length(term), term LIMIT {PREFIX_EXPANSIONS}"
        )

    def _prefix_bounds(self, prefix):
        return [prefix, prefix + "\U0010ffff"]

    def nearest_title_words_sql(self):
        # The word table's title words, padded as pg_trgm pads them, in an FTS5 trigram table (migration 0005).
        return (
            f"SELECT %s, trim(term), NULL FROM search_term_trigrams WHERE search_term_trigrams MATCH %s"
            f" ORDER BY rank LIMIT {fuzzy.NEAREST}"
        )

    def _nearest_argument(self, word):
        return fuzzy.sqlite_trigram_match(word)

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

    def _names(self, query, expansions, kind, tiers, limit, extra="", params=()):
        """SQL and arguments of the names table's matches of one kind: by name (NAME_TITLE), and/or by
        description (NAME_BODY), each ranked by bm25 and cut at `limit`."""
        arms, arguments = [], []
        if NAME_TITLE in tiers:
            arms.append(
                f"SELECT * FROM (SELECT n.rowid AS id, {NAME_TITLE} AS tier, -bm25(search_name_fts, 10.0, 1.0) AS score"
                f" FROM search_name_fts n JOIN search_searchdocument d ON d.id = n.rowid"
                f" WHERE search_name_fts MATCH %s AND d.kind = %s{extra} ORDER BY 3 DESC LIMIT {limit})"
            )
            arguments += [to_fts5(query, column="title", expansions=expansions), kind, *params]
        if NAME_BODY in tiers:
            arms.append(
                f"SELECT * FROM (SELECT n.rowid AS id, {NAME_BODY} AS tier, -bm25(search_name_fts, 10.0, 1.0) AS score"
                f" FROM search_name_fts n JOIN search_searchdocument d ON d.id = n.rowid"
                f" WHERE search_name_fts MATCH %s AND d.kind = %s{extra} ORDER BY 3 DESC LIMIT {limit})"
            )
            arguments += [to_fts5(query, expansions=expansions), kind, *params]
        return arms, arguments

    def _exact_name(self, query, kind, extra="", params=()):
        if query.combos:
            return [], []
        return (
            [
                f"SELECT d.id AS id, {EXACT} AS tier, 0.0 AS score FROM search_searchdocument d"
                f" WHERE d.kind = %s AND d.title_key = %s{extra}"
            ],
            [kind, query.name_key, *params],
        )

    def candidates(self, query, filters, user, vocabulary):
        expansions = vocabulary.expansions
        matching = to_fts5(query, expansions=expansions)
        if matching is None:
            return []
        clauses, params = self.where(filters, user)
        extra = "".join(f" AND {clause}" for clause in clauses)
        with connection.cursor() as cursor:
            arms, arguments = self._exact_name(query, DocumentKind.SERVICE, extra, params)

            # The title tier: every title holding all the terms (the newest TITLE_CANDIDATES), ranked by bm25.
            title_join = " JOIN search_searchdocument d ON d.id = t.rowid" if clauses else ""
            excluded = excluded_fts5(query)
            title_exclusion = (
                " AND NOT EXISTS (SELECT 1 FROM search_fts x WHERE search_fts MATCH %s AND x.rowid = t.rowid)"
                if excluded
                else ""
            )
            arms.append(
                f"SELECT * FROM (SELECT t.rowid, {TITLE}, -bm25(search_title_fts) FROM search_title_fts t{title_join}"
                f" WHERE search_title_fts MATCH %s{title_exclusion}{extra}"
                f" ORDER BY t.rowid DESC LIMIT {TITLE_CANDIDATES})"
            )
            arguments += [to_fts5(query.positive(), expansions=expansions)]
            arguments += [excluded] if excluded else []
            arguments += params

            # The body tier: ranked exactly when the words are selective, else the newest matches.
            body_join = " JOIN search_searchdocument d ON d.id = f.rowid" if clauses else ""
            if self._all_selective(cursor, query, expansions):
                score, order, window = "-bm25(search_fts, 10.0, 1.0)", "3 DESC", None
            else:
                score, order, window = "0.0", "f.rowid DESC", self._phrase_window(cursor, query, expansions)
            bounded = " AND f.rowid >= %s" if window is not None else ""
            arms.append(
                f"SELECT * FROM (SELECT f.rowid, {BODY}, {score} FROM search_fts f{body_join}"
                f" WHERE search_fts MATCH %s{bounded}{extra} ORDER BY {order} LIMIT {BODY_CANDIDATES})"
            )
            arguments += [matching, *([window] if window is not None else []), *params]

            # The services whose name matches, to pin above the results.
            names, names_arguments = self._names(
                query, expansions, DocumentKind.SERVICE, (NAME_TITLE,), PINNED, extra, params
            )
            arms += names
            arguments += names_arguments

            cursor.execute(" UNION ALL ".join(arms), arguments)
            return cursor.fetchall()

    def suggestions(self, query, user, vocabulary):
        expansions = vocabulary.expansions
        titles = to_fts5(query.positive(), expansions=expansions)
        if titles is None:
            return []
        excluded = excluded_fts5(query)
        exclusion = (
            " AND NOT EXISTS (SELECT 1 FROM search_fts x WHERE search_fts MATCH %s AND x.rowid = t.rowid)"
            if excluded
            else ""
        )
        access, access_params = _visibility(user)
        arms, arguments = [], []
        for kind, limit in SUGGESTED_KINDS:
            if kind in schema.NAME_KINDS:
                exact, exact_arguments = self._exact_name(query, kind)
                names, names_arguments = self._names(query, expansions, kind, (NAME_TITLE, NAME_BODY), limit)
                arms += exact + names
                arguments += exact_arguments + names_arguments
                continue
            visible = f" AND {access}" if access and kind == DocumentKind.REVIEW else ""
            arms.append(
                f"SELECT * FROM (SELECT * FROM (SELECT t.rowid AS id, {TITLE} AS tier, -bm25(search_title_fts) AS score"
                f" FROM search_title_fts t JOIN search_searchdocument d ON d.id = t.rowid"
                f" WHERE search_title_fts MATCH %s AND d.kind = %s{exclusion}{visible}"
                f" ORDER BY t.rowid DESC LIMIT {SUGGESTION_WINDOW}) ORDER BY score DESC LIMIT {limit})"
            )
            arguments += [titles, kind, *([excluded] if excluded else [])]
            arguments += access_params if visible else []
        sql = (
            "SELECT c.id, c.tier, c.score, d.kind, d.title, d.url, d.service_slugs, d.is_archived"
            f" FROM ({' UNION ALL '.join(arms)}) c JOIN search_searchdocument d ON d.id = c.id"
        )
        # A name's document may come as EXACT and NAME_TITLE and NAME_BODY: the caller keeps the best.
        with connection.cursor() as cursor:
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
        # The word frequencies this process kept were read before the load: read them again.
        _frequencies_cache.pop(connection.alias, None)

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

    def words_starting_sql(self):
        # Tokens are letters and digits only, so the prefix holds no LIKE wildcard; the primary key's
        # varchar_pattern_ops index (which Django adds on PostgreSQL) serves the LIKE.
        return (
            "SELECT term FROM search_searchterm WHERE term LIKE %s"
            f" ORDER BY length(term), term LIMIT {PREFIX_EXPANSIONS}"
        )

    def _prefix_bounds(self, prefix):
        return [prefix + "%"]

    def nearest_title_words_sql(self):
        # pg_trgm's distance (1 - similarity) over the title words, served by the partial GiST index of 0005.
        return (
            f"SELECT %s, w.term, tsvector_to_array(to_tsvector('{CONFIG}', w.term)) FROM ("
            f"SELECT term FROM search_searchterm WHERE in_title ORDER BY term <-> %s LIMIT {fuzzy.NEAREST}) w"
        )

    def vocabulary(self, query):
        """Prefix endings and the stems of every word the query reads, in one statement (none when there is no
        prefix to expand and every word's stem is known already).

        The planner's word frequencies (`_word_frequencies`) are per lexeme, so the estimate of how many
        documents match needs each word's stem in the english configuration: PostgreSQL gives it, and as a
        word's stem depends on nothing else, it is kept for the process (`_STEMS`).
        """
        vocabulary = Vocabulary()
        arms, arguments = [], []
        wanted = self._prefixes_to_expand(query)
        for index, term in enumerate(wanted):
            arms.append(
                f"SELECT %s, w.term, tsvector_to_array(to_tsvector('{CONFIG}', w.term))"
                f" FROM ({self.words_starting_sql()}) w"
            )
            arguments += [str(index), *self._prefix_bounds(term.tokens[-1])]
        tokens = sorted(
            {token for term in query.terms for token in term.tokens} | {t for x in query.excluded for t in x.tokens}
        )
        missing = [token for token in tokens if token not in _STEMS]
        if missing:
            arms.append(
                f"SELECT '', t.token, tsvector_to_array(to_tsvector('{CONFIG}', t.token))"
                " FROM unnest(%s::text[]) AS t(token)"
            )
            arguments.append(missing)
        if arms:
            with connection.cursor() as cursor:
                cursor.execute(" UNION ALL ".join(arms), arguments)
                rows = cursor.fetchall()
            _remember_stems((word, stems) for _position, word, stems in rows)
            for position, word, _stems in rows:
                if position != "":
                    vocabulary.expansions.setdefault(wanted[int(position)], []).append(word)
        words = [*tokens, *(word for words in vocabulary.expansions.values() for word in words)]
        vocabulary.stems = {word: _STEMS[word] for word in words if word in _STEMS}
        return vocabulary

    def _tuned(self, sql, arguments, fuzzy_limit):
        """Run `sql` with the per-statement settings (see PG_SETTINGS) in one round trip; its rows.

        One batch of four statements: keep the current values (in placeholder settings of our own), set
        ours, run `sql`, put the kept values back. Outside a transaction the batch is PostgreSQL's implicit
        transaction of a multi-statement query, so no BEGIN or COMMIT is sent; inside the caller's, the
        last statement restores what SET LOCAL would otherwise keep until that transaction ends.
        """
        keep = "SELECT " + ", ".join(
            f"set_config('portal_search.{name}', current_setting('{name}'), true)" for name in PG_SETTINGS
        )
        apply = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in PG_SETTINGS)
        restore = "SELECT " + ", ".join(
            f"set_config('{name}', current_setting('portal_search.{name}'), true)" for name in PG_SETTINGS
        )
        values = [str(fuzzy_limit), "off", "off"]
        with connection.cursor() as cursor:
            # Client-side binding (Django's default for psycopg 3) sends the batch as one simple query, whose
            # statements run in order: the settings are in force when the search statement is planned and run.
            cursor.execute(f"{keep}; {apply}; {sql}; {restore}", [*values, *arguments])
            cursor.nextset()
            cursor.nextset()
            return cursor.fetchall()

    def _names(self, query, expansions, kind, tiers, limit, extra="", params=()):
        """SQL and arguments of the names' matches of one kind (the partial GIN index of services and teams):
        by name (title lexemes, weight A: NAME_TITLE) and/or by description (NAME_BODY), ranked, cut at `limit`."""
        arms, arguments = [], []
        for tier in tiers:
            matching = to_tsquery(query, expansions=expansions, weight="A" if tier == NAME_TITLE else "")
            if matching is None:
                continue
            arms.append(
                f"""(SELECT n.id, {tier}, n.score, false, NULL::bigint FROM (
                        SELECT d.id, ts_rank(d.search_vector, to_tsquery('{CONFIG}', %s), {RANK_NORMALIZATION}) AS score
                          FROM search_searchdocument d
                         WHERE d.kind IN ('service', 'team') AND d.kind = %s
                           AND d.search_vector @@ to_tsquery('{CONFIG}', %s){extra} LIMIT {NAME_CANDIDATES}) n
                     ORDER BY n.score DESC, n.id DESC LIMIT {limit})"""
            )
            arguments += [matching, kind, matching, *params]
        return arms, arguments

    def candidates(self, query, filters, user, vocabulary):
        expansions = vocabulary.expansions
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
        estimate = self.estimated_matches(query, vocabulary)
        is_broad = estimate > EXACT_MATCHES
        checks = PHRASE_CHECKS if is_broad else EXACT_MATCHES
        checked = f"WHERE c.search_vector @@ to_tsquery('{CONFIG}', %s)" if recheck else ""
        title_checked = f"WHERE NOT (c.search_vector @@ to_tsquery('{CONFIG}', %s))" if query.excluded else ""
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
                 WHERE w.search_vector @@ to_tsquery('{CONFIG}', %s) LIMIT {BODY_CANDIDATES}
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
        exact_name = (
            ""
            if query.combos
            else f"""SELECT d.id, {EXACT} AS tier, 0.0::real AS score, d.is_restricted, d.visibility_key
                  FROM search_searchdocument d WHERE d.kind = 'service' AND d.title_key = %s{extra}
                UNION ALL"""
        )
        names, names_arguments = self._names(
            query.positive(), expansions, DocumentKind.SERVICE, (NAME_TITLE,), PINNED, extra, params
        )
        names_sql = "".join(f" UNION ALL {arm}" for arm in names)
        # LIMIT without ORDER BY: a bitmap heap scan stops after k rows, so only k rows are read whatever
        # the number of matches (they come in table order). The body tier is ranked when it holds every
        # match; otherwise it is the first BODY_CANDIDATES matches, newest first.
        sql = f"""
            WITH {recent_sql} candidate AS (
                {exact_name}
                SELECT t.id, {TITLE} AS tier,
                       ts_rank(t.title_vector, to_tsquery('{CONFIG}', %s), {RANK_NORMALIZATION}) AS score,
                       t.is_restricted, t.visibility_key
                  FROM (SELECT c.* FROM (
                        SELECT d.id, d.title_vector, d.search_vector, d.is_restricted, d.visibility_key
                          FROM search_searchdocument d
                         WHERE d.title_vector @@ to_tsquery('{CONFIG}', %s){extra} LIMIT {TITLE_CANDIDATES}) c
                        {title_checked}) t
                {recent_body}
                UNION ALL
                SELECT b.id, {BODY}, CASE WHEN count(*) OVER () < {BODY_CANDIDATES}
                       THEN ts_rank(b.search_vector, to_tsquery('{CONFIG}', %s), {RANK_NORMALIZATION}) ELSE 0 END,
                       b.is_restricted, b.visibility_key
                  FROM (SELECT c.* FROM (
                        SELECT d.id, d.search_vector, d.is_restricted, d.visibility_key FROM search_searchdocument d
                         WHERE d.search_vector @@ to_tsquery('{CONFIG}', %s){extra}
                         LIMIT {checks if recheck else BODY_CANDIDATES}) c
                        {checked} LIMIT {BODY_CANDIDATES}) b{gin_gate}
                {names_sql}
            )
            SELECT d.id, d.tier, d.score, d.is_restricted, d.visibility_key FROM candidate d
        """
        arguments = [*params, exact] if recent else []
        arguments += [] if query.combos else [query.name_key, *params]
        arguments += [matching, matching, *params, *([excluded_tsquery(query)] if query.excluded else [])]
        arguments += [matching, loose, *params, *([exact] if recheck else [])]
        arguments += names_arguments
        rows = self._tuned(sql, arguments, GIN_FUZZY_LIMIT if is_broad else 0)
        return _visible_rows(rows, user)

    def suggestions(self, query, user, vocabulary):
        expansions = vocabulary.expansions
        titles = to_tsquery(query, with_exclusions=False, expansions=expansions)
        if titles is None:
            return []
        arms, arguments = [], []
        for kind, limit in SUGGESTED_KINDS:
            if kind not in schema.NAME_KINDS:
                continue
            if not query.combos:
                arms.append(
                    f"(SELECT d.id, {EXACT}, 0.0::real, false, NULL::bigint FROM search_searchdocument d"
                    " WHERE d.kind = %s AND d.title_key = %s)"
                )
                arguments += [kind, query.name_key]
            names, names_arguments = self._names(query, expansions, kind, (NAME_TITLE, NAME_BODY), limit)
            arms += names
            arguments += names_arguments
        # The other kinds share one read of the title index: its first SUGGESTION_WINDOW matches per kind asked
        # for, at most, ranked within each kind. The kind is compared as an expression, so the planner reads the
        # title index (few rows) rather than every document of a common kind through the (kind, object_id) index.
        others = [kind for kind, _limit in SUGGESTED_KINDS if kind not in schema.NAME_KINDS]
        exclusion = f" AND NOT (d.search_vector @@ to_tsquery('{CONFIG}', %s))" if query.excluded else ""
        window = f"""titles AS MATERIALIZED (
                SELECT w.* FROM (
                    SELECT d.id, d.kind, d.is_restricted, d.visibility_key, d.search_vector,
                           ts_rank(d.title_vector, to_tsquery('{CONFIG}', %s), {RANK_NORMALIZATION}) AS score
                      FROM search_searchdocument d
                     WHERE d.title_vector @@ to_tsquery('{CONFIG}', %s)
                       AND (d.kind || '') IN ({", ".join(["%s"] * len(others))})
                     LIMIT {SUGGESTION_WINDOW * len(others)}) w
            ), ranked AS (
                SELECT d.id, d.kind, d.is_restricted, d.visibility_key, d.score,
                       row_number() OVER (PARTITION BY d.kind ORDER BY d.score DESC, d.id DESC) AS place
                  FROM titles d WHERE TRUE{exclusion}
            )"""
        window_arguments = [titles, titles, *others, *([excluded_tsquery(query)] if query.excluded else [])]
        limits = " OR ".join("(r.kind = %s AND r.place <= %s)" for _kind in others)
        arms.append(f"(SELECT r.id, {TITLE}, r.score, r.is_restricted, r.visibility_key FROM ranked r WHERE {limits})")
        arguments += [value for kind, limit in SUGGESTED_KINDS if kind in others for value in (kind, limit)]
        sql = f"""
            WITH {window}
            SELECT c.id, c.tier, c.score, c.is_restricted, c.visibility_key,
                   d.kind, d.title, d.url, d.service_slugs, d.is_archived
              FROM ({" UNION ALL ".join(arms)}) AS c(id, tier, score, is_restricted, visibility_key)
              JOIN search_searchdocument d ON d.id = c.id
        """
        # A broad query (most documents match) reads a sample of the title index: the type-ahead shows a few.
        broad = self.estimated_matches(query, vocabulary) > EXACT_MATCHES
        rows = self._tuned(sql, [*window_arguments, *arguments], GIN_FUZZY_LIMIT if broad else 0)
        return _visible_rows(rows, user)

    def estimated_matches(self, query, vocabulary):
        """About how many documents match, from the planner's word frequencies (0 when there are none).

        gin_fuzzy_search_limit samples each broad word's documents independently before an AND, so a
        query whose words are each broad but rare together ("replication lag failover") would lose most
        of its few matches to the sampling: such a query, expected to match few documents, runs exactly.
        The frequencies are per lexeme: each word is looked up by its stem (`vocabulary.stems`).
        """
        statistics = _word_frequencies()
        if statistics is None:
            return 0
        documents, frequencies, floor = statistics
        expansions, stems = vocabulary.expansions, vocabulary.stems

        def share_of(token):
            lexemes = stems.get(token, (token,))
            if not lexemes:
                return 1.0  # a stop word: PostgreSQL leaves it out of the query
            share = 1.0
            for lexeme in lexemes:
                share *= frequencies.get(lexeme, floor)
            return share

        def form(tokens, prefix):  # a phrase as its words anywhere (what GIN reads), as if independent
            share = 1.0
            for token in tokens[:-1] if prefix else tokens:
                share *= share_of(token)
            # A prefix long enough to be expanded that was not (`expansions` found no word it finishes as)
            # matches as rarely as an unknown word; a short one may finish as any word.
            return share * floor if prefix and len(tokens[-1]) > self.native_prefix_length else share

        def term(item):
            return min(1.0, sum(form(tokens, prefix) for tokens, prefix in expand(item, expansions)))

        shares = [min(1.0, sum(term(item) for item in group)) for group in query.groups]
        if not query.combos:
            estimate = documents
            for share in shares:
                estimate *= share
            return estimate
        total = 0.0
        for combo in query.combos:
            product = 1.0
            for index in combo:
                product *= shares[index]
            total += product
        return documents * min(1.0, total)


_frequencies_cache = {}
# PostgreSQL: word -> its lexemes in the english configuration. A pure function of the word, so kept for the
# process (emptied when it grows past MOST_STEMS words).
_STEMS = {}
MOST_STEMS = 50_000


def _remember_stems(pairs):
    if len(_STEMS) > MOST_STEMS:
        _STEMS.clear()
    _STEMS.update((word, tuple(stems or ())) for word, stems in pairs)


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


def partial_sizes(groups):
    """How many of `groups` words a document must hold, level by level, when none holds them all: all but
    one, then all but two, down to half of them, while a level has at most MOST_COMBINATIONS sets of words."""
    sizes = []
    for size in range(groups - 1, max(1, ceil(groups / 2)) - 1, -1):
        if comb(groups, size) > MOST_COMBINATIONS:
            break
        sizes.append(size)
    return sizes


def widen(query, vocabulary, run, *, levels=None):
    """When `run(query)` found nothing: its typos corrected, then most of its words; a Found either way.

    `run(query)` gives the rows for one form of the query (one bounded statement). Each step runs only when
    the one before found nothing, so an exact match is never outranked by a corrected or partial one.
    `levels` caps how many partial levels are tried (the type-ahead tries one: all words but one).
    """
    engine = backend()
    corrections = engine.corrections(query, vocabulary)
    base = query
    typed = {}
    if corrections:
        base = query.with_alternatives(corrections)
        typed = {term.tokens[0]: [word.tokens[0] for word in words] for term, words in corrections.items()}
        rows = run(base)
        if rows:
            return Found(rows, base, CORRECTED, typed)
    for size in partial_sizes(len(base.groups))[:levels]:
        partial = base.with_combos(size)
        rows = run(partial)
        if rows:
            return Found(rows, partial, PARTIAL, typed, matched_words=size, query_words=len(base.groups))
    return Found([], query)


def find(query, filters, user):
    """The candidate rows for a parsed, non-empty query, and how they were found (see `widen`).

    One statement for the word table (prefix endings), one for the candidates; when nothing matches, one
    for the corrections and one per widened form of the query.
    """
    engine = backend()
    vocabulary = engine.vocabulary(query)

    def run(form):
        return engine.candidates(form, filters, user, vocabulary)

    rows = run(query)
    if rows:
        return Found(rows, query, ALL)
    return widen(query, vocabulary, run)


def candidates(query, filters, user):
    """The bounded candidate rows for a parsed, non-empty query: (document id, tier, score)."""
    return find(query, filters, user).rows


def rank(rows):
    """Candidate rows to (id, tier, score), one per document, best first (the names index's rows left out)."""
    best = {}
    for document_id, tier, score in rows:
        if tier >= NAME_TITLE:
            continue
        if document_id not in best or tier < best[document_id][0]:
            best[document_id] = (tier, float(score or 0.0))
    return sorted(((pk, tier, score) for pk, (tier, score) in best.items()), key=lambda row: (row[1], -row[2], -row[0]))


def pinned(rows):
    """The ids of the services whose name matches, best first: an exact name, then by rank."""
    services = [(0, 0.0, pk) for pk, tier, _score in rows if tier == EXACT]
    services += [(1, -float(score or 0.0), pk) for pk, tier, score in rows if tier == NAME_TITLE]
    return list(dict.fromkeys(pk for _order, _score, pk in sorted(services)))[:PINNED]


def search(text, *, user, filters=None, page=1, page_size=PAGE_SIZE):
    """Search for `text` as `user` may see it; never raises on any input.

    Three queries when there is a query and it matches as typed (word table, candidates, documents);
    a few more, bounded, when it is widened (see `find`).
    """
    query = parse(text)
    results = Results(query=query, page_size=page_size)
    if not query:
        return results
    flush_pending()
    found = find(query, filters or Filters(), user)
    rows = found.rows
    ranked = rank(rows)
    results.match = found.match
    results.corrections = found.corrections
    results.matched_words, results.query_words = found.matched_words, found.query_words
    results.total = len(ranked)
    results.ranked_ids = [pk for pk, _tier, _score in ranked]
    title_rows = sum(1 for row in rows if row[1] == TITLE)
    body_rows = sum(1 for row in rows if row[1] == BODY)
    results.more = title_rows >= TITLE_CANDIDATES or body_rows >= BODY_CANDIDATES
    results.pages = max(1, -(-len(ranked) // page_size))
    results.page = min(max(1, page), results.pages)
    shown = ranked[(results.page - 1) * page_size : results.page * page_size]
    services = pinned(rows)
    documents = SearchDocument.objects.in_bulk([*(pk for pk, _tier, _score in shown), *services])
    results.hits = [
        Hit(documents[pk], tier, score, snippet(documents[pk].body, found.query))
        for pk, tier, score in shown
        if pk in documents
    ]
    results.services = [documents[pk] for pk in services if pk in documents]
    return results


@dataclass
class Suggestion:
    """One line of the type-ahead: where Enter takes you, and what it says."""

    kind: str
    title: str
    url: str
    detail: str = ""  # e.g. "on-call card"
    page_url: str = ""  # a service's own page, beside its on-call card
    is_archived: bool = False


@dataclass
class Suggestions:
    query: object
    groups: list = field(default_factory=list)  # [(kind, label, [Suggestion])], in SUGGESTED_KINDS order
    match: str = ""
    corrections: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.groups)

    @property
    def first(self):
        return next((items[0] for _kind, _label, items in self.groups if items), None)


def suggest(text, *, user):
    """The type-ahead for `text`: services first, then escalation matrices, SLAs, teams and reviews.

    One statement reads a few title matches of each kind (services and teams also by their description);
    when it finds nothing, the typos are corrected, then most of the words are enough (as `find` does).
    A service's line opens its on-call card. At most five statements, whatever the number of documents: the
    word table, this one and, when it found nothing, the corrections, the corrected words, all words but one.
    """
    query = parse(text)
    suggestions = Suggestions(query=query)
    if not query:
        return suggestions
    flush_pending()
    engine = backend()
    vocabulary = engine.vocabulary(query)

    def run(form):
        return engine.suggestions(form, user, vocabulary)

    rows = run(query)
    found = Found(rows, query, ALL) if rows else widen(query, vocabulary, run, levels=1)
    suggestions.match, suggestions.corrections = found.match, found.corrections
    # A name may come as EXACT, NAME_TITLE and NAME_BODY: keep its best line.
    best = {}
    for pk, tier, score, kind, title, url, service_slugs, is_archived in found.rows:
        line = ((tier, -float(score or 0.0), -pk), kind, title, url, service_slugs, is_archived)
        if pk not in best or line[0] < best[pk][0]:
            best[pk] = line
    for kind, limit in SUGGESTED_KINDS:
        lines = sorted(line for line in best.values() if line[1] == kind)[:limit]
        items = []
        for _order, _kind, title, url, service_slugs, is_archived in lines:
            if kind == DocumentKind.SERVICE:
                card = SearchDocument(kind=kind, service_slugs=service_slugs).oncall_url
                items.append(Suggestion(kind, title, card or url, "on-call card" if card else "", url, is_archived))
            else:
                items.append(Suggestion(kind, title, url, is_archived=is_archived))
        if items:
            suggestions.groups.append((kind, SUGGESTED_LABELS[kind], items))
    return suggestions
