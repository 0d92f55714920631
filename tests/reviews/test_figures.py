"""Incident metrics, breach figures and pinning."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from reviews.figures import review_figures
from reviews.metrics import IncidentMetrics, IncidentTimes, check_targets
from sla_registry.working_hours import WorkingWeek

SLA = {
    "provider_team": "payments",
    "response_targets": [
        {
            "severity": "SEV1",
            "category": None,
            "time_to_acknowledge_minutes": 15,
            "time_to_restore_minutes": 120,
            "time_to_resolve_minutes": 1440,
            "customer_update_interval_minutes": 30,
            "coverage": "24x7",
        },
        {
            "severity": "SEV3",
            "category": None,
            "time_to_acknowledge_minutes": 240,
            "time_to_restore_minutes": 1440,
            "time_to_resolve_minutes": 7200,
            "customer_update_interval_minutes": None,
            "coverage": "business_hours",
        },
    ],
}
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday


def times(detect, acknowledge, restore, resolve, start=START):
    return IncidentTimes(
        *(start + timedelta(minutes=minutes) for minutes in (0, detect, acknowledge, restore, resolve))
    )


def test_the_breach_reads_as_the_committee_says_it():
    checks = check_targets(times(5, 27, 100, 300), "SEV1", None, SLA, WorkingWeek())
    assert [str(check) for check in checks] == [
        "SEV1 acknowledge target 15 min, took 22 min: breached by 7 min",
        "SEV1 restore target 2 h, took 1 h 40 min: met",
        "SEV1 resolve target 1 d, took 5 h: met",
    ]


def test_a_business_hours_target_counts_only_working_time():
    friday_evening = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    week = WorkingWeek(time_zone="Europe/London", starts=time(9), ends=time(17, 30))
    # Detected 17:00 Friday, acknowledged 10:00 Monday: 30 min Friday + 1 h Monday of business time.
    incident = times(0, 3 * 24 * 60 - 7 * 60, 3 * 24 * 60, 3 * 24 * 60 + 60, start=friday_evening)
    acknowledge = check_targets(incident, "SEV3", None, SLA, week)[0]
    assert acknowledge.took == timedelta(hours=1, minutes=30)
    assert not acknowledge.breached
    assert str(acknowledge) == "SEV3 acknowledge target 4 h in business hours, took 1 h 30 min: met"


def test_a_missing_target_gives_no_figures():
    assert check_targets(times(5, 20, 60, 120), "SEV2", None, SLA, WorkingWeek()) == []


def test_a_category_target_wins_over_the_any_category_one():
    sla = {
        **SLA,
        "response_targets": [
            *SLA["response_targets"],
            {**SLA["response_targets"][0], "category": "security", "time_to_acknowledge_minutes": 10},
        ],
    }
    checks = check_targets(times(5, 20, 60, 120), "SEV1", "security", sla, WorkingWeek())
    assert str(checks[0]) == "SEV1 (security) acknowledge target 10 min, took 15 min: breached by 5 min"


ordered_offsets = st.lists(st.integers(min_value=0, max_value=10_000), min_size=4, max_size=4).map(sorted)


@given(ordered_offsets)
def test_metrics_of_ordered_times_are_never_negative_and_add_up(offsets):
    metrics = IncidentMetrics.of(times(*offsets))
    assert min(metrics.time_to_detect, metrics.time_to_acknowledge, metrics.time_to_restore) >= timedelta(0)
    assert metrics.time_to_resolve >= metrics.time_to_restore
    assert metrics.time_to_detect + metrics.time_to_acknowledge == timedelta(minutes=offsets[1])


@given(ordered_offsets, st.integers(min_value=1, max_value=5000))
def test_a_breach_is_exactly_the_excess_over_the_target(offsets, target_minutes):
    sla = {"response_targets": [{**SLA["response_targets"][0], "time_to_acknowledge_minutes": target_minutes}]}
    acknowledge = check_targets(times(*offsets), "SEV1", None, sla, WorkingWeek())[0]
    took = timedelta(minutes=offsets[1] - offsets[0])
    assert acknowledge.breached == (took > timedelta(minutes=target_minutes))
    assert acknowledge.breached_by == max(took - timedelta(minutes=target_minutes), timedelta(0))


@given(ordered_offsets)
def test_business_hours_never_take_longer_than_the_clock(offsets):
    sla = {"response_targets": [{**SLA["response_targets"][0], "coverage": "business_hours"}]}
    wall = check_targets(times(*offsets), "SEV1", None, SLA, WorkingWeek())
    business = check_targets(times(*offsets), "SEV1", None, sla, WorkingWeek())
    for clock, counted in zip(wall, business, strict=True):
        assert counted.took <= clock.took


@pytest.mark.django_db
def test_times_out_of_order_are_field_level_messages(make_review, make_service):
    with pytest.raises(ValidationError) as caught:
        make_review([make_service()], detect=30, acknowledge=10)
    assert list(caught.value.message_dict) == ["acknowledged_at"]
    assert caught.value.message_dict["acknowledged_at"][0].startswith("Cannot be before detected")


@pytest.mark.django_db
def test_a_review_is_measured_against_the_sla_in_force_when_it_started(
    governed_sla, submit_acknowledge, approve_all, make_review
):
    # Dated from the SLA's own start, so the test holds whatever today is.
    started_at = governed_sla.sla.effective_from + timedelta(days=1)
    with time_machine.travel(started_at + timedelta(hours=27)):
        review = make_review([governed_sla.sla.service], started_at=started_at)
    # The SLA changes after the incident: SEV1 acknowledge 30 -> 15 minutes.
    approve_all(governed_sla, submit_acknowledge(governed_sla, 15))

    figures = review_figures(review)
    (agreement,) = figures.agreements
    assert agreement.version.number == 1
    assert agreement.label.startswith(f"measured against {governed_sla.sla.reference} v1, effective ")
    assert str(agreement.checks[0]) == "SEV1 acknowledge target 30 min, took 15 min: met"

    # Moving the start of a draft re-pins to whatever was in force at the new start.
    from approvals.actions import latest_version

    review.started_at = latest_version("sla", governed_sla.sla.pk).effective_at + timedelta(seconds=1)
    review.detected_at = review.acknowledged_at = review.restored_at = review.resolved_at = None
    from reviews.actions import save_review

    save_review(review, services=[governed_sla.sla.service], acting_user=governed_sla.author, reason="Later start")
    assert [row.version.number for row in review.pinned_versions.all()] == [2]
