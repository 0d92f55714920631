"""Small or large hostile bodies get the API's JSON error naming the limit, never a 500 or an HTML page."""

import pytest
from rest_framework.test import APIClient

from api.parsers import nesting_depth

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user):
    client = APIClient()
    client.force_authenticate(make_user("api.writer"))
    return client


def test_json_nested_100000_deep_is_refused_before_it_is_parsed(api):
    deep = "[" * 100_000 + "]" * 100_000
    answer = api.post("/api/v1/change-requests/", data=deep, content_type="application/json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["detail"] == "The JSON nests deeper than 64 levels (API_MAX_JSON_DEPTH)."


def test_a_body_over_the_upload_limit_is_a_json_413_naming_the_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = '{"summary": "' + "x" * (2 * 1024 * 1024) + '"}'
    answer = api.post("/api/v1/change-requests/", data=big, content_type="application/json")
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert "1,048,576 bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)" in answer.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting_depth('{"a": "[[[[[[[[\\"]]]]"}', 64) == 1
    assert nesting_depth('[{"a": [1, {"b": []}]}]', 64) == 5
    assert nesting_depth("[" * 70, 64) == 65  # counting stops just past the limit
