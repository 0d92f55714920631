"""Form fields more than one app's forms share."""

import re

from django import forms

from core.moments import quarter_bounds

# What a person may type for a quarter when the compact form is allowed: "2026Q4",
# "2026 q4", "2026-q4"… (spaces and the hyphen optional, either case).
QUARTER_TEXT = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


class QuarterField(forms.CharField):
    """A quarter as "2026-Q4" (either case, surrounding spaces ignored); empty by default.

    With compact=True it also takes "2026Q4", "2026 q4" and the like, as an
    address may carry them; the cleaned value is always "2026-Q4" or "".
    """

    def __init__(self, *, compact=False, **kwargs):
        self.compact = compact
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "2026-Q4", "size": 8}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if self.compact:
            match = QUARTER_TEXT.match(value or "")
            if match:
                return f"{match[1]}-Q{match[2]}"
        return value

    def clean(self, value):
        value = super().clean(value).strip().upper()
        if value and quarter_bounds(value) is None:
            raise forms.ValidationError("Write a quarter as 2026-Q4.")
        return value
