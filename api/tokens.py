"""Personal API tokens: made and revoked by their owner, both recorded in the audit log."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from api.models import ApiToken
from audit.log import record_event

LIFETIME_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


@transaction.atomic
def create_api_token(*, name, days, acting_user):
    """A new token for `acting_user`; returns (token row, the token text, shown this once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it, e.g. “deploy pipeline”."})
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationError({"days": "A token lives from 1 to 366 days."})
    token, text = ApiToken.objects.create(acting_user, expiry=timedelta(days=days), name=name[:100])
    record_event(
        "api_token.created",
        acting_user,
        actor=acting_user,
        payload={"name": token.name, "token_key": token.token_key, "expiry": token.expiry},
    )
    return token, text


@transaction.atomic
def revoke_api_token(token, *, acting_user):
    """Delete the token: requests carrying it are refused from now on."""
    record_event(
        "api_token.revoked",
        token.user,
        actor=acting_user,
        payload={"name": token.name, "token_key": token.token_key},
    )
    token.delete()
