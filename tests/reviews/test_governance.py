"""Publishing and amending a post-incident review through change requests."""

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals import actions as approval_actions
from approvals.choices import ChangeState
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.models import DocumentVersion
from approvals.registry import get_kind
from reviews import actions
from reviews.choices import ActionStatus, ReviewStatus
from reviews.models import ActionItem, PostIncidentReview, TimelineEntry

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class GovernedReview:
    review: object
    payments: object
    checkout: object
    committee: object
    security: object
    gateway: object
    web: object
    author: object
    approvers: dict


@pytest.fixture
def governed_review(make_team, make_user, make_service, make_review):
    payments = make_team("Payments")
    checkout = make_team("Checkout")
    committee = make_team("SLA Committee", is_sla_committee=True)
    security = make_team("Security")
    gateway = make_service("Payments Gateway", owner_team=payments)
    web = make_service("Checkout Web", owner_team=checkout)
    author = make_user("incident.writer", teams=[payments])
    review = make_review(
        [gateway, web],
        started_at=START,
        acting_user=author,
        timeline=[
            TimelineEntry(at=START + timedelta(minutes=5), entry="5xx alert fires", kind="detection"),
            TimelineEntry(at=START + timedelta(minutes=22), entry="Payments on-call acknowledges", kind="escalation"),
        ],
        action_items=[ActionItem(title="Roll back faster", owner_team=payments)],
        root_causes="A config push.",
    )
    approvers = {
        team: make_user(f"{team.slug}.approver", approver_for=[team])
        for team in (payments, checkout, committee, security)
    }
    return GovernedReview(review, payments, checkout, committee, security, gateway, web, author, approvers)


def approve(governed, change_request, teams=None):
    for team in teams or [required.team for required in change_request.required_approvals.all()]:
        change_request = approval_actions.decide_change_request(
            change_request, team, verdict="approve", comment="OK", acting_user=governed.approvers[team]
        )
    return change_request


def submit(governed):
    return actions.submit_for_publication(
        governed.review,
        summary="Publish the gateway outage review",
        rationale="Reviewed with both teams.",
        acting_user=governed.author,
    )


def refreshed(review):
    return PostIncidentReview.objects.get(pk=review.pk)


def test_publishing_asks_the_owners_of_the_affected_services_and_the_committee(governed_review):
    change_request = submit(governed_review)

    assert change_request.state == ChangeState.IN_REVIEW
    assert change_request.base_version is None
    assert refreshed(governed_review.review).status == ReviewStatus.IN_REVIEW
    reasons = {required.team: required.reason for required in change_request.required_approvals.all()}
    assert reasons == {
        governed_review.payments: "owns Payments Gateway, an affected service",
        governed_review.checkout: "owns Checkout Web, an affected service",
        governed_review.committee: "the SLA committee approves every published post-incident review",
    }
    assert get_kind("review").describe(None, change_request.proposed) == [
        "Publishes “Checkout errors after a payments deploy” (SEV1), affecting Checkout Web, Payments Gateway"
    ]


def test_approving_the_publication_publishes_version_1(governed_review):
    change_request = approve(governed_review, submit(governed_review))

    assert change_request.state == ChangeState.APPLIED
    review = refreshed(governed_review.review)
    assert review.status == ReviewStatus.PUBLISHED
    version = DocumentVersion.objects.get(document_kind="review", document_id=review.pk)
    assert version.number == 1
    assert version.change_request == change_request
    assert version.snapshot == get_kind("review").snapshot(review)
    assert version.snapshot["status"] == "published"
    assert version.snapshot["acknowledged_at"] == "2026-11-20T10:20:00Z"
    # The approver who applied it did not become an author.
    assert list(review.authors.all()) == [governed_review.author]


def test_a_published_review_is_not_edited_as_a_draft(governed_review):
    submit(governed_review)
    review = refreshed(governed_review.review)
    review.title = "Sneaky edit"
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        actions.save_review(review, services=[governed_review.gateway], acting_user=governed_review.author, reason="x")


def test_only_an_author_submits_a_review_for_publication(governed_review, make_user):
    stranger = make_user("someone.else", teams=[governed_review.payments])
    with pytest.raises(NotAllowed):
        actions.submit_for_publication(governed_review.review, summary="s", rationale="r", acting_user=stranger)
    assert refreshed(governed_review.review).status == ReviewStatus.DRAFT


def test_a_review_in_review_is_not_submitted_twice(governed_review):
    submit(governed_review)
    with pytest.raises(InvalidTransition):
        submit(governed_review)


