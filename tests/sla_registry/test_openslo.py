"""OpenSLO v1 out and in: export_documents, dump, read_documents, import_documents and the two commands."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from approvals.actions import record_baseline_version
from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from sla_registry.choices import AgreementStatus
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.formats import openslo
from sla_registry.models import Objective

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "formats"
SLA = ServiceLevelAgreementKind()


def fixture_text(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def payments_sla(make_sla, make_service, make_team, admin_actor):
    """Payments API's only SLA: a percentage and a latency objective, consumed by Checkout and Fraud."""
    provider = make_team("Payments")
    service = make_service("Payments API", owner_team=provider, description="Card authorisation and capture.")
    sla = make_sla(
        "Payments for Checkout",
        service=service,
        provider_team=provider,
        consumer_teams=[make_team("Checkout"), make_team("Fraud")],
        objectives=[
            Objective(
                indicator="Successful requests",
                target=Decimal("99.9"),
                unit="%",
                dashboard_url="https://grafana.example.com/d/payments",
            ),
            Objective(indicator="Refund latency, p99", target=Decimal("1.5"), unit="s"),
        ],
    )
    record_baseline_version(sla, acting_user=admin_actor)
    return sla


def slos(documents):
    return [document for document in documents if document["kind"] == "SLO"]


def raised_messages(text, **options):
    with pytest.raises(openslo.OpenSLOError) as caught:
        if options:
            openslo.import_documents(text, **options)
        else:
            openslo.read_documents(text)
    return caught.value.messages


# Export --------------------------------------------------------------------------


