"""The proposal editors: proposing, revising and retiring SLAs and escalation matrices through change requests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import actions as approval_actions
from approvals.choices import ChangeKind, ChangeState
from approvals.exceptions import InvalidTransition
from approvals.models import ChangeRequest
from sla_registry.choices import AgreementStatus
from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind
from sla_registry.models import EscalationStep, Objective, ResponseTarget, ServiceLevelAgreement
from tests.html import read_form, text_of

pytestmark = pytest.mark.django_db


def read_page(response):
    """The editor's form as a browser would submit it, and which of its controls have a label."""
    return read_form(response, "proposal-form")


def submitted(response, **changes):
    """The editor's form as the browser submits it, with some fields changed (a list for several values)."""
    values = dict(read_page(response).values)
    for name, value in changes.items():
        values[name.replace("__", "-")] = value if isinstance(value, list) else [str(value)]
    return values


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


CHANGE = {"summary": "Faster SEV1 acknowledgement", "rationale": "Checkout loses orders while nobody acknowledges."}


@pytest.fixture
def author_client(client, governed_sla):
    client.force_login(governed_sla.author)
    return client


def sla_url(name, governed):
    return reverse(f"sla_registry:{name}", kwargs={"reference": governed.sla.reference})


# Proposing a change to an SLA --------------------------------------------------


def test_the_editor_shows_the_current_document_and_its_version(author_client, governed_sla):
    response = author_client.get(sla_url("sla_propose", governed_sla))

    assert response.status_code == 200
    assert f"Proposing a change to {governed_sla.sla.reference}, based on version 1." in response.text
    values = read_page(response).values
    assert values["title"] == ["Payments for Checkout"]
    assert values["provider_team"] == ["payments"]
    assert values["consumer_teams"] == ["checkout"]
    assert values["response_targets-0-severity"] == ["SEV1"]
    assert values["response_targets-0-time_to_acknowledge_minutes"] == ["30m"]
    assert values["objectives-0-indicator"] == ["Successful requests"]
    # Two blank rows to add more, without JavaScript.
    assert values["response_targets-TOTAL_FORMS"] == ["3"]
    assert values["response_targets-2-severity"] == [""]


def test_every_control_of_the_editor_has_a_label(author_client, governed_sla):
    page = read_page(author_client.get(sla_url("sla_propose", governed_sla)))

    assert len(page.control_ids) > 40
    assert [control for control in page.control_ids if control not in page.label_targets] == []


def test_posting_a_change_opens_a_draft_that_shows_the_difference(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, response_targets__0__time_to_acknowledge_minutes=15, **CHANGE),
    )

    change_request = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response.url == change_request.get_absolute_url()
    assert (change_request.state, change_request.kind, change_request.author) == (
        ChangeState.DRAFT,
        ChangeKind.CHANGE,
        governed_sla.author,
    )
    assert change_request.base_version == 1
    assert change_request.proposed["response_targets"][0]["time_to_acknowledge_minutes"] == 15
    assert change_request.summary == CHANGE["summary"]
    page = author_client.get(response.url)
    assert "SEV1 time to acknowledge: 30 min → 15 min" in page.text
    assert "Submit for approval" in page.text
    # Only what was edited changed: the rest of the proposal is the current SLA.
    current = ServiceLevelAgreementKind().snapshot(governed_sla.sla)
    assert ServiceLevelAgreementKind().describe(current, change_request.proposed) == [
        "SEV1 time to acknowledge: 30 min → 15 min"
    ]


def test_a_blank_row_adds_nothing_and_a_filled_one_adds_an_item(author_client, governed_sla, severities):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(
            editor,
            response_targets__2__severity="SEV2",
            response_targets__2__time_to_acknowledge_minutes=60,
            response_targets__2__time_to_restore_minutes=240,
            response_targets__2__time_to_resolve_minutes=2880,
            **CHANGE,
        ),
    )

    targets = ChangeRequest.objects.get().proposed["response_targets"]
    assert [(target["severity"], target["time_to_acknowledge_minutes"]) for target in targets] == [
        ("SEV1", 30),
        ("SEV2", 60),
    ]
    assert targets[1]["category"] is None
    assert targets[1]["customer_update_interval_minutes"] is None
    assert targets[1]["coverage"] == "24x7"