def test_a_rejected_publication_reopens_as_an_editable_draft(governed_review):
    change_request = submit(governed_review)
    with pytest.raises(InvalidTransition, match="withdraw it"):
        actions.reopen_draft(governed_review.review, acting_user=governed_review.author)

    change_request = approval_actions.decide_change_request(
        change_request,
        governed_review.committee,
        verdict="reject",
        comment="Name the contributing factors.",
        acting_user=governed_review.approvers[governed_review.committee],
    )
    assert change_request.state == ChangeState.REJECTED

    review = actions.reopen_draft(governed_review.review, acting_user=governed_review.author)
    assert review.status == ReviewStatus.DRAFT
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.WITHDRAWN  # never revised and applied over the new edits

    review.contributing_factors = "No canary for config pushes."
    actions.save_review(review, services=[governed_review.gateway], acting_user=governed_review.author, reason="edit")
    assert refreshed(review).contributing_factors == "No canary for config pushes."
    assert not DocumentVersion.objects.filter(document_kind="review", document_id=review.pk).exists()


def test_a_withdrawn_publication_reopens_the_draft(governed_review):
    change_request = submit(governed_review)
    approval_actions.withdraw_change_request(change_request, acting_user=governed_review.author)
    assert actions.reopen_draft(governed_review.review, acting_user=governed_review.author).status == "draft"


def _amend(governed, *, acting_user=None, **changes):
    review = refreshed(governed.review)
    edited = copy.copy(review)
    timeline = [copy.copy(entry) for entry in review.timeline.all()]
    action_items = [copy.copy(item) for item in review.action_items.all()]
    services = changes.pop("services", list(review.services.all()))
    restricted_to = changes.pop("restricted_to", list(review.restricted_to.all()))
    timeline += changes.pop("extra_timeline", [])
    action_items += changes.pop("extra_action_items", [])
    for name, value in changes.items():
        setattr(edited, name, value)
    return actions.propose_amendment(
        review,
        edited=edited,
        services=services,
        journeys=list(review.journeys.all()),
        restricted_to=restricted_to,
        timeline=timeline,
        action_items=action_items,
        summary="Correct the acknowledgement time",
        rationale="The pager log shows 10:18.",
        acting_user=acting_user or governed.author,
    )


def test_an_amendment_makes_version_2_and_reads_as_people_say_it(governed_review):
    approve(governed_review, submit(governed_review))
    item = governed_review.review.action_items.get()
    actions.complete_action_item(item, note="Rollback button added", acting_user=governed_review.author)

    change_request = _amend(
        governed_review,
        acknowledged_at=START + timedelta(minutes=18),
        root_causes="A config push without a canary.",
        is_restricted=True,
        restricted_to=[governed_review.security, governed_review.payments, governed_review.checkout],
        extra_action_items=[ActionItem(title="Alert on gateway 5xx", owner_team=governed_review.payments)],
    )
    assert change_request.base_version == 1
    assert get_kind("review").describe(
        DocumentVersion.objects.get(document_kind="review", document_id=governed_review.review.pk).snapshot,
        change_request.proposed,
    ) == [
        "Time acknowledged: 10:20 → 10:18",
        "Root causes rewritten",
        "Now restricted to Checkout, Payments, Security",
        "Adds action item “Alert on gateway 5xx”",
    ]
    assert refreshed(governed_review.review).root_causes == "A config push."  # nothing changes before approval

    assert approve(governed_review, change_request).state == ChangeState.APPLIED
    review = refreshed(governed_review.review)
    assert review.status == ReviewStatus.PUBLISHED
    assert review.acknowledged_at == START + timedelta(minutes=18)
    assert review.is_restricted
    versions = DocumentVersion.objects.of("review", review.pk).order_by("number")
    assert [version.number for version in versions] == [1, 2]
    assert versions[1].snapshot == get_kind("review").snapshot(review)
    # Tracking is not content: the done item stays done, the new one is open.
    tracked = {item.title: item for item in review.action_items.all()}
    assert tracked["Roll back faster"].pk == item.pk
    assert tracked["Roll back faster"].status == ActionStatus.DONE
    assert tracked["Roll back faster"].completion_note == "Rollback button added"
    assert tracked["Alert on gateway 5xx"].status == ActionStatus.OPEN


def test_an_amendment_adding_a_service_asks_its_owner(governed_review, make_service, make_team):
    approve(governed_review, submit(governed_review))
    ledger = make_service("Ledger", owner_team=make_team("Finance"))
    change_request = _amend(governed_review, services=[governed_review.gateway, ledger])
    reasons = {required.team.name: required.reason for required in change_request.required_approvals.all()}
    assert reasons == {
        "Payments": "owns Payments Gateway, an affected service",
        "Checkout": "owns Checkout Web, an affected service until this change removes it",
        "Finance": "owns Ledger, an affected service after this change",
        "SLA Committee": "the SLA committee approves every published post-incident review",
    }


