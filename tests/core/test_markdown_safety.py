"""User-written text never runs script: generated HTML/JS payloads, saved through the real actions into every
markdown field (and the plain text next to them), are rendered by the real pages and search, and the HTML
that comes back holds no script, frame, plugin, event handler, script URL or inline style.

Each test builds its fixtures once; hypothesis rewrites the same documents for every example.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from approvals import actions as approval_actions
from reviews.actions import save_review
from reviews.forms import MARKDOWN_FIELDS as REVIEW_MARKDOWN_FIELDS
from reviews.models import ActionItem, PostIncidentReview, TimelineEntry
from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.models import (
    EscalationMatrix,
    EscalationStep,
    PlaybookStep,
    Responsibility,
    ServiceLevelAgreement,
)
from tests.conftest import default_objectives, default_response_targets
from tests.html import EndTag, Text, text_of, tokens

pytestmark = pytest.mark.django_db

MARKER = "zqxsafety"  # one word every payload carries, so the pages and search can be shown to contain it
# No shrinking: an example renders several pages, so shrinking a failure would take minutes; the failing
# example is printed as found.
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The portal's own scripts (base.html, the search page, a change's text diffs): the only <script> elements a page
# may hold.
OWN_SCRIPTS = {
    "/static/js/search-shortcut.js",
    "/static/js/search-suggest.js",
    "/static/vendor/htmx/htmx.min.js",
    "/static/js/text-diff.js",
}
DANGEROUS_ELEMENTS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
# A URL's scheme ends at its colon: "javascript" alone is a relative link (harmless), "javascript:" is not.
BAD_SCHEMES = re.compile(r"^(javascript:|vbscript:|data:text/html|data:image/svg)", re.IGNORECASE)
# Browsers drop ASCII whitespace and control characters inside a scheme ("java\tscript:").
IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "<a href='&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)'>entities</a>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>">',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    "<style>body{background:expression(alert(1))}</style>",
    '<div style="width:expression(alert(1))">styled</div>',
    '<p style="background:url(javascript:alert(1))">',
    '<body onload="alert(1)">',
    '<details open ontoggle="alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input onfocus=alert(1) autofocus>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "`<script>`alert(1)`</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>indented code</script>",
]

MARKDOWN_ATTACKS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:text/html,<script>alert(1)</script>)",
    '[click](https://example.com "title\\" onmouseover=\\"alert(1))',
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![img](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "[ref][y]\n\n[y]: <javascript:alert(1)> 'title'",
    "[a](<javascript:alert(1)>)",
    "[a](%6A%61%76%61%73%63%72%69%70%74:alert(1))",
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "[x](https://example.com/<script>)",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    "# <iframe src=javascript:alert(1)>",
    "> <svg onload=alert(1)>",
    "- [ ] <img src=x onerror=alert(1)>",
    "~~<script>alert(1)</script>~~",
    "**<b onclick=alert(1)>bold</b>**",
]

FRAGMENTS = ["<", ">", '"', "'", "=", "&", "#", ";", ":", "/", "(", ")", "[", "]", "!", "`", "\\", "on", "\n", "\n\n"]


@st.composite
def payloads(draw):
    """Attack strings, markdown around them, unclosed pieces and noise, always carrying MARKER."""
    atom = st.one_of(
        st.sampled_from(ATTACKS),
        st.sampled_from(MARKDOWN_ATTACKS),
        st.sampled_from(FRAGMENTS),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
            max_size=20,
        ),
    )
    pieces = draw(st.lists(atom, min_size=1, max_size=5))
    separator = draw(st.sampled_from(["", " ", "\n", "\n\n", "\n- ", "\n> "]))
    if draw(st.booleans()):  # cut mid-way: unclosed tags and links
        text = separator.join(pieces)
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    else:
        text = separator.join(pieces)
    return f"{MARKER} {text}\n\n{MARKER}"


def script_problems(html):
    """Everything in `html` that could run script, as readable strings: an empty list when nothing can."""
    problems, in_script = [], False
    for token in tokens(html):
        if isinstance(token, EndTag):
            if token.name == "script":
                in_script = False
            continue
        if isinstance(token, Text):
            # The text of a script element is script; a browser ignores the slash of <script src=… />.
            if in_script and token.data.strip():
                problems.append(f"inline script {token.data[:60]!r}")
            continue
        tag, attrs = token.name, list(token.attrs)
        if tag == "script":
            in_script = True
            sources = {value for name, value in attrs if name == "src"}
            if not sources or not sources <= OWN_SCRIPTS:
                problems.append(f"<script {attrs}>")
        elif tag in DANGEROUS_ELEMENTS:
            problems.append(f"<{tag} {attrs}>")
        elif tag == "meta" and "http-equiv" in token:
            problems.append(f"<meta {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                problems.append(f"<{tag} style={value!r}>")
            if name in URL_ATTRIBUTES and value and BAD_SCHEMES.match(IGNORED_IN_SCHEME.sub("", value)):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


def check_page(client, url, *, shows_marker=True, **params):
    response = client.get(url, params)
    assert response.status_code == 200, url
    assert script_problems(response) == [], url
    if shows_marker:
        assert MARKER in text_of(response), f"{url} does not show the text under test"
    return response


def check_search(client, payload):
    check_page(client, reverse("search:results"), q=MARKER)
    # The query itself is echoed back (the search box, "no results for …").
    check_page(client, reverse("search:results"), q=payload[:200])


# The documents under test, built once per test --------------------------------------


@pytest.fixture
def reader_client(client, admin_actor):
    client.force_login(admin_actor)
    return client


@pytest.fixture
def sla(make_sla, make_service, make_team):
    provider = make_team("Payments")
    return make_sla("Payments for Checkout", service=make_service("Payments API", owner_team=provider))


@pytest.fixture
def matrix(make_matrix, make_service, make_team):
    return make_matrix(make_service("Ledger", owner_team=make_team("Ledger team")))


@pytest.fixture
def review(make_review, matrix, make_team):
    return make_review([matrix.service], title=f"Ledger outage {MARKER}")


def rewrite_sla(sla, severities, admin_actor, **texts):
    sla = ServiceLevelAgreement.objects.get(pk=sla.pk)
    for name, value in texts.items():
        setattr(sla, name, value)
    return actions.save_sla(
        sla,
        consumer_teams=list(sla.consumer_teams.all()),
        objectives=default_objectives(),
        response_targets=default_response_targets(severities),
        acting_user=admin_actor,
        reason="markdown safety",
    )


def rewrite_matrix(matrix, severities, admin_actor, *, notes, instructions, question):
    matrix = EscalationMatrix.objects.get(pk=matrix.pk)
    matrix.notes = notes
    owner = matrix.owner_team
    return actions.save_escalation_matrix(
        matrix,
        steps=[
            EscalationStep(
                severity=severities["SEV1"], level=1, wait=timedelta(minutes=15), team=owner, channel=Channel.PAGE
            )
        ],
        responsibilities=[Responsibility(duty="incident_commander", team=owner, when="From declaration")],
        playbook_steps=[
            PlaybookStep(
                title="Confirm impact", timebox_minutes=10, instructions=instructions, checkpoint_question=question
            )
        ],
        acting_user=admin_actor,
        reason="markdown safety",
    )


def test_every_markdown_field_of_the_models_is_under_test():
    """A new "Markdown." field fails here until a test below feeds it payloads."""
    from django.apps import apps

    covered = {
        ("sla_registry", "servicelevelagreement", "executive_summary"),
        ("sla_registry", "servicelevelagreement", "technical_annex"),
        ("sla_registry", "escalationmatrix", "notes"),
        ("sla_registry", "playbookstep", "instructions"),
        *(("reviews", "postincidentreview", name) for name in REVIEW_MARKDOWN_FIELDS),
    }
    found = {
        (model._meta.app_label, model._meta.model_name, field.name)
        for model in apps.get_models()
        if not model._meta.model_name.startswith("historical")
        for field in model._meta.get_fields()
        if "markdown" in str(getattr(field, "help_text", "")).lower()
    }
    assert found <= covered


# The tests ------------------------------------------------------------------------------


def test_sla_texts_and_their_change_request(sla, severities, admin_actor, reader_client, make_user):
    author = make_user("payments.engineer", teams=[sla.provider_team])

    @EXAMPLES
    @given(executive_summary=payloads(), technical_annex=payloads(), business_impact=payloads(), rationale=payloads())
    def check(executive_summary, technical_annex, business_impact, rationale):
        current = rewrite_sla(
            sla,
            severities,
            admin_actor,
            executive_summary=executive_summary,
            technical_annex=technical_annex,
            business_impact=business_impact,
        )
        check_page(reader_client, current.get_absolute_url())
        # The history tab shows each long text's old and new wording.
        check_page(reader_client, reverse("sla_registry:sla_history", args=[current.reference]))
        check_search(reader_client, executive_summary)

        # A proposal carrying the payloads: its rationale (markdown) and the diff of the texts (with a changed
        # cadence, so that it changes something whatever the payloads: an unchanged one is refused).
        snapshot = ServiceLevelAgreementKind().snapshot(current)
        proposal = approval_actions.propose_change(
            "sla",
            current,
            data={
                **snapshot,
                "executive_summary": rationale,
                "technical_annex": executive_summary,
                "review_cadence_days": snapshot["review_cadence_days"] + 1,
            },
            summary=f"Reword the summary {MARKER}",
            rationale=rationale,
            acting_user=author,
        )
        check_page(reader_client, reverse("approvals:change_request_detail", args=[proposal.reference]))
        approval_actions.withdraw_change_request(proposal, acting_user=author)

    check()


def test_escalation_notes_and_playbook(matrix, severities, admin_actor, reader_client):
    @EXAMPLES
    @given(notes=payloads(), instructions=payloads(), question=payloads())
    def check(notes, instructions, question):
        current = rewrite_matrix(
            matrix, severities, admin_actor, notes=notes, instructions=instructions, question=question[:300]
        )
        # The on-call card reads the version in force: make this state one.
        approval_actions.record_baseline_version(current, acting_user=admin_actor)
        check_page(reader_client, current.get_absolute_url())
        check_page(reader_client, reverse("oncall_card", args=[current.service.slug]))
        check_search(reader_client, notes)

    check()


def test_review_texts(review, admin_actor, reader_client):
    owner = review.services.get().owner_team

    @EXAMPLES
    @given(
        texts=st.fixed_dictionaries({name: payloads() for name in REVIEW_MARKDOWN_FIELDS}),
        entry=payloads(),
        links=payloads(),
        action=payloads(),
    )
    def check(texts, entry, links, action):
        current = PostIncidentReview.objects.get(pk=review.pk)
        for name, value in texts.items():
            setattr(current, name, value)
        current.links = f"https://example.com/{MARKER}\n{links}"
        current = save_review(
            current,
            services=[*current.services.all()],
            timeline=[TimelineEntry(at=current.started_at + timedelta(minutes=3), entry=entry)],
            action_items=[
                # Overdue, so the executive summary and the on-call card list it too.
                ActionItem(title=action[:200], owner_team=owner, due_date=timezone.localdate() - timedelta(days=1))
            ],
            acting_user=admin_actor,
            reason="markdown safety",
        )
        check_page(reader_client, current.get_absolute_url())
        check_page(reader_client, reverse("reviews:review_list"))
        check_page(reader_client, reverse("reviews:action_item_list"))
        check_page(reader_client, reverse("reviews:review_metrics"), shows_marker=False)
        check_page(reader_client, reverse("oncall_card", args=[current.services.get().slug]))
        check_page(reader_client, reverse("executive_summary"), shows_marker=False)
        check_search(reader_client, texts["summary"])

    check()


def test_the_checker_catches_what_it_looks_for():
    """The parser-based check is not vacuous: raw payloads fed to it are flagged."""
    for html in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<iframe src="https://example.com"></iframe>',
        "<object></object>",
        "<embed>",
        '<p style="color:red">x</p>',
        '<img src="data:text/html;base64,AAAA">',
        "<svg onload=alert(1)>",
        '<script src="/static/js/search-shortcut.js">alert(1)</script>',
    ):
        assert script_problems(f"<html><body>{html}</body></html>"), html
    own = '<html><head><script src="/static/js/search-shortcut.js" defer></script></head><body><p>ok</p>'
    assert script_problems(own) == []
    # A link to a page called "javascript" is relative, not script: only a scheme (with its colon) runs code.
    links = '<html><body><a href="javascript">notes</a> <a href="javascript-tips/">more</a></body></html>'
    assert script_problems(links) == []
