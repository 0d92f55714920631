"""The governed-document adapters: snapshot, validate, apply, policy and describe()."""

import copy
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from sla_registry.choices import Channel
from sla_registry.documents import EscalationMatrixKind, ServiceLevelAgreementKind
from sla_registry.models import EscalationMatrix, EscalationStep

pytestmark = pytest.mark.django_db

SLA = ServiceLevelAgreementKind()
MATRIX = EscalationMatrixKind()


@pytest.fixture
def sla_snapshot(make_sla, make_team, make_service, make_category, severities):
    provider = make_team("Payments")
    make_category("Security")
    sla = make_sla(
        "Payments for Checkout",
        service=make_service("Payments API", owner_team=provider),
        provider_team=provider,
        consumer_teams=[make_team("Checkout")],
    )
    make_team("Support")
    return SLA.snapshot(sla)


@pytest.fixture
def matrix_snapshot(make_matrix, make_service, make_team, severities):
    payments = make_team("Payments")
    platform = make_team("Platform")
    make_team("Leadership")
    service = make_service("Payments API", owner_team=payments)
    steps = [
        EscalationStep(severity=severities["SEV1"], level=1, wait=timedelta(minutes=15), team=payments, channel="page"),
        EscalationStep(
            severity=severities["SEV1"],
            level=2,
            wait=timedelta(minutes=30),
            team=payments,
            channel=Channel.PHONE,
            fallback_channel=Channel.CHAT,
        ),
    ]
    assert platform  # named by a change below
    return MATRIX.snapshot(make_matrix(service, steps=steps))


def test_an_sla_snapshot_validates_to_itself(sla_snapshot):
    assert SLA.validate(copy.deepcopy(sla_snapshot)) == sla_snapshot


def test_a_matrix_snapshot_validates_to_itself(matrix_snapshot):
    matrix = EscalationMatrix.objects.get()
    assert MATRIX.validate(copy.deepcopy(matrix_snapshot), matrix) == matrix_snapshot


def test_sla_snapshot_reads_as_the_agreement(sla_snapshot):
    assert sla_snapshot["provider_team"] == "payments"
    assert sla_snapshot["consumer_teams"] == ["checkout"]
    assert sla_snapshot["response_targets"][0] == {
        "severity": "SEV1",
        "category": None,
        "time_to_acknowledge_minutes": 30,
        "time_to_restore_minutes": 120,
        "time_to_resolve_minutes": 1440,
        "customer_update_interval_minutes": 30,
        "coverage": "24x7",
    }


def edit_target(snapshot, **changes):
    edited = copy.deepcopy(snapshot)
    edited["response_targets"][0].update(changes)
    return edited


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: edit_target(s, time_to_acknowledge_minutes=15), ["SEV1 time to acknowledge: 30 min → 15 min"]),
        (
            lambda s: edit_target(s, time_to_restore_minutes=90, time_to_resolve_minutes=720),
            ["SEV1 time to restore: 2 h → 1 h 30 min", "SEV1 time to resolve: 1 d → 12 h"],
        ),
        (lambda s: edit_target(s, coverage="business_hours"), ["SEV1 coverage: 24×7 → Business hours"]),
        (
            lambda s: {
                **s,
                "response_targets": [
                    *s["response_targets"],
                    {
                        "severity": "SEV2",
                        "category": None,
                        "time_to_acknowledge_minutes": 60,
                        "time_to_restore_minutes": 240,
                        "time_to_resolve_minutes": 2880,
                        "customer_update_interval_minutes": None,
                        "coverage": "24x7",
                    },
                ],
            },
            ["New SEV2 target: acknowledge 1 h, restore 4 h, resolve 2 d"],
        ),
        (lambda s: {**s, "response_targets": []}, ["Removes the SEV1 target"]),
        (lambda s: {**s, "consumer_teams": ["checkout", "support"]}, ["Adds consumer Support"]),
        (lambda s: {**s, "consumer_teams": []}, ["Removes consumer Checkout"]),
        (
            lambda s: {**s, "title": "Payments API for Checkout"},
            ["Title: Payments for Checkout → Payments API for Checkout"],
        ),
        (lambda s: {**s, "status": "retired"}, ["Status: active → retired"]),
        (lambda s: {**s, "executive_summary": "New words."}, ["Executive summary rewritten"]),
        (
            lambda s: {**s, "objectives": [{**s["objectives"][0], "target": "99.95"}]},
            ["Objective “Successful requests”: 99.9% over 28 d → 99.95% over 28 d"],
        ),
    ],
)
def test_sla_describe_says_what_changed(sla_snapshot, change, expected):
    assert SLA.describe(sla_snapshot, change(sla_snapshot)) == expected


