"""The SLA committee's review cycle: what is due, recording a periodic review, and the Review due page."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from approvals import actions as approval_actions
from approvals.choices import ChangeKind
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.models import ChangeRequest
from audit.models import AuditEvent
from sla_registry.choices import AgreementStatus
from sla_registry.models import PeriodicReview, ReviewOutcome, ServiceLevelAgreement
from sla_registry.review_cycle import by_owner, documents_due, is_committee_member, record_periodic_review
from tests.sla_registry.test_proposals import read_page

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def reviewed_days_ago(days):
    return {"last_reviewed_at": NOW - timedelta(days=days), "effective_from": NOW - timedelta(days=400)}


def review_due_url():
    return reverse("sla_registry:review_due")


def periodic_review_url(document, kind="sla"):
    return reverse("sla_registry:periodic_review", kwargs={"kind": kind, "reference": document.reference})


@pytest.fixture
def committee_member(governed_sla):
    """The committee's approver: a committee member by the approve permission."""
    return governed_sla.approvers[governed_sla.committee]


@pytest.fixture
def committee_client(client, committee_member):
    client.force_login(committee_member)
    return client


@pytest.fixture
def overdue_sla(governed_sla):
    """The governed SLA (cadence 90 days), last reviewed 100 days ago: 10 days overdue."""
    sla = governed_sla.sla
    ServiceLevelAgreement.objects.filter(pk=sla.pk).update(
        last_reviewed_at=NOW - timedelta(days=100), next_review_due=NOW - timedelta(days=10)
    )
    sla.refresh_from_db()
    return sla


# What is due -----------------------------------------------------------------------


def test_documents_due_lists_the_overdue_and_the_due_within_14_days_soonest_first(
    make_sla, make_matrix, make_team, django_assert_num_queries
):
    owner = make_team("Payments")
    due_in_14 = make_sla("Due in 14 days", provider_team=owner, **reviewed_days_ago(76))
    make_sla("Due in 15 days", provider_team=owner, **reviewed_days_ago(75))
    overdue = make_sla("Ten days overdue", provider_team=owner, **reviewed_days_ago(100))
    make_sla("Retired and overdue", provider_team=owner, status=AgreementStatus.RETIRED, **reviewed_days_ago(200))
    make_sla("Draft and overdue", provider_team=owner, status=AgreementStatus.DRAFT, **reviewed_days_ago(200))
    matrix = make_matrix(**reviewed_days_ago(85))

    with django_assert_num_queries(2):
        due = documents_due()
        rows = [
            (item.reference, item.owner_team.name, item.is_overdue, item.days_overdue, item.days_left) for item in due
        ]

    assert rows == [
        (overdue.reference, "Payments", True, 10, 0),
        (matrix.reference, matrix.owner_team.name, False, 0, 5),
        (due_in_14.reference, "Payments", False, 0, 14),
    ]
    assert due[0].due == NOW - timedelta(days=10)
    assert [(team.name, [item.reference for item in items]) for team, items in by_owner(due)] == [
        ("Payments", [overdue.reference, due_in_14.reference]),
        (matrix.owner_team.name, [matrix.reference]),
    ]


def test_documents_due_takes_its_window_and_moment(make_sla):
    sla = make_sla(**reviewed_days_ago(70))  # due in 20 days

    assert documents_due() == []
    assert [item.document for item in documents_due(within_days=20)] == [sla]
    assert [item.days_overdue for item in documents_due(now=NOW + timedelta(days=23))] == [3]


# Who may review ------------------------------------------------------------------------


def test_the_committee_is_its_members_and_its_approvers(governed_sla, make_user):
    member = make_user(teams=[governed_sla.committee])

    assert is_committee_member(member)
    assert is_committee_member(governed_sla.approvers[governed_sla.committee])
    assert not is_committee_member(governed_sla.author)
    assert not is_committee_member(governed_sla.approvers[governed_sla.provider])


def test_only_the_committee_records_a_periodic_review(overdue_sla, governed_sla):
    with pytest.raises(NotAllowed, match="Only members of the SLA committee"):
        record_periodic_review(
            overdue_sla, outcome=ReviewOutcome.UNCHANGED, note="Looks fine.", acting_user=governed_sla.author
        )

    overdue_sla.refresh_from_db()
    assert overdue_sla.last_reviewed_at == NOW - timedelta(days=100)
    assert not PeriodicReview.objects.exists()


# Recording a review ------------------------------------------------------------------------


