"""The audit log is append-only in the database, and verify_audit names every kind of tampering.

To tamper, the tests step around the triggers as a database owner would (tests/audit/conftest.py drops or
disables them, then restores them): that is the attack verify_audit and the signed checkpoints exist for.
"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.maintenance import erasing
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

KEY = "checkpoint-test-key-0123456789"


def verify(*args):
    out = StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_fails(*args):
    with pytest.raises(CommandError) as failure:
        verify(*args)
    return str(failure.value)


def checkpoint():
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    return out.getvalue().strip()


# The triggers ------------------------------------------------------------------


def test_the_database_refuses_to_update_an_event(chain):
    event = chain[2]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["forged", event.pk])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.row_hash) == (event.action, event.row_hash)


def test_the_database_refuses_to_delete_an_event(chain):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [chain[2].pk])
    assert AuditEvent.objects.filter(pk=chain[2].pk).exists()


def test_the_orm_cannot_edit_or_delete_events_either(chain):
    event = AuditEvent.objects.get(pk=chain[0].pk)
    event.action = "forged"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == len(chain)
    assert AuditEvent.objects.get(pk=event.pk).action == chain[0].action


def test_the_maintenance_path_lets_deletes_through_and_nothing_else(chain):
    with transaction.atomic(), erasing("test: wipe"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=chain[0].pk).update(action="forged")
        AuditEvent.objects.filter(pk=chain[-1].pk).delete()
    assert AuditEvent.objects.count() == len(chain) - 1
    # …and once out of it, deleting is refused again.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()


# verify_audit --------------------------------------------------------------------


def test_an_intact_chain_is_reported_with_its_head(chain):
    head = chain[-1]
    assert verify().strip() == (
        f"Audit chain intact: {len(chain)} events, head {head.row_hash} "
        f"(event #{head.pk} at {head.occurred_at.isoformat()})"
    )


def test_an_empty_log_is_intact(db):
    assert verify().strip() == "Audit chain intact: 0 events"


def test_an_edited_row_is_named(chain, tamper):
    target = chain[3]
    tamper(("UPDATE audit_auditevent SET object_repr = %s WHERE id = %s", ["Someone else's request", target.pk]))
    assert verify_fails() == (
        f"Audit chain broken (edited): event #{target.pk} was edited: its stored hash is not the hash of its content."
    )


def test_an_edited_row_with_a_recomputed_hash_is_named(chain, tamper):
    target = AuditEvent.objects.get(pk=chain[3].pk)
    target.object_repr = "Someone else's request"
    tamper(
        (
            "UPDATE audit_auditevent SET object_repr = %s, row_hash = %s WHERE id = %s",
            [target.object_repr, target.compute_hash(), target.pk],
        )
    )
    message = verify_fails()
    assert message.startswith(f"Audit chain broken (rewritten): event #{target.pk} was rewritten")


def test_a_deleted_row_is_named(chain, tamper):
    gone, after = chain[3], chain[4]
    tamper(("DELETE FROM audit_auditevent WHERE id = %s", [gone.pk]))
    assert verify_fails() == (
        f"Audit chain broken (deleted): events between #{chain[2].pk} and #{after.pk} are missing: "
        f"event #{after.pk} chains onto a hash no stored event has."
    )


def test_deleting_the_first_row_is_named(chain, tamper):
    tamper(("DELETE FROM audit_auditevent WHERE id = %s", [chain[0].pk]))
    assert "(deleted)" in verify_fails()


def test_reordered_rows_are_named(chain, tamper):
    first, second = chain[2].pk, chain[3].pk
    tamper(
        ("UPDATE audit_auditevent SET id = %s WHERE id = %s", [-1, first]),
        ("UPDATE audit_auditevent SET id = %s WHERE id = %s", [first, second]),
        ("UPDATE audit_auditevent SET id = %s WHERE id = %s", [second, -1]),
    )
    assert verify_fails() == (
        f"Audit chain broken (reordered): event #{first} chains onto event #{second}, which is stored after it."
    )


def test_a_truncated_tail_passes_alone_but_not_against_a_checkpoint(chain, tamper, monkeypatch):
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    signed = checkpoint()
    tamper(("DELETE FROM audit_auditevent WHERE id >= %s", [chain[-2].pk]))
    # Without an outside reference the shorter chain is consistent: that is why checkpoints exist.
    assert verify().startswith(f"Audit chain intact: {len(chain) - 2} events")
    message = verify_fails("--checkpoint", signed)
    assert message.startswith(f"Audit chain broken (truncated): the log ends at event #{chain[-3].pk}")
    assert f"vouches for event #{chain[-1].pk}" in message


def test_a_chain_rewritten_before_the_checkpoint_is_named(chain, tamper, monkeypatch):
    """An owner deletes an event and re-hashes everything after it: consistent alone, caught by the checkpoint."""
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    signed = checkpoint()
    statements = [("DELETE FROM audit_auditevent WHERE id = %s", [chain[1].pk])]
    previous_hash = chain[0].row_hash
    for event in chain[2:]:
        event = AuditEvent.objects.get(pk=event.pk)
        event.previous_hash = previous_hash
        previous_hash = event.compute_hash()
        statements.append(
            (
                "UPDATE audit_auditevent SET previous_hash = %s, row_hash = %s WHERE id = %s",
                [event.previous_hash, previous_hash, event.pk],
            )
        )
    tamper(*statements)
    assert verify().startswith(f"Audit chain intact: {len(chain) - 1} events")
    assert verify_fails("--checkpoint", signed) == (
        f"Audit chain broken (rewritten): event #{chain[-1].pk} no longer has the hash checkpointed at "
        f"{json.loads(signed)['at']}: the chain up to it was rewritten."
    )


# Checkpoints -----------------------------------------------------------------------


def test_a_checkpoint_is_one_signed_line_that_verifies(chain, monkeypatch, tmp_path):
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    line = checkpoint()
    data = json.loads(line)
    assert set(data) == {"event_id", "row_hash", "count", "at", "signature"}
    assert (data["event_id"], data["row_hash"], data["count"]) == (chain[-1].pk, chain[-1].row_hash, len(chain))
    assert "1 checkpoint(s) verified." in verify("--checkpoint", line)
    # A file of checkpoints, one a line, appended over time.
    store = tmp_path / "audit-checkpoints.jsonl"
    store.write_text(line + "\n" + line + "\n")
    assert "2 checkpoint(s) verified." in verify("--checkpoint", str(store))


def test_a_checkpoint_edited_or_signed_with_another_key_is_refused(chain, monkeypatch):
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    data = json.loads(checkpoint())
    forged = json.dumps({**data, "count": data["count"] - 1})
    assert "invalid signature" in verify_fails("--checkpoint", forged)
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", "another-key")
    assert "invalid signature" in verify_fails("--checkpoint", json.dumps(data))


def test_without_a_key_checkpoints_explain_what_is_missing(chain, monkeypatch):
    monkeypatch.delenv("AUDIT_CHECKPOINT_KEY", raising=False)
    with pytest.raises(CommandError, match="Set the environment variable AUDIT_CHECKPOINT_KEY"):
        checkpoint()
    assert "AUDIT_CHECKPOINT_KEY" in verify_fails("--checkpoint", '{"event_id": 1}')


def test_a_malformed_checkpoint_is_refused(chain, monkeypatch):
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    assert "not JSON" in verify_fails("--checkpoint", "{nope")
    assert "must hold exactly" in verify_fails("--checkpoint", '{"event_id": 1}')
    assert "Cannot read the checkpoint file" in verify_fails("--checkpoint", "/nonexistent/checkpoints")