def test_deleting_a_row_removes_the_item(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    author_client.post(sla_url("sla_propose", governed_sla), submitted(editor, objectives__0__DELETE="on", **CHANGE))

    assert ChangeRequest.objects.get().proposed["objectives"] == []


def test_the_effective_time_is_read_in_the_current_time_zone(author_client, governed_sla, settings):
    settings.TIME_ZONE = "Europe/Paris"
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(
            editor, effective_at="2030-06-01T09:00", response_targets__0__time_to_acknowledge_minutes=15, **CHANGE
        ),
    )

    assert ChangeRequest.objects.get().effective_at == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)


# Invalid proposals ----------------------------------------------------------------


def _rejected(response):
    assert response.status_code == 200
    assert "Please correct the problems below" in response.text
    assert not ChangeRequest.objects.exists()
    return response.context["proposal"]


def test_negative_minutes_are_shown_on_their_cell(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, response_targets__0__time_to_acknowledge_minutes=-5, **CHANGE),
    )

    proposal = _rejected(response)
    assert proposal.formsets["response_targets"].forms[0].errors == {
        "time_to_acknowledge_minutes": ["“-5” is negative: a duration must be at least 1m."]
    }
    assert 'id="id_response_targets-0-time_to_acknowledge_minutes_error"' in response.text


def test_errors_land_on_the_right_row_when_rows_are_deleted_or_left_blank(author_client, make_sla, severities):
    # Targets SEV1 (row 1) and SEV2 (row 2); the proposal deletes SEV1, breaks SEV2, leaves row 3 blank and
    # adds a broken SEV3 in row 4. The document's targets are then [SEV2, SEV3]: the adapter's indexes.
    sla = make_sla(
        response_targets=[
            ResponseTarget(
                severity=severities[key],
                time_to_acknowledge=timedelta(minutes=minutes),
                time_to_restore=timedelta(minutes=minutes * 4),
                time_to_resolve=timedelta(minutes=minutes * 48),
            )
            for key, minutes in (("SEV1", 30), ("SEV2", 60))
        ]
    )
    url = reverse("sla_registry:sla_propose", kwargs={"reference": sla.reference})
    editor = author_client.get(url)
    assert read_page(editor).values["response_targets-1-severity"] == ["SEV2"]

    response = author_client.post(
        url,
        submitted(
            editor,
            response_targets__0__DELETE="on",
            response_targets__1__time_to_restore_minutes=10,
            response_targets__3__severity="SEV3",
            response_targets__3__time_to_acknowledge_minutes=60,
            response_targets__3__time_to_restore_minutes=120,
            response_targets__3__time_to_resolve_minutes=90,
            **CHANGE,
        ),
    )

    rows = _rejected(response).formsets["response_targets"].forms
    assert [dict(row.errors) for row in rows] == [
        {},
        {"time_to_restore_minutes": ["Cannot be shorter than the time to acknowledge."]},
        {},
        {"time_to_resolve_minutes": ["Cannot be shorter than the time to restore."]},
    ]


def test_a_half_filled_row_is_told_what_it_lacks(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, response_targets__1__severity="SEV2", **CHANGE),
    )

    errors = _rejected(response).formsets["response_targets"].forms[1].errors
    assert errors["time_to_acknowledge_minutes"] == ["This field is required."]
    assert errors["time_to_restore_minutes"] == ["This field is required."]


def test_a_duplicate_row_is_told_so(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(
            editor,
            response_targets__1__severity="SEV1",
            response_targets__1__time_to_acknowledge_minutes=5,
            response_targets__1__time_to_restore_minutes=60,
            response_targets__1__time_to_resolve_minutes=600,
            **CHANGE,
        ),
    )

    rows = _rejected(response).formsets["response_targets"].forms
    assert rows[1].non_field_errors() == ["Two targets for the same severity and category."]
    assert "Row 2: Two targets for the same severity and category." in response.text


def test_a_type_error_is_caught_by_the_form(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(
            editor, response_targets__0__time_to_acknowledge_minutes="soon", review_cadence_days="often", **CHANGE
        ),
    )

    proposal = _rejected(response)
    assert "time_to_acknowledge_minutes" in proposal.formsets["response_targets"].forms[0].errors
    assert "review_cadence_days" in proposal.document_form.errors


def test_a_top_level_problem_is_shown_on_its_field(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, consumer_teams=["checkout", "payments"], **CHANGE),
    )

    assert _rejected(response).document_form.errors["consumer_teams"] == [
        "The provider team cannot also be a consumer of its own SLA."
    ]


def test_a_rationale_is_required(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, summary="Faster", rationale="", response_targets__0__time_to_acknowledge_minutes=15),
    )

    assert "rationale" in _rejected(response).change_form.errors


