"""An escalation matrix's steps for one severity as a PagerDuty escalation policy (REST API v2)."""

import json
from datetime import timedelta

import pytest

from sla_registry.choices import Channel
from sla_registry.documents import EscalationMatrixKind
from sla_registry.formats.pagerduty import EscalationPolicyError, escalation_policy
from sla_registry.models import EscalationStep

pytestmark = pytest.mark.django_db

MATRIX = EscalationMatrixKind()


@pytest.fixture
def matrix(make_matrix, make_service, make_team, severities):
    """Payments API: SEV1 pages Payments, then Platform by phone, then Leadership by email; SEV2 chats Payments."""
    payments = make_team("Payments", pager_handle="PSCHED01")
    platform = make_team("Platform", pager_handle="PPLAT42", fallback_channel=Channel.EMAIL)
    # Reached by email only: no paging schedule.
    leadership = make_team("Leadership", pager_handle="", primary_channel=Channel.EMAIL, fallback_channel=Channel.CHAT)
    service = make_service("Payments API", owner_team=payments)
    sev1, sev2 = severities["SEV1"], severities["SEV2"]
    steps = [
        # Given out of level order on purpose: the policy follows the levels.
        EscalationStep(
            severity=sev1,
            level=2,
            wait=timedelta(minutes=20),
            team=platform,
            contact="Platform incident lead",
            channel=Channel.PHONE,
            fallback_channel=Channel.CHAT,
        ),
        EscalationStep(
            severity=sev1,
            level=1,
            wait=timedelta(minutes=10),
            team=payments,
            contact="Payments on-call",
            channel=Channel.PAGE,
            fallback_channel=Channel.PHONE,
            bring_workarounds=True,
        ),
        EscalationStep(
            severity=sev1,
            level=3,
            wait=timedelta(minutes=30),
            team=leadership,
            channel=Channel.EMAIL,
            bring_timeline=False,
            bring_affected_services=False,
        ),
        EscalationStep(severity=sev2, level=1, wait=timedelta(minutes=60), team=payments, channel=Channel.CHAT),
    ]
    return make_matrix(service, steps=steps)


def test_a_severity_becomes_a_policy_with_one_rule_per_level(matrix):
    body = escalation_policy(matrix, "SEV1")

    policy = body["escalation_policy"]
    assert set(body) == {"escalation_policy"}
    assert policy["type"] == "escalation_policy"
    assert policy["name"] == f"Payments API SEV1 ({matrix.reference})"
    assert policy["num_loops"] == 0
    assert policy["on_call_handoff_notifications"] == "if_has_services"
    assert policy["escalation_rules"] == [
        {
            "escalation_delay_in_minutes": 10,
            "targets": [
                {
                    "id": "PSCHED01",
                    "type": "schedule_reference",
                    "summary": "Payments (Payments on-call) by page, fallback phone",
                }
            ],
        },
        {
            "escalation_delay_in_minutes": 20,
            "targets": [
                {
                    "id": "PPLAT42",
                    "type": "schedule_reference",
                    "summary": "Platform (Platform incident lead) by phone, fallback chat",
                }
            ],
        },
        {
            # A team without a pager handle is referenced by its slug, to be mapped before sending.
            "escalation_delay_in_minutes": 30,
            "targets": [{"id": "leadership", "type": "schedule_reference", "summary": "Leadership by email"}],
        },
    ]
    # PagerDuty ignores a reference's summary on write; the description keeps what responders need.
    assert policy["description"] == (
        f"SEV1 escalation for Payments API, from {matrix.reference} “Payments API escalation” in the SLA portal. "
        "Level 1: Payments (Payments on-call) by page, fallback phone; bring the timeline, the affected services, "
        "known workarounds; escalates after 10 min. "
        "Level 2: Platform (Platform incident lead) by phone, fallback chat; bring the timeline, the affected "
        "services; escalates after 20 min. "
        "Level 3: Leadership by email; escalates after 30 min."
    )
    assert json.loads(json.dumps(body)) == body  # ready to POST as it is


def test_each_severity_gets_its_own_policy_and_case_does_not_matter(matrix):
    policy = escalation_policy(matrix, "sev2")["escalation_policy"]
    assert policy["name"] == f"Payments API SEV2 ({matrix.reference})"
    assert [rule["escalation_delay_in_minutes"] for rule in policy["escalation_rules"]] == [60]
    assert policy["escalation_rules"][0]["targets"][0]["summary"] == "Payments by chat"


def test_a_given_snapshot_is_exported_instead_of_the_live_matrix_and_a_zero_wait_becomes_one_minute(matrix):
    snapshot = MATRIX.snapshot(matrix)
    for step in snapshot["steps"]:
        if step["severity"] == "SEV2":
            step["wait_minutes"] = 0

    policy = escalation_policy(matrix, "SEV2", snapshot=snapshot)["escalation_policy"]

    assert policy["escalation_rules"][0]["escalation_delay_in_minutes"] == 1
    assert "escalates after 1 min (raised from 0 min: PagerDuty needs at least 1)." in policy["description"]
    # The live matrix still says an hour.
    assert (
        escalation_policy(matrix, "SEV2")["escalation_policy"]["escalation_rules"][0]["escalation_delay_in_minutes"]
        == 60
    )


def test_an_unknown_severity_is_refused_by_name(matrix):
    with pytest.raises(EscalationPolicyError) as caught:
        escalation_policy(matrix, "SEV9")
    assert caught.value.messages == ["“SEV9” is not a severity of the portal (known: SEV1, SEV2, SEV3, SEV4)."]


def test_a_severity_without_steps_has_no_policy(matrix):
    with pytest.raises(EscalationPolicyError) as caught:
        escalation_policy(matrix, "SEV3")
    assert caught.value.messages == [
        f"{matrix.reference} has no SEV3 escalation steps, so there is no policy to export."
    ]


def test_the_policy_is_built_in_a_fixed_number_of_queries(matrix, django_assert_num_queries):
    with django_assert_num_queries(6):  # the snapshot's four, the teams, the service
        escalation_policy(matrix, "SEV1")