def test_reviewed_no_change_resets_the_clock_and_is_recorded(overdue_sla, committee_member):
    review = record_periodic_review(
        overdue_sla, outcome=ReviewOutcome.UNCHANGED, note="Targets still fit.", acting_user=committee_member
    )

    overdue_sla.refresh_from_db()
    assert overdue_sla.last_reviewed_at == NOW
    assert overdue_sla.next_review_due == NOW + timedelta(days=90)
    assert not overdue_sla.is_review_overdue
    assert (review.document_kind, review.document_id, review.outcome) == ("sla", overdue_sla.pk, "unchanged")
    assert (review.note, review.reviewed_by, review.reviewed_at, review.change_request) == (
        "Targets still fit.",
        committee_member,
        NOW,
        None,
    )
    latest = overdue_sla.history.latest()
    assert (latest.history_change_reason, latest.history_user) == (
        "Reviewed, no change: Targets still fit.",
        committee_member,
    )
    event = AuditEvent.objects.filter(action="document.periodic_review").get()
    assert (event.object_id, event.actor, event.payload["outcome"]) == (
        str(overdue_sla.pk),
        committee_member,
        "unchanged",
    )
    assert documents_due() == []


def test_reviewed_no_change_needs_a_note_and_no_change_request(
    overdue_sla, committee_member, propose_acknowledge, governed_sla
):
    with pytest.raises(ValidationError) as error:
        record_periodic_review(overdue_sla, outcome=ReviewOutcome.UNCHANGED, note="  ", acting_user=committee_member)
    assert "note" in error.value.message_dict

    change_request = propose_acknowledge(governed_sla, 15)
    with pytest.raises(ValidationError):
        record_periodic_review(
            overdue_sla,
            outcome=ReviewOutcome.UNCHANGED,
            note="Fine",
            acting_user=committee_member,
            change_request=change_request,
        )
    assert not PeriodicReview.objects.exists()


def test_changes_proposed_links_the_change_request_and_resets_the_clock(
    overdue_sla, committee_member, governed_sla, propose_acknowledge
):
    change_request = propose_acknowledge(governed_sla, 15, author=committee_member)

    review = record_periodic_review(
        overdue_sla,
        outcome=ReviewOutcome.CHANGES_PROPOSED,
        note="SEV1 acknowledgement too slow.",
        acting_user=committee_member,
        change_request=change_request,
    )

    overdue_sla.refresh_from_db()
    assert review.change_request == change_request
    assert overdue_sla.next_review_due == NOW + timedelta(days=90)
    assert overdue_sla.history.latest().history_change_reason == (
        f"Reviewed, changes proposed in {change_request.reference}: SEV1 acknowledgement too slow."
    )


def test_a_proposal_outcome_needs_a_matching_open_change_request(
    overdue_sla, committee_member, governed_sla, propose_acknowledge, make_sla
):
    with pytest.raises(ValidationError, match="needs the change request"):
        record_periodic_review(
            overdue_sla, outcome=ReviewOutcome.CHANGES_PROPOSED, note="Change it.", acting_user=committee_member
        )
    change = propose_acknowledge(governed_sla, 15)
    with pytest.raises(ValidationError, match="is a change request"):
        record_periodic_review(
            overdue_sla,
            outcome=ReviewOutcome.RETIRE_PROPOSED,
            note="Retire it.",
            acting_user=committee_member,
            change_request=change,
        )
    other = make_sla()
    with pytest.raises(ValidationError, match=f"is not about {other.reference}"):
        record_periodic_review(
            other, outcome=ReviewOutcome.CHANGES_PROPOSED, note="x", acting_user=committee_member, change_request=change
        )
    approval_actions.withdraw_change_request(change, acting_user=governed_sla.author)
    change.refresh_from_db()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        record_periodic_review(
            overdue_sla,
            outcome=ReviewOutcome.CHANGES_PROPOSED,
            note="Change it.",
            acting_user=committee_member,
            change_request=change,
        )
    assert not PeriodicReview.objects.exists()


def test_retire_proposed_links_a_retire_request(overdue_sla, committee_member):
    retirement = approval_actions.propose_change(
        "sla",
        overdue_sla,
        change_kind=ChangeKind.RETIRE,
        summary="Retire it",
        rationale="Refunds moved to the new platform.",
        acting_user=committee_member,
    )

    review = record_periodic_review(
        overdue_sla,
        outcome=ReviewOutcome.RETIRE_PROPOSED,
        note="No consumer left.",
        acting_user=committee_member,
        change_request=retirement,
    )

    assert (review.outcome, review.change_request) == ("retire_proposed", retirement)


