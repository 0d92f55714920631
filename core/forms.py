"""Form fields more than one app's forms share."""

import re

from django import forms

from core.moments import quarter_bounds

# What a person may type for a quarter when the compact form is allowed: "2026Q4",
# "2026 q4", "2026-q4"… (spaces and the hyphen optional, either case).
QUARTER_TEXT = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


def _quarter_text(value):
    """ "2026-Q4" for "2026Q4", "2026 q4" and the like; anything else unchanged."""
    match = QUARTER_TEXT.match(value or "")
    return f"{match[1]}-Q{match[2]}" if match else value


class QuarterSelect(forms.Select):
    """The quarters offered; "2026Q4" in the address selects "2026-Q4"."""

    def format_value(self, value):
        return [_quarter_text(item) for item in super().format_value(value)]


class QuarterField(forms.CharField):
    """A quarter, chosen from a select of the quarters offered, each written "Q4 2026"; empty by default.

    The cleaned value is "2026-Q4" or "". Any quarter is accepted, offered or not, so an
    address naming a quarter without data still works. With compact=True it also takes
    "2026Q4", "2026 q4" and the like, as an address may carry them. A form offers its
    quarters with `offer` (core.moments.quarters_offered gives them: the quarters with
    data, the current one and the chosen one); `empty_label` adds a first, empty choice.
    """

    def __init__(self, *, compact=False, empty_label=None, **kwargs):
        self.compact = compact
        self.empty_label = empty_label
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", QuarterSelect)
        super().__init__(**kwargs)
        self.offer(())

    def offer(self, quarters):
        """Offer `quarters` (core.moments.Quarter, newest first), or a callable giving them when the select is drawn."""

        drawn = []  # the select reads its choices more than once per page: work them out (and query) once

        def choices():
            if not drawn:
                offered = quarters() if callable(quarters) else quarters
                empty = [("", self.empty_label)] if self.empty_label is not None else []
                drawn.append(empty + [(quarter.label, quarter.short_label) for quarter in offered])
            return drawn[0]

        self.widget.choices = choices

    def to_python(self, value):
        value = super().to_python(value)
        return _quarter_text(value) if self.compact else value

    def clean(self, value):
        value = super().clean(value).strip().upper()
        if value and quarter_bounds(value) is None:
            raise forms.ValidationError("Write a quarter as 2026-Q4.")
        return value


# A duration as people write it: "15m", "2h 30m", "1h30", "30d", "2w", or a bare number in the field's unit.
DURATION_PART = re.compile(r"(\d+)\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m)?", re.IGNORECASE)
UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}


def parse_duration_minutes(text, *, bare_unit_minutes=1):
    """Minutes in `text` ("2h 30m" → 150), a bare number counting `bare_unit_minutes`; ValueError if unreadable."""
    text = (text or "").strip().lower()
    if text.startswith("-"):
        raise ValueError("negative")
    position, total, parts = 0, 0, 0
    while position < len(text):
        if text[position] in " ,":
            position += 1
            continue
        match = DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(text)
        number, unit = int(match[1]), (match[2] or "")[:1]
        if not unit and parts:
            unit = "m"  # "1h30": what follows hours is minutes
        total += number * (UNIT_MINUTES[unit] if unit else bare_unit_minutes)
        parts += 1
        position = match.end()
    if not parts:
        raise ValueError(text)
    return total


def format_duration_minutes(minutes, *, unit_minutes=1):
    """150 → "2h 30m", 2880 → "2d", 45 → "45m"; in days for a field counted in days (43200 → "30d")."""
    if unit_minutes >= UNIT_MINUTES["d"]:
        return f"{minutes // UNIT_MINUTES['d']}d"
    parts = []
    for unit in ("d", "h", "m"):
        count, minutes = divmod(minutes, UNIT_MINUTES[unit])
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


class DurationField(forms.CharField):
    """A whole number of minutes (or days, with `unit="days"`) typed as people write durations.

    "15m", "2h 30m", "1h30", "30d" and "2w" are read; a bare number keeps meaning the unit (minutes, or
    days). The value is shown back the same way ("150" is shown as "2h 30m"). Below `minimum` (1 by
    default: a zero or negative duration is no duration) it is refused with the value as typed.
    """

    def __init__(self, *, unit="minutes", minimum=1, **kwargs):
        self.unit_minutes = UNIT_MINUTES["d"] if unit == "days" else 1
        self.unit, self.minimum = unit, minimum
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 8, "inputmode": "text"}))
        kwargs.setdefault("help_text", "For example 30d." if unit == "days" else "For example 15m, 2h 30m or 1d.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return format_duration_minutes(value * self.unit_minutes, unit_minutes=self.unit_minutes)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            minutes = parse_duration_minutes(text, bare_unit_minutes=self.unit_minutes)
        except ValueError:
            if str(text).strip().startswith("-"):
                raise forms.ValidationError(
                    f"“{text}” is negative: a duration must be at least {self._minimum_text()}."
                ) from None
            raise forms.ValidationError(
                f"“{text}” is not a duration: write it as {'30d' if self.unit == 'days' else '15m, 2h 30m or 1d'}."
            ) from None
        count, rest = divmod(minutes, self.unit_minutes)
        if rest:
            raise forms.ValidationError(f"“{text}” is not a whole number of days.")
        if count < self.minimum:
            raise forms.ValidationError(f"“{text}” is too short: a duration must be at least {self._minimum_text()}.")
        return count

    def _minimum_text(self):
        return format_duration_minutes(self.minimum * self.unit_minutes, unit_minutes=self.unit_minutes)


class DayInput(forms.DateInput):
    """The browser's date picker, given its value as it requires (YYYY-MM-DD) whatever the locale's format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
