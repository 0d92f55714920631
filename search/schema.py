"""The full-text structures beside search_searchdocument, as bulk loads need them at run time.

Bulk loads (the benchmark, a rebuild) drop the SQLite triggers and the PostgreSQL GIN indexes while
loading and build them once at the end. The migrations (0002, 0003) carry their own copy of this SQL,
as written when they were made; this module describes the schema of the latest migration.
"""

SQLITE_TRIGGERS = [
    # The whole document (title and body) …
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
    # … and the title alone (migration 0003).
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
]
SQLITE_DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "search_fts_insert",
        "search_fts_delete",
        "search_fts_update",
        "search_title_fts_insert",
        "search_title_fts_delete",
        "search_title_fts_update",
    )
]
SQLITE_FTS_TABLES = ["search_fts", "search_title_fts"]

POSTGRES_INDEXES = [
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (search_vector)",
    "CREATE INDEX search_document_title_vector ON search_searchdocument USING gin (title_vector)",
]
POSTGRES_DROP_INDEXES = "DROP INDEX IF EXISTS search_document_vector, search_document_title_vector"
