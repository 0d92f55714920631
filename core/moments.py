"""Moments and quarters: reading an "as of when?" from what people send, and calendar quarters.

A quarter is labelled "2026-Q4" and spans [start, end) in the current time zone.
"""

import re
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


def recent_quarters(count=8):
    """The current quarter and the ones before it, newest first."""
    labels, moment = [], timezone.now()
    while len(labels) < count:
        label = quarter_of(moment)
        if label not in labels:
            labels.append(label)
        start, _ = quarter_bounds(label)
        moment = start - timedelta(days=1)
    return labels
