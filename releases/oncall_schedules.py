"""Who is on call in a team, read from the on-call schedule the team publishes as an iCalendar feed.

PagerDuty, Opsgenie and Grafana OnCall each publish a schedule as a feed: one event per shift, its summary
naming who is on call. A team gives the feed's address (Team.oncall_schedule_url, edited through
sla_registry.actions.save_team, which audits a change); the worker reads every team's feed once per
SYNC_EVERY (`sync_due_oncall_schedules_task`, registered as periodic work in ReleasesConfig.ready), and the
on-call card (insights.oncall) shows who is on call at its moment, with the time of the last read.

The reading is the calendar import's (releases.importing), unchanged: the feed is fetched by `fetch_feed`
through core.outbound with its limits (internal addresses refused, bounded time and size, redirects
checked), and read by `read_events` with its bounds (recurring rotations expanded only within a window and
capped, the whole read stopped after CALENDAR_SYNC_TIME_LIMIT). Floating times are read in the team's time
zone.

Who: the event's summary. PagerDuty writes "On Call - Jane Doe - Primary", so the person is what stands
between its first two " - "; any other summary is the person's name as written (Grafana OnCall's export
writes the user's display name). Cancelled events and events of no length are no shift.

What is kept: a feed speaks for the time from its first shift on, and replaces the shifts stored for that
time; shifts recorded before it stay as they were read, since feeds list only a few weeks back (Grafana
OnCall's, 15 days): the card as of last quarter still says who was on call then. A read that fails changes
no shift; the schedule records the failure, and the card shows the last known shifts with their age.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.tasks import enqueue_unless_waiting
from releases.choices import ReleaseStatus
from releases.importing import FEED_TIMEOUT, Deadline, FeedError, ImportProblem, fetch_feed, read_events
from releases.models import OnCallSchedule, OnCallShift, ServiceRule
from sla_registry.models import Service, Team

SYNC_EVERY = timedelta(minutes=15)
# A schedule is read again once this long has passed since its last read: a little under SYNC_EVERY, so every
# run of the task reads it, however long the run before took.
READ_AGAIN_AFTER = SYNC_EVERY - timedelta(minutes=1)
# Past this age the last successful read may no longer say who is on call (the worker is down, or reads fail).
STALE_AFTER = timedelta(hours=1)
# The shifts read from a feed: a few weeks back (what feeds still list) and three months ahead.
READ_BEFORE = timedelta(days=35)
READ_AHEAD = timedelta(days=90)
BATCH_SIZE = 1000
PAGERDUTY_PREFIX = "on call - "
NO_SUMMARY = "(no title)"  # what releases.importing reads an event without a summary as
UNNAMED = "someone the schedule does not name"


@dataclass(frozen=True, order=True)
class ShiftRead:
    """One shift as the feed gives it."""

    starts_at: datetime
    ends_at: datetime
    person: str


class _ScheduleAsCalendar:
    """What releases.importing.read_events asks of a calendar, for a team's schedule: the team (floating times
    are read in its time zone) and no services (a shift concerns none)."""

    def __init__(self, team):
        self.team = team
        self.default_services = Service.objects.none()
        self.rules = ServiceRule.objects.none()


def person_of(summary):
    """Who a shift's summary names: "On Call - Jane Doe - Primary" (PagerDuty) is Jane Doe, else the summary."""
    summary = " ".join(summary.split())
    if summary.casefold().startswith(PAGERDUTY_PREFIX):
        summary = summary[len(PAGERDUTY_PREFIX) :].split(" - ", 1)[0].strip()
    if not summary or summary == NO_SUMMARY:
        return UNNAMED
    return summary[: OnCallShift._meta.get_field("person").max_length]


def read_shifts(team, ics_bytes, *, now, deadline=None):
    """The shifts of an iCalendar schedule within [now - READ_BEFORE, now + READ_AHEAD], in order.

    Raises ImportProblem (naming the event and the property) for a file that cannot be read, ImportTimeLimit
    past the `deadline`. Writes nothing.
    """
    window = (now - READ_BEFORE, now + READ_AHEAD)
    events = read_events(_ScheduleAsCalendar(team), ics_bytes, window=window, deadline=deadline)
    shifts = {
        ShiftRead(event.starts_at, event.ends_at, person_of(event.title))
        for event in events
        if event.status != ReleaseStatus.CANCELLED and event.ends_at > event.starts_at
    }
    return sorted(shifts)


