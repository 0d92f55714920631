"""Which title word a mistyped word stands for ("paymnts" → "payments"): trigram similarity and edit distance.

The databases find the candidates (the title words nearest by trigrams: pg_trgm's GiST index on
PostgreSQL, an FTS5 trigram table on SQLite); this module decides, the same way for both, which of them
are corrections. Trigrams are pg_trgm's: a word padded as "  word " cut into every run of three
characters, so `similarity` here is pg_trgm's similarity().
"""

MIN_LENGTH = 4  # shorter words ("dsn", "gw") have too many near neighbours to correct
NEAREST = 20  # candidates the database returns per word
MOST_CORRECTIONS = 3  # alternatives kept per word
SIMILAR = 0.5  # trigram similarity that makes a correction on its own


def trigrams(word):
    padded = f"  {word} "
    return {padded[index : index + 3] for index in range(len(padded) - 2)}


def similarity(first, second):
    """pg_trgm's similarity: shared trigrams over all trigrams of the two words."""
    a, b = trigrams(first), trigrams(second)
    return len(a & b) / len(a | b) if a or b else 0.0


def distance(first, second, limit=None):
    """Edit distance with adjacent transpositions (optimal string alignment): "teh" → "the" is 1.

    With `limit`, any distance above it is reported as limit + 1 (and found sooner).
    """
    if limit is not None and abs(len(first) - len(second)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(second) + 1))
    for i, left in enumerate(first, start=1):
        current = [i] + [0] * len(second)
        for j, right in enumerate(second, start=1):
            cost = left != right
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and left == second[j - 2] and first[i - 2] == right:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if limit is not None and min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if limit is None else min(previous[-1], limit + 1)


def allowed_edits(word):
    return 1 if len(word) <= 7 else 2


def closeness(word, candidate, *, prefix=False):
    """(edits, -similarity) when `candidate` is a plausible correction of `word`, else None.

    A correction is a different word either within one edit (two from 8 letters) with the same first
    letter (people rarely mistype the first), or sharing half its trigrams. A word still being typed is
    compared with the candidate's start as well ("paymn" is one edit from "payme…").
    """
    if candidate == word or len(word) < MIN_LENGTH:
        return None
    shared = similarity(word, candidate)
    allowed = allowed_edits(word)
    if shared < SIMILAR and candidate[:1] != word[:1]:
        return None
    # Past the allowed edits the count does not matter: bounded, it stops as soon as it is exceeded.
    limit = max(allowed, len(candidate) + len(word)) if shared >= SIMILAR else allowed
    edits = distance(word, candidate, limit)
    if prefix:
        edits = min(edits, *(distance(word, candidate[:length], limit) for length in (len(word), len(word) + 1)))
    if shared >= SIMILAR or edits <= allowed:
        return (edits, -shared)
    return None


def corrections_of(word, candidates, *, prefix=False):
    """The best few corrections of `word` among the database's nearest `candidates`, best first."""
    scored = []
    for candidate in dict.fromkeys(candidates):
        score = closeness(word, candidate, prefix=prefix)
        if score is not None:
            scored.append((score, candidate))
    return [candidate for _score, candidate in sorted(scored)[:MOST_CORRECTIONS]]


def sqlite_trigram_match(word):
    """An FTS5 MATCH over the trigram table: any of the word's padded trigrams (letters, digits and spaces
    only, double-quoted by us), ranked by bm25 so the words sharing most of them come first."""
    return " OR ".join(f'"{trigram}"' for trigram in sorted(trigrams(word)))
