"""The full-text structures beside search_searchdocument, as bulk loads need them at run time.

Bulk loads (the benchmark, a rebuild) drop the SQLite triggers and the PostgreSQL GIN indexes while
loading and build them once at the end. The migrations (0002, 0003, 0005) carry their own copy of this
SQL, as written when they were made; this module describes the schema of the latest migration (0005).
"""

NAME_KINDS = ("service", "team")  # the names index: services and teams only
_NAME_KINDS_SQL = "('service', 'team')"

SQLITE_DOCUMENT_TRIGGERS = [
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
    # … the title alone (migration 0003) …
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
    # … and the names: services and teams only (migration 0005).
    f"""CREATE TRIGGER search_name_fts_insert AFTER INSERT ON search_searchdocument
        WHEN new.kind IN {_NAME_KINDS_SQL} BEGIN
        INSERT INTO search_name_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    f"""CREATE TRIGGER search_name_fts_delete AFTER DELETE ON search_searchdocument
        WHEN old.kind IN {_NAME_KINDS_SQL} BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",
    f"""CREATE TRIGGER search_name_fts_update AFTER UPDATE OF kind, title, body ON search_searchdocument BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, title, body)
            SELECT 'delete', old.id, old.title, old.body WHERE old.kind IN {_NAME_KINDS_SQL};
        INSERT INTO search_name_fts(rowid, title, body)
            SELECT new.id, new.title, new.body WHERE new.kind IN {_NAME_KINDS_SQL};
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
        "search_name_fts_insert",
        "search_name_fts_delete",
        "search_name_fts_update",
    )
]
SQLITE_TRIGGERS = SQLITE_DOCUMENT_TRIGGERS
# Tables whose content is every document ('rebuild' refills them from search_searchdocument) …
SQLITE_FTS_TABLES = ["search_fts", "search_title_fts"]
# … and the names table, which holds some documents only, so it is refilled by hand.
SQLITE_NAME_TABLE = "search_name_fts"
SQLITE_REFILL_NAMES = [
    "INSERT INTO search_name_fts(search_name_fts) VALUES ('delete-all')",
    f"""INSERT INTO search_name_fts(rowid, title, body)
        SELECT id, title, body FROM search_searchdocument WHERE kind IN {_NAME_KINDS_SQL}""",
]

POSTGRES_INDEXES = [
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (search_vector)",
    "CREATE INDEX search_document_title_vector ON search_searchdocument USING gin (title_vector)",
    f"""CREATE INDEX search_document_name_vector ON search_searchdocument USING gin (search_vector)
        WHERE kind IN {_NAME_KINDS_SQL}""",
]
POSTGRES_DROP_INDEXES = (
    "DROP INDEX IF EXISTS search_document_vector, search_document_title_vector, search_document_name_vector"
)
POSTGRES_CONFIG = "english"  # the text search configuration of the stored vectors (migration 0005)
