"""Incident metrics and SLA breach figures.

Pure functions over times and agreement snapshots, so every figure can be
recomputed (and property-tested) from what the review pinned. Definitions:

- time to detect      = detected − started
- time to acknowledge = acknowledged − detected
- time to restore     = restored − started
- time to resolve     = resolved − started

A response target is checked against the matching measure. A business-hours
target counts only the provider team's working hours over the same interval.

A point the incident never reached (no acknowledgement recorded, say) is not a
target met: the clock ran from the interval's start until the incident was
resolved, or until now while it is not, and once that is longer than the target,
the target is breached. So a SEV1 that ran 33 hours without being acknowledged
breaches its acknowledge target; only while the clock is still within the target
is the point "not reached yet".
"""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from core.templatetags.portal import duration
from reviews.models.reviews import INCIDENT_TIMES

# measure -> (the snapshot's target field, the interval's start and end on the review)
MEASURES = {
    "acknowledge": ("time_to_acknowledge_minutes", "detected_at", "acknowledged_at"),
    "restore": ("time_to_restore_minutes", "started_at", "restored_at"),
    "resolve": ("time_to_resolve_minutes", "started_at", "resolved_at"),
}


@dataclass(frozen=True)
class IncidentTimes:
    started_at: object
    detected_at: object = None
    acknowledged_at: object = None
    restored_at: object = None
    resolved_at: object = None

    @classmethod
    def of(cls, review):
        return cls(*(getattr(review, name) for name in INCIDENT_TIMES))

    def between(self, start_field, end_field):
        start, end = getattr(self, start_field), getattr(self, end_field)
        return None if start is None or end is None else end - start


@dataclass(frozen=True)
class IncidentMetrics:
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_restore: timedelta | None
    time_to_resolve: timedelta | None

    @classmethod
    def of(cls, times):
        return cls(
            times.between("started_at", "detected_at"),
            times.between("detected_at", "acknowledged_at"),
            times.between("started_at", "restored_at"),
            times.between("started_at", "resolved_at"),
        )


@dataclass(frozen=True)
class TargetCheck:
    """One response target measured against the incident: "SEV1 acknowledge target 15 min, took 22 min"."""

    severity: str
    category: str | None
    measure: str
    target: timedelta
    took: timedelta | None  # None: the incident has not reached that point (see `waited`)
    business_hours: bool
    # Without `took`: how long the clock ran without reaching the point, until the incident was resolved (or now).
    waited: timedelta | None = None
    still_open: bool = False  # without `took`: the incident is not resolved, so the clock is still running

    @property
    def breached(self):
        return self.overrun is not None and self.overrun > self.target

    @property
    def overrun(self):
        """The time the measure counts: what it took, or how long the clock ran without reaching the point."""
        return self.took if self.took is not None else self.waited

    @property
    def breached_by(self):
        return self.overrun - self.target if self.breached else timedelta(0)

    def __str__(self):
        name = f"{self.severity}{f' ({self.category})' if self.category else ''} {self.measure} target"
        hours = " in business hours" if self.business_hours else ""
        if self.took is None:
            if self.breached:
                ran = "so far" if self.still_open else "until resolved"
                return (
                    f"{name} {duration(self.target)}{hours}: not reached in {duration(self.waited)} {ran}: "
                    f"breached by {duration(self.breached_by)}"
                )
            return f"{name} {duration(self.target)}{hours}: {'not reached yet' if self.still_open else 'not recorded'}"
        verdict = f"breached by {duration(self.breached_by)}" if self.breached else "met"
        return f"{name} {duration(self.target)}{hours}, took {duration(self.took)}: {verdict}"


def matching_target(sla_snapshot, severity, category):
    """The target for this severity and category, falling back to the severity's any-category target."""
    targets = [target for target in sla_snapshot.get("response_targets", []) if target["severity"] == severity]
    for wanted in (category, None):
        for target in targets:
            if target["category"] == wanted:
                return target
    return None


def check_targets(times, severity, category, sla_snapshot, working_week, now=None):
    """TargetChecks of every measure the matching target sets; [] when the SLA has no target for it.

    A point not reached is measured up to the resolution, or `now` (the current time by
    default) while the incident is not resolved; an interval whose start was not recorded
    (no detection time) runs from the incident's start.
    """
    target = matching_target(sla_snapshot, severity, category)
    if target is None:
        return []
    business_hours = target["coverage"] == "business_hours"

    def elapsed(start, end):
        if start is None or end is None or end < start:
            return None
        return working_week.working_time_between(start, end) if business_hours else end - start

    checks = []
    for measure, (field, start_field, end_field) in MEASURES.items():
        start, end = getattr(times, start_field), getattr(times, end_field)
        took = elapsed(start, end)
        waited, still_open = None, False
        if end is None:
            still_open = times.resolved_at is None
            until = times.resolved_at if not still_open else (now or timezone.now())
            waited = elapsed(start or times.started_at, until)
        checks.append(
            TargetCheck(
                severity=severity,
                category=target["category"],
                measure=measure,
                target=timedelta(minutes=target[field]),
                took=took,
                business_hours=business_hours,
                waited=waited,
                still_open=still_open,
            )
        )
    return checks


# Summaries over many incidents ---------------------------------------------------

METRICS = (
    ("time_to_detect", "Time to detect"),
    ("time_to_acknowledge", "Time to acknowledge"),
    ("time_to_restore", "Time to restore"),
    ("time_to_resolve", "Time to resolve"),
)


def _seconds(values):
    return sorted(value.total_seconds() for value in values if value is not None)


def median_of(values):
    seconds = _seconds(values)
    return timedelta(seconds=statistics.median(seconds)) if seconds else None


def p90_of(values):
    seconds = _seconds(values)
    if not seconds:
        return None
    if len(seconds) == 1:
        return timedelta(seconds=seconds[0])
    return timedelta(seconds=statistics.quantiles(seconds, n=10, method="inclusive")[-1])
