"""Idempotent POSTs: a client that retries with the same Idempotency-Key gets the first answer.

The key is claimed (a row per user and key) before the work starts, in its own
transaction, so two concurrent retries cannot both do the work: the second is
told the first is still in progress (409). The response is stored when the work
ends; a server error releases the key so a retry can do the work. A key reused
for a different request (another path or body) is refused with 422.
"""

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from api.errors import Conflict
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used for a different request; use a new key for a new request."


class InvalidKey(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "idempotency_key_invalid"
    default_detail = f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters."


class _Replay(Exception):
    def __init__(self, record):
        self.record = record


def _fingerprint(request):
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request._request.body)
    return digest.hexdigest()


def _claim(user, key, fingerprint):
    """The existing record for the key, or None after claiming it for this request."""
    expired_before = timezone.now() - settings.API_IDEMPOTENCY_KEY_TTL
    with transaction.atomic():
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=expired_before).delete()
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is not None:
            return existing, None
        try:
            with transaction.atomic():
                claimed = IdempotencyKey.objects.create(user=user, key=key, request_fingerprint=fingerprint)
        except IntegrityError:  # a concurrent retry claimed it first
            return IdempotencyKey.objects.get(user=user, key=key), None
    return None, claimed


class IdempotentPostMixin:
    """Mix into a viewset: every POST carrying an Idempotency-Key header runs at most once per key."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and permitted first
        self._idempotency_claim = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
            raise InvalidKey()
        fingerprint = _fingerprint(request)
        existing, claimed = _claim(request.user, key, fingerprint)
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise KeyReused()
            if existing.response_status is None:
                raise Conflict("A request with this Idempotency-Key is still in progress; retry in a moment.")
            raise _Replay(existing)
        self._idempotency_claim = claimed

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.record.response_body, status=exc.record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = getattr(self, "_idempotency_claim", None)
        if claim is not None:
            self._idempotency_claim = None
            if response.status_code >= 500:
                claim.delete()  # nothing was done: let a retry do it
            else:
                claim.response_status = response.status_code
                claim.response_body = getattr(response, "data", None)
                claim.save(update_fields=["response_status", "response_body"])
        return response
