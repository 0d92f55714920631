"""The search query language, parsed by us into a small AST that each backend renders.

    words            every word must match (AND); "logins" and "login" are the same word
    "quoted phrase"  the words in this order
    -word, -"phrase" must not match
    a OR b           either (OR binds two neighbouring terms; "a OR b c" is (a OR b) AND c)
    last word        matches as a prefix while typing ("escal" finds "escalation")
    shorthand        "k8s", "gw", "db"… also match the word they stand for (ABBREVIATIONS)

Words are cut into tokens of letters and digits, the way both indexes cut text
(FTS5 unicode61 under the porter stemmer, and PostgreSQL's english configuration
over the same text with punctuation turned into spaces), so `api-gateway` is the
phrase "api gateway" and no character the user types ever reaches an FTS query
parser: the backends only ever see tokens made of letters and digits, quoted by us.
Both indexes stem ("failed" and "failing" are "fail"); numbers and error codes
("503", "ECONNREFUSED", "sev1") are kept whole.

English stop words ("the", "is", "after", "down") are dropped from what people
type, as PostgreSQL drops them from its index, so "why is checkout down" asks for
"checkout" on both databases; a query of stop words only keeps them.

A query whose words do not all match is widened by the search (see
backends.find): words no document holds are corrected to near title words, then
documents holding most of the words are shown. `Query.combos` is that last form:
any of these sets of groups must all match.
"""

import re
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 256
MAX_TERMS = 8  # positive terms and exclusions together; the rest is ignored
MAX_TOKENS_PER_PHRASE = 8
MAX_TOKEN_LENGTH = 64
MIN_PREFIX_LENGTH = 2  # a one-letter prefix would match most of the vocabulary

# Engineers' shorthand: a word typed alone ("k8s", "payments gw") also matches what it stands for.
ABBREVIATIONS = {
    "k8s": "kubernetes",
    "pg": "postgresql",
    "postgres": "postgresql",
    "gw": "gateway",
    "db": "database",
    "svc": "service",
    "prod": "production",
    "infra": "infrastructure",
    "auth": "authentication",
    "cert": "certificate",
    "certs": "certificates",
    "config": "configuration",
    "repo": "repository",
    "perf": "performance",
    "notif": "notification",
    "notifs": "notifications",
}

# PostgreSQL's english stop words (tsearch_data/english.stop): its index leaves them out, so queries do too.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing a an the and but if or because as
    until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just don
    should now""".split()  # noqa: SIM905 (the list as PostgreSQL ships it)
)

TOKEN = re.compile(r"[^\W_]+")
# A quoted phrase (the closing quote may be missing), or a run of non-space characters.
LEXEME = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def tokens_of(text):
    """The lower-case tokens of `text`, cut as the indexes cut it."""
    return [token.lower()[:MAX_TOKEN_LENGTH] for token in TOKEN.findall(text)]


@dataclass(frozen=True)
class Term:
    """Tokens that must appear in this order; the last one as a prefix when `prefix` is set."""

    tokens: tuple
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """An AND of groups, each an OR of terms, minus any document matching an excluded term."""

    groups: tuple = ()
    excluded: tuple = ()
    text: str = field(default="", compare=False)
    # When set: any of these sets of group indexes must all match, instead of every group (see module docstring).
    combos: tuple = ()

    def __bool__(self):
        return bool(self.groups)

    def positive(self):
        """The query without its exclusions."""
        return Query(groups=self.groups, text=self.text, combos=self.combos)

    def with_alternatives(self, alternatives):
        """The query with more words allowed in each group: {Term: [Term, …]} adds each term's alternatives."""
        groups = tuple(
            tuple(dict.fromkeys([*group, *(extra for term in group for extra in alternatives.get(term, ()))]))
            for group in self.groups
        )
        return Query(groups=groups, excluded=self.excluded, text=self.text, combos=self.combos)

    def with_combos(self, size):
        """The query matched by any `size` of its groups (a document then holds at least that many of them)."""
        from itertools import combinations

        return Query(
            groups=self.groups,
            excluded=self.excluded,
            text=self.text,
            combos=tuple(combinations(range(len(self.groups)), size)),
        )

    @property
    def terms(self):
        return [term for group in self.groups for term in group]

    @property
    def name_key(self):
        """The words of a plain query joined as SearchDocument.title_key joins a title's words."""
        return " ".join(tokens_of(self.text))


def parse(text):
    """Parse user input into a Query; never raises. An empty Query means "nothing to search for"."""
    text = (text or "")[:MAX_QUERY_LENGTH]
    items = []  # ("term", Term, negated, quoted) or ("or",)
    for match in LEXEME.finditer(text):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if quoted is not None:
            tokens = tokens_of(quoted)
            if tokens:
                items.append(("term", tuple(tokens[:MAX_TOKENS_PER_PHRASE]), bool(negated), True))
            continue
        if bare == "OR":
            items.append(("or",))
            continue
        negated = bare.startswith("-") and len(bare) > 1
        tokens = tokens_of(bare[1:] if negated else bare)
        if tokens:
            items.append(("term", tuple(tokens[:MAX_TOKENS_PER_PHRASE]), negated, False))

    items = _without_stop_words(items)
    terms = [item for item in items if item[0] == "term"][:MAX_TERMS]
    kept = {id(item) for item in terms}
    items = [item for item in items if item[0] == "or" or id(item) in kept]

    # The last positive unquoted word is still being typed: match it as a prefix.
    last_typed = None
    for item in reversed(items):
        if item[0] == "term":
            if not item[2] and not item[3] and len(item[1][-1]) >= MIN_PREFIX_LENGTH:
                last_typed = item
            break

    groups, excluded = [], []
    joining = False
    for item in items:
        if item[0] == "or":
            joining = bool(groups)
            continue
        _, tokens, negated, quoted = item
        term = Term(tokens=tokens, prefix=item is last_typed)
        shorthand = ABBREVIATIONS.get(tokens[0]) if len(tokens) == 1 and not quoted else None
        alternatives = [term, Term(tuple(shorthand.split()))] if shorthand else [term]
        if negated:
            excluded.append(term)
            joining = False
        elif joining:
            groups[-1].extend(alternatives)
            joining = False
        else:
            groups.append(alternatives)
    return Query(
        groups=tuple(dict.fromkeys(tuple(dict.fromkeys(group)) for group in groups)),
        excluded=tuple(dict.fromkeys(excluded)),
        text=text,
    )


