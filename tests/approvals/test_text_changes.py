"""What an approver sees of text fields, and how a document's text is kept.

Text is normalised where documents are stored (line ends "\\n", no trailing whitespace on a line,
nothing blank at either end), so a change of whitespace alone is no change: the content hash stays,
the change page shows nothing for it and proposing it is refused. A real change to a text field is
diffed line by line and word by word, unchanged lines folded, everything escaped.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from approvals import actions
from approvals.models import ChangeRequest, Decision, DocumentVersion
from approvals.registry import content_hash, normalise_document, normalise_text
from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind
from sla_registry.models import PlaybookStep
from tests.conftest import with_acknowledge
from tests.html import accessibility_problems, fragment, read_form, text_of

pytestmark = pytest.mark.django_db

SLA = ServiceLevelAgreementKind()
ANNEX_LINES = [f"Line {number}: the provider measures requests at the load balancer." for number in range(1, 31)]
ANNEX = "\n".join(ANNEX_LINES)


@pytest.fixture
def annexed(governed_sla, admin_actor):
    """The governed SLA with a 30-line technical annex stored as the demo stores it: ending in a newline."""
    sla = governed_sla.sla
    sla.technical_annex = ANNEX + "\n"
    sla.save()
    DocumentVersion.objects.filter(document_kind="sla", document_id=sla.pk).delete()
    actions.record_baseline_version(sla, acting_user=admin_actor)
    return governed_sla


def propose(governed, data, summary="Faster SEV1 acknowledgement"):
    return actions.propose_change(
        "sla",
        governed.sla,
        data=data,
        summary=summary,
        rationale="Checkout loses orders while nobody acknowledges.",
        acting_user=governed.author,
    )


def detail_url(change_request):
    return reverse("approvals:change_request_detail", args=[change_request.reference])


def what_changes(page):
    """The reader's text of the "What changes" section, up to the approvals."""
    text = text_of(page)
    return text[text.index("What changes") : text.index("Approvals")]


# Whitespace is no change ---------------------------------------------------------------------


def test_text_is_normalised_line_ends_trailing_spaces_and_blank_ends():
    assert normalise_text("\r\n## Contacts  \r\n\r\nPage the on-call.\t\r\n\r\n") == "## Contacts\n\nPage the on-call."
    assert normalise_text("a\rb\n") == "a\nb"
    assert normalise_document({"notes": "x \r\n", "steps": [{"instructions": "y\n\n"}], "level": 2}) == {
        "notes": "x",
        "steps": [{"instructions": "y"}],
        "level": 2,
    }


@pytest.mark.parametrize(
    "annex", [ANNEX + "\n", ANNEX + "\n\n", ANNEX.replace("\n", "\r\n") + "\r\n", ANNEX.replace("\n", "  \n")]
)
def test_a_whitespace_only_change_is_nothing_to_propose_and_keeps_the_hash(annexed, annex):
    version = DocumentVersion.objects.get(document_kind="sla", document_id=annexed.sla.pk)
    current = SLA.snapshot(annexed.sla)
    assert current["technical_annex"] == ANNEX
    assert version.content_hash == content_hash(current)

    with pytest.raises(ValidationError) as refused:
        propose(annexed, {**current, "technical_annex": annex})

    assert refused.value.messages == [
        f"Nothing to propose: this is {annexed.sla.reference} as version 1 has it. Change something first."
    ]
    assert not ChangeRequest.objects.exists()
    assert content_hash(SLA.validate({**current, "technical_annex": annex}, annexed.sla)) == version.content_hash


def test_saving_the_editor_untouched_is_refused_with_nothing_to_propose(client, annexed):
    client.force_login(annexed.author)
    url = reverse("sla_registry:sla_propose", kwargs={"reference": annexed.sla.reference})
    editor = client.get(url)
    values = dict(read_form(editor, "proposal-form").values)  # the annex comes back with CRLF line ends
    assert "\r\n" in values["technical_annex"][0]
    values.update(summary=["Nothing really"], rationale=["Saved the editor without touching anything."])

    page = client.post(url, values)

    assert page.status_code == 200
    assert "Nothing to propose" in text_of(page)
    assert not ChangeRequest.objects.exists()
    assert DocumentVersion.objects.filter(document_kind="sla", document_id=annexed.sla.pk).count() == 1


