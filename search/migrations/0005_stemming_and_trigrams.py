"""Search reads as people type: stemmed indexes, a names index, and trigram lookups of the title words.

- Both full-text indexes stem English words ("logins failed" finds "login failed"): FTS5 tables under the
  porter tokenizer (SQLite), tsvectors in PostgreSQL's english configuration. Numbers and codes ("503",
  "sev1", "ECONNREFUSED") are kept whole by both.
- A names index, the services' and teams' documents only, so "the services matching" a query is a lookup in a
  few thousand rows however large the index: an FTS5 table of those rows (SQLite), a partial GIN index
  (PostgreSQL).
- SearchTerm.in_title marks the words of titles; a mistyped word is corrected to the nearest of them by
  trigram similarity: pg_trgm's GiST index (PostgreSQL), an FTS5 trigram table of the words padded as
  pg_trgm pads them (SQLite), so both find the same candidates.

The SQL is written out here, not imported: this migration must do tomorrow what it did the day it was made.
"""

import re

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

STEMMED = "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3'"
NAME_KINDS = "('service', 'team')"

SQLITE_OLD_TRIGGERS = [
    "search_fts_insert",
    "search_fts_delete",
    "search_fts_update",
    "search_title_fts_insert",
    "search_title_fts_delete",
    "search_title_fts_update",
]
SQLITE_TRIGGERS = [
    """CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER search_fts_update AFTER UPDATE OF title, body ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
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
    f"""CREATE TRIGGER search_name_fts_insert AFTER INSERT ON search_searchdocument
        WHEN new.kind IN {NAME_KINDS} BEGIN
        INSERT INTO search_name_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    f"""CREATE TRIGGER search_name_fts_delete AFTER DELETE ON search_searchdocument
        WHEN old.kind IN {NAME_KINDS} BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",
    f"""CREATE TRIGGER search_name_fts_update AFTER UPDATE OF kind, title, body ON search_searchdocument BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, title, body)
            SELECT 'delete', old.id, old.title, old.body WHERE old.kind IN {NAME_KINDS};
        INSERT INTO search_name_fts(rowid, title, body)
            SELECT new.id, new.title, new.body WHERE new.kind IN {NAME_KINDS};
    END""",
    # The title words, padded as pg_trgm pads a word ("  word "), so the trigram tokenizer indexes the same
    # trigrams as pg_trgm. A regular FTS5 table (its own copy of the words): SearchTerm's rowids are not stable.
    """CREATE TRIGGER search_term_trigrams_insert AFTER INSERT ON search_searchterm WHEN new.in_title BEGIN
        INSERT INTO search_term_trigrams(term) VALUES ('  ' || new.term || ' ');
    END""",
    """CREATE TRIGGER search_term_trigrams_update AFTER UPDATE OF in_title ON search_searchterm
        WHEN new.in_title AND NOT old.in_title BEGIN
        INSERT INTO search_term_trigrams(term) VALUES ('  ' || new.term || ' ');
    END""",
    """CREATE TRIGGER search_term_trigrams_delete AFTER DELETE ON search_searchterm WHEN old.in_title BEGIN
        DELETE FROM search_term_trigrams WHERE term = '  ' || old.term || ' ';
    END""",
]
SQLITE_NEW_TRIGGERS = [
    "search_name_fts_insert",
    "search_name_fts_delete",
    "search_name_fts_update",
    "search_term_trigrams_insert",
    "search_term_trigrams_update",
    "search_term_trigrams_delete",
]
SQLITE_FORWARD = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_OLD_TRIGGERS),
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_title_fts",
    f"""CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, content='search_searchdocument', content_rowid='id', {STEMMED}
)""",
    f"""CREATE VIRTUAL TABLE search_title_fts USING fts5(
    title, content='search_searchdocument', content_rowid='id', {STEMMED}
)""",
    f"""CREATE VIRTUAL TABLE search_name_fts USING fts5(
    title, body, content='search_searchdocument', content_rowid='id', {STEMMED}
)""",
    "CREATE VIRTUAL TABLE search_term_trigrams USING fts5(term, tokenize='trigram')",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    "INSERT INTO search_title_fts(search_title_fts) VALUES ('rebuild')",
    f"""INSERT INTO search_name_fts(rowid, title, body)
        SELECT id, title, body FROM search_searchdocument WHERE kind IN {NAME_KINDS}""",
    "INSERT INTO search_term_trigrams(term) SELECT '  ' || term || ' ' FROM search_searchterm WHERE in_title",
    *SQLITE_TRIGGERS,
]
# Back to migration 0003's tables: unstemmed, no names index, no trigrams.
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in [*SQLITE_OLD_TRIGGERS, *SQLITE_NEW_TRIGGERS]),
    "DROP TABLE IF EXISTS search_term_trigrams",
    "DROP TABLE IF EXISTS search_name_fts",
    "DROP TABLE IF EXISTS search_title_fts",
    "DROP TABLE IF EXISTS search_fts",
    """CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, content='search_searchdocument', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
)""",
    """CREATE VIRTUAL TABLE search_title_fts USING fts5(
    title, content='search_searchdocument', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
)""",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    "INSERT INTO search_title_fts(search_title_fts) VALUES ('rebuild')",
    *SQLITE_TRIGGERS[:6],
]


def _vectors(config):
    # Punctuation becomes spaces before parsing, so PostgreSQL cuts text into the same letter-and-digit tokens
    # as FTS5's unicode61 (and as the query parser).
    return f"""ALTER TABLE search_searchdocument
        ADD COLUMN search_vector tsvector
            GENERATED ALWAYS AS (
                setweight(to_tsvector('{config}'::regconfig, regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'A')
                || setweight(to_tsvector('{config}'::regconfig, regexp_replace(body, '[^[:alnum:]]+', ' ', 'g')), 'B')
            ) STORED,
        ADD COLUMN title_vector tsvector
            GENERATED ALWAYS AS (
                to_tsvector('{config}'::regconfig, regexp_replace(title, '[^[:alnum:]]+', ' ', 'g'))
            ) STORED"""


POSTGRES_DROP_VECTORS = (
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS title_vector, DROP COLUMN IF EXISTS search_vector"
)
POSTGRES_VECTOR_INDEXES = [
    "ALTER TABLE search_searchdocument ALTER COLUMN title_vector SET STORAGE PLAIN",
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (search_vector)",
    "CREATE INDEX search_document_title_vector ON search_searchdocument USING gin (title_vector)",
]
POSTGRES_FORWARD = [
    POSTGRES_DROP_VECTORS,  # drops their indexes too
    _vectors("english"),
    *POSTGRES_VECTOR_INDEXES,
    f"""CREATE INDEX search_document_name_vector ON search_searchdocument USING gin (search_vector)
        WHERE kind IN {NAME_KINDS}""",
    "CREATE INDEX search_term_title_trigram ON search_searchterm USING gist (term gist_trgm_ops) WHERE in_title",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_term_title_trigram",
    POSTGRES_DROP_VECTORS,
    _vectors("simple"),
    *POSTGRES_VECTOR_INDEXES,
]

TOKEN = re.compile(r"[^\W_]+")  # search.query.TOKEN as it was: letters and digits


def mark_title_words(apps, schema_editor):
    """Every word of a title today, in SearchTerm with in_title set (added if it was missing)."""
    database = schema_editor.connection.alias
    SearchDocument = apps.get_model("search", "SearchDocument")
    SearchTerm = apps.get_model("search", "SearchTerm")
    words = set()
    for title in SearchDocument.objects.using(database).values_list("title", flat=True).iterator(chunk_size=2000):
        words.update(token.lower()[:64] for token in TOKEN.findall(title))
    ordered = sorted(words)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        SearchTerm.objects.using(database).bulk_create(
            [SearchTerm(term=word, in_title=True) for word in chunk], ignore_conflicts=True
        )
        SearchTerm.objects.using(database).filter(term__in=chunk).update(in_title=True)


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


class TrigramExtensionOnPostgres(TrigramExtension):
    """pg_trgm on PostgreSQL; nothing elsewhere, either way (Django's own checks the vendor going forward only)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_visibility_key")]

    operations = [
        migrations.AddField(model_name="searchterm", name="in_title", field=models.BooleanField(default=False)),
        migrations.RunPython(mark_title_words, migrations.RunPython.noop),
        RunSQLOn("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        TrigramExtensionOnPostgres(),
        RunSQLOn("postgresql", POSTGRES_FORWARD, POSTGRES_BACKWARD),
    ]
