import itertools
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals import actions
from approvals.choices import ChangeState
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.models import DocumentVersion
from audit.log import events_for
from sla_registry.models import ResponseTarget

pytestmark = pytest.mark.django_db


def sev1_acknowledge(sla):
    return ResponseTarget.objects.get(sla=sla, severity__key="SEV1").time_to_acknowledge


def test_submit_asks_every_required_team_with_its_reason(governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 15)
    assert change_request.state == ChangeState.DRAFT
    change_request = actions.submit_change_request(change_request, acting_user=governed_sla.author)
    assert change_request.state == ChangeState.IN_REVIEW
    reasons = {required.team.name: required.reason for required in change_request.required_approvals.all()}
    assert reasons == {
        "Payments": "provider",
        "Checkout": "consumer",
        "SLA Committee": "the SLA committee approves every change to an agreement",
    }


def test_the_last_approval_applies_a_new_version(governed_sla, propose_acknowledge, approve_all):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    change_request = approve_all(governed_sla, change_request, teams=[governed_sla.provider, governed_sla.consumer])
    assert change_request.state == ChangeState.IN_REVIEW
    assert sev1_acknowledge(governed_sla.sla) == timedelta(minutes=30)

    change_request = approve_all(governed_sla, change_request, teams=[governed_sla.committee])
    assert change_request.state == ChangeState.APPLIED
    assert sev1_acknowledge(governed_sla.sla) == timedelta(minutes=15)
    version = DocumentVersion.objects.get(change_request=change_request)
    assert version.number == 2
    assert version.snapshot["response_targets"][0]["time_to_acknowledge_minutes"] == 15
    history = ResponseTarget.objects.get(sla=governed_sla.sla).history.first()
    # The change request and the words are fields of their own on the history row.
    assert (history.history_change_request, history.history_change_reason) == (
        change_request.reference,
        "Faster SEV1 acknowledgement",
    )
    assert history.history_user == governed_sla.approvers[governed_sla.committee]


def test_the_author_cannot_approve_their_own_request(governed_sla, propose_acknowledge, make_user):
    author = make_user("payments.lead", approver_for=[governed_sla.provider])
    change_request = propose_acknowledge(governed_sla, 15, author=author)
    change_request = actions.submit_change_request(change_request, acting_user=author)
    with pytest.raises(NotAllowed, match="your own change request"):
        actions.decide_change_request(change_request, governed_sla.provider, verdict="approve", acting_user=author)


def test_a_member_without_the_permission_cannot_approve(governed_sla, propose_acknowledge, make_user):
    member = make_user("checkout.engineer", teams=[governed_sla.consumer])
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    with pytest.raises(NotAllowed, match="may not approve or reject for Checkout"):
        actions.decide_change_request(change_request, governed_sla.consumer, verdict="approve", acting_user=member)


def test_an_approver_cannot_decide_for_another_team(governed_sla, propose_acknowledge):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    consumer_approver = governed_sla.approvers[governed_sla.consumer]
    with pytest.raises(NotAllowed, match="for Payments"):
        actions.decide_change_request(
            change_request, governed_sla.provider, verdict="approve", acting_user=consumer_approver
        )


def test_a_team_not_asked_cannot_decide(governed_sla, propose_acknowledge, make_team, make_user):
    outsider_team = make_team("Marketing")
    outsider = make_user("marketing.approver", approver_for=[outsider_team])
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    with pytest.raises(InvalidTransition, match="Marketing is not asked to approve"):
        actions.decide_change_request(change_request, outsider_team, verdict="approve", acting_user=outsider)


def test_one_rejection_rejects_and_revising_restarts_the_approvals(governed_sla, propose_acknowledge, approve_all):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    change_request = approve_all(governed_sla, change_request, teams=[governed_sla.provider])
    with pytest.raises(ValidationError, match="Say why you reject it"):
        actions.decide_change_request(
            change_request,
            governed_sla.consumer,
            verdict="reject",
            acting_user=governed_sla.approvers[governed_sla.consumer],
        )
    change_request = actions.decide_change_request(
        change_request,
        governed_sla.consumer,
        verdict="reject",
        comment="15 minutes is not staffed at night",
        acting_user=governed_sla.approvers[governed_sla.consumer],
    )
    assert change_request.state == ChangeState.REJECTED

    from sla_registry.documents import ServiceLevelAgreementKind
    from tests.conftest import with_acknowledge

    revised = actions.revise_change_request(
        change_request,
        data=with_acknowledge(ServiceLevelAgreementKind().snapshot(governed_sla.sla), 20),
        summary="SEV1 acknowledgement in 20 minutes",
        rationale="Compromise with night staffing.",
        acting_user=governed_sla.author,
    )
    assert (revised.state, revised.revision) == (ChangeState.DRAFT, 2)
    revised = actions.submit_change_request(revised, acting_user=governed_sla.author)
    # The old decisions stay on record but no longer count: every team must decide again.
    assert revised.decisions.count() == 2
    assert revised.current_decisions() == []
    assert {team.name for team in actions.missing_approvals(revised)} == {"Payments", "Checkout", "SLA Committee"}
    revised = approve_all(governed_sla, revised)
    assert revised.state == ChangeState.APPLIED
    assert sev1_acknowledge(governed_sla.sla) == timedelta(minutes=20)


