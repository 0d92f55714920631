"""Every write to calendars and releases entered by hand goes through a function here.

Personal feed links (FeedToken) are made, revoked and rotated here too, each recorded in the audit log.
Imports from iCalendar have their own write path (releases.importing), which
reconciles a whole calendar at once; both leave history rows naming the user and
the reason, and both let linked change requests follow a release that moved.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.log import record_event
from core.history import stamp
from releases import feed_tokens
from releases.models import FeedToken
from releases.scheduling import follow_releases
from sla_registry.actions import save_registry_object


@transaction.atomic
def save_calendar(calendar, *, default_services=None, acting_user, reason):
    many_to_many = {"default_services": default_services} if default_services is not None else None
    return save_registry_object(calendar, acting_user=acting_user, reason=reason, many_to_many=many_to_many)


@transaction.atomic
def save_release(release, *, services=None, acting_user, reason):
    """Create or update a release; change requests effective with it move with it."""
    if release.pk is None and release.created_by_id is None and getattr(acting_user, "pk", None):
        release.created_by = acting_user
    many_to_many = {"services": services} if services is not None else None
    release = save_registry_object(release, acting_user=acting_user, reason=reason, many_to_many=many_to_many)
    follow_releases([release], acting_user=acting_user)
    return release


@transaction.atomic
def save_rules(calendar, rules, *, acting_user, reason):
    """Replace the calendar's service rules with `rules` (unsaved ServiceRule instances)."""
    for rule in rules:
        rule.calendar = calendar
        rule.full_clean(exclude=["calendar"])
    kept = {rule.pk for rule in rules if rule.pk}
    for rule in calendar.rules.exclude(pk__in=kept):
        stamp(rule, acting_user, reason)
        rule.delete()
    for rule in rules:
        stamp(rule, acting_user, reason)
        rule.save()
    return rules


# Feed links ----------------------------------------------------------------------


@transaction.atomic
def create_feed_token(*, label, acting_user, now=None):
    """A new feed link for `acting_user`; returns (the FeedToken, the token text, shown this once)."""
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError({"label": "Name the link after where it is used, e.g. “Outlook on my laptop”."})
    now = now or timezone.now()
    text = feed_tokens.new_token_text()
    token = FeedToken(
        user=acting_user,
        label=label[: FeedToken._meta.get_field("label").max_length],
        key=feed_tokens.key_of(text),
        digest=feed_tokens.digest_of(text),
        password_fingerprint=feed_tokens.password_fingerprint(acting_user),
        created_at=now,
        expires_at=now + feed_tokens.lifetime(),
    )
    token.full_clean()
    token.save()
    record_event(
        "feed_token.created",
        token,
        actor=acting_user,
        payload={"label": token.label, "key": token.key, "expires_at": token.expires_at},
    )
    return token, text


def _locked_own_token(token, acting_user):
    if token.user_id != getattr(acting_user, "pk", None):
        raise PermissionDenied("Only its owner revokes or rotates a feed link.")
    return FeedToken.objects.select_for_update().get(pk=token.pk)


@transaction.atomic
def revoke_feed_token(token, *, acting_user, now=None, replaced_by=None):
    """Revoke one of the user's feed links: calendar programs reading with it are refused from now on."""
    token = _locked_own_token(token, acting_user)
    if token.revoked_at is not None:
        raise ValidationError(f"The feed link “{token.label}” was already revoked.")
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])
    payload = {"label": token.label, "key": token.key}
    if replaced_by is not None:
        payload["replaced_by"] = replaced_by.key
    record_event("feed_token.revoked", token, actor=acting_user, payload=payload)
    return token


@transaction.atomic
def revoke_feed_tokens_of_deactivated_user(user, *, acting_user=None, now=None):
    """Revoke every live feed link of a deactivated user, so none wakes with the account if it is reactivated."""
    if user.is_active:
        return []
    now = now or timezone.now()
    tokens = list(FeedToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
    for token in tokens:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record_event(
            "feed_token.revoked",
            token,
            actor=acting_user,
            payload={"label": token.label, "key": token.key, "reason": "account deactivated"},
        )
    return tokens


@transaction.atomic
def rotate_feed_token(token, *, acting_user, now=None):
    """A new link with the same label in place of `token`, which is revoked; returns (new FeedToken, text).

    An expired link, or one ended by a password change, may be rotated too: that is how it is renewed.
    """
    token = _locked_own_token(token, acting_user)
    if token.revoked_at is not None:
        raise ValidationError(f"The feed link “{token.label}” was revoked: make a new one instead.")
    now = now or timezone.now()
    new_token, text = create_feed_token(label=token.label, acting_user=acting_user, now=now)
    revoke_feed_token(token, acting_user=acting_user, now=now, replaced_by=new_token)
    return new_token, text
