import pytest
from django.urls import reverse

from approvals.choices import ChangeState

pytestmark = pytest.mark.django_db


def detail_url(change_request):
    return reverse("approvals:change_request_detail", args=[change_request.reference])


def post(client, name, change_request, **data):
    return client.post(reverse(f"approvals:{name}", args=[change_request.reference]), data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_draft_page_shows_the_diff_and_lets_the_author_submit(client, governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.author)
    page = client.get(detail_url(change_request))
    assert page.status_code == 200
    assert "SEV1 time to acknowledge: 30 min → 15 min" in page.content.decode()
    assert "Submit for approval" in page.content.decode()

    response = post(client, "submit", change_request)
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.IN_REVIEW
    assert messages_of(response) == [
        f"{change_request.reference} is submitted: every required team has been asked to approve."
    ]
    content = response.content.decode()
    for reason in ("provider", "consumer", "the SLA committee approves every change to an agreement"):
        assert reason in content


def test_an_approver_decides_from_the_page(client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    approver = governed_sla.approvers[governed_sla.consumer]
    client.force_login(approver)
    page = client.get(detail_url(change_request))
    assert "Your decision" in page.content.decode()

    response = post(client, "decide", change_request, team=governed_sla.consumer.pk, verdict="approve", comment="")
    assert messages_of(response) == [f"You approved {change_request.reference} for Checkout."]
    assert "Approved" in response.content.decode()


def test_the_last_approval_from_the_page_applies_the_change(client, governed_sla, submit_acknowledge, approve_all):
    change_request = submit_acknowledge(governed_sla, 15)
    approve_all(governed_sla, change_request, teams=[governed_sla.provider, governed_sla.consumer])
    client.force_login(governed_sla.approvers[governed_sla.committee])
    response = post(client, "decide", change_request, team=governed_sla.committee.pk, verdict="approve")
    assert messages_of(response) == [
        f"You approved {change_request.reference} for SLA Committee. That was the last approval: it is applied."
    ]
    assert "as version 2" in response.content.decode()


def test_a_rejection_without_a_comment_is_refused_with_a_message(client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.approvers[governed_sla.provider])
    response = post(client, "decide", change_request, team=governed_sla.provider.pk, verdict="reject", comment=" ")
    assert response.status_code == 200
    assert messages_of(response) == ["Say why you reject it, so the author can revise."]
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.IN_REVIEW


def test_refused_steps_are_messages_not_error_pages(client, governed_sla, submit_acknowledge, make_user):
    change_request = submit_acknowledge(governed_sla, 15)
    # The author cannot decide; the page offers them no decision form either.
    client.force_login(governed_sla.author)
    assert "Your decision" not in client.get(detail_url(change_request)).content.decode()
    # A team the user may not approve for is not a choice: the form refuses it.
    client.force_login(make_user("bystander"))
    response = post(client, "decide", change_request, team=governed_sla.provider.pk, verdict="approve")
    assert response.status_code == 200
    assert "team: Select a valid choice" in messages_of(response)[0]
    # Only the author can withdraw.
    response = post(client, "withdraw", change_request)
    assert messages_of(response) == [f"Only the author of {change_request.reference} can withdraw it."]
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.IN_REVIEW


def test_transitions_need_post(client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.author)
    response = client.get(reverse("approvals:withdraw", args=[change_request.reference]))
    assert response.status_code == 405


def test_a_stale_request_says_what_changed_and_rebases(client, governed_sla, submit_acknowledge, approve_all):
    first = submit_acknowledge(governed_sla, 15)
    second = submit_acknowledge(governed_sla, 20, summary="Twenty minutes")
    approve_all(governed_sla, first)
    client.force_login(governed_sla.author)
    page = client.get(detail_url(second)).content.decode()
    assert "The document has moved on" in page
    assert "SEV1 time to acknowledge: 30 min → 15 min" in page  # what changed meanwhile

    response = post(client, "rebase", second)
    second.refresh_from_db()
    assert (second.state, second.base_version) == (ChangeState.DRAFT, 2)
    assert "rebased on the current version" in messages_of(response)[0]
    assert "SEV1 time to acknowledge: 15 min → 20 min" in response.content.decode()


def test_my_approvals_lists_what_waits_for_me_with_a_count_in_the_navigation(client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.approvers[governed_sla.consumer])
    page = client.get(reverse("approvals:my_approvals")).content.decode()
    assert change_request.reference in page
    assert "consumer" in page
    assert '<span class="nav-count" aria-label="1 waiting">1</span>' in page

    client.force_login(governed_sla.author)
    page = client.get(reverse("approvals:my_approvals")).content.decode()
    assert "Nothing is waiting for you" in page


def test_my_requests_lists_the_authors_open_requests(client, governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.author)
    assert change_request.reference in client.get(reverse("approvals:my_requests")).content.decode()
    client.force_login(governed_sla.approvers[governed_sla.provider])
    assert change_request.reference not in client.get(reverse("approvals:my_requests")).content.decode()


def test_the_list_filters_by_state_team_document_and_author(
    client, governed_sla, propose_acknowledge, submit_acknowledge
):
    draft = propose_acknowledge(governed_sla, 10, summary="Draft one")
    in_review = submit_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.author)
    url = reverse("approvals:change_request_list")

    def listed(**params):
        content = client.get(url, params).content.decode()
        return {cr.reference for cr in (draft, in_review) if f">{cr.reference}<" in content}

    assert listed() == {draft.reference, in_review.reference}
    assert listed(state="in_review") == {in_review.reference}
    assert listed(team="checkout") == {in_review.reference}  # required teams exist once submitted
    assert listed(document=governed_sla.sla.reference) == {draft.reference, in_review.reference}
    assert listed(document="ESC-0001") == set()
    assert listed(author="nobody") == set()
    assert listed(document="not a reference") == set()


def test_unknown_references_are_404(client, governed_sla):
    client.force_login(governed_sla.author)
    assert client.get("/changes/CR-9999/").status_code == 404
    assert client.get("/changes/XYZ/").status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, governed_sla, propose_acknowledge):
    response = client.get(detail_url(propose_acknowledge(governed_sla, 15)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_request_page_escapes_what_people_wrote(client, governed_sla):
    from approvals import actions
    from sla_registry.documents import ServiceLevelAgreementKind

    change_request = actions.propose_change(
        "sla",
        governed_sla.sla,
        data={**ServiceLevelAgreementKind().snapshot(governed_sla.sla), "title": "<script>alert(1)</script>"},
        summary="<img src=x onerror=alert(1)>",
        rationale="<script>alert(2)</script>",
        acting_user=governed_sla.author,
    )
    client.force_login(governed_sla.author)
    content = client.get(detail_url(change_request)).content.decode()
    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in content


@pytest.mark.parametrize("rows", [1, 12])
def test_query_counts_do_not_grow_with_rows(client, governed_sla, propose_acknowledge, django_assert_num_queries, rows):
    for number in range(rows):
        propose_acknowledge(governed_sla, 10 + number, summary=f"Change {number}")
    change_request = propose_acknowledge(governed_sla, 15)
    client.force_login(governed_sla.author)
    # session, user, the navigation's approvals count, the teams for the filter, count, page
    with django_assert_num_queries(6):
        assert client.get(reverse("approvals:change_request_list")).status_code == 200
    # session, user, count and page of waiting approvals (the navigation reuses neither)
    with django_assert_num_queries(4):
        assert client.get(reverse("approvals:my_approvals")).status_code == 200
    with django_assert_num_queries(9):
        assert client.get(detail_url(change_request)).status_code == 200
