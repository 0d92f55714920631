"""The full-text structures beside search_searchdocument, per database (used by migration 0002 and by
bulk loads, which drop the SQLite triggers while loading and rebuild the FTS table once)."""

SQLITE_TABLE = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body,
    content='search_searchdocument', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
)
"""
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
]
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_update",
]
SQLITE_FORWARD = [SQLITE_TABLE, *SQLITE_TRIGGERS]
SQLITE_BACKWARD = [*SQLITE_DROP_TRIGGERS, "DROP TABLE IF EXISTS search_fts"]

# Punctuation becomes spaces before parsing, so PostgreSQL cuts text into the same letter-and-digit
# tokens as FTS5's unicode61 (and as the query parser): no e-mail, URL or "99.95" tokens of its own.
_WORDS = "regexp_replace({column}, '[^[:alnum:]]+', ' ', 'g')"
_TITLE = f"to_tsvector('simple'::regconfig, {_WORDS.format(column='title')})"
_BODY = f"to_tsvector('simple'::regconfig, {_WORDS.format(column='body')})"
POSTGRES_FORWARD = [
    f"""ALTER TABLE search_searchdocument
        ADD COLUMN search_vector tsvector
            GENERATED ALWAYS AS (setweight({_TITLE}, 'A') || setweight({_BODY}, 'B')) STORED,
        ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ({_TITLE}) STORED""",
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (search_vector)",
    "CREATE INDEX search_document_title_vector ON search_searchdocument USING gin (title_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_document_title_vector",
    "DROP INDEX IF EXISTS search_document_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS title_vector, DROP COLUMN IF EXISTS search_vector",
]
