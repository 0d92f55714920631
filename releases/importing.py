"""Importing iCalendar files and feeds into a calendar's releases: the one write path for imported events.

An import reads the whole file first and writes nothing until every event in it
has been understood. A file that is not iCalendar, or an event with a start the
portal cannot read, fails the import as a whole: no release changes, and a
CalendarSync row says which event and which property were wrong.

What is read, and how:

- Recurring events (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) are expanded
  with recurring-ical-events, and every event is read, only within the window
  [now - calendar.history_days, now + calendar.horizon_days].
- Each event or occurrence is one Release keyed on (calendar, UID,
  recurrence_id). recurrence_id is "" for a single event; for an occurrence it is
  the occurrence's original start in UTC ("20261203T090000Z"), or its original
  date ("20261224") when the series is all-day, since a date has no time zone.
- Times: a TZID is resolved by icalendar, which honours the file's VTIMEZONE
  blocks and maps Windows names ("W. Europe Standard Time") to IANA zones.
  Floating times (no TZID), and TZIDs nobody knows, are read in the calendar's
  X-WR-TIMEZONE when the file names one (Google Calendar does), else in the
  team's time zone. All-day events start at midnight in the team's time zone.
- Kind: "freeze" in the summary or a category makes a freeze window,
  "maintenance" a maintenance; anything else is a release.
- Risk: "high risk" or "risk:high" in the summary or a category is high,
  "medium risk" or "risk:medium" medium, anything else low.
- Services: the calendar's default services plus the service of every rule of
  the calendar that matches the event.

An event that disappears from the file while its start lies inside the window
is marked cancelled, never deleted: change requests may point at it.

One calendar's import (a feed's fetch, then parsing, expansion and storing) stops
after CALENDAR_SYNC_TIME_LIMIT seconds (a Deadline, checked between steps: after
parsing, for every event and occurrence read, every release compared, and before
the commit). A stopped import is a failed one: nothing is written, and its
CalendarSync names the limit.
"""

import hashlib
import http.client
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import x_wr_timezone
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from icalendar.prop import vBroken

from approvals.exceptions import NotAllowed
from core import outbound
from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus, RuleField, SyncSource
from releases.models import Calendar, CalendarSync, Release, ReleaseChange
from releases.scheduling import follow_releases
from search.registry import mark_objects

logger = logging.getLogger(__name__)

FEED_TIMEOUT = 15  # seconds
FEED_SIZE_LIMIT = 20 * 1024 * 1024  # bytes
MAX_FEED_REDIRECTS = 3
CHANGES_KEPT = 100  # CalendarSync.changes lists the first changes only
BATCH_SIZE = 1000
# A floating time near the window's edge may be expanded on either side of it, so
# an occurrence this close to an edge is not called cancelled when it is missing.
EDGE_MARGIN = timedelta(days=1)
HISTORY_REASONS = {
    SyncSource.UPLOAD: "import from uploaded file",
    SyncSource.FEED: "import from feed",
    SyncSource.COMMAND: "import from file (import_ics)",
}
# The properties the importer reads to place an event in time.
TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE")
RECURRENCE_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")
# What an import writes to a Release (the fingerprint covers these and its services).
CONTENT_FIELDS = ["title", "description", "kind", "risk", "status", "starts_at", "ends_at", "all_day", "location"]
IMPORTED_FIELDS = [*CONTENT_FIELDS, "categories", "fingerprint", "updated_at"]


class ImportProblem(Exception):
    """The file cannot be imported; the message says which event and property, for the team that owns the file."""


class FeedError(Exception):
    """The feed could not be fetched; the message names the URL and what went wrong."""


class ImportTimeLimit(ImportProblem):
    """The import ran past CALENDAR_SYNC_TIME_LIMIT; the message names the limit and what it was doing."""


class Deadline:
    """When one calendar's import must stop: CALENDAR_SYNC_TIME_LIMIT seconds after it began (monotonic clock).

    The import checks it between steps, so it stops at the first check past the limit. Parsing the file is
    one call of the iCalendar parser, bounded by the size limits of uploads and feeds, and checked after.
    """

    def __init__(self, seconds=None):
        self.seconds = float(settings.CALENDAR_SYNC_TIME_LIMIT if seconds is None else seconds)
        self.ends = time.monotonic() + self.seconds

    def remaining(self):
        return self.ends - time.monotonic()

    @property
    def passed(self):
        return time.monotonic() >= self.ends

    def message(self, doing):
        return (
            f"The import was stopped while {doing}: it ran past the time limit of {self.seconds:g} s for one "
            "calendar's import (CALENDAR_SYNC_TIME_LIMIT). Split the file, or narrow the calendar's window."
        )

    def check(self, doing):
        if self.passed:
            raise ImportTimeLimit(self.message(doing))


