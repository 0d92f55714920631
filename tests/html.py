"""Reading the HTML the portal serves, for tests.

Two kinds of helper, both taking a page's HTML (a ``str``) or the test client's response:

* Cutting a page into the piece an assertion is about, the markup kept as it is served
  (``fragment``, ``section``, ``select_options``, ``table_row``), and reading text
  (``squeeze`` keeps the tags, ``text_of`` and ``body_rows`` give what a reader sees).
  A piece that is not on the page fails the test with its name: a helper never hands
  back an empty string for an assertion to pass vacuously on.
* Parsing with :mod:`html.parser`, as a browser would read the tags: ``tokens`` and
  ``start_tags`` for checks of tags and attributes (script finders), and the two checks
  built on them that several modules share, ``accessibility_problems`` and ``read_form``.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements a browser lays out as their own box (or line): their edges separate the words around them.
# Inline elements (a, strong, span, time, abbr, code…) join the text on either side.
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Elements whose content is never shown as text.
HIDDEN = frozenset({"script", "style", "template"})


def html_of(html_or_response):
    """The page's HTML: a ``str`` as it is, a response's content decoded."""
    if isinstance(html_or_response, str):
        return html_or_response
    return html_or_response.content.decode()


def squeeze(html_or_response):
    """The markup, tags kept, with every run of whitespace made one space (and none at either end)."""
    return " ".join(html_of(html_or_response).split())


# Pieces of a page ------------------------------------------------------------------------------


def _index(html, marker, start=0):
    at = html.find(marker, start)
    if at < 0:
        raise AssertionError(f"{marker!r} is not on the page" + (f" after position {start}" if start else ""))
    return at


def fragment(html, start, end, *, after=None):
    """The markup from the first `start` (the first one following `after`, when given) up to the next `end`.

    `start` is included, `end` is not.
    """
    html = html_of(html)
    begin = _index(html, start, _index(html, after) if after is not None else 0)
    return html[begin : _index(html, end, begin)]


def section(html, anchor_id):
    """One section of a page: from its ``<h2 id=…>`` heading to the end of the section."""
    return fragment(html, f'<h2 id="{anchor_id}">', "</section>")


def select_options(html, select_id):
    """The markup of a ``<select id=…>``: its opening tag and its options."""
    return fragment(html, f'<select id="{select_id}"', "</select>")


def table_row(html, text):
    """The markup of the table row (``<tr …>`` up to ``</tr>``) holding the first `text` of the page."""
    html = html_of(html)
    at = _index(html, text)
    start = html.rfind("<tr", 0, at)
    end = html.find("</tr>", start)
    if start < 0 or end < at + len(text):
        raise AssertionError(f"{text!r} is not inside a table row")
    return html[start:end]


# Text ------------------------------------------------------------------------------------------


def text_of(html_or_response):
    """What a reader sees: the text without tags, entities read, scripts and styles left out,
    a space where a block (paragraph, cell, row, list item…) begins or ends, whitespace collapsed."""
    return _text(tokens(html_or_response))


def body_rows(html):
    """The text (as ``text_of`` reads it) of each row in the ``<tbody>`` of every table in `html`, in order."""
    rows, row, in_body = [], None, 0
    for token in tokens(html):
        if isinstance(token, StartTag) and token.name == "tbody":
            in_body += 1
        elif isinstance(token, EndTag) and token.name == "tbody":
            in_body = max(in_body - 1, 0)
        elif isinstance(token, StartTag) and token.name == "tr" and in_body:
            row = []
        elif isinstance(token, EndTag) and token.name == "tr" and row is not None:
            rows.append(_text(row))
            row = None
        elif row is not None:
            row.append(token)
    return rows


def _text(tokens):
    words, hidden = [], 0
    for token in tokens:
        if isinstance(token, Text):
            if not hidden:
                words.append(token.data)
        elif token.name in HIDDEN:
            if isinstance(token, EndTag):
                hidden = max(hidden - 1, 0)
            elif not token.self_closing:
                hidden += 1
        elif token.name in BLOCKS:
            words.append(" ")
    return " ".join("".join(words).split())


# Parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartTag:
    """An opening tag as html.parser reads it: the name and the attribute names lowercased, attributes in
    the order written (a repeated one kept), values with their entities read (``None`` for a bare one)."""

    name: str
    attrs: tuple[tuple[str, str | None], ...]
    self_closing: bool = False  # written <name … />: browsers ignore the slash on all but void elements

    def get(self, name, default=None):
        """The value of the first attribute called `name`."""
        return next((value for key, value in self.attrs if key == name), default)

    def __contains__(self, name):
        return any(key == name for key, _ in self.attrs)


@dataclass(frozen=True)
class EndTag:
    name: str


@dataclass(frozen=True)
class Text:
    data: str


class _Tokens(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens = []

    def handle_starttag(self, tag, attrs):
        self.tokens.append(StartTag(tag, tuple(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tokens.append(StartTag(tag, tuple(attrs), self_closing=True))

    def handle_endtag(self, tag):
        self.tokens.append(EndTag(tag))

    def handle_data(self, data):
        self.tokens.append(Text(data))


def tokens(html_or_response):
    """The page as html.parser reads all of it: ``StartTag``, ``EndTag`` and ``Text`` in document order.

    A self-closing tag is one ``StartTag`` with ``self_closing`` set, and no ``EndTag``.
    Comments, doctypes and processing instructions are left out.
    """
    parser = _Tokens()
    parser.feed(html_of(html_or_response))
    parser.close()
    return parser.tokens


def start_tags(html_or_response, *names):
    """Every opening tag of the page (only those called one of `names`, when given), in document order."""
    found = [token for token in tokens(html_or_response) if isinstance(token, StartTag)]
    return [tag for tag in found if tag.name in names] if names else found


# Checks shared by several modules --------------------------------------------------------------


def accessibility_problems(html_or_response):
    """What keeps a page from working with a screen reader: skipped heading levels, form controls
    without a ``<label for=…>`` and table headers without a scope. An empty list when there is none."""
    problems, heading_levels, labelled_ids, control_ids = [], [], set(), []
    for tag in start_tags(html_or_response):
        if tag.name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            level = int(tag.name[1])
            previous = heading_levels[-1] if heading_levels else 0
            if level > previous + 1:
                problems.append(f"<{tag.name}> follows <h{previous}>")
            heading_levels.append(level)
        elif tag.name == "label" and tag.get("for"):
            labelled_ids.add(tag.get("for"))
        elif tag.name in {"select", "textarea"} or (
            tag.name == "input" and tag.get("type") not in {"hidden", "submit", "button"}
        ):
            control_ids.append(tag.get("id"))
        elif tag.name == "th" and not tag.get("scope"):
            problems.append("<th> without scope")
    return problems + [f"control {id_} has no label" for id_ in control_ids if id_ not in labelled_ids]


@dataclass
class Form:
    """A form as a browser submits it (``values``: name → list of values), and its labelling."""

    values: dict = field(default_factory=dict)
    control_ids: list = field(default_factory=list)  # ids of the controls a person fills in, in order
    label_targets: set = field(default_factory=set)  # the ids its <label for=…> name


def read_form(html_or_response, form_class):
    """The form(s) whose ``class`` holds `form_class`: what a browser would submit (checked boxes only,
    a select's selected options or else its first, a textarea's text with CRLF line ends), which controls
    a person fills in and which ids the labels of the form name."""
    form = Form()
    in_form, select, options, textarea = False, None, [], None

    def end(name):
        nonlocal in_form, select, textarea
        if name == "form":
            in_form = False
        elif name == "select" and select is not None:
            chosen = [value for value, selected in options if selected]
            if not chosen and "multiple" not in select and options:
                chosen = [options[0][0]]
            form.values[select.get("name")] = chosen
            select = None
        elif name == "textarea" and textarea:
            # Browsers submit a textarea's line ends as CRLF.
            form.values[textarea] = [form.values[textarea][0].replace("\n", "\r\n")]
            textarea = None

    for token in tokens(html_or_response):
        if isinstance(token, Text):
            if textarea:
                text = form.values[textarea][0] + token.data
                form.values[textarea] = [text.removeprefix("\n") if not form.values[textarea][0] else text]
            continue
        if isinstance(token, EndTag):
            end(token.name)
            continue
        tag = token
        if tag.name == "form" and form_class in (tag.get("class") or ""):
            in_form = True
        if in_form:
            if tag.name == "label" and tag.get("for"):
                form.label_targets.add(tag.get("for"))
            if tag.name in ("input", "select", "textarea") and tag.get("type") not in ("hidden", "submit"):
                form.control_ids.append(tag.get("id"))
            if tag.name == "input" and tag.get("name"):
                if tag.get("type") in ("checkbox", "radio"):
                    if "checked" in tag:
                        form.values.setdefault(tag.get("name"), []).append(tag.get("value", "on"))
                else:
                    form.values[tag.get("name")] = [tag.get("value", "")]
            elif tag.name == "select":
                select, options = tag, []
            elif tag.name == "option" and select is not None:
                options.append((tag.get("value", ""), "selected" in tag))
            elif tag.name == "textarea":
                textarea = tag.get("name")
                form.values[textarea] = [""]
        if tag.self_closing:  # as html.parser does by default: <x/> opens and closes x
            end(tag.name)
    return form
