import importlib
from contextlib import contextmanager

import pytest
from django.db import connection

append_only = importlib.import_module("audit.migrations.0002_append_only_triggers")


@contextmanager
def triggers_dropped():
    """Tamper as a database owner would: remove the append-only triggers, then put them back as migrated.

    Only a test may do this; it shows that what an owner can do behind the triggers' back is still caught by
    verify_audit. Both databases' DDL is transactional, so the test's rollback would restore them too.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        else:
            # PostgreSQL will not ALTER a table with pending (deferred foreign key) trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for statement in append_only.SQLITE_FORWARD[1:]:
                    cursor.execute(statement)
            else:
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def tamper():
    def run(*statements):
        with triggers_dropped(), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)

    return run


@pytest.fixture
def chain(governed_sla, submit_acknowledge, approve_all):
    """A chain of a dozen real events: a baseline version, a change request created, submitted, approved…"""
    from audit.models import AuditEvent

    change_request = submit_acknowledge(governed_sla, 15)
    approve_all(governed_sla, change_request)
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 5
    return events