def _no_progress(stage, done, total):
    pass


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """One event or occurrence as read from the file, in the shape of a Release."""

    uid: str
    recurrence_id: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    location: str
    categories: str
    kind: str
    risk: str
    status: str
    service_ids: tuple = ()

    @property
    def key(self):
        return (self.uid, self.recurrence_id)

    @property
    def fingerprint(self):
        content = [
            self.title,
            self.description,
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
            self.all_day,
            self.location,
            self.categories,
            self.kind,
            self.risk,
            self.status,
            list(self.service_ids),
        ]
        return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Reconciliation:
    """What an import did: the counts and first changes for CalendarSync, and the releases that moved."""

    added: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    changes: list = field(default_factory=list)
    moved: list = field(default_factory=list)  # existing releases whose start or status changed

    def note(self, action, release):
        if len(self.changes) < CHANGES_KEPT:
            self.changes.append({"action": action, "title": release.title, "starts_at": release.starts_at.isoformat()})


# Importing -------------------------------------------------------------------


def import_calendar(
    calendar, ics_bytes, *, source, acting_user=None, now=None, deadline=None, progress=None, on_saved=None
):
    """Reconcile `calendar`'s releases with an iCalendar file; return the CalendarSync that records it.

    Never raises for bad data: a file that cannot be read changes nothing and
    returns a sync whose `error` says why (also kept in calendar.last_error).
    Neither for time: past the `deadline` (by default CALENDAR_SYNC_TIME_LIMIT from
    now) the import stops, changes nothing and its sync names the limit.
    Change requests effective with a release that moved or was cancelled follow it.

    `progress(stage, done, total)` hears how far it has got ("reading": events of
    the file read; "saving": the releases being written). `on_saved(sync)` runs in
    the transaction that writes the releases, so what it writes commits with them.
    """
    now = now or timezone.now()
    clock = time.perf_counter()
    deadline = deadline or Deadline()
    progress = progress or _no_progress
    window = (now - timedelta(days=calendar.history_days), now + timedelta(days=calendar.horizon_days))
    try:
        events = read_events(calendar, ics_bytes, window=window, deadline=deadline, progress=progress)
        progress("saving", len(events), len(events))
        with transaction.atomic():
            sync = _reconcile(
                calendar, events, window=window, source=source, acting_user=acting_user, now=now, deadline=deadline
            )
            sync.finished_at = now + timedelta(seconds=time.perf_counter() - clock)
            sync.save(update_fields=["finished_at"])
            if on_saved is not None:
                on_saved(sync)
    except ImportProblem as problem:
        return _record_failure(calendar, str(problem), source=source, acting_user=acting_user, now=now, clock=clock)
    except (IntegrityError, DataError) as error:
        message = f"The import could not be saved, so nothing was changed: {error}"
        return _record_failure(calendar, message, source=source, acting_user=acting_user, now=now, clock=clock)
    return sync


