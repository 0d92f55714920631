"""A restricted review is invisible, everywhere reviews are listed or shown, to whoever may not see it."""

import copy
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse
from guardian.shortcuts import assign_perm

from approvals import actions as approval_actions
from approvals.permissions import access_change_request, approvals_waiting_for, visible_change_requests
from reviews import actions
from reviews.models import PostIncidentReview
from reviews.permissions import access_review, visible_reviews
from sla_registry.choices import TeamKind


@dataclass
class RestrictedReview:
    review: object
    publication: object  # its change request, in review
    payments: object
    security: object
    committee: object
    outsider: object  # a plain member of another team
    author: object


@pytest.fixture
def restricted(make_team, make_user, make_service, make_review):
    payments = make_team("Payments")
    security = make_team("Security")
    committee = make_team("SLA Committee", is_sla_committee=True)
    checkout = make_team("Checkout")
    gateway = make_service("Payments Gateway", owner_team=payments)
    author = make_user("security.writer", teams=[security])
    review = make_review(
        [gateway],
        started_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        title="Leaked card-processing credentials",
        is_restricted=True,
        restricted_to=[security, payments],
        acting_user=author,
    )
    publication = actions.submit_for_publication(
        review, summary="Publish the credential leak review", rationale="Agreed in the debrief.", acting_user=author
    )
    outsider = make_user("checkout.dev", teams=[checkout])
    return RestrictedReview(review, publication, payments, security, committee, outsider, author)


@pytest.fixture
def readers(restricted, make_user, make_team):
    """Everyone who may see the restricted review, by role."""
    leadership = make_team("Leadership", kind=TeamKind.LEADERSHIP)
    return {
        "member of a named team": make_user("security.analyst", teams=[restricted.security]),
        "committee member": make_user("committee.member", teams=[restricted.committee]),
        "leadership": make_user("cto", teams=[leadership]),
        "superuser": make_user("root", is_superuser=True, is_staff=True),
        "author": restricted.author,
    }


def _pages(client, user, restricted):
    client.force_login(user)
    return {
        "list": client.get(reverse("approvals:change_request_list")),
        "mine": client.get(reverse("approvals:my_requests")),
        "approvals": client.get(reverse("approvals:my_approvals")),
        "page": client.get(
            reverse("approvals:change_request_detail", kwargs={"reference": restricted.publication.reference})
        ),
    }


def test_a_plain_member_of_another_team_never_sees_it(restricted, client):
    outsider = restricted.outsider
    assert not visible_reviews(outsider).filter(pk=restricted.review.pk).exists()
    with pytest.raises(Http404):
        access_review(outsider, restricted.review.reference)
    assert restricted.publication not in visible_change_requests(outsider)
    with pytest.raises(Http404):
        access_change_request(outsider, restricted.publication.reference)

    pages = _pages(client, outsider, restricted)
    assert pages["page"].status_code == 404
    for name in ("list", "mine", "approvals"):
        assert pages[name].status_code == 200
        assert restricted.publication.reference not in pages[name].text, name
        assert "credential" not in pages[name].text.lower(), name


def test_an_approver_who_may_not_see_it_is_not_asked_on_my_approvals(restricted, make_user, client):
    # Approve permission on Payments without being a member of it (and so without the review's permission).
    approver = make_user("contractor")
    assign_perm(settings.APPROVALS_APPROVE_PERMISSION, approver, restricted.payments)
    assert not approvals_waiting_for(approver).filter(change_request=restricted.publication).exists()
    client.force_login(approver)
    assert restricted.publication.reference not in client.get(reverse("approvals:my_approvals")).text

    member = make_user("payments.approver", approver_for=[restricted.payments])
    assert approvals_waiting_for(member).filter(change_request=restricted.publication).exists()


def test_an_anonymous_visitor_sees_nothing(restricted):
    anonymous = AnonymousUser()
    assert not visible_reviews(anonymous).exists()
    assert restricted.publication not in visible_change_requests(anonymous)


@pytest.mark.parametrize("role", ["member of a named team", "committee member", "leadership", "superuser", "author"])
def test_the_named_teams_the_committee_and_leadership_see_it(restricted, readers, role, client):
    reader = readers[role]
    assert visible_reviews(reader).filter(pk=restricted.review.pk).exists()
    assert access_review(reader, restricted.review.reference) == restricted.review
    assert access_change_request(reader, restricted.publication.reference) == restricted.publication
    pages = _pages(client, reader, restricted)
    assert pages["page"].status_code == 200
    assert restricted.publication.reference in pages["list"].text
    if role == "author":
        assert restricted.publication.reference in pages["mine"].text


def test_the_committee_approver_finds_it_waiting(restricted, make_user):
    approver = make_user("committee.approver", approver_for=[restricted.committee])
    assert approvals_waiting_for(approver).filter(change_request=restricted.publication).exists()


def test_lifting_the_restriction_shows_it_to_everyone(restricted, make_user):
    approvers = [make_user(approver_for=[team]) for team in (restricted.payments, restricted.committee)]
    for team, approver in zip((restricted.payments, restricted.committee), approvers, strict=True):
        approval_actions.decide_change_request(
            restricted.publication, team, verdict="approve", comment="OK", acting_user=approver
        )
    review = PostIncidentReview.objects.get(pk=restricted.review.pk)
    assert review.status == "published"
    assert not visible_reviews(restricted.outsider).filter(pk=review.pk).exists()  # still restricted once published

    edited = copy.copy(review)
    edited.is_restricted = False
    amendment = actions.propose_amendment(
        review,
        edited=edited,
        services=list(review.services.all()),
        restricted_to=[],
        summary="Lift the restriction",
        rationale="The credentials are rotated; everyone should learn from it.",
        acting_user=restricted.author,
    )
    assert amendment not in visible_change_requests(restricted.outsider)  # about a review they cannot see yet
    for team, approver in zip((restricted.payments, restricted.committee), approvers, strict=True):
        amendment = approval_actions.decide_change_request(
            amendment, team, verdict="approve", comment="OK", acting_user=approver
        )
    assert amendment.state == "applied"

    assert access_review(restricted.outsider, review.reference) == review
    assert restricted.publication in visible_change_requests(restricted.outsider)
    assert amendment in visible_change_requests(restricted.outsider)


def test_an_outsider_may_not_propose_an_amendment(restricted, make_user):
    from approvals.exceptions import NotAllowed

    with pytest.raises(NotAllowed):
        actions.propose_amendment(
            restricted.review,
            edited=restricted.review,
            services=list(restricted.review.services.all()),
            summary="s",
            rationale="r",
            acting_user=restricted.outsider,
        )