def test_revising_after_an_approval_voids_it(governed_sla, propose_acknowledge, approve_all):
    from sla_registry.documents import ServiceLevelAgreementKind
    from tests.conftest import with_acknowledge

    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    change_request = approve_all(governed_sla, change_request, teams=[governed_sla.provider, governed_sla.consumer])
    first_hash = change_request.content_hash
    change_request = actions.revise_change_request(
        change_request,
        data=with_acknowledge(ServiceLevelAgreementKind().snapshot(governed_sla.sla), 10),
        summary="Even faster",
        rationale="Because.",
        acting_user=governed_sla.author,
    )
    assert change_request.content_hash != first_hash
    change_request = actions.submit_change_request(change_request, acting_user=governed_sla.author)
    change_request = approve_all(governed_sla, change_request, teams=[governed_sla.committee])
    assert change_request.state == ChangeState.IN_REVIEW
    assert {team.name for team in actions.missing_approvals(change_request)} == {"Payments", "Checkout"}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("submit", "is in review; it cannot be submitted"),
        ("revise-by-other", "Only the author"),
    ],
)
def test_invalid_transitions_say_why(governed_sla, propose_acknowledge, step, expected):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    with pytest.raises((InvalidTransition, NotAllowed), match=expected):
        if step == "submit":
            actions.submit_change_request(change_request, acting_user=governed_sla.author)
        else:
            actions.revise_change_request(
                change_request,
                data=change_request.proposed,
                summary="x",
                rationale="y",
                acting_user=governed_sla.approvers[governed_sla.provider],
            )


def test_decisions_only_while_in_review(governed_sla, propose_acknowledge):
    draft = propose_acknowledge(governed_sla, 15)
    with pytest.raises(InvalidTransition, match="is draft; it cannot be decided on"):
        actions.decide_change_request(
            draft, governed_sla.provider, verdict="approve", acting_user=governed_sla.approvers[governed_sla.provider]
        )


def test_withdrawn_and_applied_requests_are_final(governed_sla, propose_acknowledge, submit_acknowledge, approve_all):
    withdrawn = actions.withdraw_change_request(propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author)
    assert withdrawn.state == ChangeState.WITHDRAWN
    with pytest.raises(InvalidTransition, match="is withdrawn; it cannot be submitted"):
        actions.submit_change_request(withdrawn, acting_user=governed_sla.author)

    applied = approve_all(
        governed_sla,
        submit_acknowledge(governed_sla, 15),
    )
    with pytest.raises(InvalidTransition, match="is applied; it cannot be withdrawn"):
        actions.withdraw_change_request(applied, acting_user=governed_sla.author)


def test_a_proposal_needs_a_rationale_and_valid_content(governed_sla, propose_acknowledge):
    with pytest.raises(ValidationError) as caught:
        propose_acknowledge(governed_sla, -5)
    assert caught.value.message_dict == {"response_targets[0].time_to_acknowledge": ["Must be a positive duration."]}
    with pytest.raises(ValidationError) as caught:
        actions.propose_change(
            "sla", governed_sla.sla, data={}, summary="", rationale=" ", acting_user=governed_sla.author
        )
    assert set(caught.value.message_dict) == {"summary", "rationale"}


def test_two_requests_on_one_base_version_one_applies_one_goes_stale(
    governed_sla, propose_acknowledge, submit_acknowledge, approve_all
):
    first = submit_acknowledge(governed_sla, 15)
    second = actions.submit_change_request(
        propose_acknowledge(governed_sla, 20, summary="Twenty minutes"), acting_user=governed_sla.author
    )
    approve_all(governed_sla, first)
    second.refresh_from_db()
    assert second.state == ChangeState.STALE
    assert [event.action for event in events_for(second)][-1] == "change_request.stale"
    with pytest.raises(InvalidTransition, match="is stale"):
        approve_all(governed_sla, second)
    assert sev1_acknowledge(governed_sla.sla) == timedelta(minutes=15)


