"""Personal feed links: the random tokens calendar programs read the portal's feeds with.

A calendar program (Outlook, Google Calendar) cannot sign in, so a feed address may carry
`?token=slaf_…`. The token is random and says nothing about its user; the portal keeps only its
SHA-256 (FeedToken.digest). A token reads the feeds as its user while it is:

- not revoked (its owner revokes or rotates it on the feed links page),
- not expired (FEED_TOKEN_LIFETIME_DAYS after it was made, 90 by default),
- made with the user's current password (a password change or reset ends every token: the
  token keeps an HMAC of the password hash it was made with and compares it on use),
- of an active user (deactivating a user ends every token).

A refused token is answered with a plain-text 403 saying why and where to get a new link: a
calendar program shows the text, it cannot follow a redirect to the login page.
"""

import hashlib
import secrets
from datetime import timedelta
from hmac import compare_digest

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from releases.models import FeedToken

PREFIX = "slaf_"
KEY_LENGTH = 8  # characters after the prefix kept to tell links apart
FINGERPRINT_SALT = "releases.feed_tokens.password"
LAST_USE_PRECISION = timedelta(minutes=1)


class FeedTokenRefused(Exception):
    """The token reads no feed; the message says why, for the person reading their calendar program."""


def new_token_text():
    return PREFIX + secrets.token_urlsafe(32)


def digest_of(text):
    return hashlib.sha256(text.encode()).hexdigest()


def key_of(text):
    return text[len(PREFIX) : len(PREFIX) + KEY_LENGTH]


def password_fingerprint(user, secret=None):
    """An HMAC of the user's password hash: it changes when the password does, and reveals nothing of it."""
    return salted_hmac(FINGERPRINT_SALT, user.password or "", secret=secret, algorithm="sha256").hexdigest()


def made_with_current_password(token):
    """Whether `token` was made with its user's current password (with SECRET_KEY or one of its fallbacks)."""
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if compare_digest(token.password_fingerprint, password_fingerprint(token.user, secret=secret)):
            return True
    return False


def lifetime():
    return timedelta(days=settings.FEED_TOKEN_LIFETIME_DAYS)


def ended_because(token, now=None):
    """Why `token` no longer reads feeds (a short phrase), or "" while it does."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return f"revoked on {_moment(token.revoked_at)}"
    if token.is_expired(now):
        return f"expired on {_moment(token.expires_at)}"
    if not token.user.is_active:
        return "its owner's account is deactivated"
    if not made_with_current_password(token):
        return "its owner's password (or the portal's SECRET_KEY) changed after it was made"
    return ""


def feed_reader_of(text, *, links_page, now=None):
    """The user a feed token reads as; FeedTokenRefused (saying why) when it reads nothing.

    `links_page` is the absolute address of the feed links page, named in every refusal. Notes the
    token's use at most once a minute, so a calendar program polling every few minutes costs one write.
    """
    now = now or timezone.now()
    get_new = f"Sign in to the SLA Portal and make a new feed link at {links_page}, then subscribe to that address."
    if not text.startswith(PREFIX):
        raise FeedTokenRefused(
            "This feed address carries an old kind of link, which no longer works: feed links now expire and can "
            f"be revoked. {get_new}\n"
        )
    token = FeedToken.objects.select_related("user").filter(digest=digest_of(text)).first()
    if token is None:
        raise FeedTokenRefused(f"This feed link is not known to the SLA Portal (mistyped, or deleted). {get_new}\n")
    reason = ended_because(token, now)
    if reason:
        raise FeedTokenRefused(f"This feed link no longer works: {reason}. {get_new}\n")
    if token.last_used_at is None or token.last_used_at <= now - LAST_USE_PRECISION:
        FeedToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USE_PRECISION)
        ).update(last_used_at=now)
    return token.user


def _moment(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def revoke_when_deactivated(sender, instance, update_fields=None, raw=False, **kwargs):
    """post_save of a user: a deactivated user's feed links are revoked, not merely paused (connected in apps).

    Loading rows as they were (a restore, `raw`) changes nothing.
    """
    if raw or instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    from releases.actions import revoke_feed_tokens_of_deactivated_user

    revoke_feed_tokens_of_deactivated_user(instance)