def read_events(calendar, ics_bytes, *, window, deadline=None, progress=None):
    """The events and occurrences of an iCalendar file within `window` (start, end), as ImportedEvents.

    Raises ImportProblem for a file or an event that cannot be read, ImportTimeLimit past the `deadline`.
    Reads the calendar's rules and default services, writes nothing. `progress("reading", done, total)`
    hears of every event of the file read (a recurring one once its occurrences are expanded).
    """
    deadline = deadline or Deadline()
    progress = progress or _no_progress
    zone = _team_zone(calendar)
    parsed = _parse(ics_bytes)
    deadline.check("parsing the file")
    components = parsed.walk("VEVENT")
    reading = _Reading(len(components), progress)
    for event in components:
        _check_event(event, zone)
        deadline.check("checking the events")
    parsed = _FloatingTimeWalker(zone).walk(_apply_x_wr_timezone(parsed))
    deadline.check("reading the time zones")
    matcher = _ServiceMatcher(calendar)
    window_start, window_end = window

    singles, series = {}, []
    recurring_uids = {
        _uid(event) for event in parsed.walk("VEVENT") if any(name in event for name in RECURRENCE_PROPERTIES)
    }
    for event in parsed.walk("VEVENT"):
        uid = _uid(event)
        if uid in recurring_uids:
            series.append(event)
            continue
        imported = _imported_event(event, uid=uid, recurrence_id="", zone=zone, matcher=matcher)
        if imported.ends_at >= window_start and imported.starts_at <= window_end:
            # The same UID twice without RECURRENCE-ID: the later copy (by SEQUENCE, then file order) wins.
            previous = singles.get(uid)
            if previous is None or _sequence(event) >= previous[0]:
                singles[uid] = (_sequence(event), imported)
        reading.advance()
        deadline.check("reading the events")

    occurrences = {}
    for occurrence in _expand(series, window_start, window_end, deadline=deadline, reading=reading):
        deadline.check("reading the occurrences of recurring events")
        uid = _uid(occurrence)
        recurrence_id = _recurrence_key(occurrence["RECURRENCE-ID"].dt, zone)
        imported = _imported_event(occurrence, uid=uid, recurrence_id=recurrence_id, zone=zone, matcher=matcher)
        occurrences[imported.key] = imported

    events = [imported for _, imported in singles.values()] + list(occurrences.values())
    events.sort(key=lambda imported: (imported.starts_at, imported.uid, imported.recurrence_id))
    return events


class _Reading:
    """Counts the events of a file as they are read, for a progress callback."""

    def __init__(self, total, progress):
        self.done, self.total, self.progress = 0, total, progress
        progress("reading", 0, total)

    def advance(self, count=1):
        self.done = min(self.done + count, self.total)
        self.progress("reading", self.done, self.total)


def _parse(ics_bytes):
    if not ics_bytes or not ics_bytes.strip():
        raise ImportProblem("The file is empty; an iCalendar file begins with BEGIN:VCALENDAR.")
    _check_text(ics_bytes)
    try:
        parsed = icalendar.Calendar.from_ical(ics_bytes)
    except Exception as error:  # the parser raises ValueError, KeyError or IndexError for text that is not iCalendar
        raise ImportProblem(f"The file is not an iCalendar file: {_unreadable_line(ics_bytes, error)}") from error
    if parsed.name != "VCALENDAR":
        raise ImportProblem(f"The file is not an iCalendar calendar: it begins with {parsed.name}, not VCALENDAR.")
    return parsed


def _printable(text, limit=60):
    """`text` as a person can read it in a message: control and unreadable characters escaped, cut at `limit`."""
    shown = "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in text)
    return shown if len(shown) <= limit else f"{shown[:limit]}…"


def _check_text(ics_bytes):
    """Refuse, in plain words, a file that is not calendar text at all (an image, a spreadsheet, a web page)."""
    first = ics_bytes.lstrip().split(b"\n", 1)[0].strip()
    if first.upper().removeprefix(b"\xef\xbb\xbf") == b"BEGIN:VCALENDAR":
        return
    try:
        shown = f"begins with “{_printable(first.decode('utf-8'))}”"
    except UnicodeDecodeError:
        shown = "is not text (another kind of file?)"
    raise ImportProblem(f"The file is not an iCalendar file: it should begin with BEGIN:VCALENDAR, but {shown}.")


def _unreadable_line(ics_bytes, error):
    """The parser's complaint, naming the line it could not read by number and showing it readably."""
    message = " ".join(str(error).split())
    lines = ics_bytes.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if line.strip() and f"'{line.strip()}'" in message:
            return f"line {number} (“{_printable(line.strip())}”) cannot be read."
    return _shorten(_printable(message, 300))


def _apply_x_wr_timezone(parsed):
    """Read floating and UTC times in the zone the file names in X-WR-TIMEZONE, as Google Calendar means them."""
    name = str(parsed.get("X-WR-TIMEZONE", "")).strip()
    if not name:
        return parsed
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return parsed  # a zone nobody knows: floating times fall back to the team's zone
    return x_wr_timezone.to_standard(parsed, timezone=zone)


