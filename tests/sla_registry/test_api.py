"""The registry over the REST API: resources, filters, a fixed query count per page, measurements."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from sla_registry.models import Measurement

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user):
    client = APIClient()
    client.force_authenticate(make_user("api.reader"))
    return client


def slugs(answer, field="slug"):
    return [row[field] for row in answer.json()["results"]]


def test_services_filter_by_owner_and_tier_and_list_dependencies(api, make_team, make_service):
    payments, storefront = make_team("Payments"), make_team("Storefront")
    ledger = make_service("Ledger", owner_team=payments, tier="standard")
    make_service("Payments API", owner_team=payments, dependencies=[ledger])
    make_service("Storefront Web", owner_team=storefront)
    assert slugs(api.get("/api/v1/services/", {"owner_team": "payments"})) == ["ledger", "payments-api"]
    assert slugs(api.get("/api/v1/services/", {"tier": "standard"})) == ["ledger"]
    assert slugs(api.get("/api/v1/services/", {"ordering": "-name"}))[0] == "storefront-web"
    detail = api.get("/api/v1/services/payments-api/").json()
    assert detail["owner_team"] == "payments" and detail["dependencies"] == ["ledger"]
    assert api.get("/api/v1/services/no-such-service/").status_code == 404
    bad = api.get("/api/v1/services/", {"tier": "legendary"})
    assert bad.status_code == 400 and "tier" in bad.json()["errors"]


def test_slas_filter_by_consumer_and_status(api, make_team, make_sla):
    checkout, other = make_team("Checkout"), make_team("Other")
    wanted = make_sla("Payments for Checkout", consumer_teams=[checkout])
    make_sla("Search for Other", consumer_teams=[other])
    make_sla("Old terms", consumer_teams=[checkout], status="retired")
    answer = api.get("/api/v1/slas/", {"consumer_team": "checkout", "status": "active"})
    assert slugs(answer, "reference") == [wanted.reference]
    assert answer.json()["results"][0]["consumer_teams"] == ["checkout"]


def test_list_pages_read_with_a_fixed_number_of_queries(api, make_team, make_sla, django_assert_num_queries):
    consumer = make_team("Checkout")
    make_sla(consumer_teams=[consumer])
    # Authentication is forced, so the count is the page's own: count, rows, consumer teams.
    with django_assert_num_queries(3):
        assert api.get("/api/v1/slas/").json()["count"] == 1
    for _ in range(12):
        make_sla(consumer_teams=[consumer, make_team()])
    with django_assert_num_queries(3):
        assert api.get("/api/v1/slas/").json()["count"] == 13


def test_pages_are_paginated(api, make_team):
    for number in range(60):
        make_team(f"Team {number:02d}")
    first = api.get("/api/v1/teams/").json()
    assert first["count"] == 60 and len(first["results"]) == 50 and first["next"]
    assert len(api.get("/api/v1/teams/", {"page_size": 10}).json()["results"]) == 10
    assert api.get("/api/v1/teams/", {"page": 99}).status_code == 404


def test_monitoring_pushes_measurements_like_the_csv_import(make_user, make_sla):
    sla = make_sla(title="Payments for Checkout")
    api = APIClient()
    api.force_authenticate(make_user("payments.monitor", teams=[sla.provider_team]))
    start = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    row = {
        "indicator": "Successful requests",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(hours=1)).isoformat(),
        "good": 998,
        "total": 1000,
    }
    url = f"/api/v1/slas/{sla.reference}/measurements/"
    answer = api.post(url, {"measurements": [row]}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {"created": 1, "replaced": 0, "objectives": 1, "replaced_periods": []}
    again = api.post(url, {"measurements": [{**row, "good": 999}]}, format="json")
    assert again.status_code == 400 and "already has a measurement" in " ".join(again.json()["errors"]["measurements"])
    assert Measurement.objects.get().good == 998
    replaced = api.post(url, {"measurements": [{**row, "good": 999}], "replace": True}, format="json")
    assert replaced.json()["replaced"] == 1
    assert [(period["previous"]["good"], period["good"]) for period in replaced.json()["replaced_periods"]] == [
        (998, 999)
    ]
    assert Measurement.objects.get().good == 999


def test_another_team_cannot_overwrite_an_sla_measurements(api, make_user, make_sla):
    """The attack: an engineer of another team wrote good 0 of 1,000,000 over the provider's real day."""
    sla = make_sla(title="Checkout for the shop")
    provider = APIClient()
    provider.force_authenticate(make_user("checkout.monitor", teams=[sla.provider_team]))
    row = {"indicator": "Successful requests", "period_start": "2026-11-01", "period_end": "2026-11-02"}
    url = f"/api/v1/slas/{sla.reference}/measurements/"
    first = provider.post(url, {"measurements": [{**row, "good": 999_530, "total": 1_000_000}]}, format="json")
    assert first.status_code == 201
    attack = {"measurements": [{**row, "good": 0, "total": 1_000_000}], "replace": True}
    answer = api.post(url, attack, format="json")  # api.reader belongs to no team
    assert answer.status_code == 403
    assert Measurement.objects.get().good == 999_530


def test_bad_measurements_are_rejected_whole_with_their_row_named(api, make_sla, make_user):
    sla = make_sla()
    api.force_authenticate(make_user("provider.monitor", teams=[sla.provider_team]))
    good_row = {"indicator": "Successful requests", "period_start": "2026-11-01", "period_end": "2026-11-02"}
    rows = [{**good_row, "good": 5, "total": 10}, {**good_row, "indicator": "Made up", "good": 11, "total": 10}]
    answer = api.post(f"/api/v1/slas/{sla.reference}/measurements/", {"measurements": rows}, format="json")
    assert answer.status_code == 400
    messages = " ".join(answer.json()["errors"]["measurements"])
    assert "measurements[1]" in messages
    assert not Measurement.objects.exists()


def test_openslo_export_endpoint_reads_back_as_openslo(api, make_sla):
    sla = make_sla(title="Payments for Checkout")
    answer = api.get(f"/api/v1/slas/{sla.reference}/openslo.yaml")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/yaml")
    documents = list(yaml.safe_load_all(answer.content.decode()))
    assert {document["kind"] for document in documents} == {"Service", "SLO"}
    assert all(document["apiVersion"] == "openslo/v1" for document in documents)


def test_pagerduty_endpoint_gives_the_policy_for_one_severity(api, make_matrix):
    matrix = make_matrix()
    answer = api.get(f"/api/v1/escalation-matrices/{matrix.reference}/pagerduty/", {"severity": "SEV1"})
    assert answer.status_code == 200
    policy = answer.json()["escalation_policy"]
    assert policy["type"] == "escalation_policy" and policy["escalation_rules"]
    unknown = api.get(f"/api/v1/escalation-matrices/{matrix.reference}/pagerduty/", {"severity": "SEV9"})
    assert unknown.status_code == 400 and "severity" in unknown.json()["errors"]
