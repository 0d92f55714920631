"""API token authentication: django-rest-knox's, with an expired token named as such and its last use kept.

knox deletes an expired token silently and answers "Invalid token."; here the token stays listed on its
owner's profile, marked expired, and a request with it is refused with "Token expired on …". A token's
last use (time and address) is written at most once a minute, so a busy pipeline costs no write per request.
"""

import binascii
from datetime import timedelta
from hmac import compare_digest

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework.exceptions import AuthenticationFailed

from api.models import ApiToken
from core.addresses import client_address

LAST_USE_PRECISION = timedelta(minutes=1)


def record_use(token, address, now=None):
    """Note that `token` was used now from `address`, unless that was noted less than a minute ago."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_PRECISION)
    ).update(last_used_at=now, last_used_from=address or None)


class PortalTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        authenticated = super().authenticate(request)
        if authenticated is not None:
            record_use(authenticated[1], client_address(request))
        return authenticated

    def authenticate_credentials(self, token):
        text = token.decode("utf-8")
        for candidate in ApiToken.objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user"):
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise AuthenticationFailed("Invalid token.") from None
            if not compare_digest(digest, candidate.digest):
                continue
            if candidate.expiry is not None and candidate.expiry < timezone.now():
                raise AuthenticationFailed(
                    f"Token expired on {timezone.localtime(candidate.expiry):%Y-%m-%d %H:%M %Z}: "
                    "make a new one on your profile page."
                )
            return self.validate_user(candidate)
        raise AuthenticationFailed("Invalid token.")


class PortalTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the portal's tokens: knox's, under its usual name."""

    target_class = "api.authentication.PortalTokenAuthentication"