class _FloatingTimeWalker(x_wr_timezone.CalendarWalker):
    """Gives every floating time (no TZID) of the events the team's time zone, before recurrences are expanded."""

    def __init__(self, zone):
        self.zone = zone

    def walk_value_datetime(self, value):
        return value.replace(tzinfo=self.zone) if value.tzinfo is None else value


# Seconds per step of each recurrence frequency (a month and a year at their shortest).
FREQUENCY_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
# BY* parts that can multiply the occurrences of one step (BYSETPOS only selects among them).
EXPANDING_PARTS = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH")


def expansion_limits():
    """(steps before the window ends, occurrences in the window per event, occurrences per file): settings."""
    return (
        settings.CALENDAR_MAX_RECURRENCE_STEPS,
        settings.CALENDAR_MAX_OCCURRENCES_PER_EVENT,
        settings.CALENDAR_MAX_OCCURRENCES_PER_FILE,
    )


def _steps_until(event, window_end):
    """An upper bound of the occurrences a recurring event's rules make from its start to `window_end`.

    Computed from the rule alone, before anything is expanded: a rule that repeats every second since 1970
    is refused without stepping through it.
    """
    start = event.get("DTSTART")
    bound = len(event.get("RDATE", [])) if isinstance(event.get("RDATE"), list) else int("RDATE" in event)
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        frequency = (rule.get("FREQ") or ["DAILY"])[0]
        interval = max(int((rule.get("INTERVAL") or [1])[0]), 1)
        end = window_end
        until = (rule.get("UNTIL") or [None])[0]
        if isinstance(until, datetime):
            end = min(end, until if until.tzinfo else until.replace(tzinfo=UTC))
        begin = start.dt if start is not None else window_end
        if not isinstance(begin, datetime):
            begin = datetime.combine(begin, datetime.min.time(), tzinfo=UTC)
        elif begin.tzinfo is None:
            begin = begin.replace(tzinfo=UTC)
        span = max((end - begin).total_seconds(), 0)
        steps = span // (FREQUENCY_SECONDS.get(str(frequency).upper(), 86400) * interval) + 1
        for part in EXPANDING_PARTS:
            steps *= max(len(rule.get(part) or []), 1)
        count = (rule.get("COUNT") or [None])[0]
        bound += min(steps, int(count)) if count is not None else steps
    return int(bound)


def _expand(series, window_start, window_end, *, deadline=None, reading=None):
    """The occurrences of the recurring events within the window, overrides and exclusions applied.

    Bounded before and during expansion (expansion_limits): a rule that would step past
    CALENDAR_MAX_RECURRENCE_STEPS before the window ends is refused unexpanded; an event with more than
    CALENDAR_MAX_OCCURRENCES_PER_EVENT occurrences in the window, or a file with more than
    CALENDAR_MAX_OCCURRENCES_PER_FILE, is refused naming the event and the cap. Occurrences are read one
    at a time, so memory stays bounded by the caps. Stops past the `deadline` (ImportTimeLimit), checked for
    every occurrence; `reading` counts the events expanded.
    """
    deadline = deadline or Deadline()
    max_steps, per_event, per_file = expansion_limits()
    by_uid = {}
    for event in series:
        by_uid.setdefault(_uid(event), []).append(event)
    occurrences = []
    for events in by_uid.values():
        for event in events:
            steps = _steps_until(event, window_end)
            if steps > max_steps:
                raise ImportProblem(
                    f"{_label(event)}: its recurrence repeats up to {steps:,} times before the import window ends; "
                    f"the portal expands at most {max_steps:,} steps of one event (CALENDAR_MAX_RECURRENCE_STEPS)."
                )
        found = 0
        try:
            for occurrence in recurring_ical_events.of(_calendar_of(events)).after(window_start):
                starts = occurrence["DTSTART"].dt
                if not isinstance(starts, datetime):
                    starts = datetime.combine(starts, datetime.min.time(), tzinfo=window_end.tzinfo)
                deadline.check("expanding recurring events")
                if starts > window_end:
                    break
                found += 1
                if found > per_event:
                    raise ImportProblem(
                        f"{_label(events[0])}: more than {per_event:,} occurrences within the import window; "
                        f"the portal imports at most {per_event:,} per event (CALENDAR_MAX_OCCURRENCES_PER_EVENT)."
                    )
                occurrences.append(occurrence)
                if len(occurrences) > per_file:
                    raise ImportProblem(
                        f"The file has more than {per_file:,} occurrences within the import window (the last read "
                        f"is of {_label(events[0])}); the portal imports at most {per_file:,} per file "
                        "(CALENDAR_MAX_OCCURRENCES_PER_FILE)."
                    )
        except ImportProblem:
            raise
        except Exception as error:  # the library raises many kinds of error for a rule it cannot expand
            raise ImportProblem(
                f"{_label(events[0])}: its recurrence (RRULE/RDATE/EXDATE) cannot be expanded: {_shorten(error)}"
            ) from error
        if reading is not None:
            reading.advance(len(events))
    return occurrences


