"""Reading a moment ("as of when?") from what a person, a date picker or a client sends."""

from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


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
