"""Who approves and who reads is a governed document: RULES-0001 changes only by change request."""

import pytest
from django.urls import reverse

from approvals import actions as approval_actions
from approvals.choices import ChangeState
from audit.models import AuditEvent
from reviews.permissions import visible_reviews
from sla_registry.access import AccessPolicyKind, live_rules
from sla_registry.choices import TeamKind
from sla_registry.models import AccessPolicy, Team

pytestmark = pytest.mark.django_db


def rules_of(slug):
    return next((entry for entry in live_rules()["teams"] if entry["team"] == slug), None)


def propose(client, **fields):
    return client.post(
        reverse("sla_registry:access_policy_propose"),
        {"summary": "Change the rules", "rationale": "Because", "approvers": "", "members": "", **fields},
    )


def test_the_policy_page_lists_the_rules_in_force(client, governed_sla):
    client.force_login(governed_sla.author)
    page = client.get(reverse("sla_registry:access_policy")).content.decode()
    assert "RULES-0001" in page
    assert "payments.approver" in page and "sla-committee.approver" in page
    assert rules_of("sla-committee")["is_sla_committee"] is True


def test_a_team_approver_cannot_make_their_team_the_committee_alone(client, governed_sla):
    payments, committee = governed_sla.provider, governed_sla.committee
    approver = governed_sla.approvers[payments]
    client.force_login(approver)

    response = propose(
        client, team="payments", kind=TeamKind.LEADERSHIP, is_sla_committee="on", approvers="payments.approver"
    )
    assert response.status_code == 302
    change_request = approval_actions.submit_change_request(_latest_request(), acting_user=approver)
    assert change_request.state == ChangeState.IN_REVIEW
    required = {required.team for required in change_request.required_approvals.all()}
    assert required == {committee}  # Payments' own approvers do not change; the committee decides

    with pytest.raises(approval_actions.NotAllowed):
        approval_actions.decide_change_request(change_request, committee, verdict="approve", acting_user=approver)
    payments.refresh_from_db()
    assert (payments.kind, payments.is_sla_committee) == (TeamKind.ENGINEERING, False)


def _latest_request():
    from approvals.models import ChangeRequest

    return ChangeRequest.objects.filter(document_kind=AccessPolicyKind.key).latest("pk")


def test_an_approved_policy_change_applies_kind_members_and_approvers(client, governed_sla, make_user, make_review):
    payments, committee = governed_sla.provider, governed_sla.committee
    chair = governed_sla.approvers[committee]
    newcomer = make_user("payments.lead", teams=[payments])
    review = make_review([governed_sla.sla.service], is_restricted=True, restricted_to=[governed_sla.consumer])
    assert not visible_reviews(governed_sla.author).filter(pk=review.pk).exists()
    client.force_login(governed_sla.author)
    assert (
        propose(
            client,
            team="payments",
            kind=TeamKind.LEADERSHIP,
            approvers="payments.approver\npayments.lead",
            members="payments.engineer\npayments.approver\npayments.lead",
        ).status_code
        == 302
    )
    change_request = approval_actions.submit_change_request(_latest_request(), acting_user=governed_sla.author)
    required = {required.team: required.reason for required in change_request.required_approvals.all()}
    assert set(required) == {committee, payments}
    assert "its own approvers change" in required[payments]
    for team, user in ((committee, chair), (payments, governed_sla.approvers[payments])):
        change_request = approval_actions.decide_change_request(
            change_request, team, verdict="approve", acting_user=user
        )
    assert change_request.state == ChangeState.APPLIED  # applied once every required team approved

    payments.refresh_from_db()
    assert payments.kind == TeamKind.LEADERSHIP
    assert rules_of("payments")["approvers"] == ["payments.approver", "payments.lead"]
    assert newcomer.has_perm("sla_registry.approve_for_team", payments)
    assert AuditEvent.objects.filter(action="permission.granted", payload__user="payments.lead").exists()
    kind = AccessPolicyKind()
    base = approval_actions.version_in_force(kind.key, AccessPolicy.get().pk, change_request.created_at)
    assert "Payments kind: Engineering → Leadership" in kind.describe(base.snapshot, change_request.proposed)
    # Leadership reads every review: the policy, approved, is what let the engineer read this one.
    assert visible_reviews(governed_sla.author).filter(pk=review.pk).exists()


def test_moving_the_committee_needs_the_committee_and_keeps_exactly_one(governed_sla):
    payments = governed_sla.provider
    rules = {entry["team"]: entry for entry in live_rules()["teams"]}
    rules["payments"] = {**rules["payments"], "is_sla_committee": True}
    rules["sla-committee"] = {**rules["sla-committee"], "is_sla_committee": False}
    rules["sla-committee"].pop("members")  # no longer governed: a plain team's membership is its own
    change_request = approval_actions.propose_change(
        AccessPolicyKind.key,
        AccessPolicy.get(),
        data={"teams": list(rules.values())},
        summary="Payments runs governance",
        rationale="Reorganisation",
        acting_user=governed_sla.author,
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    for required in change_request.required_approvals.all():
        change_request = approval_actions.decide_change_request(
            change_request, required.team, verdict="approve", acting_user=governed_sla.approvers[required.team]
        )
    assert change_request.state == ChangeState.APPLIED
    assert list(Team.objects.filter(is_sla_committee=True)) == [payments]


def test_a_policy_without_a_committee_or_with_unknown_names_is_refused_with_field_messages(governed_sla):
    from django.core.exceptions import ValidationError

    kind = AccessPolicyKind()
    with pytest.raises(ValidationError) as no_committee:
        kind.validate({"teams": [{"team": "payments", "kind": "engineering", "approvers": []}]})
    assert "Exactly one team is the SLA committee" in str(no_committee.value)
    with pytest.raises(ValidationError) as unknown:
        kind.validate(
            {
                "teams": [
                    {"team": "nobody", "kind": "engineering"},
                    {"team": "sla-committee", "kind": "bogus", "is_sla_committee": True},
                    {"team": "payments", "kind": "engineering", "approvers": ["ghost"]},
                ]
            }
        )
    assert set(unknown.value.message_dict) == {"teams[0].team", "teams[1].kind", "teams[2].approvers"}