def record_oncall_schedule(team, ics_bytes, *, feed_url="", now=None, deadline=None):
    """Store the shifts of `team`'s schedule read from `ics_bytes`; the OnCallSchedule, which says how it went.

    `feed_url` is where the file came from (empty for a file given by hand). Never raises for bad data: a file
    that cannot be read changes no shift, and the schedule's `last_error` says why.
    """
    now = now or timezone.now()
    schedule = _schedule_of(team)
    try:
        shifts = read_shifts(team, ics_bytes, now=now, deadline=deadline)
    except ImportProblem as problem:
        return _record_failure(schedule, str(problem), feed_url=feed_url, now=now)
    with transaction.atomic():
        OnCallSchedule.objects.select_for_update().filter(pk=schedule.pk).first()  # one read of a schedule at a time
        _replace_shifts(schedule, shifts, now=now)
        schedule.feed_url, schedule.last_error = feed_url, ""
        schedule.last_attempt_at = schedule.last_synced_at = now
        schedule.save(update_fields=["feed_url", "last_error", "last_attempt_at", "last_synced_at"])
    return schedule


def sync_oncall_schedule(team, *, now=None):
    """Fetch `team`'s schedule feed and store its shifts; a fetch that fails is recorded, the shifts kept.

    The whole read (fetch, parse, expansion, store) stops after CALENDAR_SYNC_TIME_LIMIT seconds, as a
    calendar's does: the fetch gets what is left of it (at most FEED_TIMEOUT), the reading the rest.
    """
    now = now or timezone.now()
    deadline = Deadline()
    url = team.oncall_schedule_url
    schedule = _schedule_of(team)
    if not url:
        return _record_failure(schedule, f"{team} publishes no on-call schedule feed.", feed_url="", now=now)
    try:
        timeout = max(min(FEED_TIMEOUT, deadline.remaining()), 0.001)
        ics_bytes = fetch_feed(url, timeout=timeout, calendar=team)
    except FeedError as error:
        message = deadline.message("fetching the feed") if deadline.passed else str(error)
        return _record_failure(schedule, message, feed_url=url, now=now)
    return record_oncall_schedule(team, ics_bytes, feed_url=url, now=now, deadline=deadline)


def is_due(team, schedule, now):
    """Whether `team`'s feed should be read now: never read, its address changed, or read READ_AGAIN_AFTER ago."""
    if not team.oncall_schedule_url:
        return False
    if schedule is None or schedule.feed_url != team.oncall_schedule_url or schedule.last_attempt_at is None:
        return True
    return schedule.last_attempt_at + READ_AGAIN_AFTER <= now


def sync_due_oncall_schedules(now=None):
    """Read the feed of every team that publishes one and is due; the schedules read, in team order."""
    now = now or timezone.now()
    teams = Team.objects.exclude(oncall_schedule_url="").select_related("oncall_schedule").order_by("name")
    due = [team for team in teams if is_due(team, getattr(team, "oncall_schedule", None), now)]
    return [sync_oncall_schedule(team, now=now) for team in due]


@task()
def sync_due_oncall_schedules_task():
    """Read every team's on-call schedule feed that is due, then queue the next run."""
    try:
        schedules = sync_due_oncall_schedules()
    finally:
        schedule_oncall_schedule_sync()
    return [{"team": schedule.team.slug, "error": schedule.last_error} for schedule in schedules]


def schedule_oncall_schedule_sync(now=None):
    """Queue the next read SYNC_EVERY from now, unless one is already waiting; the queued result, or None."""
    return enqueue_unless_waiting(sync_due_oncall_schedules_task, (now or timezone.now()) + SYNC_EVERY)


# Writing -------------------------------------------------------------------------


def _schedule_of(team):
    schedule, _ = OnCallSchedule.objects.get_or_create(team=team)
    return schedule


def _replace_shifts(schedule, shifts, *, now):
    """The feed's shifts in place of those stored from its first shift on (from `now` when it lists none
    before): a shift stored across that moment is cut there, the ones before it stay as they were read."""
    speaks_from = min([now, *(shift.starts_at for shift in shifts)])
    stored = OnCallShift.objects.filter(schedule=schedule)
    stored.filter(starts_at__gte=speaks_from).delete()
    stored.filter(starts_at__lt=speaks_from, ends_at__gt=speaks_from).update(ends_at=speaks_from)
    OnCallShift.objects.bulk_create(
        [
            OnCallShift(schedule=schedule, person=shift.person, starts_at=shift.starts_at, ends_at=shift.ends_at)
            for shift in shifts
        ],
        batch_size=BATCH_SIZE,
    )


def _record_failure(schedule, message, *, feed_url, now):
    """A read that failed: its shifts stay as they were; the schedule says when it was tried and why it failed."""
    schedule.feed_url, schedule.last_attempt_at, schedule.last_error = feed_url, now, message
    schedule.save(update_fields=["feed_url", "last_attempt_at", "last_error"])
    return schedule
