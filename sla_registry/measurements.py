"""The one write path for objective measurements: the CSV import now, an API endpoint later.

`record_measurements(rows, source=…)` takes rows as `(where, values)` pairs, where
`where` says where the row came from ("line 7", "row 3") and `values` maps the
columns (sla, indicator, period_start, period_end, good, total) to text, as a
CSV cell, or to typed values (datetime, date, int), as the demo seeder passes
them. Every row is checked before anything is written; one bad row rejects the
whole batch with every problem named by row and column ("line 7, column good:
1200 is more than total 1000"). A period already stored (same SLA, indicator,
start and end) is refused unless the writer asks to replace it; a replacement is
audited with the figures it replaced, and returned in RecordedMeasurements.
Only the provider team's members (and superusers) record an SLA's measurements,
checked before the rows are: an outsider learns nothing from a batch's errors.

Rules worth knowing:
- the SLA is named by its reference (SLA-0003) and must exist; the indicator must
  be one of that SLA's current objectives, spelt as on the SLA page;
- times are ISO 8601 with a time zone (Z or an offset); a bare date means
  midnight UTC; a time without a zone is refused rather than guessed;
- good and total are whole numbers, at least 0, good at most total. A total of
  0 is allowed: a period without traffic is a fact monitoring can report, and
  attainment simply gains nothing from it.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_date, parse_datetime

from audit.log import record_event
from core.exceptions import NotAllowed
from sla_registry.models import Measurement, ServiceLevelAgreement
from sla_registry.permissions import may_record_measurements

COLUMNS = ("sla", "indicator", "period_start", "period_end", "good", "total")
# PositiveBigIntegerField's largest value on every supported database.
LARGEST_COUNT = 2**63 - 1
WRITE_BATCH = 2000


@dataclass(frozen=True)
class MeasurementError:
    """One problem with one row: where it is, which column, and what is wrong."""

    where: str
    column: str | None
    message: str

    def __str__(self):
        column = f", column {self.column}" if self.column else ""
        return f"{self.where}{column}: {self.message}"


class MeasurementsRejected(ValueError):
    """The batch had problems, so nothing was written. `errors` lists each of them, in row order."""

    def __init__(self, errors):
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''}; nothing was written.")


@dataclass(frozen=True)
class ReplacedMeasurement:
    """One stored period a batch replaced: what was stored before, and what is stored now."""

    sla: str  # the SLA's reference
    indicator: str
    period_start: datetime
    period_end: datetime
    previous_good: int
    previous_total: int
    previous_source: str
    good: int
    total: int

    def as_dict(self):
        return {
            "sla": self.sla,
            "indicator": self.indicator,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "previous": {"good": self.previous_good, "total": self.previous_total, "source": self.previous_source},
            "good": self.good,
            "total": self.total,
        }

    def __str__(self):
        return (
            f"{self.sla} “{self.indicator}” {self.period_start:%Y-%m-%d %H:%M} to {self.period_end:%Y-%m-%d %H:%M} "
            f"UTC: {self.previous_good}/{self.previous_total} replaced by {self.good}/{self.total}"
        )


@dataclass(frozen=True)
class RecordedMeasurements:
    """What a batch wrote: measurements created and replaced (each named), and how many objectives they concern."""

    created: int
    replaced: int
    objectives: int
    replaced_periods: tuple = field(default=())

    @property
    def total(self):
        return self.created + self.replaced


def numbered(rows, *, noun="row", start=1):
    """(where, values) pairs for rows that carry no position of their own: ("row 1", …), ("row 2", …)."""
    return ((f"{noun} {number}", values) for number, values in enumerate(rows, start=start))


def _text(value):
    return "" if value is None else str(value).strip()


def _moment(value):
    """(an aware datetime, None) or (None, why it is not one)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min, tzinfo=UTC)
    else:
        text = _text(value)
        if not text:
            return None, "is empty"
        try:
            # A bare date first: parse_datetime would read "2026-10-01" as a naive midnight.
            day = parse_date(text) if len(text) <= 10 else None
            moment = datetime.combine(day, time.min, tzinfo=UTC) if day else parse_datetime(text)
            if moment is None:
                return None, f"“{text}” is not an ISO 8601 date or date and time (2026-10-01T00:00:00Z)"
        except ValueError:  # well formed but impossible, such as 2026-02-30
            return None, f"“{text}” is not a date that exists"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, f"“{_text(value)}” has no time zone: add Z for UTC or an offset such as +01:00"
    try:
        return moment.astimezone(UTC), None
    except OverflowError:
        return None, f"“{_text(value)}” is out of range"


