"""Counting business time: how much of an interval falls inside a team's working hours.

Business-hours response targets ("acknowledge within 4 h, business hours") are
measured with this, in the provider team's own time zone, so a SEV3 raised on
Friday evening is not breached by Monday morning.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla_registry.validators import parse_working_days


@dataclass(frozen=True)
class WorkingWeek:
    time_zone: str = "UTC"
    days: frozenset = frozenset({1, 2, 3, 4, 5})
    starts: time = time(9, 0)
    ends: time = time(17, 30)

    @classmethod
    def of_team(cls, team):
        return cls(
            time_zone=team.time_zone,
            days=frozenset(parse_working_days(team.working_days)),
            starts=team.working_day_starts,
            ends=team.working_day_ends,
        )

    def working_time_between(self, start, end):
        """The working time inside [start, end) (aware datetimes); zero when end is not after start."""
        if end <= start:
            return timedelta(0)
        zone = ZoneInfo(self.time_zone)
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        total = timedelta(0)
        day = local_start.date()
        while day <= local_end.date():
            if day.isoweekday() in self.days:
                # The window is built in local time; the overlap is measured in UTC, because Python
                # subtracts two datetimes of one zone as wall-clock times, ignoring a DST change.
                window_start = datetime.combine(day, self.starts, tzinfo=zone)
                window_end = datetime.combine(day, self.ends, tzinfo=zone)
                overlap = min(window_end, local_end).astimezone(UTC) - max(window_start, local_start).astimezone(UTC)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total
