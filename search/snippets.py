"""Highlighted snippets, built in Python from the stored body so both backends show the same thing.

The body is stored as written (markdown included, so error strings and numbers are indexed as written);
a snippet shows it as plain text: emphasis, code marks, links, headings, list and table syntax are
stripped first. The matches are found by one regular expression over that text (whole tokens, cut as the
index cuts them, with the English endings the stemmers remove, so "login" marks "logins"; the last typed
word as a prefix); the snippet is the stretch of about WINDOW_WORDS words around the densest run of
matches. Every piece of the user-written text is HTML-escaped before any <mark> is
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
# Endings the stemmers (porter, PostgreSQL's english) remove, so a highlighted word is the word that matched.
ENDINGS = r"(?:s|es|ed|d|ing|er|ers|ion|ions|ly|ment|ments)?"
STEM_ENDING = re.compile(r"(?:ies|es|s|ed|ing|ly)$")

# Markdown, reduced to its text. Order matters: links before emphasis, block markers per line.
MARKDOWN = [
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # [text](url), ![alt](src)
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **strong**, __strong__
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"), r"\1"),  # _emphasis_, not snake_case
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # ~~struck~~
    (re.compile(r"`+([^`\n]*)`+"), r"\1"),  # `code`
    (re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)", re.MULTILINE), ""),  # blocks
    (re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.MULTILINE), ""),  # |---|
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.MULTILINE), ""),  # --- rules
    (re.compile(r"[ \t]*\|[ \t]*"), " · "),  # table cells
    (re.compile(r"^ · | · $", re.MULTILINE), ""),
]


# What is left of a mark whose other half fell outside the stretch shown.
STRAY_MARKS = re.compile(r"\*\*|__|~~|`|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)")


# A character or line start that some markdown needs: text without any is plain already.
MARKDOWN_HINT = re.compile(r"[*_`\[|~#>]|^[ \t]*(?:[-+]|\d{1,9}[.)])[ \t]", re.MULTILINE)


def plain_text(markdown):
    """The words of a markdown text without its syntax: what a snippet shows."""
    text = markdown or ""
    if not MARKDOWN_HINT.search(text):
        return text
    for pattern, replacement in MARKDOWN:
        text = pattern.sub(replacement, text)
    return text


def _stem(token):
    """A rough English stem, only to widen highlighting the way the index's stemmer widened matching."""
    stem = STEM_ENDING.sub("", token) if len(token) > 4 else token
    return stem if len(stem) >= 3 else token


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
        stems = {_stem(token) for token in exact} | exact
        words = "|".join(map(re.escape, sorted(stems, key=len, reverse=True)))
        alternatives.append(f"(?:{words}){ENDINGS}(?!{WORD})")
    if prefixes:
        alternatives.append("(?:" + "|".join(map(re.escape, sorted(prefixes, key=len, reverse=True))) + f"){WORD}*")
    if not alternatives:
        return None
    return re.compile(f"(?<!{WORD})(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _plain(text):
    return escape(SPACE.sub(" ", text))


def snippet(body, query, *, words=WINDOW_WORDS):
    """Safe HTML: about `words` words of `body` (as plain text) around the densest cluster of matches, in <mark>.

    The window is found in the body as stored (markdown marks never hide a whole token), and only the stretch
    shown is turned into plain text, so the cost follows the snippet, not the length of the document.
    """
    raw = body or ""
    if not raw.strip():
        return mark_safe("")
    matcher = _matcher(query)
    hits = []
    if matcher:
        for match in matcher.finditer(raw):
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
    # Start a few words before the first match, at the start of a line or word.
    start = 0
    if best_start:
        lead = list(TOKEN.finditer(raw, max(0, best_start - LEAD_WORDS * WORD_CHARS * 2), best_start))
        start = lead[-LEAD_WORDS].start() if len(lead) >= LEAD_WORDS else (lead[0].start() if lead else best_start)
        line = raw.rfind("\n", 0, start) + 1
        start = line if 0 < start - line <= 8 else start  # keep a line's markdown prefix ("- ", "## ") to strip
    stretch_end = start + width * 3
    stretch = raw[start:stretch_end]
    text = STRAY_MARKS.sub("", plain_text(stretch)) if MARKDOWN_HINT.search(stretch) else stretch
    shown = list(TOKEN.finditer(text))[:words]
    if not shown:
        return mark_safe(_plain(text[:200]))
    first, end = shown[0].start(), shown[-1].end()
    pieces = ["… " if TOKEN.search(raw, 0, start) else ""]
    cursor = first
    if matcher:
        for match in matcher.finditer(text, first, end):
            pieces.append(_plain(text[cursor : match.start()]))
            pieces.append(f"<mark>{escape(match.group())}</mark>")
            cursor = match.end()
    pieces.append(_plain(text[cursor:end]))
    if TOKEN.search(text, end) or TOKEN.search(raw, stretch_end):
        pieces.append(" …")
    return mark_safe("".join(pieces))