def _count(value):
    """(a non-negative int, None) or (None, why it is not one)."""
    if isinstance(value, bool):
        return None, f"“{value}” is not a whole number"
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if not text:
            return None, "is empty"
        sign = text[0] if text[0] in "+-" else ""
        digits = text[len(sign) :]
        if not (digits.isascii() and digits.isdigit()):
            return None, f"“{text}” is not a whole number"
        number = -int(digits) if sign == "-" else int(digits)
    if number < 0:
        return None, f"{number} is negative; counts of events start at 0"
    if number > LARGEST_COUNT:
        return None, f"{number} is too large"
    return number, None


def _objectives_listed(sla):
    indicators = [objective.indicator for objective in sla.objectives.all()]
    if not indicators:
        return f"{sla.reference} has no objectives"
    return f"{sla.reference}'s objectives are " + ", ".join(f"“{indicator}”" for indicator in indicators)


def _load_slas(rows):
    """The SLAs the rows name, with their objectives, in two queries."""
    pks = set()
    for _where, values in rows:
        pk = ServiceLevelAgreement.pk_from_reference(_text(values.get("sla")))
        if pk is not None and pk < 2**31:
            pks.add(pk)
    if not pks:
        return {}
    return {
        sla.pk: sla
        for sla in ServiceLevelAgreement.objects.filter(pk__in=pks)
        .select_related("provider_team")
        .prefetch_related("objectives")
    }


def validate_measurements(rows, *, slas=None):
    """Unsaved Measurements for `rows`, or MeasurementsRejected listing every problem (reads, never writes).

    `slas` is what _load_slas(rows) returns, when the caller has loaded them already."""
    rows = list(rows)
    slas = _load_slas(rows) if slas is None else slas
    errors, measurements, first_seen = [], [], {}
    for where, values in rows:
        row_errors = []

        def problem(column, message, where=where, row_errors=row_errors):
            row_errors.append(MeasurementError(where, column, message))

        missing = [column for column in COLUMNS if column not in values]
        if missing:
            problem(None, "missing " + ", ".join(missing))
            errors.extend(row_errors)
            continue

        reference = _text(values["sla"])
        sla = None
        pk = ServiceLevelAgreement.pk_from_reference(reference)
        if not reference:
            problem("sla", "is empty")
        elif pk is None:
            problem("sla", f"“{reference}” is not an SLA reference such as SLA-0003")
        else:
            sla = slas.get(pk)
            if sla is None:
                problem("sla", f"there is no {reference.upper()}")

        indicator = _text(values["indicator"])
        if not indicator:
            problem("indicator", "is empty")
        elif sla is not None and indicator not in {objective.indicator for objective in sla.objectives.all()}:
            problem("indicator", f"{sla.reference} has no objective “{indicator}”; {_objectives_listed(sla)}")

        start, why = _moment(values["period_start"])
        if why:
            problem("period_start", why)
        end, why = _moment(values["period_end"])
        if why:
            problem("period_end", why)
        if start and end and end <= start:
            problem(
                "period_end",
                f"the period ends at {end:%Y-%m-%d %H:%M:%S} UTC, which is not after its start "
                f"({start:%Y-%m-%d %H:%M:%S} UTC)",
            )

        good, why = _count(values["good"])
        if why:
            problem("good", why)
        total, why = _count(values["total"])
        if why:
            problem("total", why)
        if good is not None and total is not None and good > total:
            problem("good", f"{good} is more than total {total}")

        if not row_errors and sla is not None:
            key = (sla.pk, indicator, start, end)
            if key in first_seen:
                problem(None, f"repeats the period of {first_seen[key]} for {sla.reference} “{indicator}”")
            else:
                first_seen[key] = where
        if row_errors:
            errors.extend(row_errors)
        elif not errors:  # once a row is bad nothing is written, so stop building
            measurements.append(
                Measurement(sla=sla, indicator=indicator, period_start=start, period_end=end, good=good, total=total)
            )
    if errors:
        raise MeasurementsRejected(errors)
    return measurements