def test_an_effective_time_in_the_past_is_refused_on_its_field(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla), submitted(editor, effective_at="2020-01-01T09:00", **CHANGE)
    )

    assert _rejected(response).change_form.errors["effective_at"] == [
        "The effective time must be in the future (leave it empty to apply on approval)."
    ]


def test_a_tampered_form_is_refused_without_an_error_page(author_client, governed_sla):
    response = author_client.post(sla_url("sla_propose", governed_sla), {"title": "x", **CHANGE})

    _rejected(response)


# New SLAs ---------------------------------------------------------------------------


def test_a_new_sla_is_created_once_every_team_approves(
    author_client, governed_sla, make_service, approve_all, severities
):
    make_service("Refunds API", owner_team=governed_sla.provider)
    editor = author_client.get(reverse("sla_registry:sla_propose_new"))
    assert editor.status_code == 200
    # The author's own team is the likely provider.
    assert read_page(editor).values["provider_team"] == ["payments"]

    response = author_client.post(
        reverse("sla_registry:sla_propose_new"),
        submitted(
            editor,
            title="Refunds for Checkout",
            service="refunds-api",
            consumer_teams=["checkout"],
            executive_summary="Refunds **within a day**.",
            objectives__0__indicator="Refunds processed",
            objectives__0__target="99.5",
            response_targets__0__severity="SEV1",
            response_targets__0__time_to_acknowledge_minutes=20,
            response_targets__0__time_to_restore_minutes=120,
            response_targets__0__time_to_resolve_minutes=1440,
            summary="Refunds SLA",
            rationale="Checkout depends on refunds.",
        ),
    )

    change_request = ChangeRequest.objects.get()
    assert response.url == change_request.get_absolute_url()
    assert (change_request.kind, change_request.document_id) == (ChangeKind.CREATE, None)
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    change_request = approve_all(governed_sla, change_request)
    assert change_request.state == ChangeState.APPLIED
    sla = ServiceLevelAgreement.objects.get(title="Refunds for Checkout")
    assert sla.provider_team == governed_sla.provider
    assert list(sla.consumer_teams.all()) == [governed_sla.consumer]
    assert sla.objectives.get().target == 99.5
    assert sla.response_targets.get().time_to_acknowledge == timedelta(minutes=20)


def test_a_new_sla_without_its_essentials_is_refused(author_client, governed_sla):
    editor = author_client.get(reverse("sla_registry:sla_propose_new"))

    response = author_client.post(reverse("sla_registry:sla_propose_new"), submitted(editor, **CHANGE))

    assert {"title", "service"} <= set(_rejected(response).document_form.errors)


# Retiring -----------------------------------------------------------------------------


def test_retiring_opens_a_retire_request(author_client, governed_sla):
    page = author_client.get(sla_url("sla_retire", governed_sla))
    assert page.status_code == 200
    assert f"Proposing to retire {governed_sla.sla.reference}, based on version 1." in page.text
    assert "Status: active → retired" in page.text
    assert "Checkout" in page.text  # a consumer must approve

    response = author_client.post(
        sla_url("sla_retire", governed_sla), {"summary": "Retire it", "rationale": "Refunds moved elsewhere."}
    )

    change_request = ChangeRequest.objects.get()
    assert response.url == change_request.get_absolute_url()
    assert change_request.kind == ChangeKind.RETIRE
    assert change_request.proposed["status"] == AgreementStatus.RETIRED


def test_retiring_needs_a_rationale(author_client, governed_sla):
    response = author_client.post(sla_url("sla_retire", governed_sla), {"summary": "Retire it", "rationale": " "})

    assert "rationale" in _rejected(response).change_form.errors


# Revising ------------------------------------------------------------------------------


def test_the_author_revises_a_proposal(author_client, governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 15)
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})

    editor = author_client.get(url)
    assert editor.status_code == 200
    assert f"Revising {change_request.reference} (revision 1)" in editor.text
    assert read_page(editor).values["response_targets-0-time_to_acknowledge_minutes"] == ["15m"]
    assert read_page(editor).values["summary"] == ["Faster SEV1 acknowledgement"]

    response = author_client.post(
        url, submitted(editor, response_targets__0__time_to_acknowledge_minutes=10, summary="Much faster")
    )

    change_request.refresh_from_db()
    assert response.url == change_request.get_absolute_url()
    assert (change_request.revision, change_request.state, change_request.summary) == (
        2,
        ChangeState.DRAFT,
        "Much faster",
    )
    assert change_request.proposed["response_targets"][0]["time_to_acknowledge_minutes"] == 10
    assert ChangeRequest.objects.count() == 1