def test_a_retired_document_is_not_reviewed(make_sla, committee_member):
    retired = make_sla(status=AgreementStatus.RETIRED, **reviewed_days_ago(200))

    with pytest.raises(InvalidTransition, match="is retired"):
        record_periodic_review(retired, outcome=ReviewOutcome.UNCHANGED, note="x", acting_user=committee_member)


def test_a_matrix_is_reviewed_like_an_sla(make_matrix, governed_sla, committee_member):
    matrix = make_matrix(**reviewed_days_ago(95))

    record_periodic_review(matrix, outcome="unchanged", note="Steps still right.", acting_user=committee_member)

    matrix.refresh_from_db()
    assert matrix.next_review_due == NOW + timedelta(days=90)
    assert PeriodicReview.objects.get().document_kind == "escalation_matrix"


# The document's pages ---------------------------------------------------------------------------


def test_the_history_tab_shows_reviewed_no_change_without_flagging_it(overdue_sla, committee_member, client):
    # A minute after the set-up: rows written at one frozen instant have no order between tables.
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        record_periodic_review(
            overdue_sla, outcome=ReviewOutcome.UNCHANGED, note="Targets still fit.", acting_user=committee_member
        )
    client.force_login(committee_member)

    page = client.get(reverse("sla_registry:sla_history", kwargs={"reference": overdue_sla.reference})).text

    entry = page.split('<li class="change-set">')[1]  # newest first
    assert "Reason: Reviewed, no change: Targets still fit." in entry
    assert "Last reviewed at" in entry
    assert "unreviewed" not in entry


def test_the_document_page_lists_its_periodic_reviews_latest_first(
    overdue_sla, committee_member, client, governed_sla, propose_acknowledge
):
    record_periodic_review(overdue_sla, outcome="unchanged", note="First look: fine.", acting_user=committee_member)
    change_request = propose_acknowledge(governed_sla, 15)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        record_periodic_review(
            overdue_sla,
            outcome="changes_proposed",
            note="Second look: faster SEV1.",
            acting_user=committee_member,
            change_request=change_request,
        )
    client.force_login(governed_sla.author)

    page = client.get(overdue_sla.get_absolute_url()).text

    section = page.split('id="periodic-reviews"')[1]
    assert section.index("Second look: faster SEV1.") < section.index("First look: fine.")
    assert "Changes proposed" in section and "Reviewed, no change" in section
    assert change_request.get_absolute_url() in section


def test_the_document_page_says_when_nothing_was_reviewed(governed_sla, client):
    client.force_login(governed_sla.author)

    page = client.get(governed_sla.sla.get_absolute_url()).text

    assert "has not recorded a periodic review" in page


# The Review due page --------------------------------------------------------------------------------


def test_the_review_due_page_groups_by_owner_with_dates_and_forms_for_the_committee(
    committee_client, overdue_sla, make_sla, make_team
):
    other_owner = make_team("Search")
    soon = make_sla("Search for the shop", provider_team=other_owner, **reviewed_days_ago(80))

    page = committee_client.get(review_due_url()).text

    assert page.index(">Payments<") < page.index(">Search<")  # the team with the most urgent document first
    assert "2 documents to review" in page.replace("<strong>", "").replace("</strong>", "")
    assert "10 days overdue" in page
    assert "Due in 10 days" in page
    assert "Every 90 days" in page
    assert "21 Aug 2026" in page and "19 Nov 2026" in page  # overdue_sla: last reviewed, due
    assert periodic_review_url(overdue_sla) in page and periodic_review_url(soon) in page
    assert 'aria-current="page">Review due' in page


def test_outsiders_see_the_list_without_forms(client, governed_sla, overdue_sla):
    client.force_login(governed_sla.author)

    page = client.get(review_due_url()).text

    assert overdue_sla.reference in page
    assert periodic_review_url(overdue_sla) not in page
    assert "Members of the SLA committee record the reviews." in page


def test_the_review_due_page_when_nothing_is_due(committee_client, governed_sla):
    page = committee_client.get(review_due_url()).text

    assert "Nothing is due for review in the next 14 days, and nothing is overdue." in page


def test_an_outsiders_post_is_refused(client, governed_sla, overdue_sla):
    client.force_login(governed_sla.author)

    response = client.post(periodic_review_url(overdue_sla), {"outcome": "unchanged", "note": "Fine."})

    assert response.status_code == 403
    assert not PeriodicReview.objects.exists()


