"""Releases over the REST API: filtered by service, kind and time window."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_releases_filter_by_service_kind_and_window(make_user, make_service, make_release):
    client = APIClient()
    client.force_authenticate(make_user())
    checkout, search = make_service("Checkout API"), make_service("Search API")
    make_release("Checkout 4.2", services=[checkout], starts_in=timedelta(days=1))
    make_release("Year-end freeze", services=[checkout, search], kind="freeze", starts_in=timedelta(days=20))
    make_release("Search 1.9", services=[search], starts_in=timedelta(days=2))

    def titles(**params):
        return [row["title"] for row in client.get("/api/v1/releases/", params).json()["results"]]

    assert titles(service="checkout-api") == ["Checkout 4.2", "Year-end freeze"]
    assert titles(kind="freeze") == ["Year-end freeze"]
    assert titles(starts_before=(timezone.now() + timedelta(days=3)).isoformat()) == ["Checkout 4.2", "Search 1.9"]
    assert client.get("/api/v1/releases/", {"starts_after": "not a time"}).status_code == 400
