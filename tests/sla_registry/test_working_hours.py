from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sla_registry.working_hours import WorkingWeek

LONDON = WorkingWeek(time_zone="Europe/London", starts=time(9), ends=time(17))
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


def at(text):
    return datetime.fromisoformat(text)


def test_a_friday_evening_incident_waits_for_monday():
    # Friday 16:00 to Monday 10:00 in London (winter, UTC+0): 1 h on Friday, 1 h on Monday.
    assert LONDON.working_time_between(at("2026-11-27T16:00Z"), at("2026-11-30T10:00Z")) == timedelta(hours=2)


def test_time_is_counted_in_the_teams_own_zone():
    new_york = WorkingWeek(time_zone="America/New_York", starts=time(9), ends=time(17))
    # 13:00-15:00 UTC is 08:00-10:00 in New York in November: one working hour.
    assert new_york.working_time_between(at("2026-11-30T13:00Z"), at("2026-11-30T15:00Z")) == timedelta(hours=1)


def test_a_daylight_saving_day_counts_real_hours():
    # London springs forward on 29 March 2026 at 01:00; a week of Sundays counts for a Sunday-only team.
    sunday_team = WorkingWeek(time_zone="Europe/London", days=frozenset({7}), starts=time(0), ends=time(23, 59))
    counted = sunday_team.working_time_between(at("2026-03-29T00:00Z"), at("2026-03-29T22:59Z"))
    assert counted == timedelta(hours=22, minutes=59)


@given(moments, moments)
def test_working_time_never_exceeds_the_elapsed_time(first, second):
    start, end = sorted((first, second))
    assert timedelta(0) <= LONDON.working_time_between(start, end) <= end - start


@given(moments, moments, moments)
def test_working_time_adds_up_across_any_split(first, second, third):
    start, middle, end = sorted((first, second, third))
    whole = LONDON.working_time_between(start, end)
    assert whole == LONDON.working_time_between(start, middle) + LONDON.working_time_between(middle, end)


@given(moments)
def test_a_whole_week_holds_five_working_days(start):
    # In a zone without daylight saving: across a clock change a week of real time is not a week of wall time.
    utc_team = WorkingWeek(time_zone="UTC", starts=time(9), ends=time(17))
    assert utc_team.working_time_between(start, start + timedelta(days=7)) == timedelta(hours=5 * 8)
