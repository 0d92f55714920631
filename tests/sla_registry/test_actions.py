from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.models import EscalationStep, Objective, ResponseTarget, ServiceLevelAgreement, Team

pytestmark = pytest.mark.django_db


def target(severity, acknowledge, restore, resolve, **extra):
    return ResponseTarget(
        severity=severity,
        time_to_acknowledge=timedelta(minutes=acknowledge),
        time_to_restore=timedelta(minutes=restore),
        time_to_resolve=timedelta(minutes=resolve),
        **extra,
    )


def test_team_history_records_user_and_reason(make_user):
    editor = make_user("editor")
    team = actions.save_team(
        Team(name="Payments", slug="payments", pager_handle="payments-oncall"), acting_user=editor, reason="Founding"
    )
    team.description = "Moves money."
    actions.save_team(team, acting_user=editor, reason="Describe the team")

    latest, first = team.history.all()[:2]
    assert (first.history_type, first.history_change_reason, first.history_user) == ("+", "Founding", editor)
    assert latest.history_change_reason == "Describe the team"
    assert [change.field for change in latest.diff_against(first).changes] == ["description"]
    assert team.group.name == "team:payments"


def test_team_needs_the_contact_of_its_channels(admin_actor):
    team = Team(name="Silent", slug="silent", primary_channel=Channel.PAGE, fallback_channel=Channel.EMAIL)
    with pytest.raises(ValidationError) as caught:
        actions.save_team(team, acting_user=admin_actor, reason="")
    assert caught.value.message_dict == {
        "pager_handle": ["Required because the primary channel is page."],
        "email": ["Required because the fallback channel is email."],
    }
    assert not Team.objects.exists()


def test_only_one_committee(make_team):
    make_team("SLA committee", is_sla_committee=True)
    with pytest.raises(ValidationError, match="Another team is already the SLA committee"):
        make_team("Second committee", is_sla_committee=True)


def test_service_cannot_depend_on_itself(make_service, admin_actor):
    service = make_service("Checkout")
    with pytest.raises(ValidationError, match="cannot depend on itself"):
        actions.save_service(service, dependencies=[service], acting_user=admin_actor, reason="")


@pytest.mark.parametrize(
    ("minutes", "field", "message"),
    [
        ((30, 20, 60), "response_targets[0].time_to_restore", "Cannot be shorter than the time to acknowledge."),
        ((10, 60, 30), "response_targets[0].time_to_resolve", "Cannot be shorter than the time to restore."),
        ((-5, 60, 90), "response_targets[0].time_to_acknowledge", "Must be a positive duration."),
    ],
)
def test_response_targets_must_be_positive_and_ordered(make_sla, severities, minutes, field, message):
    with pytest.raises(ValidationError) as caught:
        make_sla(response_targets=[target(severities["SEV1"], *minutes)])
    assert caught.value.message_dict[field] == [message]
    assert not ServiceLevelAgreement.objects.exists()


def test_percentage_objective_cannot_exceed_100(make_sla):
    with pytest.raises(ValidationError) as caught:
        make_sla(objectives=[Objective(indicator="Availability", target=Decimal("100.5"), unit="%")])
    assert caught.value.message_dict["objectives[0].target"] == ["A percentage target must be above 0 and at most 100."]


def test_provider_cannot_consume_its_own_sla(make_sla, make_team):
    provider = make_team("Provider")
    with pytest.raises(ValidationError) as caught:
        make_sla(provider_team=provider, consumer_teams=[provider])
    assert "consumer_teams" in caught.value.message_dict


def test_sla_children_update_in_place_with_history(make_sla, severities, admin_actor):
    sla = make_sla()
    original = sla.response_targets.get()
    actions.save_sla(
        sla,
        consumer_teams=list(sla.consumer_teams.all()),
        objectives=[Objective(indicator="Successful requests", target=Decimal("99.9"), unit="%")],
        response_targets=[target(severities["SEV1"], 15, 120, 1440, customer_update_interval=timedelta(minutes=30))],
        acting_user=admin_actor,
        reason="Faster acknowledgement",
    )
    updated = sla.response_targets.get()
    assert updated.pk == original.pk
    assert updated.time_to_acknowledge == timedelta(minutes=15)
    latest = updated.history.first()
    assert latest.history_change_reason == "Faster acknowledgement"
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["time_to_acknowledge"]
    # The unchanged objective was not rewritten.
    assert sla.objectives.get().history.count() == 1


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([2, 3], "SEV1: levels 2, 3: it must start at level 1."),
        ([1, 3], "SEV1: levels 1, 3: levels must be contiguous."),
    ],
)
def test_escalation_levels_start_at_one_and_are_contiguous(make_matrix, make_service, severities, levels, message):
    service = make_service()
    steps = [
        EscalationStep(
            severity=severities["SEV1"],
            level=level,
            wait=timedelta(minutes=10),
            team=service.owner_team,
            channel="page",
        )
        for level in levels
    ]
    with pytest.raises(ValidationError) as caught:
        make_matrix(service, steps=steps)
    assert caught.value.message_dict["steps"] == [message]


def test_escalation_wait_must_be_positive(make_matrix, make_service, severities):
    service = make_service()
    step = EscalationStep(
        severity=severities["SEV1"], level=1, wait=timedelta(0), team=service.owner_team, channel="page"
    )
    with pytest.raises(ValidationError) as caught:
        make_matrix(service, steps=[step])
    assert caught.value.message_dict["steps[0].wait"] == ["The wait before escalating must be positive."]


def test_a_slug_cannot_take_the_name_of_a_page(admin_actor):
    with pytest.raises(ValidationError) as caught:
        actions.save_team(Team(name="New", slug="new", pager_handle="new-oncall"), acting_user=admin_actor, reason="")
    assert caught.value.message_dict["slug"] == ["“new” is reserved for a page of the portal; choose another slug."]
