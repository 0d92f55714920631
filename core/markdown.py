"""Markdown rendering for user-written text: HTML in the source is never passed
through (markdown-it-py with html off) and the output is cleaned again by nh3."""

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(text, *, heading_offset=2):
    """Return safe HTML for `text`; raw HTML in it shows as text.

    Headings move down `heading_offset` levels (# becomes <h3>) so that text
    written under a page's own <h2> keeps the page outline in order.
    """
    tokens = _renderer.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")
