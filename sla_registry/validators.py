from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

# Path segments the registry's URLs use for pages of their own (/teams/new/).
RESERVED_SLUGS = {"new"}


def validate_slug_not_reserved(value):
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved for a page of the portal; choose another slug.")


def validate_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"“{value}” is not a time zone; use an IANA name such as Europe/London.") from None


def parse_working_days(value):
    """{1, 2, 3, 4, 5} from "1,2,3,4,5" (ISO weekdays, Monday = 1)."""
    days = {int(part) for part in value.replace(" ", "").split(",") if part}
    if not days or not days <= set(range(1, 8)):
        raise ValueError(value)
    return days


def validate_working_days(value):
    try:
        parse_working_days(value)
    except ValueError:
        raise ValidationError("List weekdays as numbers 1 (Monday) to 7 (Sunday), separated by commas.") from None