def test_someone_else_cannot_revise_a_proposal(client, governed_sla, propose_acknowledge, make_user):
    change_request = propose_acknowledge(governed_sla, 15)
    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})
    client.force_login(make_user("someone.else"))

    for response in (client.get(url), client.post(url, {"summary": "Mine now", "rationale": "Because."})):
        assert response.status_code == 302
        assert response.url == change_request.get_absolute_url()
        assert messages_of(response)[-1] == f"Only the author of {change_request.reference} can revise it."
    change_request.refresh_from_db()
    assert (change_request.revision, change_request.summary) == (1, "Faster SEV1 acknowledgement")


def test_an_applied_proposal_cannot_be_revised(author_client, governed_sla, submit_acknowledge, approve_all):
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15))
    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})

    response = author_client.get(url)

    assert response.url == change_request.get_absolute_url()
    assert messages_of(response) == [f"{change_request.reference} is applied; it cannot be revised."]


def test_revising_a_retire_request_keeps_it_a_retirement(author_client, governed_sla):
    change_request = approval_actions.propose_change(
        "sla",
        governed_sla.sla,
        change_kind=ChangeKind.RETIRE,
        summary="Retire it",
        rationale="Gone.",
        acting_user=governed_sla.author,
    )
    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})

    response = author_client.post(url, {"summary": "Retire it", "rationale": "Replaced by SLA-0002."})

    change_request.refresh_from_db()
    assert response.status_code == 302
    assert (change_request.revision, change_request.rationale) == (2, "Replaced by SLA-0002.")
    assert change_request.proposed["status"] == AgreementStatus.RETIRED


def test_an_sla_editor_does_not_revise_a_matrix_proposal(author_client, governed_sla, make_matrix):
    matrix = make_matrix()
    change_request = approval_actions.propose_change(
        "escalation_matrix",
        matrix,
        change_kind=ChangeKind.RETIRE,
        summary="Retire it",
        rationale="Gone.",
        acting_user=governed_sla.author,
    )

    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})
    assert author_client.get(url).status_code == 404
    assert author_client.get(reverse("sla_registry:sla_propose", kwargs={"reference": "ESC-0001"})).status_code == 404


def test_a_refused_transition_is_a_message_not_an_error_page(
    author_client, governed_sla, propose_acknowledge, monkeypatch
):
    change_request = propose_acknowledge(governed_sla, 15)
    url = reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})
    editor = author_client.get(url)

    def applied_meanwhile(change_request, **kwargs):
        raise InvalidTransition(f"{change_request.reference} is applied; it cannot be revised.")

    monkeypatch.setattr(approval_actions, "revise_change_request", applied_meanwhile)
    response = author_client.post(url, submitted(editor, response_targets__0__time_to_acknowledge_minutes=10))

    assert response.url == change_request.get_absolute_url()
    assert messages_of(response) == [f"{change_request.reference} is applied; it cannot be revised."]


def test_the_editor_reads_a_fixed_number_of_queries(author_client, governed_sla, make_sla, severities):
    def queries_for(sla):
        with CaptureQueriesContext(connection) as queries:
            response = author_client.get(reverse("sla_registry:sla_propose", kwargs={"reference": sla.reference}))
        assert response.status_code == 200
        return len(queries)

    many = make_sla(
        response_targets=[
            ResponseTarget(
                severity=severity,
                time_to_acknowledge=timedelta(minutes=10),
                time_to_restore=timedelta(hours=1),
                time_to_resolve=timedelta(days=1),
            )
            for severity in severities.values()
        ]
    )
    assert queries_for(many) == queries_for(governed_sla.sla)


# Markdown stays text --------------------------------------------------------------------


def test_markdown_with_a_script_is_kept_as_text_and_never_run(author_client, governed_sla):
    script = "<script>alert('owned')</script> Checkout **first**."
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla), submitted(editor, executive_summary=script, **CHANGE)
    )

    change_request = ChangeRequest.objects.get()
    assert change_request.proposed["executive_summary"] == script
    page = author_client.get(response.url)
    assert "Executive summary · added (1 line)" in text_of(page)  # diffed line by line (approvals.diff)
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text
    revise = author_client.get(
        reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})
    )
    assert "<script>alert" not in revise.text


# Escalation matrices ----------------------------------------------------------------------


