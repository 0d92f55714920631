"""Objective attainment: what monitoring measured against what an SLA promises.

An objective such as "99.95 % of checkouts succeed over 28 days" is attained in
a window when good / total events over the measurement periods that ended inside
the window reach the target. Its error budget is the share of events allowed to
fail ((100 - target) % of the total); what is left is the part of that budget not
yet spent. Only percentage objectives have a target to compare; for others the
measured ratio is shown without a verdict.

`attainments(slas, at)` reads every measurement it needs in one query, whatever
the number of SLAs and objectives.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from sla_registry.models import Measurement


@dataclass
class Attainment:
    objective: object  # sla_registry.Objective
    window_start: datetime
    window_end: datetime
    good: int = 0
    total: int = 0
    periods: int = 0

    @property
    def has_data(self):
        return self.total > 0

    @property
    def is_ratio_objective(self):
        return self.objective.unit == "%"

    @property
    def ratio(self):
        """Good events as a percentage of all events, or None without data."""
        return Decimal(self.good) * 100 / Decimal(self.total) if self.total else None

    @property
    def met(self):
        """True or False for a percentage objective with data; None when there is nothing to judge."""
        if not (self.has_data and self.is_ratio_objective):
            return None
        return self.ratio >= self.objective.target

    @property
    def allowed_bad(self):
        """How many events the error budget lets fail in this window."""
        return (Decimal(100) - self.objective.target) / 100 * self.total

    @property
    def budget_left(self):
        """The share of the error budget not yet spent, in percent (negative once overspent), or None."""
        if not (self.has_data and self.is_ratio_objective):
            return None
        bad = Decimal(self.total - self.good)
        if self.allowed_bad == 0:
            return Decimal(100) if bad == 0 else Decimal(-100)
        return (1 - bad / self.allowed_bad) * 100


def attainments(slas, *, at=None):
    """{(sla_id, indicator): Attainment} for every objective of `slas` (objectives prefetched), in one query."""
    at = at or timezone.now()
    objectives = [objective for sla in slas for objective in sla.objectives.all()]
    results = {
        (objective.sla_id, objective.indicator): Attainment(objective, at - objective.window, at)
        for objective in objectives
    }
    if not results:
        return results
    longest = max(objective.window for objective in objectives)
    measurements = Measurement.objects.filter(
        sla_id__in={objective.sla_id for objective in objectives}, period_end__gt=at - longest, period_end__lte=at
    ).values_list("sla_id", "indicator", "period_end", "good", "total")
    for sla_id, indicator, period_end, good, total in measurements:
        attainment = results.get((sla_id, indicator))
        if attainment is not None and period_end > attainment.window_start:
            attainment.good += good
            attainment.total += total
            attainment.periods += 1
    return results


def objectives_below_target(slas, *, at=None):
    """The attainments of percentage objectives that miss their target in their current window."""
    return [attainment for attainment in attainments(slas, at=at).values() if attainment.met is False]


__all__ = ["Attainment", "attainments", "objectives_below_target"]
