"""The full-text index for the database in use: FTS5 + triggers on SQLite, tsvector + GIN on PostgreSQL."""

from django.db import migrations

from portal.search import schema


class RunSQLOn(migrations.RunSQL):
    """RunSQL that runs only on one database vendor (the other vendor's index is a different structure)."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor, kwargs.pop("sql"), kwargs.pop("reverse_sql")], kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        RunSQLOn("sqlite", schema.SQLITE_FORWARD, schema.SQLITE_BACKWARD),
        RunSQLOn("postgresql", schema.POSTGRES_FORWARD, schema.POSTGRES_BACKWARD),
    ]
