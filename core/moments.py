"""Moments and quarters: reading an "as of when?" from what people send, and calendar quarters.

A quarter is labelled "2026-Q4" in addresses and forms, spans [start, end) in the
current time zone, and is written "Q4 2026" on every page (Quarter.short_label,
quarter_label). Pages that show one quarter offer the same choice: the quarters
with data, the current one and the chosen one (quarters_offered), and the quarters
either side of it.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$")


def parse_moment(text):
    """An aware datetime from what a person or a date picker sends, or None.

    Accepts ISO 8601 with an offset or Z, a date picker's naive "2026-10-01T09:00"
    and a bare date (midnight); a naive value is read in the current time zone.
    """
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:  # well formed but impossible, such as 2026-02-30
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        moment.astimezone(UTC)
    except OverflowError:  # the year 9999 and beyond, once converted
        return None
    return moment


# Quarters ------------------------------------------------------------------------


def _first_month(month):
    """The first month of the quarter `month` (1-12) falls in: 1, 4, 7 or 10."""
    return 3 * ((month - 1) // 3) + 1


def quarter_of(moment):
    """ "2026-Q4" for a moment, in the current time zone."""
    local = timezone.localtime(moment)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def quarter_start(day):
    """The first day of the calendar quarter a date falls in (a plain date, no time zone)."""
    return date(day.year, _first_month(day.month), 1)


def quarter_bounds(label):
    """The aware [start, end) of "2026-Q4" in the current time zone, or None for anything else."""
    match = QUARTER.match(label or "")
    if not match:
        return None
    year, quarter = int(match["year"]), int(match["quarter"])
    start_month = 3 * (quarter - 1) + 1
    end_year, end_month = (year + 1, 1) if quarter == 4 else (year, start_month + 3)
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(datetime(year, start_month, 1), time(0), tzinfo=zone),
        datetime.combine(datetime(end_year, end_month, 1), time(0), tzinfo=zone),
    )


def quarter_label(label):
    """ "Q4 2026" for "2026-Q4": how every page writes a quarter."""
    year, number = label.split("-")
    return f"{number} {year}"


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter in the current time zone: [start, end)."""

    label: str  # "2026-Q4": what addresses and forms carry
    start: datetime
    end: datetime

    @classmethod
    def of(cls, label):
        start, end = quarter_bounds(label)
        return cls(label, start, end)

    @classmethod
    def containing(cls, moment):
        return cls.of(quarter_of(moment))

    @classmethod
    def current(cls):
        return cls.containing(timezone.now())

    def __str__(self):
        return self.short_label

    @property
    def short_label(self):
        """ "Q4 2026", as people say it and every page writes it."""
        return quarter_label(self.label)

    @property
    def previous(self):
        return Quarter.containing(self.start - timedelta(days=1))

    @property
    def next(self):
        return Quarter.containing(self.end)

    @property
    def has_started(self):
        return self.start <= timezone.now()

    @property
    def is_current(self):
        return self.start <= timezone.now() < self.end

    @property
    def last_day(self):
        return timezone.localdate(self.end - timedelta(microseconds=1))

    def ending_with(self, count):
        """This quarter and the `count - 1` before it, oldest first."""
        quarters = [self]
        while len(quarters) < count:
            quarters.insert(0, quarters[0].previous)
        return quarters


def quarters_offered(moments, chosen=None):
    """The quarters a page offers to choose from, newest first: those of `moments` (when there is data), the
    current one, and `chosen` (a label or Quarter) even without data, so the select always shows what is shown."""
    labels = {quarter_of(moment) for moment in moments}
    labels.add(quarter_of(timezone.now()))
    chosen = getattr(chosen, "label", chosen)
    if chosen and quarter_bounds(chosen) is not None:
        labels.add(chosen)
    return [Quarter.of(label) for label in sorted(labels, reverse=True)]
