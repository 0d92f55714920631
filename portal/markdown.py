"""Markdown rendering for user-written text: HTML in the source is never passed
through (markdown-it-py with html off) and the output is cleaned again by nh3."""

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(text):
    """Return safe HTML for `text`; raw HTML in it shows as text."""
    html = _renderer.render(text or "")
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")