@pytest.fixture
def matrix(make_matrix, make_service, make_team, severities):
    """A matrix whose SEV1 escalates from its owner to Platform, by phone with chat as fallback."""
    service = make_service("Checkout API")
    owner, platform = service.owner_team, make_team("Platform")
    return make_matrix(
        service,
        steps=[
            EscalationStep(
                severity=severities["SEV1"], level=1, wait=timedelta(minutes=15), team=owner, channel="page"
            ),
            EscalationStep(
                severity=severities["SEV1"],
                level=2,
                wait=timedelta(minutes=30),
                team=platform,
                contact="Platform lead",
                channel="phone",
                fallback_channel="chat",
                bring_workarounds=True,
            ),
        ],
    )


def matrix_url(name, matrix):
    return reverse(f"sla_registry:{name}", kwargs={"reference": matrix.reference})


@pytest.fixture
def proposed_data(monkeypatch):
    """The document each editor hands to the approval action, before the adapter cleans it."""
    handed = []
    propose_change = approval_actions.propose_change

    def spy(document_kind, document, *, data=None, **options):
        handed.append(data)
        return propose_change(document_kind, document, data=data, **options)

    monkeypatch.setattr(approval_actions, "propose_change", spy)
    return handed


@pytest.mark.parametrize("time_zone", ["UTC", "America/St_Johns"])
def test_an_unchanged_matrix_round_trips(client, matrix, make_user, settings, time_zone, proposed_data):
    settings.TIME_ZONE = time_zone
    client.force_login(make_user())
    editor = client.get(matrix_url("matrix_propose", matrix))
    assert editor.status_code == 200
    assert f"Proposing a change to {matrix.reference}, based on its current state" in editor.text

    response = client.post(matrix_url("matrix_propose", matrix), submitted(editor, **CHANGE))

    snapshot = EscalationMatrixKind().snapshot(matrix)
    # Exactly the adapter's format, seconds of the effective time included, in any time zone: so it is
    # nothing to propose, and no request is opened.
    assert proposed_data == [snapshot]
    assert response.status_code == 200
    assert "Nothing to propose" in response.text
    assert not ChangeRequest.objects.exists()


def test_an_unchanged_sla_round_trips(
    author_client, make_sla, make_category, make_team, severities, admin_actor, proposed_data
):
    security = make_category("Security")
    sla = make_sla(
        consumer_teams=[make_team("Web shop"), make_team("Ledger")],
        executive_summary="Line one\n\n* a point",
        objectives=[
            Objective(indicator="Checkouts succeed", target=Decimal("99.95"), unit="%", window=timedelta(days=28)),
            Objective(indicator="p95 latency", target=Decimal("350"), unit="ms", window=timedelta(days=7)),
        ],
        response_targets=[
            ResponseTarget(
                severity=severities["SEV2"],
                category=category,
                time_to_acknowledge=timedelta(minutes=15),
                time_to_restore=timedelta(hours=4),
                time_to_resolve=timedelta(days=3),
                coverage=coverage,
            )
            for category, coverage in ((None, "24x7"), (security, "business_hours"))
        ],
    )
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    url = reverse("sla_registry:sla_propose", kwargs={"reference": sla.reference})
    editor = author_client.get(url)
    assert "based on version 1." in editor.text

    author_client.post(url, submitted(editor, **CHANGE))

    assert proposed_data == [ServiceLevelAgreementKind().snapshot(sla)]


def test_a_gap_in_escalation_levels_is_shown_above_the_steps(client, matrix, make_user):
    client.force_login(make_user())
    editor = client.get(matrix_url("matrix_propose", matrix))

    response = client.post(matrix_url("matrix_propose", matrix), submitted(editor, steps__1__level=3, **CHANGE))

    proposal = _rejected(response)
    assert proposal.formsets["steps"].non_form_errors() == ["SEV1: levels 1, 3: levels must be contiguous."]
    assert "SEV1: levels 1, 3: levels must be contiguous." in response.text


def test_durations_are_typed_and_shown_back_as_people_write_them(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))
    author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(
            editor,
            response_targets__0__time_to_acknowledge_minutes="15m",
            response_targets__0__time_to_restore_minutes="2h 30m",
            response_targets__0__time_to_resolve_minutes="1d",
            review_cadence_days="4w",
            **CHANGE,
        ),
    )

    (target,) = ChangeRequest.objects.get().proposed["response_targets"]
    assert (target["time_to_acknowledge_minutes"], target["time_to_restore_minutes"]) == (15, 150)
    assert target["time_to_resolve_minutes"] == 24 * 60
    assert ChangeRequest.objects.get().proposed["review_cadence_days"] == 28
    revise = reverse("sla_registry:sla_revise", kwargs={"change_reference": ChangeRequest.objects.get().reference})
    values = read_page(author_client.get(revise)).values
    assert values["response_targets-0-time_to_restore_minutes"] == ["2h 30m"]
    assert values["response_targets-0-time_to_resolve_minutes"] == ["1d"]
    assert values["review_cadence_days"] == ["28d"]