def test_the_committee_records_reviewed_no_change_from_the_page(committee_client, overdue_sla):
    response = committee_client.post(periodic_review_url(overdue_sla), {"outcome": "unchanged", "note": "Still fits."})

    assert response.status_code == 302 and response.url == review_due_url()
    review = PeriodicReview.objects.get()
    assert (review.outcome, review.note) == ("unchanged", "Still fits.")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"{overdue_sla.reference} reviewed, no change. Next review due 27 Feb 2027."
    ]
    assert "nothing is overdue" in committee_client.get(review_due_url()).text


def test_a_review_without_a_note_is_not_recorded(committee_client, overdue_sla):
    response = committee_client.post(periodic_review_url(overdue_sla), {"outcome": "unchanged", "note": ""})

    assert response.status_code == 302
    assert not PeriodicReview.objects.exists()
    assert "was not reviewed" in str(next(iter(get_messages(response.wsgi_request))))


def test_an_unknown_kind_or_reference_is_not_found(committee_client, overdue_sla):
    data = {"outcome": "unchanged", "note": "x"}
    bad_kind = reverse("sla_registry:periodic_review", kwargs={"kind": "team", "reference": overdue_sla.reference})
    assert committee_client.post(bad_kind, data).status_code == 404
    assert committee_client.post(periodic_review_url(overdue_sla, "escalation_matrix"), data).status_code == 404


def test_propose_changes_leads_into_the_editor_and_records_the_review_with_the_request(
    committee_client, overdue_sla, committee_member
):
    response = committee_client.post(
        periodic_review_url(overdue_sla), {"outcome": "changes_proposed", "note": "SEV1 acknowledgement too slow."}
    )

    editor_url = response.url
    assert urlsplit(editor_url).path == reverse("sla_registry:sla_propose", kwargs={"reference": overdue_sla.reference})
    assert parse_qs(urlsplit(editor_url).query) == {
        "periodic_review": ["1"],
        "note": ["SEV1 acknowledgement too slow."],
    }
    assert not PeriodicReview.objects.exists()  # nothing is recorded until the request exists

    editor = committee_client.get(editor_url)
    assert "records the SLA committee" in editor.text
    values = read_page(editor).values
    assert values["rationale"] == ["SEV1 acknowledgement too slow."]
    values["response_targets-0-time_to_acknowledge_minutes"] = ["15"]
    values["summary"] = ["Faster SEV1 acknowledgement"]
    response = committee_client.post(editor_url, values)  # the form posts back to its own address

    change_request = ChangeRequest.objects.get()
    assert response.url == change_request.get_absolute_url()
    review = PeriodicReview.objects.get()
    assert (review.outcome, review.change_request, review.reviewed_by) == (
        "changes_proposed",
        change_request,
        committee_member,
    )
    assert review.note == "SEV1 acknowledgement too slow."
    overdue_sla.refresh_from_db()
    assert overdue_sla.next_review_due == NOW + timedelta(days=90)


def test_propose_retirement_leads_into_the_retire_flow(committee_client, overdue_sla):
    response = committee_client.post(
        periodic_review_url(overdue_sla), {"outcome": "retire_proposed", "note": "No consumer left."}
    )
    retire_url = response.url
    assert urlsplit(retire_url).path == reverse("sla_registry:sla_retire", kwargs={"reference": overdue_sla.reference})

    committee_client.post(retire_url, {"summary": "Retire it", "rationale": "No consumer left."})

    review = PeriodicReview.objects.select_related("change_request").get()
    assert review.outcome == "retire_proposed"
    assert review.change_request.kind == ChangeKind.RETIRE


def test_an_outsider_cannot_record_a_review_through_the_editor(client, governed_sla, overdue_sla):
    client.force_login(governed_sla.author)
    url = reverse("sla_registry:sla_retire", kwargs={"reference": overdue_sla.reference}) + "?periodic_review=1"

    response = client.post(url, {"summary": "Retire it", "rationale": "Gone."})

    assert response.status_code == 302 and response.url == overdue_sla.get_absolute_url()
    assert not ChangeRequest.objects.exists()  # the request and the review are one transaction
    assert not PeriodicReview.objects.exists()


def test_the_review_due_page_reads_with_a_fixed_number_of_queries(
    committee_client, overdue_sla, make_sla, make_matrix, django_assert_num_queries
):
    def count_queries():
        with django_assert_num_queries(REVIEW_DUE_QUERIES) as captured:
            response = committee_client.get(review_due_url())
        assert response.status_code == 200
        return captured

    count_queries()
    for _ in range(4):
        make_sla(**reviewed_days_ago(95))
        make_matrix(**reviewed_days_ago(85))
    assert len(documents_due()) == 9
    count_queries()


# session, user, the navigation's approvals count, committee check, SLAs, matrices
REVIEW_DUE_QUERIES = 6
