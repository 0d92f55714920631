"""Security events that arrive as signals rather than through an action: failed and locked-out log-ins, and
outbound requests the portal refused (core.outbound.request_refused: an internal address, a redirect inside).

Django's `user_login_failed` is the one source of failed log-ins (django-axes listens to the same signal, and
its receiver runs first, being connected when axes is ready, so it has already decided whether this failure
locks the username and address out). Axes' own `user_locked_out` records the lock-out itself. Neither event
ever holds a password: only the username that was tried.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction

from audit.log import record_event
from core.addresses import client_address
from core.outbound import request_refused

logger = logging.getLogger(__name__)

# Longer than any real username: what an attacker types is kept, within reason.
MAX_USERNAME = 254


def _client_ip(request):
    if request is None:
        return None
    # Axes has worked out the client's address (through the trusted proxies) by the time either signal fires.
    return getattr(request, "axes_ip_address", None) or client_address(request)


def _account(username):
    """The account the username names, or an unsaved one carrying the name tried (nobody has it)."""
    user_model = get_user_model()
    account = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    return account or user_model(**{user_model.USERNAME_FIELD: username or ""})


def _tried_username(credentials):
    value = (credentials or {}).get(get_user_model().USERNAME_FIELD)
    return value[:MAX_USERNAME] if isinstance(value, str) else None


def record_login_failure(sender, credentials, request=None, **kwargs):
    username = _tried_username(credentials)
    with transaction.atomic():
        record_event(
            "auth.login_failed",
            _account(username),
            actor=None,
            payload={
                "username": username,
                "ip_address": _client_ip(request),
                "locked_out": bool(getattr(request, "axes_locked_out", False)),
            },
        )


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    with transaction.atomic():
        record_event(
            "auth.locked_out",
            _account(username),
            actor=None,
            payload={"username": username, "ip_address": ip_address or _client_ip(request)},
        )


def record_refused_request(sender, url, reason, subject=None, **kwargs):
    """An outbound request the portal refused (an internal address, a redirect inside): who asked is the subject."""
    if subject is None or subject.pk is None:
        logger.warning("Outbound request to %s refused (%s) for no recorded subject", url, reason)
        return
    with transaction.atomic():
        record_event("outbound.refused", subject, actor=None, payload={"url": url[:500], "reason": reason})


def connect():
    user_login_failed.connect(record_login_failure, dispatch_uid="audit.record_login_failure")
    user_locked_out.connect(record_lockout, dispatch_uid="audit.record_lockout")
    request_refused.connect(record_refused_request, dispatch_uid="audit.record_refused_request")
