"""Reading a proposed document (JSON from the editor, the API or an import) into
typed values, collecting every problem with its path ("steps[2].wait_minutes")
instead of stopping at the first. Adapters use it in their validate()."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from approvals.registry import normalise_text


class DocumentReader:
    def __init__(self, data, *, path="", errors=None):
        self.data = data if isinstance(data, dict) else {}
        self.path = path
        self.errors = errors if errors is not None else defaultdict(list)
        if not isinstance(data, dict):
            self.error("", "Expected an object.")

    def _key(self, name):
        if not name:
            return self.path or "__all__"
        return f"{self.path}.{name}" if self.path else name

    def error(self, name, message):
        self.errors[self._key(name)].append(message)

    def raise_if_errors(self):
        if self.errors:
            raise ValidationError(dict(self.errors))

    def text(self, name, *, required=False, default=""):
        value = self.data.get(name, default)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(name, "Expected text.")
            return default
        value = normalise_text(value)
        if required and not value:
            self.error(name, "This field is required.")
        return value

    def boolean(self, name, *, default=False):
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.error(name, "Expected true or false.")
            return default
        return value

    def integer(self, name, *, required=True, default=None):
        value = self.data.get(name, default)
        if value is None or value == "":
            if required:
                self.error(name, "This field is required.")
            return None
        if isinstance(value, bool):
            self.error(name, "Expected a whole number.")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.error(name, f"Expected a whole number, got {str(value)[:40]!r}.")
            return None
        return number

    def minutes(self, name, *, required=True):
        """A duration given in whole minutes; negative values come back negative for the model to refuse."""
        number = self.integer(name, required=required)
        return None if number is None else timedelta(minutes=number)

    def days(self, name, *, required=True):
        number = self.integer(name, required=required)
        return None if number is None else timedelta(days=number)

    def decimal(self, name):
        value = self.data.get(name)
        if value is None or value == "":
            self.error(name, "This field is required.")
            return None
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            self.error(name, f"Expected a number, got {str(value)[:40]!r}.")
            return None
        if not number.is_finite():
            self.error(name, "Expected a finite number.")
            return None
        return number

    def datetime(self, name):
        value = self.data.get(name)
        if value in (None, ""):
            return None
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.error(name, "Expected a date and time such as 2026-12-01T09:00:00Z.")
        elif parsed.tzinfo is None:
            self.error(name, "Give a time zone, e.g. 2026-12-01T09:00:00Z.")
            return None
        return parsed

    def choice(self, name, choices, *, default=None, required=False):
        value = self.data.get(name, default)
        if value in (None, ""):
            if required:
                self.error(name, "This field is required.")
            return default or ""
        if value not in choices.values:
            allowed = ", ".join(choices.values)
            self.error(name, f"{str(value)[:40]!r} is not one of: {allowed}.")
            return default or ""
        return value

    def lookup(self, name, objects_by_key, noun, *, required=True):
        """The object named by a key (a slug, SEV1…) among `objects_by_key`."""
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.error(name, "This field is required.")
            return None
        found = objects_by_key.get(value) if isinstance(value, str) else None
        if found is None:
            self.error(name, f"No {noun} {str(value)[:60]!r}.")
        return found

    def lookup_many(self, name, objects_by_key, noun):
        values = self.data.get(name) or []
        if not isinstance(values, list):
            self.error(name, "Expected a list.")
            return []
        found = []
        for value in values:
            item = objects_by_key.get(value) if isinstance(value, str) else None
            if item is None:
                self.error(name, f"No {noun} {str(value)[:60]!r}.")
            elif item not in found:
                found.append(item)
        return found

    def items(self, name):
        """Readers for each object of a list field."""
        values = self.data.get(name) or []
        if not isinstance(values, list):
            self.error(name, "Expected a list.")
            return []
        return [
            DocumentReader(value, path=f"{self._key(name)}[{index}]", errors=self.errors)
            for index, value in enumerate(values)
        ]