def test_a_crlf_annex_beside_a_real_change_shows_only_the_real_change(client, annexed):
    current = SLA.snapshot(annexed.sla)
    crlf = {**with_acknowledge(current, 15), "technical_annex": ANNEX.replace("\n", "\r\n") + "\r\n"}
    change_request = propose(annexed, crlf)
    assert change_request.content_hash == content_hash(SLA.validate(with_acknowledge(current, 15), annexed.sla))

    client.force_login(annexed.approvers[annexed.committee])
    page = client.get(detail_url(change_request))

    shown = what_changes(page)
    assert "SEV1 time to acknowledge: 30 min → 15 min" in shown
    assert "Technical annex" not in shown
    assert "rewritten" not in shown
    assert "Field by field (1)" in shown
    assert 'class="text-diff"' not in page.text


def test_a_version_stored_before_normalising_keeps_its_hash_and_shows_no_phantom(client, governed_sla, admin_actor):
    """A version 1 recorded by the old code holds the annex with its trailing newline, hashed so. It is not
    rewritten (the audit log names its hash); it is compared normalised, so nothing looks edited or changed."""
    sla = governed_sla.sla
    sla.technical_annex = ANNEX + "\n"
    sla.save()
    legacy = DocumentVersion.objects.get(document_kind="sla", document_id=sla.pk)
    raw = {**legacy.snapshot, "technical_annex": ANNEX + "\n"}
    DocumentVersion.objects.filter(pk=legacy.pk).update(snapshot=raw, content_hash=content_hash(raw))
    legacy.refresh_from_db()

    change_request = propose(governed_sla, with_acknowledge(SLA.snapshot(sla), 15))

    assert DocumentVersion.objects.filter(document_kind="sla", document_id=sla.pk).count() == 1
    assert change_request.base_version == 1
    legacy_now = DocumentVersion.objects.get(pk=legacy.pk)
    assert (legacy_now.snapshot, legacy_now.content_hash) == (raw, content_hash(raw))
    client.force_login(governed_sla.author)
    page = client.get(detail_url(change_request))
    assert what_changes(page).count("→") == 1
    assert "rewritten" not in page.text
    document = client.get(sla.get_absolute_url())
    assert not document.context["unapproved_edit"]

    actions.submit_change_request(change_request, acting_user=governed_sla.author)
    for team in (governed_sla.provider, governed_sla.consumer, governed_sla.committee):
        change_request = actions.decide_change_request(
            change_request, team, verdict="approve", acting_user=governed_sla.approvers[team]
        )
    assert change_request.state == "applied"  # not stale: the document had not moved on
    assert DocumentVersion.objects.get(pk=legacy.pk).content_hash == content_hash(raw)


# A real change to text -----------------------------------------------------------------------


def test_one_word_changed_in_a_30_line_annex_shows_that_word_and_folds_the_rest(
    client, annexed, django_assert_num_queries
):
    edited = ANNEX.replace("Line 15: the provider measures", "Line 15: the provider samples")
    change_request = propose(annexed, {**SLA.snapshot(annexed.sla), "technical_annex": edited}, "Sample line 15")
    client.force_login(annexed.author)

    with django_assert_num_queries(9):  # as many as a page without text changes (tests/approvals/test_views.py)
        page = client.get(detail_url(change_request))

    html = page.text
    assert accessibility_problems(page) == []
    assert "<del>measures</del>" in html
    assert "<ins>samples</ins>" in html
    shown = what_changes(page)
    assert "Technical annex · 1 line changed" in shown
    assert "… 11 unchanged lines …" in shown  # lines 1-11; 12-14 shown for context
    assert "… 12 unchanged lines …" in shown  # lines 19-30; 16-18 shown for context
    source = text_of(fragment(html, '<table class="text-diff-source">', "</table>"))
    assert "Line 14:" in source and "Line 16:" in source
    assert "Line 11:" not in source and "Line 19:" not in source
    assert "rewritten" not in shown
    # The field table leaves the annex to its diff: no struck-through copy of the whole text.
    assert "technical_annex" not in html
    # The rendered view is there for the toggle (static/js/text-diff.js), hidden until asked for.
    assert "data-text-diff-rendered hidden" in html
    assert 'src="/static/js/text-diff.js"' in html


def test_script_in_an_annex_is_shown_as_text_in_both_views(client, annexed):
    script = "<script>alert('annex')</script> and <img src=x onerror=alert(2)>"
    edited = ANNEX.replace("Line 15: the provider measures", f"Line 15: {script} measures")
    change_request = propose(annexed, {**SLA.snapshot(annexed.sla), "technical_annex": edited}, "Scripted")
    client.force_login(annexed.approvers[annexed.committee])

    html = client.get(detail_url(change_request)).text

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;annex&#x27;)&lt;/script&gt;" in html  # the source view
    assert html.count("&lt;script&gt;alert") >= 2  # and the rendered view (markdown keeps raw HTML as text)


