"""Clocks: due at start + target (business hours in the provider's week), met or breached, re-planned on change.

Each test freezes the clock first and builds everything from it, so it holds on any date."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.choices import ClockKind, ClockState, EventKind, IncidentStatus
from incidents.clocks import add_working_time
from sla_registry.working_hours import WorkingWeek

pytestmark = pytest.mark.django_db


def clock_of(incident, kind):
    return incident.clocks.get(kind=kind)


def open_now(world, severity="SEV1", **fields):
    return actions.open_incident(
        title="Card payments failing",
        services=[world.service],
        severity=world.severities[severity],
        started_at=fields.pop("started_at", timezone.now()),
        acting_user=world.member,
        **fields,
    )


def test_opening_pins_the_sla_and_matrix_versions_in_force_and_starts_a_clock_per_target(world):
    incident = open_now(world)
    pinned = {row.version.document_kind for row in incident.pinned_versions.all()}
    assert pinned == {"sla", "escalation_matrix"}
    clocks = {clock.kind: clock for clock in incident.clocks.all()}
    assert set(clocks) == {ClockKind.ACKNOWLEDGE, ClockKind.RESTORE, ClockKind.RESOLVE, ClockKind.CUSTOMER_UPDATE}
    assert clocks[ClockKind.ACKNOWLEDGE].due_at == incident.started_at + timedelta(minutes=15)
    assert clocks[ClockKind.RESTORE].due_at == incident.started_at + timedelta(hours=2)
    assert clocks[ClockKind.RESOLVE].due_at == incident.started_at + timedelta(days=1)
    assert clocks[ClockKind.CUSTOMER_UPDATE].repeats
    assert all(clock.state == ClockState.RUNNING for clock in clocks.values())


def test_a_service_without_an_sla_has_no_clocks(world):
    incident = actions.open_incident(
        title="Ledger slow", services=[world.other_service], severity=world.severities["SEV1"],
        started_at=timezone.now(), acting_user=world.member,
    )  # fmt: skip
    assert incident.clocks.count() == 0 and incident.pinned_versions.count() == 0


def test_acknowledging_in_time_meets_the_clock_and_late_breaches_it(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    on_time, late = open_now(world), open_now(world)
    time_machine.shift(timedelta(minutes=10))
    actions.act_on_incident(on_time, "acknowledge", acting_user=world.member)
    time_machine.shift(timedelta(minutes=10))
    actions.act_on_incident(late, "acknowledge", acting_user=world.member)

    met = clock_of(on_time, ClockKind.ACKNOWLEDGE)
    breached = clock_of(late, ClockKind.ACKNOWLEDGE)
    assert (met.state, met.met_at) == (ClockState.MET, on_time.started_at + timedelta(minutes=10))
    assert (breached.state, breached.met_at) == (ClockState.BREACHED, late.started_at + timedelta(minutes=20))


def test_a_running_clock_reads_as_breached_once_past_due(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    incident = open_now(world)
    clock = clock_of(incident, ClockKind.ACKNOWLEDGE)
    assert clock.state_at(timezone.now() + timedelta(minutes=14)) == ClockState.RUNNING
    assert clock.state_at(timezone.now() + timedelta(minutes=16)) == ClockState.BREACHED


def test_the_customer_update_clock_repeats(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    incident = open_now(world)
    clock = clock_of(incident, ClockKind.CUSTOMER_UPDATE)
    start = incident.started_at
    assert clock.next_due(start + timedelta(minutes=10)) == start + timedelta(minutes=30)
    assert clock.next_due(start + timedelta(minutes=45)) == start + timedelta(minutes=60)
    assert clock.state_at(start + timedelta(hours=3)) == ClockState.RUNNING


def test_resolving_stops_every_clock_and_reopening_restarts_restore_and_resolve(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    incident = open_now(world)
    time_machine.shift(timedelta(minutes=5))
    actions.act_on_incident(incident, "resolve", acting_user=world.member)
    states = dict(incident.clocks.values_list("kind", "state"))
    assert states[ClockKind.RESOLVE] == states[ClockKind.RESTORE] == ClockState.MET
    assert states[ClockKind.ACKNOWLEDGE] == ClockState.RUNNING  # never acknowledged: its clock still runs
    time_machine.shift(timedelta(minutes=5))
    incident = actions.act_on_incident(incident, "reopen", acting_user=world.member)
    assert incident.status == IncidentStatus.TRIGGERED
    assert clock_of(incident, ClockKind.RESOLVE).state == ClockState.RUNNING


def test_changing_the_severity_re_pins_and_re_plans_with_a_timeline_event(world):
    incident = open_now(world, severity="SEV1")
    incident = actions.change_incident(incident, severity=world.severities["SEV2"], acting_user=world.member)
    assert clock_of(incident, ClockKind.ACKNOWLEDGE).due_at == incident.started_at + timedelta(minutes=30)
    assert not incident.clocks.filter(kind=ClockKind.CUSTOMER_UPDATE).exists()
    assert incident.events.get(kind=EventKind.CHANGED).summary == "SEV1 → SEV2"


def test_changing_the_services_re_pins(world):
    incident = open_now(world)
    incident = actions.change_incident(incident, services=[world.other_service], acting_user=world.member)
    assert incident.clocks.count() == 0 and incident.pinned_versions.count() == 0
    assert "ledger" in incident.events.get(kind=EventKind.CHANGED).summary


def test_the_versions_pinned_are_those_in_force_at_the_start_not_now(world, admin_actor):
    from approvals.actions import record_baseline_version

    earlier = timezone.now() - timedelta(days=1)
    sla = world.sla
    target = sla.response_targets.get(severity__key="SEV1")
    target.time_to_acknowledge = timedelta(minutes=5)
    target.save()  # an (unreviewed) edit: a new version, effective now
    later_version = record_baseline_version(sla, acting_user=admin_actor)
    assert later_version.number == 2

    incident = open_now(world, started_at=earlier)
    pinned = incident.pinned_versions.get(version__document_kind="sla").version
    assert pinned.number == 1
    assert clock_of(incident, ClockKind.ACKNOWLEDGE).due_at == earlier + timedelta(minutes=15)


def test_business_hours_targets_count_only_the_providers_working_week(world):
    # Friday 16:00 UTC, working 09:00-17:30 Monday to Friday: 4 h business hours is due Monday 11:30.
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert add_working_time(WorkingWeek(), friday, timedelta(hours=4)) == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)
    assert add_working_time(WorkingWeek(), friday, timedelta(hours=1)) == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert add_working_time(WorkingWeek(), saturday, timedelta(minutes=30)) == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)


def test_a_business_hours_clock_is_planned_in_the_providers_week(world):
    start = timezone.now() - timedelta(hours=1)
    incident = open_now(world, severity="SEV3", started_at=start)
    clock = clock_of(incident, ClockKind.ACKNOWLEDGE)
    assert clock.business_hours
    week = WorkingWeek.of_team(world.provider)
    assert week.working_time_between(start, clock.due_at) == timedelta(hours=4)
