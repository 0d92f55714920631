"""Daily measurements for the demo SLAs' percentage objectives, so attainment and scorecards have something to show.

Covers the previous quarter and the current one up to the last whole day (UTC),
one period per objective and day. The figures are made up but stable: each day's
volume and failures follow from the objective and the date, so seeding again on
the same day writes nothing, and on a later day adds only the days since.

Most objectives stay well within target. Two tell a story:
- Search has been degrading for five weeks and is below its 99.5 % target over its
  current 28-day window;
- Checkout is within target but has spent about 94 % of its error budget.

Written through sla_registry.measurements.record_measurements, the same path as the
CSV import, in one bulk write.
"""

import zlib
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from core.moments import quarter_start
from demo import registry_data as demo_data
from sla_registry.measurements import numbered, record_measurements
from sla_registry.models import Measurement, ServiceLevelAgreement

SOURCE = "demo"
BELOW_TARGET = "Search requests that return results without error"
BUDGET_NEARLY_SPENT = "Checkout requests that succeed"
# How the Search degradation runs: this many days ago it began failing at 1.6 × what its budget allows.
DEGRADED_FOR_DAYS = 35


def measured_days(now):
    """The whole UTC days from the start of the previous quarter to yesterday, oldest first."""
    today = now.astimezone(UTC).date()
    first = quarter_start(quarter_start(today) - timedelta(days=1))
    return [first + timedelta(days=offset) for offset in range((today - first).days)]


def _spread(*parts):
    """A stable number in [0, 1) for these parts (the same on every run and machine)."""
    return zlib.crc32("|".join(str(part) for part in parts).encode()) / 2**32


def budget_spent(indicator, day, today):
    """The share of the day's error budget that failed: about 0.94 for Checkout, 1.6 for degraded Search."""
    if indicator == BUDGET_NEARLY_SPENT:
        return 0.92 + 0.04 * _spread(indicator, day, "spent")
    if indicator == BELOW_TARGET and (today - day).days <= DEGRADED_FOR_DAYS:
        return 1.5 + 0.2 * _spread(indicator, day, "spent")
    return 0.05 + 0.5 * _spread(indicator, day, "spent")


def daily_figures(objective, day, today):
    """(good, total) for one objective and day."""
    total = 200_000 + int(800_000 * _spread(objective.indicator, day, "volume"))
    allowed = (Decimal(100) - objective.target) / 100 * total
    bad = min(total, int(allowed * Decimal(str(budget_spent(objective.indicator, day, today)))))
    return total - bad, total


def demo_slas():
    titles = [spec.title for spec in demo_data.SLAS]
    services = [spec.service for spec in demo_data.SLAS]
    wanted = set(zip(titles, services, strict=True))
    slas = ServiceLevelAgreement.objects.filter(title__in=titles, service__slug__in=services).select_related("service")
    return [sla for sla in slas.prefetch_related("objectives") if (sla.title, sla.service.slug) in wanted]


def seed_demo_measurements(now=None):
    """Write the measurements the demo is missing; returns how many were written (0 when all are there)."""
    now = now or timezone.now()
    days = measured_days(now)
    slas = demo_slas()
    if not days or not slas:
        return 0
    today = now.astimezone(UTC).date()
    first_start = datetime.combine(days[0], time.min, tzinfo=UTC)
    stored = set(
        Measurement.objects.filter(sla__in=slas, period_start__gte=first_start).values_list(
            "sla_id", "indicator", "period_start"
        )
    )
    rows = []
    for sla in slas:
        for objective in sla.objectives.all():
            if objective.unit != "%":
                continue
            for day in days:
                start = datetime.combine(day, time.min, tzinfo=UTC)
                if (sla.pk, objective.indicator, start) in stored:
                    continue
                good, total = daily_figures(objective, day, today)
                rows.append(
                    {
                        "sla": sla.reference,
                        "indicator": objective.indicator,
                        "period_start": start,
                        "period_end": start + timedelta(days=1),
                        "good": good,
                        "total": total,
                    }
                )
    if not rows:
        return 0
    return record_measurements(numbered(rows), source=SOURCE, acting_user=None).total
