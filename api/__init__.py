"""The REST API's shared parts: tokens, idempotent POSTs, errors, pagination, the /api/v1/ root.

Each app keeps its own resources in its `api/` package (serializers, views,
urls); this package only joins them under /api/v1/ and holds what they share.
"""