def _calendar_of(events):
    calendar = icalendar.Calendar()
    for event in events:
        calendar.add_component(event)
    return calendar


def _check_event(event, zone):
    """Raise ImportProblem, naming the event and the property, for an event the importer cannot place in time."""
    label = _label(event)
    start = event.get("DTSTART")
    if start is None:
        raise ImportProblem(f"{label}: DTSTART is missing; every event needs a start.")
    for name in TIME_PROPERTIES:
        value = event.get(name)
        if isinstance(value, list) and name in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
            raise ImportProblem(f"{label}: {name} appears more than once.")
        if isinstance(value, vBroken):
            expected = "duration" if name == "DURATION" else "date-time"
            raise ImportProblem(f'{label}: {name} "{value}" is not a valid {expected}.')
    for name, message in event.errors:
        if name in TIME_PROPERTIES:
            raise ImportProblem(f"{label}: {name} is not valid: {_shorten(message)}")
    try:
        starts, ends = event.start, event.end
    except Exception as error:  # icalendar's InvalidCalendar and friends: DTEND and DURATION together, …
        raise ImportProblem(f"{label}: {_shorten(error)}") from error
    if _to_utc(ends, zone) < _to_utc(starts, zone):
        end_name = "DTEND" if "DTEND" in event else "DURATION"
        raise ImportProblem(
            f'{label}: it ends before it starts (DTSTART "{event["DTSTART"].to_ical().decode()}", '
            f'{end_name} "{event[end_name].to_ical().decode()}").'
        )


def _imported_event(component, *, uid, recurrence_id, zone, matcher):
    starts, ends = component.start, component.end
    all_day = not isinstance(starts, datetime)
    summary = _text(component, "SUMMARY")
    description = _text(component, "DESCRIPTION")
    location = _text(component, "LOCATION")
    categories = _categories(component)
    wording = " ".join([summary, *categories]).casefold()
    return ImportedEvent(
        uid=uid,
        recurrence_id=recurrence_id,
        title=_fit(summary or "(no title)", Release._meta.get_field("title").max_length),
        description=description,
        starts_at=_to_utc(starts, zone),
        ends_at=_to_utc(ends, zone),
        all_day=all_day,
        location=_fit(location, Release._meta.get_field("location").max_length),
        categories=_fit(", ".join(categories), Release._meta.get_field("categories").max_length),
        kind=_kind(wording),
        risk=_risk(wording),
        status=(
            ReleaseStatus.CANCELLED if _text(component, "STATUS").upper() == "CANCELLED" else ReleaseStatus.SCHEDULED
        ),
        service_ids=matcher(summary=summary, description=description, location=location, categories=categories),
    )


def _kind(wording):
    if "freeze" in wording:
        return ReleaseKind.FREEZE
    if "maintenance" in wording:
        return ReleaseKind.MAINTENANCE
    return ReleaseKind.RELEASE


def _risk(wording):
    compact = wording.replace(" ", "")
    if "high risk" in wording or "risk:high" in compact:
        return ReleaseRisk.HIGH
    if "medium risk" in wording or "risk:medium" in compact:
        return ReleaseRisk.MEDIUM
    return ReleaseRisk.LOW


class _ServiceMatcher:
    """Which services an event concerns: the calendar's defaults and the services of the rules it matches."""

    def __init__(self, calendar):
        self.default_ids = set(calendar.default_services.values_list("pk", flat=True))
        self.rules = [(rule.field, rule.value.strip().casefold(), rule.service_id) for rule in calendar.rules.all()]

    def __call__(self, *, summary, description, location, categories):
        service_ids = set(self.default_ids)
        texts = {
            RuleField.SUMMARY: summary.casefold(),
            RuleField.DESCRIPTION: description.casefold(),
            RuleField.LOCATION: location.casefold(),
        }
        category_names = {category.casefold() for category in categories}
        for rule_field, value, service_id in self.rules:
            matched = value in category_names if rule_field == RuleField.CATEGORY else value in texts[rule_field]
            if matched:
                service_ids.add(service_id)
        return tuple(sorted(service_ids))


