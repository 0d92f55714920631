"""Writing to the audit log. Call `record_event` inside the transaction of the
action it records, so the event exists exactly when the action does."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant: every writer of the chain takes this PostgreSQL advisory lock.
CHAIN_LOCK_KEY = 7_202_611


def _lock_chain():
    """Serialise appends so two writers never chain onto the same previous row.

    SQLite already serialises writers (IMMEDIATE transactions); PostgreSQL
    takes a transaction-scoped advisory lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _json_ready(payload):
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def record_event(action, target, *, actor, payload=None):
    """Append one event about `target` (any model instance) to the chain."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the action it records")
    _lock_chain()
    last_hash = AuditEvent.objects.order_by("-id").values_list("row_hash", flat=True).first() or GENESIS_HASH
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=target._meta.label_lower,
        # An unsaved target (a log-in attempt for a username nobody has) is named by its repr alone.
        object_id="" if target.pk is None else str(target.pk),
        object_repr=str(target)[:200],
        payload=_json_ready(payload or {}),
        previous_hash=last_hash,
    )
    event.row_hash = event.compute_hash()
    event.save()
    return event


def events_for(target):
    """The events about one object, oldest first."""
    return AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk)).select_related(
        "actor"
    )