def test_sla_describe_of_a_new_sla(sla_snapshot):
    assert SLA.describe(None, sla_snapshot) == ["New SLA “Payments for Checkout”: Payments provides Payments API"]


def edit_step(snapshot, at_level, **changes):
    edited = copy.deepcopy(snapshot)
    for step in edited["steps"]:
        if step["level"] == at_level:
            step.update(changes)
    return edited


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: edit_step(s, 2, team="platform"),
            ["Level 2 of SEV1 now pages Platform by phone, fallback chat"],
        ),
        (lambda s: edit_step(s, 1, wait_minutes=10), ["Level 1 of SEV1 wait before escalating: 15 min → 10 min"]),
        (
            lambda s: {
                **s,
                "steps": [
                    *s["steps"],
                    {**s["steps"][1], "level": 3, "team": "leadership", "fallback_channel": "", "wait_minutes": 60},
                ],
            },
            ["SEV1 gains level 3: pages Leadership by phone after 1 h"],
        ),
        (lambda s: {**s, "steps": s["steps"][:1]}, ["SEV1 loses level 2 (Payments)"]),
        (
            lambda s: {
                **s,
                "responsibilities": [
                    *s["responsibilities"],
                    {"duty": "customer_communication", "team": "support", "when": "every 30 min"},
                ],
            },
            ["Communication to customers: support takes it on (every 30 min)"],
        ),
        (lambda s: {**s, "responsibilities": []}, ["Incident commander: Payments no longer responsible"]),
        (
            lambda s: {**s, "playbook": [{**s["playbook"][0], "timebox_minutes": 5}]},
            ["Playbook step 1 timebox: 10 min → 5 min"],
        ),
    ],
)
def test_matrix_describe_says_what_changed(matrix_snapshot, change, expected):
    assert MATRIX.describe(matrix_snapshot, change(matrix_snapshot)) == expected


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            lambda s: edit_target(s, time_to_acknowledge_minutes=-15),
            {"response_targets[0].time_to_acknowledge": ["Must be a positive duration."]},
        ),
        (
            lambda s: edit_target(s, time_to_acknowledge_minutes="soon"),
            {"response_targets[0].time_to_acknowledge_minutes": ["Expected a whole number, got 'soon'."]},
        ),
        (lambda s: edit_target(s, severity="SEV9"), {"response_targets[0].severity": ["No severity 'SEV9'."]}),
        (lambda s: {**s, "provider_team": "nobody"}, {"provider_team": ["No team 'nobody'."]}),
        (lambda s: {**s, "consumer_teams": "checkout"}, {"consumer_teams": ["Expected a list."]}),
        (lambda s: {**s, "title": ""}, {"title": ["This field is required."]}),
        (lambda s: {**s, "status": "maybe"}, {"status": ["'maybe' is not one of: draft, active, retired."]}),
        (
            lambda s: {**s, "effective_from": "yesterday"},
            {"effective_from": ["Expected a date and time such as 2026-12-01T09:00:00Z."]},
        ),
    ],
)
def test_sla_validate_names_each_bad_field(sla_snapshot, change, errors):
    with pytest.raises(ValidationError) as caught:
        SLA.validate(change(sla_snapshot))
    assert caught.value.message_dict == errors


def test_matrix_validate_refuses_gaps_in_levels(matrix_snapshot):
    with pytest.raises(ValidationError) as caught:
        MATRIX.validate(edit_step(matrix_snapshot, 2, level=3), EscalationMatrix.objects.get())
    assert caught.value.message_dict == {"steps": ["SEV1: levels 1, 3: levels must be contiguous."]}


def test_sla_policy_names_provider_consumers_and_committee_with_reasons(sla_snapshot, make_team):
    committee = make_team("SLA Committee", is_sla_committee=True)
    changed = {**sla_snapshot, "consumer_teams": ["support"]}
    required = {team.name: reason for team, reason in SLA.required_teams(None, changed).items()}
    assert required == {
        "Payments": "provider after this change",
        "Support": "consumer after this change",
        committee.name: "the SLA committee approves every change to an agreement",
    }


def test_matrix_policy_asks_teams_put_on_and_taken_off_the_pager(matrix_snapshot, make_team):
    make_team("SLA Committee", is_sla_committee=True)
    matrix = EscalationMatrix.objects.get()
    changed = edit_step(matrix_snapshot, 2, team="platform")
    required = {team.name: reason for team, reason in MATRIX.required_teams(matrix, changed).items()}
    assert required["Platform"] == "will be notified at SEV1 level 2 after this change"
    assert required["Payments"] == "owner of the matrix; notified at SEV1 level 1"
    assert "SLA Committee" in required
