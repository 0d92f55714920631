"""A response target whose point the incident never reached is not a target met.

Before, a check without an end time ("not reached yet") was never a breach, so a SEV1
that ran 33 hours without being acknowledged counted as within its SLA. Now the clock
runs until the incident was resolved, or until now while it is open.
"""

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reviews.metrics import IncidentTimes, check_targets
from sla_registry.working_hours import WorkingWeek

SLA = {
    "response_targets": [
        {
            "severity": "SEV1",
            "category": None,
            "time_to_acknowledge_minutes": 30,
            "time_to_restore_minutes": 120,
            "time_to_resolve_minutes": 1440,
            "customer_update_interval_minutes": 30,
            "coverage": "24x7",
        }
    ]
}
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def after(minutes):
    return None if minutes is None else START + timedelta(minutes=minutes)


def checks(detect=None, acknowledge=None, restore=None, resolve=None, *, now, sla=SLA, week=None):
    times = IncidentTimes(START, after(detect), after(acknowledge), after(restore), after(resolve))
    return {check.measure: check for check in check_targets(times, "SEV1", None, sla, week or WorkingWeek(), now=now)}


def test_a_sev1_resolved_after_33_hours_without_an_acknowledgement_breached_it():
    found = checks(resolve=33 * 60, now=START + timedelta(days=5))

    assert found["acknowledge"].breached and found["restore"].breached and found["resolve"].breached
    assert found["acknowledge"].breached_by == timedelta(hours=32, minutes=30)
    assert str(found["acknowledge"]) == (
        "SEV1 acknowledge target 30 min: not reached in 1 d 9 h until resolved: breached by 1 d 8 h 30 min"
    )


def test_the_acknowledge_clock_runs_from_detection_when_it_is_recorded():
    found = checks(detect=60, resolve=80, now=START + timedelta(days=1))
    # Detected at +60, resolved at +80 without an acknowledgement: 20 minutes, within 30.
    assert not found["acknowledge"].breached
    assert str(found["acknowledge"]) == "SEV1 acknowledge target 30 min: not recorded"


def test_an_open_incident_is_not_reached_yet_within_the_target_and_breached_past_it():
    early = checks(detect=5, now=START + timedelta(minutes=20))
    assert not early["acknowledge"].breached
    assert str(early["acknowledge"]) == "SEV1 acknowledge target 30 min: not reached yet"

    late = checks(detect=5, now=START + timedelta(minutes=50))
    assert late["acknowledge"].breached and late["acknowledge"].still_open
    assert (
        str(late["acknowledge"]) == "SEV1 acknowledge target 30 min: not reached in 45 min so far: breached by 15 min"
    )
    assert not late["restore"].breached  # 50 minutes of a 2-hour target


def test_a_point_reached_is_measured_as_before():
    found = checks(detect=5, acknowledge=27, restore=100, resolve=300, now=START + timedelta(days=30))
    assert str(found["acknowledge"]) == "SEV1 acknowledge target 30 min, took 22 min: met"
    assert found["acknowledge"].waited is None


def test_a_business_hours_target_counts_only_working_time_while_unreached():
    sla = {"response_targets": [{**SLA["response_targets"][0], "coverage": "business_hours"}]}
    week = WorkingWeek(time_zone="UTC", starts=time(9), ends=time(17))
    friday_evening = datetime(2026, 11, 20, 16, 50, tzinfo=UTC)
    times = IncidentTimes(friday_evening, friday_evening, None, None, None)
    # Monday 9:15: ten minutes on Friday and fifteen on Monday: still within 30 minutes of business time.
    (acknowledge, *_) = check_targets(times, "SEV1", None, sla, week, now=datetime(2026, 11, 23, 9, 15, tzinfo=UTC))
    assert acknowledge.waited == timedelta(minutes=25) and not acknowledge.breached


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=3000))
def test_a_target_never_reached_is_breached_exactly_when_the_clock_ran_past_it(resolved_after, target_minutes):
    sla = {"response_targets": [{**SLA["response_targets"][0], "time_to_acknowledge_minutes": target_minutes}]}
    acknowledge = checks(resolve=resolved_after, now=START + timedelta(days=10), sla=sla)["acknowledge"]
    assert acknowledge.breached == (resolved_after > target_minutes)
    assert acknowledge.breached_by == max(timedelta(minutes=resolved_after - target_minutes), timedelta(0))
