"""The audit page: who may read it, its filters, its CSV and its query count."""

import csv
import io

import pytest
from django.urls import reverse

from approvals import actions as approval_actions
from audit.models import AuditEvent
from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db

URL = reverse("audit:event_list")


@pytest.fixture
def committee_client(client, governed_sla):
    client.force_login(governed_sla.approvers[governed_sla.committee])
    return client


@pytest.fixture
def superuser_client(client, admin_actor):
    client.force_login(admin_actor)
    return client


def shown_actions(response):
    return [event.action for event in response.context["page_obj"]]


def test_plain_members_and_approvers_are_refused(client, governed_sla):
    client.force_login(governed_sla.author)
    assert client.get(URL).status_code == 403
    client.force_login(governed_sla.approvers[governed_sla.provider])
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_a_documents_own_events_are_open_to_whoever_reads_it(client, make_user, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    engineer = make_user()
    client.force_login(engineer)

    for reference in (governed_sla.sla.reference, change_request.reference):
        response = client.get(URL, {"object": reference})
        assert response.status_code == 200
        assert "change_request.submitted" in shown_actions(response)
    # The whole log, another filter without an object, or an object named by its table: still oversight only.
    assert client.get(URL, {"action": "auth."}).status_code == 403
    refused = client.get(URL, {"object": f"auth.user:{engineer.pk}"})
    assert refused.status_code == 403 and "Audit events link" in refused.content.decode()


def test_the_audit_tab_of_a_document_opens_for_an_engineer(client, make_user, governed_sla):
    client.force_login(make_user())
    page = client.get(governed_sla.sla.get_absolute_url()).content.decode()
    link = f"{URL}?object={governed_sla.sla.reference}"
    assert link in page
    assert client.get(link).status_code == 200


def test_leadership_and_staff_may_read_it(client, make_team, make_user, governed_sla):
    leaders = make_team("Executive leadership", kind=TeamKind.LEADERSHIP)
    client.force_login(make_user(teams=[leaders]))
    assert client.get(URL).status_code == 200
    client.force_login(make_user(is_staff=True))
    assert client.get(URL).status_code == 200


def test_newest_first_and_filtered_by_reference_user_action_and_date(
    committee_client, governed_sla, submit_acknowledge, approve_all
):
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15))
    everything = shown_actions(committee_client.get(URL))
    assert everything[0] == "change_request.applied"
    assert everything[-1] == "document.version_recorded"

    by_request = committee_client.get(URL, {"object": change_request.reference})
    assert set(shown_actions(by_request)) >= {"change_request.created", "change_request.submitted"}
    assert "document.version_recorded" not in shown_actions(by_request)
    # A document's events include those of the change requests to it.
    by_document = shown_actions(committee_client.get(URL, {"object": governed_sla.sla.reference.lower()}))
    assert {"document.version_recorded", "change_request.applied"} <= set(by_document)

    consumer_approver = governed_sla.approvers[governed_sla.consumer]
    by_user = committee_client.get(URL, {"user": consumer_approver.username})
    assert shown_actions(by_user) == ["change_request.approved"]
    assert shown_actions(committee_client.get(URL, {"action": "document."})) == ["document.version_recorded"]

    today = AuditEvent.objects.latest("id").occurred_at.date().isoformat()
    assert len(shown_actions(committee_client.get(URL, {"since": today, "until": today}))) == len(everything)
    assert shown_actions(committee_client.get(URL, {"until": "2000-01-01"})) == []


def test_an_unknown_reference_is_explained(committee_client, governed_sla):
    response = committee_client.get(URL, {"object": "XYZ-12"})
    assert "names no object" in response.content.decode()
    assert shown_actions(response) == []


def test_csv_export_holds_the_filtered_events(committee_client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    response = committee_client.get(URL, {"object": change_request.reference, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == ["change_request.submitted", "change_request.created"]
    assert rows[0]["actor"] == governed_sla.author.username
    assert rows[0]["row_hash"] == AuditEvent.objects.get(pk=rows[0]["id"]).row_hash


def test_pages_link_to_their_events(committee_client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    document_page = committee_client.get(governed_sla.sla.get_absolute_url()).content.decode()
    assert f'{URL}?object={governed_sla.sla.reference}"' in document_page
    request_page = committee_client.get(
        reverse("approvals:change_request_detail", args=[change_request.reference])
    ).content.decode()
    assert f'{URL}?object={change_request.reference}"' in request_page


def test_staff_outside_oversight_do_not_see_restricted_reviews_events(
    client, make_user, make_review, make_service, make_team, admin_actor
):
    from reviews.actions import submit_for_publication

    payments = make_team("Payments")
    make_team("SLA Committee", is_sla_committee=True)
    review = make_review(
        [make_service("Payments API", owner_team=payments)], restricted_to=[payments], is_restricted=True
    )
    change_request = submit_for_publication(
        review, summary="Publish the breach review", rationale="Blameless.", acting_user=admin_actor
    )
    assert (
        AuditEvent.objects.filter(object_type="approvals.changerequest", object_id=str(change_request.pk)).count() == 2
    )

    for reader in (make_user(is_staff=True), make_user()):  # staff outside oversight, and an engineer
        client.force_login(reader)
        for reference in (review.reference, change_request.reference):
            assert client.get(URL, {"object": reference}).context["page_obj"].paginator.count == 0
    client.force_login(make_user(is_staff=True))
    for reference in (review.reference, change_request.reference):
        assert client.get(URL, {"object": reference}).context["page_obj"].paginator.count == 0
    csv_text = b"".join(client.get(URL, {"format": "csv"}).streaming_content).decode()
    assert change_request.reference not in csv_text
    assert "Publish the breach review" not in csv_text

    client.force_login(admin_actor)
    # The change request's two events and the review's own review.access_granted (Payments, the committee).
    assert client.get(URL, {"object": review.reference}).context["page_obj"].paginator.count == 3


@pytest.mark.parametrize("requests", [1, 8])
def test_query_count_does_not_grow_with_events(
    committee_client, governed_sla, propose_acknowledge, django_assert_num_queries, requests
):
    for minutes in range(requests):
        approval_actions.withdraw_change_request(
            propose_acknowledge(governed_sla, 10 + minutes), acting_user=governed_sla.author
        )
    # session, user, committee/leadership membership, the menu's approvals badge, count, one page (actors joined)
    with django_assert_num_queries(6):
        response = committee_client.get(URL)
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == AuditEvent.objects.count()
