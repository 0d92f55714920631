from datetime import timedelta

import pytest

from core.markdown import render_markdown
from core.templatetags.portal import duration
from tests.html import start_tags


def executable_parts(html):
    """What a browser would run: script/img/iframe tags, on* handlers, javascript: URLs."""
    found = []
    for tag in start_tags(html):
        if tag.name in {"script", "img", "iframe", "object", "embed", "svg"}:
            found.append(tag.name)
        for name, value in tag.attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                found.append(f"{tag.name}[{name}]")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "Hello <img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
    ],
)
def test_markdown_never_lets_script_through(source):
    assert executable_parts(render_markdown(source)) == []


def test_markdown_shows_raw_html_as_text():
    assert render_markdown("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_markdown_renders_tables_and_links_with_safe_rel():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n[dash](https://grafana.example.com/d/x)")
    assert "<table>" in html
    assert 'href="https://grafana.example.com/d/x"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(minutes=15), "15 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=1, minutes=30), "1 h 30 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=28), "28 d"),
        (timedelta(seconds=30), "30 s"),
        (None, "—"),
    ],
)
def test_durations_read_as_people_say_them(value, expected):
    assert duration(value) == expected


def test_headings_sit_below_the_page_headings():
    assert render_markdown("# Scope\n\n## Exclusions") == "<h3>Scope</h3>\n<h4>Exclusions</h4>\n"
