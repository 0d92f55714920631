"""The one deliberate way past the audit log's append-only triggers: wiping a whole database.

Nothing that serves a request may call this. Its users are the test suite's flush between transactional
tests (tests/conftest.py) and tools that empty a database before a restore. Everything else, the ORM, the
admin and raw SQL alike, gets "audit events are append-only" from the database
(see migrations/0002_append_only_triggers.py).
"""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def erasing(reason, *, using=DEFAULT_DB_ALIAS):
    """Let DELETE remove audit events while the block runs; UPDATE stays refused.

    On SQLite this writes the flag row the delete trigger looks for and removes it on the way out; on
    PostgreSQL it turns on the session setting audit.erasing that the trigger function looks for, and off
    again. (PostgreSQL's flush uses TRUNCATE, which row triggers do not see, so the test suite needs this
    only on SQLite.)
    """
    connection = connections[using]
    if connection.vendor == "sqlite":
        enable = ("INSERT INTO audit_maintenance (id, reason) VALUES (1, %s)", [reason])
        disable = ("DELETE FROM audit_maintenance", [])
    elif connection.vendor == "postgresql":
        enable = ("SELECT set_config('audit.erasing', 'on', false)", [])
        disable = ("SELECT set_config('audit.erasing', '', false)", [])
    else:
        raise NotImplementedError(f"No append-only guard is known for {connection.vendor}.")
    with connection.cursor() as cursor:
        cursor.execute(*enable)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(*disable)