def test_a_negative_duration_is_refused_with_every_other_problem_on_the_first_submit(author_client, governed_sla):
    editor = author_client.get(sla_url("sla_propose", governed_sla))

    response = author_client.post(
        sla_url("sla_propose", governed_sla),
        submitted(editor, response_targets__0__time_to_restore_minutes="-2h", title="", summary=""),
    )

    proposal = _rejected(response)
    assert proposal.formsets["response_targets"].forms[0].errors == {
        "time_to_restore_minutes": ["“-2h” is negative: a duration must be at least 1m."]
    }
    assert proposal.document_form.errors["title"] == ["This field is required."]
    assert proposal.change_form.errors["summary"] == ["This field is required."]


def test_playbook_problems_land_on_their_step(client, matrix, make_user):
    client.force_login(make_user())
    editor = client.get(matrix_url("matrix_propose", matrix))

    response = client.post(
        matrix_url("matrix_propose", matrix),
        submitted(
            editor,
            playbook__0__DELETE="on",
            playbook__2__title="Page the owner",
            playbook__2__timebox_minutes=0,
            **CHANGE,
        ),
    )

    rows = _rejected(response).formsets["playbook"].forms
    assert rows[2].errors == {"timebox_minutes": ["“0” is too short: a duration must be at least 1m."]}


def test_a_matrix_change_lists_steps_in_the_proposal(client, matrix, make_user):
    client.force_login(make_user())
    editor = client.get(matrix_url("matrix_propose", matrix))

    client.post(
        matrix_url("matrix_propose", matrix),
        submitted(
            editor,
            steps__1__wait_minutes=20,
            steps__1__bring_workarounds=[],
            playbook__1__title="Call it",
            playbook__1__timebox_minutes=5,
            **CHANGE,
        ),
    )

    proposed = ChangeRequest.objects.get().proposed
    assert proposed["steps"][1]["wait_minutes"] == 20
    assert proposed["steps"][1]["bring_workarounds"] is False
    assert [step["title"] for step in proposed["playbook"]] == ["Confirm impact", "Call it"]


def test_a_new_matrix(client, make_service, make_user, severities):
    service = make_service("Search API")
    client.force_login(make_user(teams=[service.owner_team]))
    editor = client.get(reverse("sla_registry:matrix_propose_new"))
    assert read_page(editor).values["owner_team"] == [service.owner_team.slug]

    response = client.post(
        reverse("sla_registry:matrix_propose_new"),
        submitted(
            editor,
            title="Search escalation",
            service="search-api",
            steps__0__severity="SEV1",
            steps__0__level=1,
            steps__0__wait_minutes=10,
            steps__0__team=service.owner_team.slug,
            **CHANGE,
        ),
    )

    change_request = ChangeRequest.objects.get()
    assert response.url == change_request.get_absolute_url()
    assert change_request.kind == ChangeKind.CREATE
    assert change_request.proposed["steps"][0]["channel"] == "page"
    assert change_request.proposed["steps"][0]["bring_timeline"] is True


def test_retiring_a_matrix(client, matrix, make_user):
    client.force_login(make_user())

    response = client.post(matrix_url("matrix_retire", matrix), {"summary": "Retire", "rationale": "Service gone."})

    change_request = ChangeRequest.objects.get()
    assert response.url == change_request.get_absolute_url()
    assert change_request.proposed["status"] == AgreementStatus.RETIRED


# Who may propose ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("sla_propose_new", {}),
        ("sla_propose", {"reference": "SLA-0001"}),
        ("sla_retire", {"reference": "SLA-0001"}),
        ("sla_revise", {"change_reference": "CR-0001"}),
        ("matrix_propose_new", {}),
        ("matrix_propose", {"reference": "ESC-0001"}),
        ("matrix_retire", {"reference": "ESC-0001"}),
        ("matrix_revise", {"change_reference": "CR-0001"}),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, name, kwargs):
    url = reverse(f"sla_registry:{name}", kwargs=kwargs)

    for response in (client.get(url), client.post(url, CHANGE)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert not ChangeRequest.objects.exists()
