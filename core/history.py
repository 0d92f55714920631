"""History with django-simple-history: stamping a write with its user and reason, and
reading the rows back.

`change_sets()` turns the historical rows of a document and its children into
what a person reads on a History tab: who changed what, when, why, and for each
field the old and new value. Rows written together (same user, same reason,
within a few seconds) form one change set, as one save of an SLA with its
targets does.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models

from core.templatetags.portal import duration

# Fields every save touches; showing them as "changed" says nothing.
VOLATILE_FIELDS = {"updated_at", "next_review_due", "position"}
# Fields that record governance itself, not the terms: the committee's periodic review sets them
# without a change request, so a write touching only them is no unreviewed edit.
BOOKKEEPING_FIELDS = {"last_reviewed_at"}
GROUPING_WINDOW = timedelta(seconds=5)
LONG_TEXT = 160


@dataclass(frozen=True)
class Reason:
    """Why a row is written: the words, and the change request that writes it (CR-0042), if one does.

    Stored in two fields of the history row (history_change_reason, history_change_request), so nothing
    formats a reference into the words and parses it back out.
    """

    text: str
    change_request: str = ""

    def __str__(self):
        return f"{self.change_request}: {self.text}" if self.change_request else self.text


class ChangeRequestStamp(models.Model):
    """The base of every historical model: which change request wrote the row (empty for any other write)."""

    history_change_request = models.CharField(max_length=20, blank=True, default="", db_index=True)

    class Meta:
        abstract = True


def stamp(instance, acting_user, reason):
    """Tell simple-history who makes the next write of `instance`, and why (a Reason, or plain words)."""
    reason = reason if isinstance(reason, Reason) else Reason(reason)
    instance._history_user = acting_user
    instance._change_reason = reason.text
    instance._history_change_request = reason.change_request


# Rows written before history_change_request existed carried the reference inside the reason ("CR-0042: words").
FORMATTED_REASON = re.compile(r"^(CR-\d+)(?::\s*(.*))?$", re.DOTALL)


def reason_migration(app_label, historical_models):
    """(forward, backward) RunPython functions moving a change request reference out of the reasons of these
    historical models into history_change_request, and back. One mechanism for every app's data migration."""

    def split(apps, schema_editor):
        for name in historical_models:
            model = apps.get_model(app_label, name)
            for row in model.objects.filter(history_change_reason__startswith="CR-").only("history_change_reason"):
                if match := FORMATTED_REASON.match(row.history_change_reason):
                    model.objects.filter(pk=row.pk).update(
                        history_change_request=match.group(1), history_change_reason=match.group(2) or ""
                    )

    def join(apps, schema_editor):
        for name in historical_models:
            model = apps.get_model(app_label, name)
            for row in model.objects.exclude(history_change_request="").only(
                "history_change_reason", "history_change_request"
            ):
                words, reference = row.history_change_reason, row.history_change_request
                model.objects.filter(pk=row.pk).update(
                    history_change_reason=f"{reference}: {words}" if words else reference
                )

    return split, join


def record_change_request(sender, instance, history_instance, **kwargs):
    """pre_create_historical_record: copy the stamped change request onto the history row."""
    history_instance.history_change_request = getattr(instance, "_history_change_request", "") or ""


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    name: str = ""


@dataclass
class HistoryItem:
    """One historical row: an object created, changed or deleted."""

    row: object
    label: str
    changes: list = field(default_factory=list)

    @property
    def action(self):
        return {"+": "created", "~": "changed", "-": "deleted"}[self.row.history_type]


@dataclass
class ChangeSet:
    """The rows one person wrote at once, for one reason.

    For a governed document (`governed`), only a change request may write: rows
    with any other reason were written outside the approval path (the admin, a
    script) and nobody approved them. Elsewhere a write without a reason is the
    unusual one.
    """

    when: object
    user: object
    reason: str
    items: list = field(default_factory=list)
    governed: bool = False
    change_request_reference: str = ""  # the change request that wrote these rows, e.g. CR-0042

    @property
    def is_bookkeeping(self):
        """Only governance bookkeeping changed (a periodic review's last-reviewed time), no term."""
        return all(
            item.row.history_type == "~" and all(change.name in BOOKKEEPING_FIELDS for change in item.changes)
            for item in self.items
        )

    @property
    def is_unreviewed(self):
        if self.governed:
            return not self.change_request_reference and not self.is_bookkeeping
        return not self.reason


class RelatedNames:
    """Names of related rows, loaded once per model, so a history page costs a fixed number of queries."""

    def __init__(self):
        self._names = {}

    def __call__(self, model, pk):
        if pk is None:
            return "—"
        if model not in self._names:
            self._names[model] = {obj.pk: str(obj) for obj in model._default_manager.all()}
        return self._names[model].get(pk, f"(deleted #{pk})")


def _shorten(text):
    text = str(text)
    return text if len(text) <= LONG_TEXT else text[: LONG_TEXT - 1] + "…"


def _display(model_field, value, related_names):
    if value is None or value == "":
        return "—"
    if isinstance(model_field, models.ForeignKey):
        return related_names(model_field.related_model, value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.DurationField):
        return duration(value)
    if isinstance(model_field, models.BooleanField):
        return "yes" if value else "no"
    return _shorten(value)


def _display_many(model_field, through_rows, related_names):
    """Names of the related objects from simple-history's m2m snapshot rows."""
    target_attr = model_field.m2m_reverse_field_name()
    names = sorted(related_names(model_field.related_model, row[target_attr]) for row in through_rows)
    return ", ".join(names) or "—"


def _changes(row, previous, related_names):
    model = row.instance_type
    delta = row.diff_against(previous, excluded_fields=VOLATILE_FIELDS)
    changes = []
    for change in delta.changes:
        model_field = model._meta.get_field(change.field)
        if model_field.many_to_many:
            old = _display_many(model_field, change.old, related_names)
            new = _display_many(model_field, change.new, related_names)
        else:
            old = _display(model_field, change.old, related_names)
            new = _display(model_field, change.new, related_names)
        if old != new:
            changes.append(FieldChange(str(model_field.verbose_name).capitalize(), old, new, change.field))
    return changes


def change_sets(*sources, governed=False):
    """Change sets, newest first, from (historical queryset, label function) pairs.

    A label function takes a historical row and a RelatedNames and says which
    object the row is about, e.g. "Response target SEV1". `governed` marks the
    rows of a governed document (see ChangeSet).
    """
    related_names = RelatedNames()
    items = []
    for queryset, label in sources:
        previous_by_object = {}
        for row in queryset.select_related("history_user").order_by("history_date", "history_id"):
            previous = previous_by_object.get(row.id)
            changes = _changes(row, previous, related_names) if previous and row.history_type == "~" else []
            previous_by_object[row.id] = row
            if row.history_type == "~" and not changes:
                continue  # a save that changed nothing a reader cares about
            items.append(HistoryItem(row=row, label=label(row, related_names), changes=changes))

    items.sort(key=lambda item: (item.row.history_date, item.row.history_id), reverse=True)
    sets = []
    for item in items:
        row = item.row
        current = sets[-1] if sets else None
        if (
            current
            and current.user == row.history_user
            and current.reason == (row.history_change_reason or "")
            and current.change_request_reference == row.history_change_request
            and current.when - row.history_date <= GROUPING_WINDOW
        ):
            current.items.append(item)
        else:
            sets.append(
                ChangeSet(
                    row.history_date,
                    row.history_user,
                    row.history_change_reason or "",
                    [item],
                    governed,
                    change_request_reference=row.history_change_request,
                )
            )
    return sets
