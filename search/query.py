"""The search query language, parsed by us into a small AST that each backend renders.

    words            every word must match (AND)
    "quoted phrase"  the words in this order
    -word, -"phrase" must not match
    a OR b           either (OR binds two neighbouring terms; "a OR b c" is (a OR b) AND c)
    last word        matches as a prefix while typing ("escal" finds "escalation")

Words are cut into tokens of letters and digits, the way both indexes cut text
(FTS5 unicode61, and PostgreSQL over the same text with punctuation turned into
spaces), so `api-gateway` is the phrase "api gateway" and no character the
user types ever reaches an FTS query parser: the backends only ever see tokens
made of letters and digits, quoted by us.
"""

import re
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 256
MAX_TERMS = 8  # positive terms and exclusions together; the rest is ignored
MAX_TOKENS_PER_PHRASE = 8
MAX_TOKEN_LENGTH = 64
MIN_PREFIX_LENGTH = 2  # a one-letter prefix would match most of the vocabulary

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

    def __bool__(self):
        return bool(self.groups)

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
        _, tokens, negated, _quoted = item
        term = Term(tokens=tokens, prefix=item is last_typed)
        if negated:
            excluded.append(term)
            joining = False
        elif joining:
            groups[-1].append(term)
            joining = False
        else:
            groups.append([term])
    return Query(
        groups=tuple(dict.fromkeys(tuple(dict.fromkeys(group)) for group in groups)),
        excluded=tuple(dict.fromkeys(excluded)),
        text=text,
    )


# Rendering ------------------------------------------------------------------


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

    groups = [group(item) for item in query.groups]
    if not groups or None in groups:
        return None
    expression = "(" + " AND ".join(groups) + ")"
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


def to_tsquery(query, *, with_exclusions=True, expansions=None, loose_phrases=False):
    """A to_tsquery('simple', …) expression; tokens are letters and digits only, single-quoted by us.

    `loose_phrases` asks only for a phrase's words (&, not <->): GIN answers that without reading any row.
    None when an expanded prefix has no known ending (nothing can match).
    """

    def phrase(tokens, prefix):
        lexemes = [f"'{token}'" for token in tokens]
        if prefix:
            lexemes[-1] += ":*"
        joiner = " & " if loose_phrases else " <-> "
        return "(" + joiner.join(lexemes) + ")" if len(lexemes) > 1 else lexemes[0]

    def term(item):
        return " | ".join(phrase(tokens, prefix) for tokens, prefix in expand(item, expansions))

    def group(group):
        alternatives = [alternative for alternative in (term(item) for item in group) if alternative]
        return "(" + " | ".join(alternatives) + ")" if alternatives else None

    groups = [group(item) for item in query.groups]
    if not groups or None in groups:
        return None
    expression = " & ".join(groups)
    if with_exclusions and query.excluded:
        expression = f"({expression})" + "".join(f" & !{term(item)}" for item in query.excluded)
    return expression


def excluded_tsquery(query):
    """The exclusions alone, OR-ed: a document matching this is dropped."""
    return " | ".join(
        ("(" + " <-> ".join(f"'{t}'" for t in item.tokens) + ")") if len(item.tokens) > 1 else f"'{item.tokens[0]}'"
        for item in query.excluded
    )
