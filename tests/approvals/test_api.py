"""Change requests and governed documents over the REST API: the same rules as the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import ChangeRequest, DocumentVersion
from sla_registry.documents import ServiceLevelAgreementKind
from tests.conftest import with_acknowledge

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def acknowledge_of(document, severity="SEV1"):
    return next(t["time_to_acknowledge_minutes"] for t in document["response_targets"] if t["severity"] == severity)


def test_full_change_request_flow_over_the_api(governed_sla):
    sla = governed_sla.sla
    author = client_for(governed_sla.author)
    current = author.get(f"/api/v1/slas/{sla.reference}/").json()
    assert current["version"]["number"] == 1
    before = acknowledge_of(current["document"])

    created = author.post(
        "/api/v1/change-requests/",
        {
            "document_kind": "sla",
            "document": sla.reference,
            "proposed": with_acknowledge(current["document"], 10),
            "summary": "SEV1 acknowledge in 10 minutes",
            "rationale": "Checkout loses orders while nobody acknowledges.",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    assert created.json()["state"] == "draft"
    assert any("10 min" in line for line in created.json()["changes"])

    revised = author.post(
        f"/api/v1/change-requests/{reference}/revise/",
        {
            "proposed": with_acknowledge(current["document"], 15),
            "summary": "SEV1 acknowledge in 15 minutes",
            "rationale": "Ten was not staffable.",
        },
        format="json",
    )
    assert revised.status_code == 200 and revised.json()["revision"] == 2

    submitted = author.post(f"/api/v1/change-requests/{reference}/submit/")
    assert submitted.json()["state"] == "in_review"
    assert {row["team"] for row in submitted.json()["required_approvals"]} == {"payments", "checkout", "sla-committee"}

    # The author may not approve their own request, whatever team they name.
    refused = author.post(f"/api/v1/change-requests/{reference}/approve/", {"team": "payments"}, format="json")
    assert refused.status_code == 403
    assert "your own" in refused.json()["detail"]

    for team, approver in governed_sla.approvers.items():
        answer = client_for(approver).post(
            f"/api/v1/change-requests/{reference}/approve/", {"team": team.slug}, format="json"
        )
        assert answer.status_code == 200, answer.json()
    assert answer.json()["state"] == "applied"

    after = author.get(f"/api/v1/slas/{sla.reference}/").json()
    assert after["version"]["number"] == 2 and after["version"]["change_request"] == reference
    assert acknowledge_of(after["document"]) == 15

    versions = author.get(f"/api/v1/slas/{sla.reference}/versions/").json()
    assert [row["number"] for row in versions["results"]] == [2, 1]
    diff = author.get(f"/api/v1/slas/{sla.reference}/diff/?from=1&to=2").json()
    assert any(f"{before} min → 15 min" in line for line in diff["changes"]), diff["changes"]
    first = author.get(f"/api/v1/slas/{sla.reference}/versions/1/").json()
    assert acknowledge_of(first["snapshot"]) == before


def test_at_reads_the_version_in_force_then(governed_sla, submit_acknowledge, approve_all, time_machine):
    sla = governed_sla.sla
    time_machine.move_to(timezone.now() + timedelta(days=1))
    before_change = timezone.now()
    time_machine.move_to(timezone.now() + timedelta(hours=1))
    approve_all(governed_sla, submit_acknowledge(governed_sla, 12))
    client = client_for(governed_sla.author)
    then = client.get(f"/api/v1/slas/{sla.reference}/", {"at": before_change.isoformat()}).json()
    now = client.get(f"/api/v1/slas/{sla.reference}/").json()
    assert then["version"]["number"] == 1 and acknowledge_of(then["document"]) != 12
    assert now["version"]["number"] == 2 and acknowledge_of(now["document"]) == 12
    bad = client.get(f"/api/v1/slas/{sla.reference}/", {"at": "last tuesday"})
    assert bad.status_code == 400 and "at" in bad.json()["errors"]
    never = client.get(f"/api/v1/slas/{sla.reference}/", {"at": "2001-01-01"})
    assert never.status_code == 404 and "no version in force" in never.json()["detail"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_governed_documents_answer_405_pointing_to_change_requests(governed_sla, method):
    client = client_for(governed_sla.author)
    path = "/api/v1/slas/" if method == "post" else f"/api/v1/slas/{governed_sla.sla.reference}/"
    answer = getattr(client, method)(path, {"title": "Quietly changed"}, format="json")
    assert answer.status_code == 405
    assert "/api/v1/change-requests/" in answer.json()["detail"]
    assert ServiceLevelAgreementKind().snapshot(governed_sla.sla)["title"] != "Quietly changed"


def test_invalid_proposal_is_400_with_field_messages_and_writes_nothing(governed_sla):
    client = client_for(governed_sla.author)
    current = client.get(f"/api/v1/slas/{governed_sla.sla.reference}/").json()["document"]
    answer = client.post(
        "/api/v1/change-requests/",
        {
            "document_kind": "sla",
            "document": governed_sla.sla.reference,
            "proposed": with_acknowledge(current, -30),
            "summary": "Negative",
            "rationale": "Testing",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert any("response_targets" in field for field in answer.json()["errors"]), answer.json()
    assert not ChangeRequest.objects.exists()


def test_transitions_in_the_wrong_state_are_409(governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 20)
    approver = next(iter(governed_sla.approvers.values()))
    answer = client_for(approver).post(
        f"/api/v1/change-requests/{change_request.reference}/approve/",
        {"team": governed_sla.provider.slug},
        format="json",
    )
    assert answer.status_code == 409
    assert "draft" in answer.json()["detail"]
    withdrawn = client_for(governed_sla.author).post(f"/api/v1/change-requests/{change_request.reference}/withdraw/")
    assert withdrawn.json()["state"] == "withdrawn"
    again = client_for(governed_sla.author).post(f"/api/v1/change-requests/{change_request.reference}/withdraw/")
    assert again.status_code == 409


def test_rebase_over_the_api(governed_sla, submit_acknowledge, approve_all):
    first = submit_acknowledge(governed_sla, 25)
    second = submit_acknowledge(governed_sla, 20, summary="Even faster")
    approve_all(governed_sla, second)
    client = client_for(governed_sla.author)
    # Applying the second moved the document on: the first is stale, nothing of it overwrote the second.
    assert client.get(f"/api/v1/change-requests/{first.reference}/").json()["state"] == "stale"
    rebased = client.post(f"/api/v1/change-requests/{first.reference}/rebase/")
    assert rebased.status_code == 200, rebased.json()
    assert rebased.json()["state"] == "draft"
    assert rebased.json()["base_version"] == 2
    assert rebased.json()["revision"] == first.revision + 1
    again = client.post(f"/api/v1/change-requests/{first.reference}/rebase/")
    assert again.status_code == 409  # only a stale request can be rebased


def test_change_request_list_filters(governed_sla, propose_acknowledge):
    change_request = propose_acknowledge(governed_sla, 20)
    client = client_for(governed_sla.author)
    assert client.get("/api/v1/change-requests/", {"state": "draft"}).json()["count"] == 1
    assert client.get("/api/v1/change-requests/", {"state": "applied"}).json()["count"] == 0
    by_document = client.get("/api/v1/change-requests/", {"document": governed_sla.sla.reference}).json()
    assert [row["reference"] for row in by_document["results"]] == [change_request.reference]
    assert client.get("/api/v1/change-requests/", {"document": "nonsense"}).json()["count"] == 0
    assert client.get("/api/v1/change-requests/", {"author": "someone-else"}).json()["count"] == 0


def test_api_requires_credentials(governed_sla):
    answer = APIClient().get("/api/v1/slas/")
    assert answer.status_code == 401
    assert answer["Content-Type"].startswith("application/json")
    assert DocumentVersion.objects.count() == 1
