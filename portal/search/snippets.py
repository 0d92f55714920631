"""Highlighted snippets, built in Python from the stored body so both backends show the same thing.

The body is cut into the same tokens the index uses; the snippet is the window
of words around the densest match. Every piece of the user-written text is
HTML-escaped before any <mark> is added, and a <mark> only ever wraps an escaped
whole token, so `<img onerror=…>` in a document shows as text, and a search for
"lt" cannot highlight inside an escaped "&lt;".
"""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal.search.query import TOKEN

WINDOW_WORDS = 30


def _matcher(query):
    exact, prefixes = set(), []
    for term in [*query.terms]:
        for position, token in enumerate(term.tokens):
            if term.prefix and position == len(term.tokens) - 1:
                prefixes.append(token)
            else:
                exact.add(token)

    def matches(token):
        token = token.lower()
        return token in exact or any(token.startswith(prefix) for prefix in prefixes)

    return matches


def snippet(body, query, *, words=WINDOW_WORDS):
    """Safe HTML: about `words` words of `body` around the first cluster of matches, matches in <mark>."""
    body = re.sub(r"\s+", " ", body or "").strip()
    if not body:
        return mark_safe("")
    spans = [match.span() for match in TOKEN.finditer(body)]
    matches = _matcher(query)
    hits = [index for index, (start, end) in enumerate(spans) if matches(body[start:end])][:200]
    if not spans:
        return mark_safe(escape(body[:200]))
    # The window that holds the most matches (two pointers over the sorted hits), from a few words before it.
    best_start, best_count, tail = 0, 0, 0
    for head, first in enumerate(hits):
        tail = max(tail, head)
        while tail + 1 < len(hits) and hits[tail + 1] < first + words:
            tail += 1
        if tail - head + 1 > best_count:
            best_start, best_count = max(0, first - 4), tail - head + 1
    last = min(len(spans), best_start + words)
    start_char = spans[best_start][0]
    end_char = spans[last - 1][1]
    pieces = ["… " if best_start > 0 else ""]
    cursor = start_char
    hit_set = set(hits)
    for index in range(best_start, last):
        start, end = spans[index]
        if index in hit_set:
            pieces.append(escape(body[cursor:start]))
            pieces.append(f"<mark>{escape(body[start:end])}</mark>")
            cursor = end
    pieces.append(escape(body[cursor:end_char]))
    if last < len(spans):
        pieces.append(" …")
    return mark_safe("".join(pieces))
