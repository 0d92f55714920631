"""Small text formatters shared by several apps."""

from datetime import UTC


def iso_moment(moment, *, utc=False):
    """A datetime as ISO 8601 text, "Z" for a UTC offset; None for None.

    Governed documents store their times this way, and their content hashes are
    taken over that text, so the output must never change for a given input.
    By default the moment keeps its own offset ("+02:00" stays) and a naive one
    stays naive; with utc=True it is first converted to UTC (always "…Z").
    Microseconds are kept when present.
    """
    if not moment:
        return None
    if utc:
        moment = moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def key_words(key):
    """A snake_case key such as "incident_commander" as words for a sentence: "incident commander"."""
    return key.replace("_", " ")