def test_playbook_instructions_are_diffed_per_step(client, make_matrix, governed_sla, admin_actor):
    instructions = "Check the dashboard.\nPage the lead."
    matrix = make_matrix(
        governed_sla.sla.service,
        playbook_steps=[PlaybookStep(title="Confirm impact", timebox_minutes=10, instructions=instructions)],
    )
    actions.record_baseline_version(matrix, acting_user=admin_actor)
    kind = EscalationMatrixKind()
    current = kind.snapshot(matrix)
    step = {**current["playbook"][0], "instructions": "Check the dashboard.\nPage the incident lead."}
    change_request = actions.propose_change(
        "escalation_matrix",
        matrix,
        data={**current, "playbook": [step]},
        summary="Name the incident lead",
        rationale="Two leads were paged last time.",
        acting_user=governed_sla.author,
    )
    client.force_login(governed_sla.author)

    shown = what_changes(client.get(detail_url(change_request)))

    assert "Playbook “Confirm impact”: instructions · 1 line changed" in shown
    assert "instructions rewritten" not in shown


# An approval on a request revised meanwhile --------------------------------------------------


def test_an_approval_of_a_revision_replaced_meanwhile_says_who_revised_it_and_shows_the_new_diff(
    client, governed_sla, submit_acknowledge
):
    change_request = submit_acknowledge(governed_sla, 15)
    approver = governed_sla.approvers[governed_sla.committee]
    client.force_login(approver)
    opened = read_form(client.get(detail_url(change_request)), "decision-form").values
    assert opened["revision"] == ["1"]
    # The author revises it while the approver reads: 10 minutes now, and a draft again.
    actions.revise_change_request(
        change_request,
        data=with_acknowledge(SLA.snapshot(governed_sla.sla), 10),
        summary="Faster still",
        rationale="Checkout loses orders while nobody acknowledges.",
        acting_user=governed_sla.author,
    )

    response = client.post(
        reverse("approvals:decide", args=[change_request.reference]),
        {**opened, "team": [str(governed_sla.committee.pk)], "verdict": ["approve"]},
    )

    assert response.url == f"{detail_url(change_request)}#what-changes"
    page = client.get(response.url)
    assert [str(message) for message in page.context["messages"]] == [
        f"{change_request.reference} was revised by {governed_sla.author.username} after you opened it "
        "(revision 1 → 2): your decision was not recorded. It is a draft again: read what changes now, "
        "and decide once it is submitted."
    ]
    assert "is draft; it cannot be decided on" not in page.text
    assert "SEV1 time to acknowledge: 30 min → 10 min" in what_changes(page)
    assert not Decision.objects.exists()


def test_a_revision_resubmitted_meanwhile_is_not_approved_unread(client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    approver = governed_sla.approvers[governed_sla.consumer]
    client.force_login(approver)
    opened = read_form(client.get(detail_url(change_request)), "decision-form").values
    revised = actions.revise_change_request(
        change_request,
        data=with_acknowledge(SLA.snapshot(governed_sla.sla), 5),
        summary="Five minutes",
        rationale="Checkout loses orders while nobody acknowledges.",
        acting_user=governed_sla.author,
    )
    actions.submit_change_request(revised, acting_user=governed_sla.author)
    decide = {**opened, "team": [str(governed_sla.consumer.pk)], "verdict": ["approve"]}

    page = client.post(reverse("approvals:decide", args=[change_request.reference]), decide, follow=True)

    messages = [str(message) for message in page.context["messages"]]
    assert messages == [
        f"{change_request.reference} was revised by {governed_sla.author.username} after you opened it "
        "(revision 1 → 2): your decision was not recorded. Read what changes now and decide again."
    ]
    assert not Decision.objects.exists()
    # Read, then decided on the revision shown: recorded.
    again = read_form(page, "decision-form").values
    assert again["revision"] == ["2"]
    client.post(reverse("approvals:decide", args=[change_request.reference]), {**decide, "revision": again["revision"]})
    assert Decision.objects.get().revision == 2


def test_the_api_refuses_a_decision_on_a_replaced_revision(governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    actions.revise_change_request(
        change_request,
        data=with_acknowledge(SLA.snapshot(governed_sla.sla), 10),
        summary="Faster still",
        rationale="Checkout loses orders while nobody acknowledges.",
        acting_user=governed_sla.author,
    )
    client = APIClient()
    client.force_authenticate(governed_sla.approvers[governed_sla.provider])

    response = client.post(
        f"/api/v1/change-requests/{change_request.reference}/approve/",
        {"team": governed_sla.provider.slug, "revision": 1},
        format="json",
    )

    assert response.status_code == 409
    assert "was revised by payments.engineer after you opened it (revision 1 → 2)" in response.json()["detail"]
    assert not Decision.objects.exists()
