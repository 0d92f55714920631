"""Recording objective measurements: the write path's checks, all-or-nothing, replacement, and the CSV import."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sla_registry.measurements import MeasurementsRejected, numbered, record_measurements
from sla_registry.models import Measurement, Objective

pytestmark = pytest.mark.django_db

HEADER = "sla,indicator,period_start,period_end,good,total"
DAY = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def sla(make_sla):
    return make_sla(
        objectives=[
            Objective(indicator="Checkout requests that succeed", target=Decimal("99.9"), unit="%", position=1),
            Objective(indicator="Place-order latency, p95", target=Decimal("1200"), unit="ms", position=2),
        ]
    )


def row(sla, /, **changes):
    values = {
        "sla": sla.reference,
        "indicator": "Checkout requests that succeed",
        "period_start": "2026-10-01T00:00:00Z",
        "period_end": "2026-10-02T00:00:00Z",
        "good": "99950",
        "total": "100000",
    }
    return {**values, **changes}


def rejected(rows):
    with pytest.raises(MeasurementsRejected) as caught:
        record_measurements(numbered(rows), source="test", acting_user=None)
    assert Measurement.objects.count() == 0
    return [str(error) for error in caught.value.errors]


def test_valid_rows_are_written_with_their_source(sla):
    recorded = record_measurements(
        numbered(
            [
                row(sla),
                row(sla, period_start="2026-10-02T00:00:00Z", period_end="2026-10-03T00:00:00Z", good="99000"),
                row(sla, indicator="Place-order latency, p95", good="95", total="100"),
            ]
        ),
        source="csv",
        acting_user=None,
    )

    assert (recorded.created, recorded.replaced, recorded.objectives, recorded.total) == (3, 0, 2, 3)
    stored = list(
        Measurement.objects.order_by("indicator", "period_start").values_list(
            "indicator", "period_start", "period_end", "good", "total", "source"
        )
    )
    assert stored == [
        ("Checkout requests that succeed", DAY, DAY + timedelta(days=1), 99_950, 100_000, "csv"),
        ("Checkout requests that succeed", DAY + timedelta(days=1), DAY + timedelta(days=2), 99_000, 100_000, "csv"),
        ("Place-order latency, p95", DAY, DAY + timedelta(days=1), 95, 100, "csv"),
    ]


def test_dates_mean_midnight_utc_and_offsets_are_converted(sla):
    record_measurements(
        numbered(
            [
                row(sla, period_start="2026-10-01", period_end="2026-10-02"),
                row(sla, period_start="2026-10-02T02:00:00+02:00", period_end="2026-10-03T00:00:00+00:00"),
                row(sla, period_start=date(2026, 10, 3), period_end=datetime(2026, 10, 4, tzinfo=UTC), good=5, total=5),
            ]
        ),
        source="api",
        acting_user=None,
    )
    assert list(Measurement.objects.order_by("period_start").values_list("period_start", flat=True)) == [
        DAY,
        DAY + timedelta(days=1),  # 02:00 at +02:00 is midnight UTC
        DAY + timedelta(days=2),
    ]


def test_a_period_without_traffic_is_allowed(sla):
    record_measurements(numbered([row(sla, good="0", total="0")]), source="test", acting_user=None)
    assert Measurement.objects.get().total == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sla": "SLA-9999"}, "row 1, column sla: there is no SLA-9999"),
        ({"sla": "Checkout SLA"}, "row 1, column sla: “Checkout SLA” is not an SLA reference such as SLA-0003"),
        ({"sla": ""}, "row 1, column sla: is empty"),
        (
            {"indicator": "Checkout availability"},
            "row 1, column indicator: {ref} has no objective “Checkout availability”; {ref}'s objectives are "
            "“Checkout requests that succeed”, “Place-order latency, p95”",
        ),
        (
            {"period_start": "yesterday"},
            "row 1, column period_start: “yesterday” is not an ISO 8601 date or date and time (2026-10-01T00:00:00Z)",
        ),
        ({"period_start": "2026-02-30"}, "row 1, column period_start: “2026-02-30” is not a date that exists"),
        (
            {"period_end": "2026-10-02T00:00:00"},
            "row 1, column period_end: “2026-10-02T00:00:00” has no time zone: add Z for UTC or an offset such as "
            "+01:00",
        ),
        (
            {"period_end": "2026-10-01T00:00:00Z"},
            "row 1, column period_end: the period ends at 2026-10-01 00:00:00 UTC, which is not after its start "
            "(2026-10-01 00:00:00 UTC)",
        ),
        ({"good": "-5"}, "row 1, column good: -5 is negative; counts of events start at 0"),
        ({"total": "1e5"}, "row 1, column total: “1e5” is not a whole number"),
        ({"total": "99.5"}, "row 1, column total: “99.5” is not a whole number"),
        ({"good": ""}, "row 1, column good: is empty"),
        ({"total": str(2**63)}, f"row 1, column total: {2**63} is too large"),
        ({"good": "1200", "total": "1000"}, "row 1, column good: 1200 is more than total 1000"),
    ],
)
def test_each_problem_is_named_by_row_and_column(sla, changes, message):
    assert rejected([row(sla, **changes)]) == [message.format(ref=sla.reference)]


def test_an_sla_without_objectives_says_so(make_sla):
    bare = make_sla(objectives=[])
    assert rejected([row(bare)]) == [
        f"row 1, column indicator: {bare.reference} has no objective “Checkout requests that succeed”; "
        f"{bare.reference} has no objectives"
    ]


def test_a_missing_column_and_a_repeated_period_are_rejected(sla):
    incomplete = row(sla)
    del incomplete["total"]
    assert rejected([row(sla), incomplete, row(sla)]) == [
        "row 2: missing total",
        f"row 3: repeats the period of row 1 for {sla.reference} “Checkout requests that succeed”",
    ]


def test_every_problem_is_reported_and_nothing_is_written(sla):
    errors = rejected([row(sla), row(sla, good="x", total="-1", period_start="soon"), row(sla, sla="SLA-0")])
    assert errors == [
        "row 2, column period_start: “soon” is not an ISO 8601 date or date and time (2026-10-01T00:00:00Z)",
        "row 2, column good: “x” is not a whole number",
        "row 2, column total: -1 is negative; counts of events start at 0",
        "row 3, column sla: there is no SLA-0",
    ]


def test_a_rejected_batch_leaves_what_was_stored_untouched(sla):
    record_measurements(numbered([row(sla)]), source="first", acting_user=None)
    with pytest.raises(MeasurementsRejected):
        record_measurements(
            numbered([row(sla, good="10"), row(sla, good="5", total="1")]), source="second", acting_user=None
        )
    assert Measurement.objects.values_list("good", "source").get() == (99_950, "first")


def test_a_period_sent_again_is_refused_unless_replacing_and_a_replacement_is_audited(sla):
    from audit.models import AuditEvent

    record_measurements(numbered([row(sla)]), source="csv", acting_user=None)
    again = list(numbered([row(sla, good="98000"), row(sla, period_start="2026-10-02", period_end="2026-10-03")]))
    with pytest.raises(MeasurementsRejected) as refused:
        record_measurements(again, source="api", acting_user=None)
    assert [str(error) for error in refused.value.errors] == [
        f"row 1: {sla.reference} “Checkout requests that succeed” already has a measurement for "
        "2026-10-01 00:00 to 2026-10-02 00:00 UTC; send it with replace to replace the stored figures"
    ]
    assert Measurement.objects.values_list("good", "source").get() == (99_950, "csv")

    recorded = record_measurements(again, source="api", acting_user=None, replace=True)
    assert (recorded.created, recorded.replaced) == (1, 1)
    assert list(Measurement.objects.order_by("period_start").values_list("good", "source")) == [
        (98_000, "api"),
        (99_950, "api"),
    ]
    event = AuditEvent.objects.get(action="measurements.replaced")
    assert (event.object_id, event.payload["count"], event.payload["source"]) == (str(sla.pk), 1, "api")


def test_only_the_provider_team_records_an_sla_measurements(sla, make_user):
    from core.exceptions import NotAllowed

    outsider = make_user("checkout.engineer")
    with pytest.raises(NotAllowed, match=f"Only members of the provider team record measurements of {sla.reference}"):
        record_measurements(numbered([row(sla)]), source="api", acting_user=outsider)
    assert not Measurement.objects.exists()
    insider = make_user("provider.engineer", teams=[sla.provider_team])
    assert record_measurements(numbered([row(sla)]), source="api", acting_user=insider).created == 1


# The import command ----------------------------------------------------------


def write_csv(tmp_path, lines, *, name="measurements.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture
def importer(make_user, sla):
    return make_user("provider.importer", teams=[sla.provider_team])


def run(path, capsys, *options, user="provider.importer"):
    call_command("import_measurements", str(path), "--user", user, *options)
    return capsys.readouterr()


def test_the_import_reports_what_it_wrote_and_replaces_on_a_second_run_only_when_asked(sla, importer, tmp_path, capsys):
    ref = sla.reference
    path = write_csv(
        tmp_path,
        [
            HEADER,
            f"{ref},Checkout requests that succeed,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,99950,100000",
            f"{ref},Checkout requests that succeed,2026-10-02,2026-10-03,99900,100000",
            f'{ref},"Place-order latency, p95",2026-10-01T00:00:00+00:00,2026-10-02T00:00:00+00:00,95,100',
            "",
        ],
    )
    out = run(path, capsys).out
    assert out.strip() == f"Imported 3 measurements for 2 objectives from {path} (0 replaced)"
    assert Measurement.objects.filter(source="csv").count() == 3

    with pytest.raises(CommandError, match="3 errors in"):
        run(path, capsys)
    assert "already has a measurement" in capsys.readouterr().err
    out = run(path, capsys, "--replace").out
    assert out.strip() == f"Imported 3 measurements for 2 objectives from {path} (3 replaced)"
    assert Measurement.objects.count() == 3


def test_a_file_with_errors_lists_them_by_line_exits_non_zero_and_writes_nothing(sla, importer, tmp_path, capsys):
    ref = sla.reference
    good_line = f"{ref},Checkout requests that succeed,2026-10-01,2026-10-02,10,10"
    bad_lines = [
        f"{ref},Checkout requests that succeed,2026-10-{day:02d},2026-10-{day + 1:02d},12,10" for day in range(2, 27)
    ]
    path = write_csv(tmp_path, [HEADER, good_line, "SLA-9999,Nope,2026-10-01,2026-10-02,1,1", *bad_lines])

    with pytest.raises(CommandError) as caught:
        run(path, capsys)

    assert caught.value.returncode == 1  # what manage.py exits with
    assert str(caught.value) == f"26 errors in {path}; nothing was imported. Fix them and run again."
    shown = capsys.readouterr().err.splitlines()
    assert shown[0] == "line 3, column sla: there is no SLA-9999"
    assert shown[1] == "line 4, column good: 12 is more than total 10"
    assert len(shown) == 21 and shown[-1] == "… and 6 more."
    assert Measurement.objects.count() == 0


def test_missing_columns_are_named(sla, importer, tmp_path, capsys):
    path = write_csv(tmp_path, ["sla,indicator,start,end,good,total", f"{sla.reference},x,a,b,1,1"])
    with pytest.raises(CommandError) as caught:
        run(path, capsys)
    assert str(caught.value) == (
        f"{path} lacks the columns period_start, period_end: the header must be "
        "sla,indicator,period_start,period_end,good,total (it is sla,indicator,start,end,good,total)."
    )


def test_a_file_that_is_not_utf8_is_refused(sla, importer, tmp_path, capsys):
    path = write_csv(tmp_path, [HEADER, f"{sla.reference},Disponibilité,2026-10-01,2026-10-02,1,1"], encoding="latin-1")
    with pytest.raises(CommandError) as caught:
        run(path, capsys)
    assert "is not UTF-8 text (byte 0xe9" in str(caught.value)
    assert "save it as CSV UTF-8" in str(caught.value)


def test_an_empty_file_a_header_alone_and_a_missing_file_are_refused(importer, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="is empty; it needs the header sla,indicator,period_start"):
        run(empty, capsys)
    with pytest.raises(CommandError, match="has a header but no rows: nothing to import"):
        run(write_csv(tmp_path, [HEADER]), capsys)
    with pytest.raises(CommandError, match="There is no file"):
        run(tmp_path / "absent.csv", capsys)


def test_a_byte_order_mark_and_crlf_line_ends_are_read(sla, importer, tmp_path, capsys):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        (
            "\ufeff" + HEADER + "\r\n" + f"{sla.reference},Checkout requests that succeed,2026-10-01,2026-10-02,7,8\r\n"
        ).encode()
    )
    assert "Imported 1 measurement for 1 objective" in run(path, capsys).out
    assert Measurement.objects.values_list("good", "total").get() == (7, 8)


def test_a_big_file_shows_progress(sla, importer, tmp_path, capsys):
    start = date(2000, 1, 1)
    lines = [HEADER]
    for offset in range(10_000):
        day = start + timedelta(days=offset)
        lines.append(f"{sla.reference},Checkout requests that succeed,{day},{day + timedelta(days=1)},9,10")
    output = run(write_csv(tmp_path, lines), capsys)
    assert "Read 10,000 rows…" in output.err
    assert "Imported 10000 measurements for 1 objective" in output.out
    assert Measurement.objects.count() == 10_000


def test_the_import_refuses_a_user_outside_the_provider_team(sla, tmp_path, capsys, make_user):
    make_user("checkout.engineer")
    path = write_csv(tmp_path, [HEADER, f"{sla.reference},Checkout requests that succeed,2026-10-01,2026-10-02,1,1"])
    with pytest.raises(CommandError, match="Only members of the provider team"):
        run(path, capsys, user="checkout.engineer")
    with pytest.raises(CommandError, match="There is no active user “nobody”"):
        run(path, capsys, user="nobody")
    assert not Measurement.objects.exists()


def test_a_period_overlapping_a_stored_or_sent_one_is_refused_naming_it(sla):
    record_measurements(numbered([row(sla)]), source="csv", acting_user=None)  # 1 Oct 00:00 to 2 Oct 00:00
    overlapping = row(sla, period_start="2026-10-01T12:00:00Z", period_end="2026-10-02T12:00:00Z")
    with pytest.raises(MeasurementsRejected) as stored:
        record_measurements(numbered([overlapping]), source="api", acting_user=None)
    assert [str(error) for error in stored.value.errors] == [
        f"row 1, column period_start: {sla.reference} “Checkout requests that succeed” 2026-10-01 12:00 to "
        "2026-10-02 12:00 UTC overlaps a stored period, 2026-10-01 00:00 to 2026-10-02 00:00 UTC; "
        "events would be counted twice"
    ]
    within = [
        row(sla, period_start="2026-10-05T00:00:00Z", period_end="2026-10-06T00:00:00Z"),
        row(sla, period_start="2026-10-05T06:00:00Z", period_end="2026-10-05T07:00:00Z"),
    ]
    with pytest.raises(MeasurementsRejected) as sent:
        record_measurements(numbered(within), source="api", acting_user=None)
    assert "row 2, column period_start" in str(sent.value.errors[0])
    assert "overlaps the period of row 1" in str(sent.value.errors[0])
    assert Measurement.objects.count() == 1
    # Adjacent periods and another objective's period are not overlaps.
    adjacent = row(sla, period_start="2026-10-02T00:00:00Z", period_end="2026-10-03T00:00:00Z")
    other = row(sla, indicator="Place-order latency, p95", good="95", total="100")
    assert record_measurements(numbered([adjacent, other]), source="api", acting_user=None).created == 2