def _is_stop_word(item):
    return item[0] == "term" and not item[2] and not item[3] and len(item[1]) == 1 and item[1][0] in STOP_WORDS


def _without_stop_words(items):
    """Drop the unquoted stop words, unless nothing else would be left to search for."""
    if not any(item[0] == "term" and not item[2] and not _is_stop_word(item) for item in items):
        return items
    return [item for item in items if not _is_stop_word(item)]


# Rendering ------------------------------------------------------------------


def _combine(query, groups, joiner_and, joiner_or):
    """The groups' renderings joined as the query asks: all of them, or (combos) all of any one combination."""
    if not query.combos:
        if not groups or None in groups:
            return None
        return joiner_and.join(groups)
    alternatives = [
        "(" + joiner_and.join(groups[index] for index in combo) + ")"
        for combo in query.combos
        if all(groups[index] is not None for index in combo)
    ]
    return "(" + joiner_or.join(alternatives) + ")" if alternatives else None


def expand(term, expansions):
    """The token sequences `term` stands for: itself, or, for a prefix with known endings, one per ending.

    `expansions` maps a prefix Term to the whole words it can finish as (see models.SearchTerm); a prefix
    term missing from it keeps its native prefix form.
    """
    words = (expansions or {}).get(term)
    if not term.prefix or words is None:
        return [(term.tokens, term.prefix)]
    return [((*term.tokens[:-1], word), False) for word in words]


def to_fts5(query, *, column=None, expansions=None, loose_phrases=False):
    """An FTS5 MATCH expression: every token double-quoted, so FTS5 syntax never comes from the user.

    With `column`, the positive terms must match in that column; exclusions always apply to the whole document.
    `loose_phrases` asks only for a phrase's words, in any order and place: a cheap superset of the phrase.
    An expanded prefix with no known ending matches nothing: the whole expression is then None.
    """

    def phrase(tokens, prefix, loose=False):
        if loose and len(tokens) > 1:
            return "(" + " AND ".join(f'"{token}"' for token in tokens) + ")"
        text = '"' + " ".join(tokens) + '"'
        return text + " *" if prefix else text

    def term(item, loose=False):
        forms = expand(item, expansions)
        return " OR ".join(phrase(tokens, prefix, loose) for tokens, prefix in forms)

    def group(group):
        alternatives = [term(item, loose_phrases) for item in group]
        alternatives = [alternative for alternative in alternatives if alternative]
        return "(" + " OR ".join(alternatives) + ")" if alternatives else None

    combined = _combine(query, [group(item) for item in query.groups], " AND ", " OR ")
    if combined is None:
        return None
    expression = "(" + combined + ")"
    if column:
        expression = f"({{{column}}} : {expression})"
    for item in query.excluded:
        expression += " NOT " + term(item)
    return expression


def excluded_fts5(query):
    """The exclusions alone, OR-ed (a document matching this is dropped), or None."""
    if not query.excluded:
        return None
    return " OR ".join('"' + " ".join(item.tokens) + '"' for item in query.excluded)


def to_tsquery(query, *, with_exclusions=True, expansions=None, loose_phrases=False, weight=""):
    """A to_tsquery('english', …) expression (PostgreSQL stems each lexeme and drops stop words);
    tokens are letters and digits only, single-quoted by us.

    `loose_phrases` asks only for a phrase's words (&, not <->): GIN answers that without reading any row.
    `weight` ("A": the title's lexemes in search_vector) restricts where the positive terms may match.
    None when an expanded prefix has no known ending (nothing can match).
    """

    def phrase(tokens, prefix, weight=""):
        lexemes = [f"'{token}'" + (f":{weight}" if weight else "") for token in tokens]
        if prefix:
            lexemes[-1] = f"'{tokens[-1]}':*{weight}"
        joiner = " & " if loose_phrases else " <-> "
        return "(" + joiner.join(lexemes) + ")" if len(lexemes) > 1 else lexemes[0]

    def term(item, weight=""):
        return " | ".join(phrase(tokens, prefix, weight) for tokens, prefix in expand(item, expansions))

    def group(group):
        alternatives = [alternative for alternative in (term(item, weight) for item in group) if alternative]
        return "(" + " | ".join(alternatives) + ")" if alternatives else None

    expression = _combine(query, [group(item) for item in query.groups], " & ", " | ")
    if expression is None:
        return None
    if with_exclusions and query.excluded:
        expression = f"({expression})" + "".join(f" & !{term(item)}" for item in query.excluded)
    return expression


def excluded_tsquery(query):
    """The exclusions alone, OR-ed: a document matching this is dropped."""
    return " | ".join(
        ("(" + " <-> ".join(f"'{t}'" for t in item.tokens) + ")") if len(item.tokens) > 1 else f"'{item.tokens[0]}'"
        for item in query.excluded
    )
