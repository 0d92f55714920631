"""Idempotency-Key on POST: a retried request gets the first answer, and the work is done once."""

import pytest
from rest_framework.test import APIClient

from api.models import IdempotencyKey
from approvals.models import ChangeRequest
from tests.conftest import with_acknowledge

pytestmark = pytest.mark.django_db


def proposal(governed_sla, client, minutes):
    current = client.get(f"/api/v1/slas/{governed_sla.sla.reference}/").json()["document"]
    return {
        "document_kind": "sla",
        "document": governed_sla.sla.reference,
        "proposed": with_acknowledge(current, minutes),
        "summary": f"SEV1 acknowledge in {minutes} minutes",
        "rationale": "Retried by a flaky pipeline.",
    }


@pytest.fixture
def author_client(governed_sla):
    client = APIClient()
    client.force_authenticate(governed_sla.author)
    return client


def test_a_retried_post_returns_the_first_response_and_does_the_work_once(governed_sla, author_client):
    body = proposal(governed_sla, author_client, 12)
    first = author_client.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="deploy-4711")
    retry = author_client.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="deploy-4711")
    assert first.status_code == retry.status_code == 201
    assert retry.json()["reference"] == first.json()["reference"]
    assert retry["Idempotent-Replayed"] == "true"
    assert ChangeRequest.objects.count() == 1


def test_a_transition_retried_with_its_key_is_not_refused_as_a_second_submit(governed_sla, author_client):
    created = author_client.post("/api/v1/change-requests/", proposal(governed_sla, author_client, 12), format="json")
    path = f"/api/v1/change-requests/{created.json()['reference']}/submit/"
    first = author_client.post(path, HTTP_IDEMPOTENCY_KEY="submit-1")
    retry = author_client.post(path, HTTP_IDEMPOTENCY_KEY="submit-1")
    without_key = author_client.post(path)
    assert first.status_code == retry.status_code == 200
    assert without_key.status_code == 409  # the same request without the key is a second submit


def test_the_same_key_for_a_different_request_is_refused(governed_sla, author_client):
    author_client.post(
        "/api/v1/change-requests/", proposal(governed_sla, author_client, 12), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    other = author_client.post(
        "/api/v1/change-requests/", proposal(governed_sla, author_client, 14), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert ChangeRequest.objects.count() == 1


def test_keys_belong_to_their_user(governed_sla, author_client):
    body = proposal(governed_sla, author_client, 12)
    author_client.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared-name")
    other = APIClient()
    other.force_authenticate(governed_sla.approvers[governed_sla.provider])
    answer = other.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared-name")
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer
    assert IdempotencyKey.objects.filter(key="shared-name").count() == 2


def test_a_key_still_in_progress_is_409(governed_sla, author_client):
    body = proposal(governed_sla, author_client, 12)
    author_client.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    # As if the first request were still running: claimed, no response stored yet.
    IdempotencyKey.objects.filter(key="busy").update(response_status=None, response_body=None)
    answer = author_client.post("/api/v1/change-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert answer.status_code == 409
    assert "still in progress" in answer.json()["detail"]
    assert ChangeRequest.objects.count() == 1


def test_an_unusable_key_is_400(governed_sla, author_client):
    answer = author_client.post(
        "/api/v1/change-requests/",
        proposal(governed_sla, author_client, 12),
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 300,
    )
    assert answer.status_code == 400
    assert not ChangeRequest.objects.exists()