def _stored(measurements, *, lock):
    """{(sla, indicator, start, end): (good, total, source)} of the periods among `measurements` already stored.

    One query; with `lock`, the stored rows stay locked until the transaction ends, so the figures
    audited as replaced are the ones the write replaces.
    """
    if not measurements:
        return {}
    starts = [measurement.period_start for measurement in measurements]
    stored = Measurement.objects.filter(
        sla_id__in={measurement.sla_id for measurement in measurements},
        period_start__gte=min(starts),
        period_start__lte=max(starts),
    )
    if lock:
        stored = stored.select_for_update()
    wanted = {_key(measurement) for measurement in measurements}
    found = {}
    for sla_id, indicator, start, end, good, total, source in stored.values_list(
        "sla_id", "indicator", "period_start", "period_end", "good", "total", "source"
    ):
        if (sla_id, indicator, start, end) in wanted:
            found[sla_id, indicator, start, end] = (good, total, source)
    return found


def _key(measurement):
    return (measurement.sla_id, measurement.indicator, measurement.period_start, measurement.period_end)


def _refuse_outsiders(slas, acting_user):
    """NotAllowed unless `acting_user` may record for every one of `slas` (None: the system itself)."""
    if acting_user is None:
        return
    refused = sorted(sla.reference for sla in slas if not may_record_measurements(acting_user, sla))
    if refused:
        raise NotAllowed(
            f"Only members of the provider team record measurements of {', '.join(refused)}; nothing was written."
        )


def _clashing(wheres, measurements, stored):
    """[(where, measurement)] of the measurements whose period is among `stored`."""
    pairs = zip(wheres, measurements, strict=True)
    return [(where, measurement) for where, measurement in pairs if _key(measurement) in stored]


def _clash_errors(clashing):
    return [
        MeasurementError(
            where,
            None,
            f"{measurement.sla.reference} “{measurement.indicator}” already has a measurement for "
            f"{measurement.period_start:%Y-%m-%d %H:%M} to {measurement.period_end:%Y-%m-%d %H:%M} UTC; "
            "send it with replace to replace the stored figures",
        )
        for where, measurement in clashing
    ]


def _write(wheres, measurements, *, source, acting_user, replace):
    """The write itself, in the caller's transaction: (clashing rows, replaced periods)."""
    stored = _stored(measurements, lock=replace)
    clashing = _clashing(wheres, measurements, stored)
    if clashing and not replace:
        raise MeasurementsRejected(_clash_errors(clashing))
    for first in range(0, len(measurements), WRITE_BATCH):
        batch = measurements[first : first + WRITE_BATCH]
        if replace:
            Measurement.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["sla", "indicator", "period_start", "period_end"],
                update_fields=["good", "total", "source", "recorded_at"],
            )
        else:
            # A plain insert: a period stored since the check above fails the batch rather than being replaced.
            Measurement.objects.bulk_create(batch)
    replaced = []
    for _where, measurement in clashing:
        previous_good, previous_total, previous_source = stored[_key(measurement)]
        replaced.append(
            ReplacedMeasurement(
                sla=measurement.sla.reference,
                indicator=measurement.indicator,
                period_start=measurement.period_start,
                period_end=measurement.period_end,
                previous_good=previous_good,
                previous_total=previous_total,
                previous_source=previous_source,
                good=measurement.good,
                total=measurement.total,
            )
        )
    by_sla = {}
    for (_where, measurement), replacement in zip(clashing, replaced, strict=True):
        by_sla.setdefault(measurement.sla, []).append(replacement)
    for sla, replacements in by_sla.items():
        record_event(
            "measurements.replaced",
            sla,
            actor=acting_user,
            payload={
                "source": source,
                "count": len(replacements),
                # The first 100 periods, each with the figures it replaced (the audit log keeps them).
                "periods": [replacement.as_dict() for replacement in replacements[:100]],
            },
        )
    return clashing, replaced


