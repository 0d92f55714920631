"""The demo's objective measurements: two quarters of daily periods telling a story, seeded once."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F

from demo import registry_data as demo_data
from demo.measurements import BELOW_TARGET, BUDGET_NEARLY_SPENT, measured_days, seed_demo_measurements
from sla_registry.attainment import attainments
from sla_registry.models import Measurement, ServiceLevelAgreement

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def seed():
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())


def test_the_measured_days_run_from_the_previous_quarter_to_yesterday():
    days = measured_days(NOW)
    assert (days[0], days[-1], len(days)) == (date(2026, 7, 1), date(2026, 11, 28), 151)
    # On the first day of a quarter the previous quarter is complete and today is not measured yet.
    days = measured_days(datetime(2026, 10, 1, 6, 0, tzinfo=UTC))
    assert (days[0], days[-1]) == (date(2026, 7, 1), date(2026, 9, 30))


def test_the_demo_has_daily_measurements_mostly_met_one_missed_and_one_nearly_spent():
    with time_machine.travel(NOW, tick=False):
        seed()
        slas = list(ServiceLevelAgreement.objects.prefetch_related("objectives"))
        measured = attainments(slas)

    percentage_objectives = sum(1 for spec in demo_data.SLAS for objective in spec.objectives if objective.unit == "%")
    assert Measurement.objects.count() == percentage_objectives * 151
    assert set(Measurement.objects.values_list("source", flat=True)) == {"demo"}
    assert not Measurement.objects.exclude(period_end=F("period_start") + timedelta(days=1)).exists()

    ratio_results = [result for result in measured.values() if result.is_ratio_objective]
    assert len(ratio_results) == percentage_objectives
    verdicts = {result.objective.indicator: result for result in ratio_results}
    below = [indicator for indicator, result in verdicts.items() if result.met is False]
    assert below == [BELOW_TARGET]
    nearly_spent = verdicts[BUDGET_NEARLY_SPENT]
    assert nearly_spent.met is True and 0 < nearly_spent.budget_left < 10
    assert nearly_spent.periods == 28  # one a day over its 28-day window
    healthy = [
        result for result in ratio_results if result.objective.indicator not in (BELOW_TARGET, BUDGET_NEARLY_SPENT)
    ]
    assert all(result.budget_left > 30 for result in healthy)


def test_seeding_again_writes_nothing_and_a_day_later_adds_a_day():
    with time_machine.travel(NOW, tick=False):
        seed()
        stored = list(Measurement.objects.order_by("pk").values_list("pk", "good", "total", "recorded_at"))
        assert seed_demo_measurements(now=NOW) == 0
        seed()
    assert list(Measurement.objects.order_by("pk").values_list("pk", "good", "total", "recorded_at")) == stored

    objectives = len({(sla_id, indicator) for sla_id, indicator in Measurement.objects.values_list("sla", "indicator")})
    assert seed_demo_measurements(now=NOW + timedelta(days=1)) == objectives
    assert Measurement.objects.count() == len(stored) + objectives