def test_only_a_published_review_is_amended(governed_review):
    with pytest.raises(InvalidTransition):
        _amend(governed_review, title="Too early")


def test_the_snapshot_validates_to_itself(governed_review):
    kind = get_kind("review")
    snapshot = kind.snapshot(governed_review.review)
    assert kind.validate(copy.deepcopy(snapshot), governed_review.review) == snapshot
    assert snapshot["services"] == ["checkout-web", "payments-gateway"]
    assert [entry["at"] for entry in snapshot["timeline"]] == ["2026-11-20T10:05:00Z", "2026-11-20T10:22:00Z"]
    assert snapshot["action_items"] == [
        {
            "title": "Roll back faster",
            "kind": "prevent",
            "owner_team": "payments",
            "assignee": None,
            "due_date": None,
            "priority": "medium",
            "link": "",
        }
    ]
    assert "status" not in snapshot["action_items"][0]


def _errors(data):
    with pytest.raises(ValidationError) as raised:
        get_kind("review").validate(data)
    return raised.value.message_dict


def test_validation_names_each_bad_field(governed_review):
    snapshot = get_kind("review").snapshot(governed_review.review)
    errors = _errors({**snapshot, "acknowledged_at": "2026-11-20T10:01:00Z"})  # before detection at 10:05
    assert errors == {"acknowledged_at": ["Cannot be before detected (2026-11-20 10:05 UTC)."]}

    errors = _errors({**snapshot, "is_restricted": True, "restricted_to": ["no-such-team", "payments", "checkout"]})
    assert errors == {"restricted_to": ["No team 'no-such-team'."]}

    errors = _errors(
        {
            **snapshot,
            "resolved_at": "yesterday",
            "timeline": [*snapshot["timeline"], {"at": "10:30", "entry": "x", "kind": "note"}],
            "action_items": [{**snapshot["action_items"][0], "due_date": "someday", "owner_team": "nobody"}],
        }
    )
    assert errors["resolved_at"] == ["Expected a date and time such as 2026-12-01T09:00:00Z."]
    assert "timeline[2].at" in errors
    assert errors["action_items[0].due_date"] == ["Expected a date such as 2026-12-01."]
    assert errors["action_items[0].owner_team"] == ["No team 'nobody'."]


def test_a_restricted_review_names_the_teams_that_approve_it(governed_review):
    snapshot = get_kind("review").snapshot(governed_review.review)
    errors = _errors({**snapshot, "is_restricted": True, "restricted_to": ["security", "payments"]})
    assert errors == {"restricted_to": ["Name Checkout too: it owns Checkout Web and approves the review."]}


def test_action_item_titles_are_unique_in_a_review(governed_review):
    snapshot = get_kind("review").snapshot(governed_review.review)
    errors = _errors({**snapshot, "action_items": snapshot["action_items"] * 2})
    assert list(errors) == ["action_items[1].title"]


def test_a_review_is_never_retired(governed_review):
    approve(governed_review, submit(governed_review))
    with pytest.raises(InvalidTransition):
        approval_actions.propose_change(
            "review",
            refreshed(governed_review.review),
            change_kind="retire",
            summary="Retire",
            rationale="No",
            acting_user=governed_review.author,
        )


offsets = st.lists(st.integers(min_value=0, max_value=60 * 24 * 3), min_size=5, max_size=5).map(sorted)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=offsets, nullable=st.lists(st.booleans(), min_size=4, max_size=4), seconds=st.integers(0, 59))
def test_snapshot_validate_snapshot_is_identity_for_ordered_times(governed_review, minutes, nullable, seconds):
    kind = get_kind("review")
    snapshot = kind.snapshot(governed_review.review)
    moments = [START + timedelta(minutes=offset, seconds=seconds) for offset in minutes]
    times = {"started_at": moments[0]}
    for name, moment, empty in zip(
        ("detected_at", "acknowledged_at", "restored_at", "resolved_at"), moments[1:], nullable, strict=True
    ):
        times[name] = None if empty else moment
    document = {
        **snapshot,
        **{name: moment.isoformat().replace("+00:00", "Z") if moment else None for name, moment in times.items()},
        "timeline": sorted(
            (
                {"at": moment.isoformat().replace("+00:00", "Z"), "entry": f"at {index}", "kind": "note"}
                for index, moment in enumerate(dict.fromkeys(moments))
            ),
            key=lambda entry: entry["at"],
        ),
    }
    assert kind.validate(document) == document
