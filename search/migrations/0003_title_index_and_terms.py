"""A title-only FTS5 table (SQLite) and the table of indexed words, for bounded-work queries.

The title tier reads a title-only index: title document lists are short, so ranking every title match
stays cheap. SearchTerm lets a typed prefix be expanded into whole words (see models.SearchTerm). The SQL
is written out here, not imported: this migration must do tomorrow what it did the day it was made.
"""

from django.db import migrations, models

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE search_title_fts USING fts5(
    title,
    content='search_searchdocument', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
)""",
    "INSERT INTO search_title_fts(search_title_fts) VALUES ('rebuild')",
    """CREATE TRIGGER search_title_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_title_fts(rowid, title) VALUES (new.id, new.title);
    END""",
    """CREATE TRIGGER search_title_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_title_fts(search_title_fts, rowid, title) VALUES ('delete', old.id, old.title);
    END""",
    """CREATE TRIGGER search_title_fts_update AFTER UPDATE OF title ON search_searchdocument BEGIN
        INSERT INTO search_title_fts(search_title_fts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO search_title_fts(rowid, title) VALUES (new.id, new.title);
    END""",
    # The words already indexed, read once from the index itself.
    "CREATE VIRTUAL TABLE temp.search_fts_words USING fts5vocab(main, search_fts, row)",
    "INSERT OR IGNORE INTO search_searchterm(term) SELECT term FROM temp.search_fts_words WHERE length(term) <= 64",
    "DROP TABLE temp.search_fts_words",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_title_fts_insert",
    "DROP TRIGGER IF EXISTS search_title_fts_delete",
    "DROP TRIGGER IF EXISTS search_title_fts_update",
    "DROP TABLE IF EXISTS search_title_fts",
]
POSTGRES_FORWARD = [
    # A narrow heap: body, labels and the whole-document vector move to TOAST (a search reads the stored
    # vector of only the few rows it ranks), the short title vector stays in the row, so a bounded bitmap
    # heap scan touches few, cached pages. Applies to rows written from now on.
    "ALTER TABLE search_searchdocument SET (toast_tuple_target = 128)",
    "ALTER TABLE search_searchdocument ALTER COLUMN title_vector SET STORAGE PLAIN",
    """INSERT INTO search_searchterm(term)
       SELECT word FROM ts_stat('SELECT search_vector FROM search_searchdocument') WHERE length(word) <= 64
       ON CONFLICT DO NOTHING""",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_searchdocument ALTER COLUMN title_vector SET STORAGE EXTENDED",
    "ALTER TABLE search_searchdocument RESET (toast_tuple_target)",
]


class RunSQLOn(migrations.RunSQL):
    """RunSQL that runs only on one database vendor."""

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
    dependencies = [("search", "0002_fulltext")]

    operations = [
        migrations.CreateModel(
            name="SearchTerm",
            fields=[("term", models.CharField(max_length=64, primary_key=True, serialize=False))],
        ),
        RunSQLOn("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        RunSQLOn("postgresql", POSTGRES_FORWARD, POSTGRES_BACKWARD),
    ]
