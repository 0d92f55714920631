"""Objective attainment against hand-computed figures."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sla_registry.attainment import attainments, objectives_below_target
from sla_registry.models import Measurement, ServiceLevelAgreement

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def measure(sla, indicator, days_ago, good, total):
    end = AT - timedelta(days=days_ago)
    return Measurement.objects.create(
        sla=sla, indicator=indicator, period_start=end - timedelta(days=1), period_end=end, good=good, total=total
    )


def loaded(sla):
    return ServiceLevelAgreement.objects.prefetch_related("objectives").filter(pk=sla.pk)


def test_attainment_sums_the_periods_inside_the_window_and_spends_the_error_budget(make_sla):
    sla = make_sla()
    objective = sla.objectives.get()
    objective.target, objective.window, objective.unit = Decimal("99.9"), timedelta(days=28), "%"
    objective.save()
    measure(sla, objective.indicator, 1, 99_950, 100_000)
    measure(sla, objective.indicator, 10, 99_900, 100_000)
    measure(sla, objective.indicator, 40, 0, 100_000)  # outside the 28-day window
    measure(sla, "another objective", 1, 0, 10)

    result = attainments(loaded(sla), at=AT)[(sla.pk, objective.indicator)]

    assert (result.good, result.total, result.periods) == (199_850, 200_000, 2)
    assert result.ratio == Decimal("99.925")
    assert result.met is True
    # 200 events allowed to fail (0.1 % of 200,000); 150 failed: a quarter of the budget is left.
    assert result.allowed_bad == Decimal("200")
    assert result.budget_left == Decimal("25")
    assert objectives_below_target(loaded(sla), at=AT) == []


def test_a_missed_objective_is_below_target_with_its_budget_overspent(make_sla):
    sla = make_sla()
    objective = sla.objectives.get()
    objective.target, objective.unit = Decimal("99.5"), "%"
    objective.save()
    measure(sla, objective.indicator, 2, 9_900, 10_000)

    (below,) = objectives_below_target(loaded(sla), at=AT)
    assert below.objective == objective
    assert below.ratio == Decimal("99")
    assert below.budget_left == Decimal("-100")  # 100 failed of 50 allowed


def test_without_measurements_or_for_a_latency_objective_there_is_no_verdict(make_sla):
    sla = make_sla()
    objective = sla.objectives.get()
    result = attainments(loaded(sla), at=AT)[(sla.pk, objective.indicator)]
    assert (result.has_data, result.met, result.budget_left, result.ratio) == (False, None, None, None)

    objective.unit, objective.target = "ms", Decimal("300")
    objective.save()
    measure(sla, objective.indicator, 1, 90, 100)
    result = attainments(loaded(sla), at=AT)[(sla.pk, objective.indicator)]
    assert result.ratio == Decimal(90) and result.met is None


def test_one_query_for_many_slas(make_sla, django_assert_num_queries):
    slas = [make_sla() for _ in range(5)]
    for sla in slas:
        measure(sla, sla.objectives.get().indicator, 1, 10, 10)
    loaded_slas = list(ServiceLevelAgreement.objects.prefetch_related("objectives"))
    with django_assert_num_queries(1):
        results = attainments(loaded_slas, at=AT)
    assert len(results) == 5 and all(result.total == 10 for result in results.values())
