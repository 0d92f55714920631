"""Restricted reviews over the REST API: absent from every list and answer for those who may not see them."""

import pytest
from rest_framework.test import APIClient

from reviews.models import ActionItem

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def restricted(make_team, make_service, make_review, make_user):
    security = make_team("Security")
    service = make_service("Card Vault", owner_team=security)
    hidden = make_review(
        [service],
        title="Leaked vault credentials",
        is_restricted=True,
        restricted_to=[security],
        action_items=[ActionItem(title="Rotate every key", owner_team=security)],
    )
    open_review = make_review(
        [service], title="Vault slow at peak", action_items=[ActionItem(title="Add capacity", owner_team=security)]
    )
    return {
        "hidden": hidden,
        "open": open_review,
        "insider": make_user("security.engineer", teams=[security]),
        "outsider": make_user("checkout.engineer", teams=[make_team("Checkout")]),
    }


def test_a_restricted_review_is_absent_for_outsiders_everywhere(restricted):
    outsider = client_for(restricted["outsider"])
    hidden = restricted["hidden"].reference
    assert [row["reference"] for row in outsider.get("/api/v1/reviews/").json()["results"]] == [
        restricted["open"].reference
    ]
    assert outsider.get(f"/api/v1/reviews/{hidden}/").status_code == 404
    assert outsider.get(f"/api/v1/reviews/{hidden}/versions/").status_code == 404
    titles = [row["title"] for row in outsider.get("/api/v1/action-items/").json()["results"]]
    assert titles == ["Add capacity"]
    assert outsider.get("/api/v1/action-items/", {"review": hidden}).json()["count"] == 0
    found = outsider.get("/api/v1/search/", {"q": "leaked vault"}).json()
    assert all("Leaked" not in row["title"] for row in found["results"])


def test_the_teams_it_names_see_it(restricted):
    insider = client_for(restricted["insider"])
    hidden = restricted["hidden"].reference
    references = {row["reference"] for row in insider.get("/api/v1/reviews/").json()["results"]}
    assert hidden in references
    detail = insider.get(f"/api/v1/reviews/{hidden}/").json()
    assert detail["document"]["title"] == "Leaked vault credentials"
    assert insider.get("/api/v1/action-items/", {"review": hidden}).json()["count"] == 1


def test_review_filters(restricted):
    insider = client_for(restricted["insider"])
    assert insider.get("/api/v1/reviews/", {"service": "card-vault"}).json()["count"] == 2
    assert insider.get("/api/v1/reviews/", {"severity": "SEV2"}).json()["count"] == 0
    assert insider.get("/api/v1/reviews/", {"status": "published"}).json()["count"] == 0
