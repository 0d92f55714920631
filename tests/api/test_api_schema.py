"""The OpenAPI schema validates, documents every endpoint, and its docs page runs without inline code."""

import json
from datetime import datetime

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def api_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and pattern.name != "api-root":
            yield route


def test_every_api_route_is_in_the_schema(schema):
    routes = list(api_routes())
    assert len(routes) > 30
    # One schema path per route (the router's root view aside, which lists the resources).
    assert len(schema["paths"]) == len(routes)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method.upper()} {path} documents no response"


def test_the_schema_says_how_to_authenticate_and_carries_examples(schema):
    assert {"knoxApiToken", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    text = json.dumps(schema, ensure_ascii=False)
    assert "SEV1 acknowledge 30 → 15 min" in text
    assert "One day of availability" in text


def test_docs_page_is_served_from_the_portal_without_inline_code(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def success_responses(operation):
    return {code: response for code, response in operation["responses"].items() if str(code).startswith("2")}


def examples_of(media):
    """Every example value one media type carries, by name."""
    if "example" in media:
        return {"example": media["example"]}
    return {name: example["value"] for name, example in media.get("examples", {}).items() if "value" in example}


def test_every_operation_shows_an_example_of_its_success_and_of_its_request_body(schema):
    missing = []
    for operation_name, operation in operations(schema):
        successes = success_responses(operation)
        assert successes, f"{operation_name} documents no success response"
        for code, response in successes.items():
            for media_type, media in response.get("content", {}).items():
                if not examples_of(media):
                    missing.append(f"{operation_name} {code} {media_type}")
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if not examples_of(media):
                missing.append(f"{operation_name} request body {media_type}")
    assert missing == []


def json_schema(schema, components):
    """An OpenAPI 3.0 schema as JSON Schema: $refs resolved from the components, `nullable` as "or null".

    Objects allow only the properties they name, so an example with a field its serializer lacks fails.
    """
    if isinstance(schema, list):
        return [json_schema(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return json_schema(components[name], components)
    converted = {key: json_schema(value, components) for key, value in schema.items() if key != "nullable"}
    if "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def json_examples(schema, direction):
    """(name, value, JSON Schema) for every JSON example of a success response or a request body."""
    components = schema["components"]["schemas"]
    for operation_name, operation in operations(schema):
        if direction == "response":
            bodies = list(success_responses(operation).items())
        else:
            bodies = [("request body", operation["requestBody"])] if "requestBody" in operation else []
        for code, body in bodies:
            media = body.get("content", {}).get("application/json")
            if media is None:
                continue
            for name, value in examples_of(media).items():
                yield f"{operation_name} {code} {name}", value, json_schema(media["schema"], components)


# jsonschema checks "date" and "email" itself; "date-time" needs a package this project does not use.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_aware_date_time(value):
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@pytest.mark.parametrize("direction", ["response", "request"])
def test_every_json_example_matches_its_schema(schema, direction):
    checked, errors = 0, []
    for name, value, body_schema in json_examples(schema, direction):
        validator = jsonschema.Draft202012Validator(body_schema, format_checker=FORMATS)
        errors += [
            f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(value)
        ]
        checked += 1
    assert checked > 0
    assert errors == []


def test_the_schema_check_finds_an_example_that_does_not_match():
    components = {
        "Version": {
            "type": "object",
            "properties": {
                "number": {"type": "integer"},
                "change_request": {"type": "string", "nullable": True},
                "effective_at": {"type": "string", "format": "date-time"},
            },
            "required": ["number", "change_request"],
        }
    }
    body_schema = json_schema({"$ref": "#/components/schemas/Version"}, components)
    validator = jsonschema.Draft202012Validator(body_schema, format_checker=FORMATS)
    assert validator.is_valid({"number": 2, "change_request": None, "effective_at": "2026-11-02T09:00:00Z"})
    assert not validator.is_valid({"number": "2", "change_request": "CR-0042"})
    assert not validator.is_valid({"number": 2})
    assert not validator.is_valid({"number": 2, "change_request": None, "version": 2})
    assert not validator.is_valid({"number": 2, "change_request": None, "effective_at": "2 November"})
