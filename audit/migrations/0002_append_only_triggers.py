"""The audit log is append-only in the database itself: UPDATE and DELETE on audit_auditevent are refused
by triggers, whoever sends them (the ORM, the admin, a raw SQL session).

The SQL is written out here, not imported: this migration must do tomorrow what it did the day it was made.

SQLite: an UPDATE is always refused. A DELETE is refused unless a row exists in audit_maintenance, which only
`audit.maintenance.erasing()` writes (wiping a whole database: the test suite's flush, a restore). The
table is not a Django model, so nothing in the ORM (nor `manage.py flush`) ever touches it.

PostgreSQL: a row-level trigger refuses every UPDATE, and every DELETE unless the session setting
audit.erasing is on (again only `erasing()` sets it). There is deliberately no TRUNCATE trigger:
TRUNCATE is a table owner's operation (the test suite's flush uses it) and row triggers do not fire for it.
Adding one would break the flush; an owner can drop triggers anyway, which is what `verify_audit` and
external checkpoints are for.
"""

from django.db import migrations

MESSAGE = "audit events are append-only"

SQLITE_FORWARD = [
    "CREATE TABLE audit_maintenance (id integer PRIMARY KEY CHECK (id = 1), reason text NOT NULL)",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TABLE IF EXISTS audit_maintenance",
]

POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- audit.maintenance.erasing() sets audit.erasing for the session: deletes only, never updates.
        IF TG_OP = 'DELETE' AND current_setting('audit.erasing', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END;
    $$""",
    # No TRUNCATE here on purpose (see the module docstring): the test suite's flush truncates.
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"The append-only audit triggers exist for SQLite and PostgreSQL, not {schema_editor.connection.vendor}."
            )
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
