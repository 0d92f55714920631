"""The API's JSON parser: bounded in size and nesting before it parses, so a small body cannot take a worker.

A 100,000-deep array made Python's decoder recurse until it failed (a 500); a 20 MB body answered a bare
HTML 400. Here the body is read only up to Django's DATA_UPLOAD_MAX_MEMORY_SIZE (413 past it, here or in
api.errors when Django refuses first) and its nesting is counted on the raw text before json.loads sees it
(400 past API_MAX_JSON_DEPTH), both as the API's JSON error naming the limit.
"""

import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(f"The request body is larger than {limit:,} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE).")


def nesting_depth(text, limit):
    """The deepest nesting of arrays and objects in JSON `text`, counted up to `limit` + 1 (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise too_large()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"The request body is not {encoding} text: byte {error.start} cannot be read.") from None
        max_depth = settings.API_MAX_JSON_DEPTH
        if nesting_depth(text, max_depth) > max_depth:
            raise ParseError(f"The JSON nests deeper than {max_depth} levels (API_MAX_JSON_DEPTH).")
        try:
            return json.loads(text)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
