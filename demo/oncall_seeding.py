"""Seeds the demo teams' on-call schedules, written as PagerDuty exports a schedule's feed.

Every team with demo people (the SLA committee aside: it is on no escalation path) rotates its primary
on-call weekly between them, Monday 09:00 UTC to Monday 09:00 UTC: one recurring event per person
("On Call - Aisha Khan - Payments primary", RRULE every N weeks, N the number of people). The files go
through releases.oncall_schedules as a feed's body does, so the demo exercises the real reading. The demo
teams publish no feed URL (there is nowhere to fetch one from), so the worker leaves their schedules alone
and the card says they were imported from a file; seeding again reads them again, from the seeding day.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import icalendar

from demo.registry_data import COMMITTEE, DEMO_USERS, EMAIL_DOMAIN
from releases.oncall_schedules import record_oncall_schedule
from sla_registry.models import Team

HANDOVER_HOUR = 9
# The rotation began this long before the seeding day, so "as of" a few weeks back names someone too.
ROTATION_BEGAN = timedelta(days=42)


def rotations():
    """{team slug: [person, …]}: the demo people of each team, in the order they take their turns."""
    people = defaultdict(list)
    for user in DEMO_USERS:
        if user.team != COMMITTEE:
            people[user.team].append(f"{user.first_name} {user.last_name}")
    return dict(people)


def schedule_file(team_name, people, first_monday):
    """An iCalendar schedule: each person on call one week in len(people), in turn from `first_monday`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//PagerDuty Inc.//PagerDuty Schedules//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{team_name} primary")
    for turn, person in enumerate(people):
        starts = first_monday + timedelta(weeks=turn)
        event = icalendar.Event()
        event.add("uid", f"oncall-{team_name.lower().replace(' ', '-')}-{turn}@{EMAIL_DOMAIN}")
        event.add("summary", f"On Call - {person} - {team_name} primary")
        event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        event.add("dtstart", starts)
        event.add("dtend", starts + timedelta(weeks=1))
        event.add("rrule", {"freq": "weekly", "interval": len(people)})
        calendar.add_component(event)
    return calendar.to_ical()


class OnCallSeeder:
    """Like the other seeders: `steps()` for progress, `summary()` at the end; inside the caller's transaction."""

    def __init__(self, *, now=None):
        self.now = now or datetime.now(UTC)
        self.schedules = []

    def steps(self):
        return [
            (f"on-call schedule: {slug}", lambda slug=slug, people=people: self.seed(slug, people))
            for slug, people in rotations().items()
        ]

    @property
    def changed(self):
        return bool(self.schedules)

    def summary(self):
        return f"Demo on-call schedules: {len(self.schedules)} imported from iCalendar, weekly rotations."

    def seed(self, slug, people):
        team = Team.objects.filter(slug=slug).first()
        if team is None or team.oncall_schedule_url:
            return  # a team that publishes a feed of its own keeps it
        began = (self.now - ROTATION_BEGAN).date()
        first_monday = datetime.combine(began - timedelta(days=began.weekday()), datetime.min.time(), tzinfo=UTC)
        first_monday = first_monday.replace(hour=HANDOVER_HOUR)
        schedule = record_oncall_schedule(team, schedule_file(team.name, people, first_monday), now=self.now)
        if schedule.last_error:
            raise RuntimeError(f"The demo on-call schedule of {team} did not import: {schedule.last_error}")
        self.schedules.append(schedule)
