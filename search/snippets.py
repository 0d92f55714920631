"""Highlighted snippets, built in Python from the stored body so both backends show the same thing.

The matches are found by one regular expression over the body (whole tokens, cut as the index cuts
them; the last typed word as a prefix); the snippet is the stretch of about WINDOW_WORDS words around
the densest run of matches. Every piece of the user-written text is HTML-escaped before any <mark> is
added, and a <mark> only ever wraps an escaped whole token, so `<img onerror=…>` in a document shows
as text, and a search for "lt" cannot highlight inside an escaped "&lt;".
"""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

from search.query import TOKEN

WINDOW_WORDS = 30
WORD_CHARS = 7  # an average word and its space, to turn the word window into characters
LEAD_WORDS = 4  # words shown before the first match
MAX_HITS = 200
SPACE = re.compile(r"\s+")
WORD = r"[^\W_]"


def _matcher(query):
    """A regex matching the whole tokens the query looks for, or None."""
    exact, prefixes = set(), set()
    for term in query.terms:
        for position, token in enumerate(term.tokens):
            if term.prefix and position == len(term.tokens) - 1:
                prefixes.add(token)
            else:
                exact.add(token)
    alternatives = []
    if exact:
        alternatives.append("(?:" + "|".join(map(re.escape, sorted(exact, key=len, reverse=True))) + f")(?!{WORD})")
    if prefixes:
        alternatives.append("(?:" + "|".join(map(re.escape, sorted(prefixes, key=len, reverse=True))) + f"){WORD}*")
    if not alternatives:
        return None
    return re.compile(f"(?<!{WORD})(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _plain(text):
    return escape(SPACE.sub(" ", text))


def snippet(body, query, *, words=WINDOW_WORDS):
    """Safe HTML: about `words` words of `body` around the densest cluster of matches, matches in <mark>."""
    body = body or ""
    if not body.strip():
        return mark_safe("")
    matcher = _matcher(query)
    hits = []
    if matcher:
        for match in matcher.finditer(body):
            hits.append(match.start())
            if len(hits) >= MAX_HITS:
                break
    width = words * WORD_CHARS
    # The window (in characters) that holds the most matches: two pointers over the sorted hits.
    best_start, best_count, tail = 0, 0, 0
    for head, first in enumerate(hits):
        tail = max(tail, head)
        while tail + 1 < len(hits) and hits[tail + 1] < first + width:
            tail += 1
        if tail - head + 1 > best_count:
            best_start, best_count = first, tail - head + 1
    # Start a few words before the first match, at the start of a word; end after `words` words.
    start = 0
    if best_start:
        lead = list(TOKEN.finditer(body, max(0, best_start - LEAD_WORDS * WORD_CHARS * 2), best_start))
        start = lead[-LEAD_WORDS].start() if len(lead) >= LEAD_WORDS else (lead[0].start() if lead else best_start)
    shown = list(TOKEN.finditer(body, start, start + width * 3))[:words]
    if not shown:
        return mark_safe(_plain(body[:200]))
    start, end = shown[0].start(), shown[-1].end()
    pieces = ["… " if TOKEN.search(body, 0, start) else ""]
    cursor = start
    if matcher:
        for match in matcher.finditer(body, start, end):
            pieces.append(_plain(body[cursor : match.start()]))
            pieces.append(f"<mark>{escape(match.group())}</mark>")
            cursor = match.end()
    pieces.append(_plain(body[cursor:end]))
    if TOKEN.search(body, end):
        pieces.append(" …")
    return mark_safe("".join(pieces))