def test_rebase_reproposes_on_the_current_version(governed_sla, propose_acknowledge, approve_all):
    from sla_registry.documents import ServiceLevelAgreementKind

    kind = ServiceLevelAgreementKind()
    title_change = actions.propose_change(
        "sla",
        governed_sla.sla,
        data={**kind.snapshot(governed_sla.sla), "title": "Payments API for Checkout"},
        summary="Clearer title",
        rationale="Names the API.",
        acting_user=governed_sla.author,
    )
    acknowledge_change = propose_acknowledge(governed_sla, 15)
    approve_all(governed_sla, actions.submit_change_request(title_change, acting_user=governed_sla.author))
    acknowledge_change.refresh_from_db()
    assert acknowledge_change.state == ChangeState.STALE

    rebased, conflicts = actions.rebase_change_request(acknowledge_change, acting_user=governed_sla.author)
    assert conflicts == []
    assert (rebased.state, rebased.base_version, rebased.revision) == (ChangeState.DRAFT, 2, 2)
    # Both changes survive: the other request's title and this request's target.
    assert rebased.proposed["title"] == "Payments API for Checkout"
    assert rebased.proposed["response_targets"][0]["time_to_acknowledge_minutes"] == 15
    approve_all(governed_sla, actions.submit_change_request(rebased, acting_user=governed_sla.author))
    governed_sla.sla.refresh_from_db()
    assert governed_sla.sla.title == "Payments API for Checkout"
    assert sev1_acknowledge(governed_sla.sla) == timedelta(minutes=15)


def test_an_edit_outside_governance_makes_open_requests_stale(governed_sla, propose_acknowledge, approve_all):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    # Someone edits the SLA in the admin, outside any change request.
    sla = governed_sla.sla
    sla.title = "Edited in the admin"
    sla.save()
    change_request = approve_all(governed_sla, change_request)
    assert change_request.state == ChangeState.STALE
    sla.refresh_from_db()
    assert sla.title == "Edited in the admin"  # nothing silently overwritten


def test_a_future_effective_time_schedules_the_apply(governed_sla, propose_acknowledge, approve_all):
    start = timezone.now()
    effective_at = start + timedelta(days=2)
    change_request = propose_acknowledge(governed_sla, 15, effective_at=effective_at)
    change_request = approve_all(
        governed_sla, actions.submit_change_request(change_request, acting_user=governed_sla.author)
    )
    assert change_request.state == ChangeState.APPROVED
    assert actions.apply_due_changes() == []
    with pytest.raises(InvalidTransition, match="not yet"):
        actions.apply_change_request(change_request, acting_user=None)

    with time_machine.travel(effective_at + timedelta(minutes=1)):
        applied = actions.apply_due_changes()
    assert [cr.pk for cr in applied] == [change_request.pk]
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.APPLIED
    version = DocumentVersion.objects.get(change_request=change_request)
    assert version.effective_at >= effective_at


def test_as_of_reads_the_version_in_force(governed_sla, propose_acknowledge, submit_acknowledge, approve_all):
    before_change = timezone.now()
    approve_all(
        governed_sla,
        submit_acknowledge(governed_sla, 15),
    )
    old = actions.version_in_force("sla", governed_sla.sla.pk, before_change)
    new = actions.version_in_force("sla", governed_sla.sla.pk, timezone.now())
    assert (old.number, new.number) == (1, 2)
    assert old.snapshot["response_targets"][0]["time_to_acknowledge_minutes"] == 30
    assert new.snapshot["response_targets"][0]["time_to_acknowledge_minutes"] == 15
    assert actions.version_in_force("sla", governed_sla.sla.pk, before_change - timedelta(days=365)) is None


def test_the_timeline_is_the_audit_log(governed_sla, propose_acknowledge, submit_acknowledge, approve_all):
    change_request = approve_all(
        governed_sla,
        submit_acknowledge(governed_sla, 15),
    )
    events = list(events_for(change_request))
    assert [event.action for event in events] == [
        "change_request.created",
        "change_request.submitted",
        "change_request.approved",
        "change_request.approved",
        "change_request.approved",
        "change_request.applied",
    ]
    assert events[0].actor == governed_sla.author
    assert events[-1].payload["version"] == 2
    for previous, event in itertools.pairwise(events):
        assert event.occurred_at >= previous.occurred_at
        assert event.row_hash == event.compute_hash()


def test_only_a_stale_request_can_be_rebased(governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 15)
    with pytest.raises(InvalidTransition, match="is in review; it cannot be rebased"):
        actions.rebase_change_request(change_request, acting_user=governed_sla.author)


def test_only_the_author_rebases(governed_sla, submit_acknowledge, approve_all):
    first = submit_acknowledge(governed_sla, 15)
    second = submit_acknowledge(governed_sla, 20, summary="Twenty minutes")
    approve_all(governed_sla, first)
    with pytest.raises(NotAllowed, match="Only the author"):
        actions.rebase_change_request(second, acting_user=governed_sla.approvers[governed_sla.provider])


def test_an_applied_request_cannot_be_revised(governed_sla, submit_acknowledge, approve_all):
    applied = approve_all(governed_sla, submit_acknowledge(governed_sla, 15))
    with pytest.raises(InvalidTransition, match="is applied; it cannot be revised"):
        actions.revise_change_request(
            applied, data=applied.proposed, summary="Again", rationale="Again", acting_user=governed_sla.author
        )


def test_apply_needs_every_current_approval(governed_sla, submit_acknowledge, approve_all):
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15), teams=[governed_sla.provider])
    with pytest.raises(InvalidTransition, match="is in review; it cannot be applied"):
        actions.apply_change_request(change_request, acting_user=governed_sla.author)