def test_an_sla_exports_one_service_and_one_slo_per_objective(payments_sla, settings):
    settings.PORTAL_BASE_URL = "https://sla.example.com/"
    documents = openslo.export_documents(payments_sla)

    service, availability, latency = documents
    assert [document["apiVersion"] for document in documents] == ["openslo/v1"] * 3
    assert service["kind"] == "Service"
    assert service["metadata"] == {
        "name": "payments-api",
        "displayName": "Payments API",
        "annotations": {"sla-portal.example/service": "payments-api"},
    }
    assert service["spec"] == {"description": "Card authorisation and capture."}

    reference = payments_sla.reference
    assert availability["metadata"]["name"] == f"{reference.lower()}-successful-requests"
    assert availability["metadata"]["displayName"] == "Successful requests"
    annotations = availability["metadata"]["annotations"]
    assert annotations["sla-portal.example/sla"] == reference
    assert annotations["sla-portal.example/sla-title"] == "Payments for Checkout"
    assert annotations["sla-portal.example/sla-url"] == f"https://sla.example.com/slas/{reference}/"
    assert annotations["sla-portal.example/provider-team"] == "payments"
    assert annotations["sla-portal.example/consumer-teams"] == "checkout,fraud"
    assert annotations["sla-portal.example/unit"] == "%"
    assert annotations["sla-portal.example/dashboard-url"] == "https://grafana.example.com/d/payments"
    assert annotations["sla-portal.example/version"] == "1"
    assert annotations["sla-portal.example/response-targets"] == (
        "SEV1: acknowledge 30 min, restore 2 h, resolve 1 d, customer updates every 30 min, 24×7"
    )
    spec = availability["spec"]
    assert spec["service"] == "payments-api"
    assert spec["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    assert spec["budgetingMethod"] == "Occurrences"
    assert spec["objectives"] == [{"displayName": "Successful requests", "target": 0.999}]
    assert set(spec["indicator"]["spec"]) == {"ratioMetric"}

    # A latency is an upper bound: "p99 at most 1.5 s" is "99 % of events take at most 1.5 s".
    assert latency["metadata"]["annotations"]["sla-portal.example/unit"] == "s"
    assert "sla-portal.example/dashboard-url" not in latency["metadata"]["annotations"]
    assert set(latency["spec"]["indicator"]["spec"]) == {"thresholdMetric"}
    assert latency["spec"]["objectives"] == [
        {"displayName": "Refund latency, p99", "op": "lte", "value": 1.5, "target": 0.99}
    ]


def test_export_reads_the_sla_in_a_fixed_number_of_queries(
    make_sla, make_service, make_team, django_assert_num_queries
):
    one = make_sla(objectives=[Objective(indicator="Successful requests", target=Decimal("99.9"), unit="%")])
    many = make_sla(
        objectives=[Objective(indicator=f"Journey {number} succeeds", target=Decimal("99.5")) for number in range(8)]
    )
    with django_assert_num_queries(6):
        assert len(slos(openslo.export_documents(one))) == 1
    with django_assert_num_queries(6):
        assert len(slos(openslo.export_documents(many))) == 8


def test_the_version_annotation_is_left_out_when_the_live_sla_is_no_recorded_version(make_sla):
    sla = make_sla()  # never versioned: made outside governance, as a fresh import would be
    annotations = slos(openslo.export_documents(sla))[0]["metadata"]["annotations"]
    assert "sla-portal.example/version" not in annotations
    assert annotations["sla-portal.example/sla"] == sla.reference


def test_names_are_dns_labels_even_for_long_or_clashing_indicators(make_sla):
    long_indicator = "Checkout requests that complete within the agreed time for every market we serve today"
    sla = make_sla(
        objectives=[
            Objective(indicator=long_indicator, target=Decimal("99")),
            Objective(indicator="Orders: placed", target=Decimal("99")),
            Objective(indicator="Orders placed", target=Decimal("99.5")),
        ]
    )
    names = [document["metadata"]["name"] for document in slos(openslo.export_documents(sla))]
    assert all(openslo.DNS_LABEL.match(name) for name in names), names
    assert len(set(names)) == 3
    assert len(names[0]) <= 63


def test_dump_is_stable_multi_document_yaml_that_reads_back(payments_sla):
    documents = openslo.export_documents(payments_sla)
    text = openslo.dump(documents)

    assert text == openslo.dump(openslo.export_documents(payments_sla))
    assert text.startswith("---\napiVersion: openslo/v1\nkind: Service\nmetadata:\n")
    assert text.count("\n---\n") == 2
    assert openslo.read_documents(text) == documents
    assert list(yaml.safe_load_all(text)) == documents


def test_a_hundred_percent_objective_exports_as_target_one_and_reads_back(make_sla, make_user):
    sla = make_sla(objectives=[Objective(indicator="Backups restored", target=Decimal("100"))])
    text = openslo.dump(openslo.export_documents(sla))
    assert "target: 1\n" in text
    result = openslo.import_documents(text, acting_user=make_user())
    assert [item.changed for item in result.slas] == [False]


# Reading -------------------------------------------------------------------------


def test_every_spec_violation_is_named_by_document_kind_name_and_field(payments_sla):
    messages = raised_messages(fixture_text("openslo_invalid.yaml"))

    assert "document 1 (SLO old-version): apiVersion: 'openslo/v1alpha' is not openslo/v1" in messages
    assert any(
        message.startswith("document 2 (Dashboard not-a-kind): kind: 'Dashboard' is not an OpenSLO v1 kind")
        for message in messages
    )
    assert "document 3 (SLO): metadata.name: required" in messages
    assert any(
        message.startswith("document 4 (SLO percentage-target): spec.timeWindow[0].duration: '28 days' is not a")
        for message in messages
    )
    assert (
        "document 4 (SLO percentage-target): spec.objectives[0].target: 99.9 is not a ratio above 0 and at most 1 "
        "(99.9 % is written 0.999)"
    ) in messages
    assert any(message.startswith("document 5 (SLO Unknown_Service): metadata.name:") for message in messages)
    assert (
        "document 5 (SLO Unknown_Service): spec.service: 'billing' names no Service in this file "
        "and no service in the portal"
    ) in messages


def test_a_yaml_syntax_error_names_its_line():
    messages = raised_messages(fixture_text("openslo_syntax_error.yaml"))
    assert len(messages) == 1
    assert messages[0].startswith("YAML syntax error at line 10, column")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The file: has no OpenSLO documents"),
        ("- just\n- a list\n", "document 1: expected a mapping with apiVersion, kind, metadata and spec"),
        ("apiVersion: openslo/v1\nkind: Service\n", "document 1 (Service): metadata: required"),
        (
            "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    team: 7\n",
            "document 1 (Service a): metadata.annotations.team: must be text (quote the value)",
        ),
        (
            "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: a}\n---\n"
            "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: a}\n",
            "document 2 (Service a): metadata.name: document 1 is already the Service a",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_message_not_a_traceback(text, expected):
    assert expected in "\n".join(raised_messages(text))


def test_an_slo_may_name_a_service_of_the_portal_without_a_service_document(payments_sla):
    text = openslo.dump(slos(openslo.export_documents(payments_sla)))
    assert [document["kind"] for document in openslo.read_documents(text)] == ["SLO", "SLO"]


# Import --------------------------------------------------------------------------


def test_importing_an_export_proposes_no_change(payments_sla, make_user):
    text = openslo.dump(openslo.export_documents(payments_sla))

    result = openslo.import_documents(text, acting_user=make_user())

    assert [(item.sla, item.changed) for item in result.slas] == [(payments_sla, False)]
    assert result.proposals == []
    assert ChangeRequest.objects.count() == 0


def test_an_edited_export_proposes_exactly_the_edit(payments_sla, make_user):
    documents = openslo.export_documents(payments_sla)
    slos(documents)[0]["spec"]["objectives"][0]["target"] = 0.9995
    author = make_user("sre.lead")

    result = openslo.import_documents(openslo.dump(documents), acting_user=author)

    (item,) = result.slas
    request = item.change_request
    assert request.state == ChangeState.DRAFT and request.author == author
    assert request.document_id == payments_sla.pk
    assert item.changes == ["Objective “Successful requests”: 99.9% over 28 d → 99.95% over 28 d"]
    assert request.summary == "OpenSLO import: Objective “Successful requests”: 99.9% over 28 d → 99.95% over 28 d"
    assert [objective["target"] for objective in request.proposed["objectives"]] == ["99.95", "1.5"]
    # Everything else in the SLA is proposed as it is.
    current = SLA.snapshot(payments_sla)
    assert {**request.proposed, "objectives": current["objectives"]} == current


def test_a_tool_file_updates_matching_objectives_and_adds_new_ones(payments_sla, make_user):
    result = openslo.import_documents(
        fixture_text("openslo_valid.yaml"),
        acting_user=make_user(),
        summary="Objectives from the SLO repository",
        rationale="The SLO repository is where the SRE team tunes objectives.",
    )

    (item,) = result.slas
    assert item.sla == payments_sla
    assert item.change_request.summary == "Objectives from the SLO repository"
    assert item.change_request.rationale == "The SLO repository is where the SRE team tunes objectives."
    assert item.change_request.proposed["objectives"] == [
        {
            "indicator": "Successful requests",
            "target": "99.95",
            "unit": "%",
            "window_days": 28,
            "dashboard_url": "https://grafana.example.com/d/payments-slo",
        },
        # Not in the file: kept as it is.
        {"indicator": "Refund latency, p99", "target": "1.5", "unit": "s", "window_days": 28, "dashboard_url": ""},
        {
            "indicator": "Authorisation latency, p95",
            "target": "800",
            "unit": "ms",
            "window_days": 28,
            "dashboard_url": "",
        },
    ]
    assert item.documents == [
        "document 3 (SLO payments-successful-requests)",
        "document 5 (SLO payments-authorisation-latency)",
    ]
    assert result.skipped == [
        "document 2 (DataSource prometheus-main): not imported (the portal reads Service and SLO documents)"
    ]


def test_an_invalid_file_proposes_nothing(payments_sla, make_user):
    with pytest.raises(openslo.OpenSLOError):
        openslo.import_documents(fixture_text("openslo_invalid.yaml"), acting_user=make_user())
    assert ChangeRequest.objects.count() == 0


def test_one_wrong_sla_stops_the_proposals_for_every_other(payments_sla, make_sla, make_user):
    other = make_sla(objectives=[Objective(indicator="Searches answered", target=Decimal("99.5"))])
    good = openslo.export_documents(payments_sla)
    slos(good)[0]["spec"]["objectives"][0]["target"] = 0.9999
    bad = slos(openslo.export_documents(other))
    bad[0]["spec"]["budgetingMethod"] = "Timeslices"
    bad[0]["spec"]["objectives"][0].update(timeSliceTarget=0.9, timeSliceWindow="5m")

    messages = raised_messages(openslo.dump(good + bad), acting_user=make_user())

    assert messages == [
        f"document 4 (SLO {bad[0]['metadata']['name']}): spec.budgetingMethod: Timeslices cannot be imported: "
        "the portal counts good and total events (Occurrences)"
    ]
    assert ChangeRequest.objects.count() == 0


def test_an_slo_without_an_sla_annotation_needs_a_service_with_a_single_sla(payments_sla, make_sla, make_user):
    documents = openslo.export_documents(payments_sla)
    del slos(documents)[0]["metadata"]["annotations"]["sla-portal.example/sla"]
    text = openslo.dump(documents)
    assert [item.sla for item in openslo.import_documents(text, acting_user=make_user()).slas] == [payments_sla]

    second = make_sla("Payments for Fraud", service=payments_sla.service, provider_team=payments_sla.provider_team)
    messages = raised_messages(text, acting_user=make_user())

    name = slos(documents)[0]["metadata"]["name"]
    assert messages == [
        f"document 2 (SLO {name}): metadata.annotations.sla-portal.example/sla: required: Payments API has 2 SLAs "
        f"({payments_sla.reference}, {second.reference}); name one"
    ]


def test_an_sla_annotation_must_name_an_sla_of_the_slo_service(payments_sla, make_sla, make_user):
    other = make_sla("Search for Checkout")
    documents = slos(openslo.export_documents(payments_sla))
    documents[0]["metadata"]["annotations"]["sla-portal.example/sla"] = other.reference
    documents[1]["metadata"]["annotations"]["sla-portal.example/sla"] = "SLA-9999"

    messages = raised_messages(openslo.dump(documents), acting_user=make_user())

    assert messages == [
        f"document 1 (SLO {documents[0]['metadata']['name']}): spec.service: 'payments-api' is not the service of "
        f"{other.reference} ({other.service.slug})",
        f"document 2 (SLO {documents[1]['metadata']['name']}): metadata.annotations.sla-portal.example/sla: "
        "'SLA-9999' is no SLA in the portal",
    ]


def test_a_latency_target_must_match_the_percentile_its_indicator_names(payments_sla, make_user):
    documents = slos(openslo.export_documents(payments_sla))
    documents[1]["spec"]["objectives"][0]["target"] = 0.95  # the indicator says p99

    messages = raised_messages(openslo.dump(documents), acting_user=make_user())

    assert len(messages) == 1
    assert "spec.objectives[0].target: 0.95 does not match the indicator “Refund latency, p99”" in messages[0]


def test_what_the_sla_refuses_is_reported_against_the_document(payments_sla, make_user):
    documents = slos(openslo.export_documents(payments_sla))
    documents[1]["spec"]["objectives"][0]["value"] = 1.23456  # more decimals than an objective keeps

    messages = raised_messages(openslo.dump(documents), acting_user=make_user())

    assert len(messages) == 1
    assert messages[0].startswith(
        f"document 2 (SLO {documents[1]['metadata']['name']}): spec.objectives[0] (target): "
        f"{payments_sla.reference} cannot take it:"
    )


# Commands ------------------------------------------------------------------------


def test_export_command_prints_yaml_for_the_named_slas(payments_sla, capsys):
    call_command("export_openslo", payments_sla.reference)
    captured = capsys.readouterr()
    assert openslo.read_documents(captured.out) == openslo.export_documents(payments_sla)
    assert captured.err.strip() == (
        f"Exported 1 SLA ({payments_sla.reference}) as 2 SLO documents and 1 Service document."
    )


def test_export_command_writes_every_active_sla_to_a_file(payments_sla, make_sla, tmp_path, capsys):
    other = make_sla("Search for Checkout")
    make_sla("Retired terms", status=AgreementStatus.RETIRED)
    path = tmp_path / "slos.yaml"

    call_command("export_openslo", "--output", str(path))

    out = capsys.readouterr().out.strip()
    assert out == (
        f"Wrote 2 SLAs ({payments_sla.reference}, {other.reference}) as 3 SLO documents and 2 Service documents "
        f"to {path}."
    )
    annotated = {
        document["metadata"]["annotations"]["sla-portal.example/sla"]
        for document in openslo.read_documents(path.read_text())
        if document["kind"] == "SLO"
    }
    assert annotated == {payments_sla.reference, other.reference}


def test_export_command_refuses_unknown_references(payments_sla):
    with pytest.raises(CommandError, match="No such SLA: SLA-9999, nonsense"):
        call_command("export_openslo", payments_sla.reference, "SLA-9999", "nonsense")


def test_import_command_prints_each_proposal_with_its_link(payments_sla, make_user, tmp_path, capsys, settings):
    settings.PORTAL_BASE_URL = "https://sla.example.com"
    make_user("sre.lead")
    path = tmp_path / "slos.yaml"
    path.write_text(fixture_text("openslo_valid.yaml"))

    call_command("import_openslo", str(path), "--user", "sre.lead")

    request = ChangeRequest.objects.get()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"{payments_sla.reference} Payments for Checkout: proposed {request.reference} "
        f"https://sla.example.com/changes/{request.reference}/"
    )
    assert "  Objective “Successful requests”: 99.9% over 28 d → 99.95% over 28 d, new dashboard" in lines
    assert lines[-1] == (f"Proposed 1 draft change request from {path} (0 SLAs unchanged); submit each for approval.")

    # An export of the SLA as it stands proposes nothing (the draft above is not applied yet).
    export = tmp_path / "export.yaml"
    export.write_text(openslo.dump(openslo.export_documents(payments_sla)))
    call_command("import_openslo", str(export), "--user", "sre.lead")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{payments_sla.reference} Payments for Checkout: no change",
        f"No change: the objectives in {export} match the portal's.",
    ]


def test_import_command_lists_the_problems_and_proposes_nothing(payments_sla, make_user, tmp_path, capsys):
    make_user("sre.lead")
    path = tmp_path / "slos.yaml"
    path.write_text(fixture_text("openslo_invalid.yaml"))

    with pytest.raises(CommandError) as caught:
        call_command("import_openslo", str(path), "--user", "sre.lead")

    errors = capsys.readouterr().err.splitlines()
    assert str(caught.value) == f"{len(errors)} problems in {path}; nothing was proposed. Fix them and run again."
    assert "document 3 (SLO): metadata.name: required" in errors
    assert ChangeRequest.objects.count() == 0


def test_import_command_needs_a_known_user_and_a_readable_file(payments_sla, make_user, tmp_path):
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("import_openslo", str(FIXTURES / "openslo_valid.yaml"), "--user", "nobody")
    make_user("sre.lead")
    with pytest.raises(CommandError, match="There is no file"):
        call_command("import_openslo", str(tmp_path / "missing.yaml"), "--user", "sre.lead")