def _overlap_errors(wheres, measurements):
    """A row whose period overlaps another period of the same objective, stored or in the batch, without being it.

    Attainment adds up periods: two overlapping ones would count the same events twice. The same period
    again is a replacement (handled by `replace`), not an overlap. One query.
    """
    if not measurements:
        return []
    periods = {}  # (sla, indicator) -> [(start, end, where or None for stored)]
    stored = Measurement.objects.filter(
        sla_id__in={measurement.sla_id for measurement in measurements},
        indicator__in={measurement.indicator for measurement in measurements},
        period_start__lt=max(measurement.period_end for measurement in measurements),
        period_end__gt=min(measurement.period_start for measurement in measurements),
    ).values_list("sla_id", "indicator", "period_start", "period_end")
    for sla_id, indicator, start, end in stored:
        periods.setdefault((sla_id, indicator), []).append((start, end, None))
    errors = []
    for where, measurement in zip(wheres, measurements, strict=True):
        objective = (measurement.sla_id, measurement.indicator)
        start, end = measurement.period_start, measurement.period_end
        for other_start, other_end, other_where in periods.get(objective, []):
            if (other_start, other_end) != (start, end) and other_start < end and other_end > start:
                which = f"the period of {other_where}" if other_where else "a stored period"
                errors.append(
                    MeasurementError(
                        where,
                        "period_start",
                        f"{measurement.sla.reference} “{measurement.indicator}” {start:%Y-%m-%d %H:%M} to "
                        f"{end:%Y-%m-%d %H:%M} UTC overlaps {which}, {other_start:%Y-%m-%d %H:%M} to "
                        f"{other_end:%Y-%m-%d %H:%M} UTC; events would be counted twice",
                    )
                )
                break
        periods.setdefault(objective, []).append((start, end, where))
    return errors


def record_measurements(rows, *, source, acting_user, replace=False):
    """Validate every row, then write them all (or nothing) in one transaction.

    Only the provider team's members and superusers (or the system, acting_user=None) record an SLA's
    measurements; that is checked first, for every SLA the rows name, before the rows themselves. A period
    already stored is never replaced silently: without `replace` the batch is refused, naming each such
    row; with it the stored figures are replaced, and each replacement is audited (measurements.replaced,
    with the figures replaced) and returned in RecordedMeasurements.replaced_periods.
    Returns RecordedMeasurements; raises MeasurementsRejected or NotAllowed, with nothing written.
    """
    rows = list(rows)
    slas = _load_slas(rows)
    _refuse_outsiders(slas.values(), acting_user)
    measurements = validate_measurements(rows, slas=slas)
    wheres = [where for where, _values in rows]
    overlapping = _overlap_errors(wheres, measurements)
    if overlapping:
        raise MeasurementsRejected(overlapping)
    for measurement in measurements:
        measurement.source = source
    try:
        with transaction.atomic():
            clashing, replaced = _write(wheres, measurements, source=source, acting_user=acting_user, replace=replace)
    except IntegrityError:
        # Another writer stored one of these periods between the check and the insert: name it, as above.
        if replace:
            raise
        clashing = _clashing(wheres, measurements, _stored(measurements, lock=False))
        if not clashing:
            raise
        raise MeasurementsRejected(_clash_errors(clashing)) from None
    return RecordedMeasurements(
        created=len(measurements) - len(clashing),
        replaced=len(clashing),
        objectives=len({(m.sla_id, m.indicator) for m in measurements}),
        replaced_periods=tuple(replaced),
    )


__all__ = [
    "COLUMNS",
    "MeasurementError",
    "MeasurementsRejected",
    "RecordedMeasurements",
    "ReplacedMeasurement",
    "numbered",
    "record_measurements",
    "validate_measurements",
]