def _team_zone(calendar):
    try:
        return ZoneInfo(calendar.team.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _to_utc(value, zone):
    """An aware UTC datetime: a date is midnight in `zone`, a naive time is read in `zone`."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _recurrence_key(value, zone):
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    return _to_utc(value, zone).strftime("%Y%m%dT%H%M%SZ")


def _uid(event):
    uid = str(event.get("UID", "")).strip()
    if uid:
        return uid
    # RFC 5545 requires a UID; without one, the start and summary identify the event from one file to the next.
    start = event.get("DTSTART")
    seed = f"{start.to_ical().decode() if start is not None else ''}|{_text(event, 'SUMMARY')}"
    return f"no-uid-{hashlib.sha256(seed.encode()).hexdigest()[:32]}"


def _label(event):
    summary = _text(event, "SUMMARY") or "(no summary)"
    uid = str(event.get("UID", "")).strip() or "none"
    return f'Event "{summary}" (UID {uid})'


def _sequence(event):
    try:
        return int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0


def _text(component, name):
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):  # a property given twice: read the first
        value = value[0]
    return str(value).strip()


def _categories(component):
    names = []
    for category in component.categories:
        name = str(category).strip()
        if name and name not in names:
            names.append(name)
    return names


def _fit(text, max_length):
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def _shorten(error, limit=300):
    return _fit(" ".join(str(error).split()), limit)


# Writing -----------------------------------------------------------------------


def _reconcile(calendar, events, *, window, source, acting_user, now, deadline):
    """Write the imported events over the calendar's releases; return the CalendarSync. Runs in a transaction.

    Past the `deadline` it raises ImportTimeLimit, which rolls the transaction back.
    """
    Calendar.objects.select_for_update().filter(pk=calendar.pk).first()  # one import of a calendar at a time
    user = acting_user if getattr(acting_user, "pk", None) else None
    reason = HISTORY_REASONS.get(source, "import")
    existing = {
        (release.uid, release.recurrence_id): release
        for release in Release.objects.filter(calendar=calendar).exclude(uid="").order_by()
    }
    outcome = Reconciliation()
    created, updated, services_of = [], [], {}
    seen = set()
    updated_at = timezone.now()

    for imported in events:
        deadline.check("comparing the events with the stored releases")
        seen.add(imported.key)
        release = existing.get(imported.key)
        if release is None:
            release = Release(calendar=calendar, uid=imported.uid, recurrence_id=imported.recurrence_id)
            release.created_by = user
            _copy(imported, release)
            created.append(release)
            services_of[imported.key] = imported.service_ids
            action = "cancelled" if release.is_cancelled else "added"
        elif release.fingerprint == imported.fingerprint:
            outcome.unchanged += 1
            continue
        else:
            was_cancelled, previous_start = release.is_cancelled, release.starts_at
            _copy(imported, release)
            release.updated_at = updated_at
            updated.append(release)
            services_of[imported.key] = imported.service_ids
            if release.starts_at != previous_start or release.is_cancelled != was_cancelled:
                outcome.moved.append(release)
            action = "cancelled" if release.is_cancelled and not was_cancelled else "updated"
        setattr(outcome, action, getattr(outcome, action) + 1)
        outcome.note(action, release)

    # Gone from the file: cancelled when its start lies inside the window the file was read for.
    inner_start, inner_end = window[0] + EDGE_MARGIN, window[1] - EDGE_MARGIN
    for key, release in existing.items():
        if key in seen or release.is_cancelled or not inner_start <= release.starts_at <= inner_end:
            continue
        release.status = ReleaseStatus.CANCELLED
        release.fingerprint = ""  # the event may come back unchanged: that is then an update
        release.updated_at = updated_at
        updated.append(release)
        outcome.moved.append(release)
        outcome.cancelled += 1
        outcome.note("cancelled", release)

    deadline.check("saving the releases")
    Release.objects.bulk_create(created, batch_size=BATCH_SIZE)
    Release.objects.bulk_update(updated, IMPORTED_FIELDS, batch_size=BATCH_SIZE)
    through_rows = _write_services(created, updated, services_of)
    _write_history(created, updated, through_rows, user=user, reason=reason, when=updated_at)
    mark_objects(Release, [release.pk for release in (*created, *updated)])  # bulk writes send no signals
    _follow(outcome, acting_user=acting_user)
    deadline.check("saving the releases")

    sync = CalendarSync.objects.create(
        calendar=calendar,
        source=source,
        started_at=now,
        added=outcome.added,
        updated=outcome.updated,
        cancelled=outcome.cancelled,
        unchanged=outcome.unchanged,
        changes=outcome.changes,
        started_by=user,
    )
    Calendar.objects.filter(pk=calendar.pk).update(last_synced_at=now, last_error="")
    calendar.last_synced_at, calendar.last_error = now, ""
    return sync


def _copy(imported, release):
    for name in [*CONTENT_FIELDS, "categories", "fingerprint"]:
        setattr(release, name, getattr(imported, name))


def _write_services(created, updated, services_of):
    """Set the services of the created and updated releases through the M2M table, in bulk.

    Returns every release's through rows after the write, {release pk: [row, …]},
    for the history snapshot.
    """
    through = Release.services.through
    rows_of = {release.pk: [] for release in (*created, *updated)}
    updated_ids = [release.pk for release in updated]
    for chunk in _chunks(updated_ids):
        for row in through.objects.filter(release_id__in=chunk):
            rows_of[row.release_id].append(row)

    stale_ids, new_rows = [], []
    for release in (*created, *updated):
        wanted = services_of.get((release.uid, release.recurrence_id))
        if wanted is None:  # cancelled because it is gone from the file: its services stay
            continue
        if sorted(row.service_id for row in rows_of[release.pk]) == list(wanted):
            continue
        if rows_of[release.pk]:
            stale_ids.append(release.pk)
        rows_of[release.pk] = [through(release_id=release.pk, service_id=service_id) for service_id in wanted]
        new_rows.extend(rows_of[release.pk])
    for chunk in _chunks(stale_ids):
        through.objects.filter(release_id__in=chunk).delete()
    through.objects.bulk_create(new_rows, batch_size=BATCH_SIZE)
    return rows_of


def _write_history(created, updated, through_rows, *, user, reason, when):
    """History rows for every created and updated release, with its services as they now are.

    simple-history's bulk helpers write the release rows but not the snapshot of
    their services, which its signals would have written for a single save.
    """
    history_rows = []
    for releases, update in ((created, False), (updated, True)):
        if releases:
            history_rows += Release.history.bulk_history_create(
                releases,
                batch_size=BATCH_SIZE,
                update=update,
                default_user=user,
                default_change_reason=reason,
                default_date=when,
            )
    services_history = Release.history.model.services.model
    snapshot = [
        services_history(history=history_row, id=row.pk, release_id=row.release_id, service_id=row.service_id)
        for history_row in history_rows
        for row in through_rows.get(history_row.id, ())
    ]
    services_history.objects.bulk_create(snapshot, batch_size=BATCH_SIZE)


def _follow(outcome, *, acting_user):
    """Change requests effective with a release that moved or was cancelled follow it.

    Each release is followed on its own savepoint: a request that cannot follow
    (its release moved into the past, say) is left as it was and the import stands.
    """
    if not outcome.moved:
        return
    linked = set()
    for chunk in _chunks([release.pk for release in outcome.moved]):
        linked.update(ReleaseChange.objects.filter(release_id__in=chunk).values_list("release_id", flat=True))
    for release in outcome.moved:
        if release.pk not in linked:
            continue
        try:
            with transaction.atomic():
                follow_releases([release], acting_user=acting_user)
        except (ValidationError, NotAllowed) as error:
            logger.warning("Change requests could not follow %s: %s", release.label, error)
            if len(outcome.changes) < CHANGES_KEPT:
                outcome.changes.append(
                    {
                        "action": "not followed",
                        "title": release.title,
                        "starts_at": release.starts_at.isoformat(),
                        "note": "; ".join(getattr(error, "messages", [str(error)])),
                    }
                )


def _record_failure(calendar, message, *, source, acting_user, now, clock):
    """The failed import's CalendarSync, written after the release writes were rolled back."""
    calendar.last_error = message
    Calendar.objects.filter(pk=calendar.pk).update(last_error=message)
    return CalendarSync.objects.create(
        calendar=calendar,
        source=source,
        started_at=now,
        finished_at=now + timedelta(seconds=time.perf_counter() - clock),
        error=message,
        started_by=acting_user if getattr(acting_user, "pk", None) else None,
    )


def _chunks(items, size=BATCH_SIZE):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# Feeds -------------------------------------------------------------------------


def fetch_feed(url, *, timeout=FEED_TIMEOUT, max_bytes=FEED_SIZE_LIMIT, calendar=None):
    """The body of an http(s):// or webcal:// feed, at most `max_bytes` long; FeedError if it cannot be had.

    Fetched through core.outbound: resolved once and refused when any address is internal (unless
    RELEASES_FEEDS_MAY_BE_INTERNAL, for development and for tests that serve feeds on 127.0.0.1), at most
    MAX_FEED_REDIRECTS redirects, each checked the same way.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        parts = parts._replace(scheme="https")
    elif scheme not in ("http", "https"):
        raise FeedError(f"Could not fetch {url}: only http://, https:// and webcal:// feeds can be synced.")
    address = urlunsplit(parts)
    try:
        answer = outbound.request(
            "GET",
            address,
            headers={"User-Agent": "SLA-Portal calendar sync", "Accept": "text/calendar, */*;q=0.5"},
            allow_internal=settings.RELEASES_FEEDS_MAY_BE_INTERNAL,
            connect_timeout=timeout,
            read_timeout=timeout,
            total_timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=MAX_FEED_REDIRECTS,
            subject=calendar,
        )
    except outbound.OutboundRefused as error:
        raise FeedError(
            f"Could not fetch {address}: {error}; the portal only syncs feeds published outside its own network."
        ) from error
    except outbound.OutboundTooLarge as error:
        raise FeedError(f"Could not fetch {address}: the feed is larger than {_size(max_bytes)}.") from error
    except TimeoutError as error:
        raise FeedError(f"Could not fetch {address}: timed out after {timeout:g} s.") from error
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise FeedError(f"Could not fetch {address}: {_describe_os_error(error)}.") from error
    if not 200 <= answer.status < 300:
        raise FeedError(f"Could not fetch {address}: the server answered HTTP {answer.status} {answer.reason}.")
    return answer.body


def _size(byte_count):
    megabytes = byte_count / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{byte_count:,} bytes"


def _describe_os_error(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return _shorten(reason) or reason.__class__.__name__


def sync_calendar(calendar, *, acting_user=None, now=None):
    """Fetch a feed calendar and import it; a fetch that fails becomes a CalendarSync with the error, data kept.

    The whole sync (fetch, parse, expansion, store) stops after CALENDAR_SYNC_TIME_LIMIT seconds: the fetch
    gets what is left of it (at most FEED_TIMEOUT), the import the rest.
    """
    now = now or timezone.now()
    clock = time.perf_counter()
    deadline = Deadline()
    if not calendar.is_feed:
        message = f"{calendar} has no feed URL: upload its .ics file instead."
        return _record_failure(calendar, message, source=SyncSource.FEED, acting_user=acting_user, now=now, clock=clock)
    try:
        timeout = max(min(FEED_TIMEOUT, deadline.remaining()), 0.001)
        ics_bytes = fetch_feed(calendar.feed_url, timeout=timeout, calendar=calendar)
    except FeedError as error:
        message = deadline.message("fetching the feed") if deadline.passed else str(error)
        return _record_failure(calendar, message, source=SyncSource.FEED, acting_user=acting_user, now=now, clock=clock)
    return import_calendar(
        calendar, ics_bytes, source=SyncSource.FEED, acting_user=acting_user, now=now, deadline=deadline
    )


def sync_due_calendars(now=None):
    """Sync every feed calendar that is due (never synced, failed last time, or its interval has passed)."""
    now = now or timezone.now()
    calendars = Calendar.objects.exclude(feed_url="").select_related("team").order_by("name")
    return [sync_calendar(calendar, now=now) for calendar in calendars if calendar.is_due_for_sync(now)]
