"""Checking the audit chain end to end, and signed checkpoints of its head kept outside the database.

`verify_chain` walks the log in id order and stops at the first break, named:

- edited: a row's stored hash is not the hash of its content;
- deleted: a row chains onto a hash no stored row has, with ids missing before it (or the checkpointed
  event is gone, or fewer events lead up to it than the checkpoint counted);
- rewritten: a row chains onto a hash no stored row has, right after its predecessor (the predecessor was
  edited and its hash recomputed), or the checkpointed event's hash changed (the chain before it was redone);
- reordered: a row chains onto a row that is stored after it;
- truncated: the log ends before the event a checkpoint vouches for.

An id gap alone is no break: PostgreSQL sequences skip the ids of rolled-back transactions.
"""

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from django.utils import timezone

from audit.log import GENESIS_HASH
from audit.models import AuditEvent, canonical_json

CHECKPOINT_KEY_VARIABLE = "AUDIT_CHECKPOINT_KEY"
CHECKPOINT_FIELDS = ("event_id", "row_hash", "count", "at")
CHUNK_SIZE = 2000


class CheckpointError(Exception):
    """A checkpoint cannot be made or read: no key, a malformed line, a bad signature."""


@dataclass(frozen=True)
class ChainBreak:
    kind: str  # edited, deleted, rewritten, reordered, truncated
    event_id: int | None
    message: str

    def __str__(self):
        return f"Audit chain broken ({self.kind}): {self.message}"


@dataclass(frozen=True)
class ChainHead:
    count: int
    event: AuditEvent | None

    def __str__(self):
        if self.event is None:
            return "Audit chain intact: 0 events"
        return (
            f"Audit chain intact: {self.count} events, head {self.event.row_hash} "
            f"(event #{self.event.pk} at {self.event.occurred_at.isoformat()})"
        )


def _checkpoint_key():
    key = os.environ.get(CHECKPOINT_KEY_VARIABLE, "")
    if not key:
        raise CheckpointError(
            f"Set the environment variable {CHECKPOINT_KEY_VARIABLE} to the secret that signs audit checkpoints "
            "(keep it outside the database and the repository)."
        )
    return key.encode()


def _signature(fields):
    return hmac.new(_checkpoint_key(), canonical_json(fields).encode(), hashlib.sha256).hexdigest()


def make_checkpoint():
    """The signed head of the chain, as a dict ready for one line of JSON."""
    _checkpoint_key()
    head = AuditEvent.objects.order_by("-id").first()
    if head is None:
        raise CheckpointError("The audit log is empty: there is no head to checkpoint yet.")
    fields = {
        "event_id": head.pk,
        "row_hash": head.row_hash,
        "count": AuditEvent.objects.filter(pk__lte=head.pk).count(),
        "at": timezone.now().isoformat(),
    }
    return {**fields, "signature": _signature(fields)}


def read_checkpoints(text):
    """Every checkpoint in `text` (one JSON object a line), signatures checked."""
    _checkpoint_key()  # no key, nothing can be trusted: say so before anything else
    checkpoints = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = json.loads(line)
        except json.JSONDecodeError as error:
            raise CheckpointError(f"Checkpoint line {number} is not JSON: {error}.") from None
        if not isinstance(checkpoint, dict) or set(checkpoint) != {*CHECKPOINT_FIELDS, "signature"}:
            raise CheckpointError(
                f"Checkpoint line {number} must hold exactly {', '.join(CHECKPOINT_FIELDS)} and signature."
            )
        fields = {name: checkpoint[name] for name in CHECKPOINT_FIELDS}
        if not hmac.compare_digest(str(checkpoint["signature"]), _signature(fields)):
            raise CheckpointError(
                f"Checkpoint line {number} has an invalid signature: it was altered, or signed with another key."
            )
        checkpoints.append(checkpoint)
    if not checkpoints:
        raise CheckpointError("No checkpoint found.")
    return checkpoints


def _broken_link(event, previous):
    """Name the break when `event` does not chain onto `previous` (None: it is the first stored row)."""
    chained_onto = AuditEvent.objects.filter(row_hash=event.previous_hash).only("pk").first()
    if chained_onto is not None and chained_onto.pk > event.pk:
        return ChainBreak(
            "reordered", event.pk, f"event #{event.pk} chains onto event #{chained_onto.pk}, which is stored after it."
        )
    if previous is None:
        return ChainBreak("deleted", event.pk, f"the events before #{event.pk}, the first stored event, are missing.")
    if chained_onto is not None:
        return ChainBreak(
            "reordered",
            event.pk,
            f"event #{event.pk} chains onto event #{chained_onto.pk}, not onto #{previous.pk} stored before it.",
        )
    if event.pk == previous.pk + 1:
        return ChainBreak(
            "rewritten",
            previous.pk,
            f"event #{previous.pk} was rewritten with a recomputed hash: "
            f"event #{event.pk} chains onto a hash no stored event has.",
        )
    return ChainBreak(
        "deleted",
        event.pk,
        f"events between #{previous.pk} and #{event.pk} are missing: "
        f"event #{event.pk} chains onto a hash no stored event has.",
    )


def verify_chain(checkpoints=(), *, progress=None):
    """Walk the whole chain; return the first ChainBreak, or the ChainHead when it is intact.

    `checkpoints` (from read_checkpoints) must each still be in the chain with the same hash and the same
    number of events up to it. `progress(done)` is called every CHUNK_SIZE events for long logs.
    """
    pending = {checkpoint["event_id"]: checkpoint for checkpoint in checkpoints}
    previous = None
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=CHUNK_SIZE):
        count += 1
        if event.compute_hash() != event.row_hash:
            return ChainBreak(
                "edited", event.pk, f"event #{event.pk} was edited: its stored hash is not the hash of its content."
            )
        expected = previous.row_hash if previous is not None else GENESIS_HASH
        if event.previous_hash != expected:
            return _broken_link(event, previous)
        for event_id in sorted(pending):
            if event_id >= event.pk:
                break
            checkpoint = pending.pop(event_id)
            return ChainBreak(
                "deleted",
                event_id,
                f"event #{event_id}, checkpointed at {checkpoint['at']}, is missing from the chain.",
            )
        checkpoint = pending.pop(event.pk, None)
        if checkpoint is not None:
            if checkpoint["row_hash"] != event.row_hash:
                return ChainBreak(
                    "rewritten",
                    event.pk,
                    f"event #{event.pk} no longer has the hash checkpointed at {checkpoint['at']}: "
                    "the chain up to it was rewritten.",
                )
            if checkpoint["count"] != count:
                return ChainBreak(
                    "deleted",
                    event.pk,
                    f"{checkpoint['count']} events led up to event #{event.pk} when checkpointed at "
                    f"{checkpoint['at']}; {count} do now.",
                )
        if progress is not None and count % CHUNK_SIZE == 0:
            progress(count)
        previous = event
    if pending:
        event_id, checkpoint = min(pending.items())
        last = f"event #{previous.pk}" if previous else "no event at all"
        return ChainBreak(
            "truncated",
            event_id,
            f"the log ends at {last}, but the checkpoint taken at {checkpoint['at']} vouches for event #{event_id} "
            f"({checkpoint['count']} events).",
        )
    return ChainHead(count, previous)
