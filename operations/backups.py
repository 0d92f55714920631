"""Exporting the whole portal to one JSON file, and importing that file into an empty database.

`manage.py export_registry FILE` and `manage.py import_registry FILE` are thin wrappers around
`export_registry` and `import_registry` here. The file is one JSON object:

    {"format": "sla-portal-registry", "version": 1, "exported_at": "…",
     "counts": {"sla_registry.team": 12, …},          rows per model in "objects"
     "content_hashes": {"sla:7": "<sha256>", …},      each governed document's current content hash
     "audit_head": {"id": 812, "row_hash": "…"},      the last audit event (null: an empty log)
     "objects": [ … ]}                                 Django's JSON serialisation, one object a line

What is in it: every row of the apps listed in EXPORTED_APPS (users and groups, guardian's object
permissions, simple-history's historical tables, the admin log, API tokens as their digests, the
notification outbox, the audit log, and the registry, approvals, reviews, releases and incidents). Rows keep their
primary keys, because the audit chain hashes user ids and governed documents are named by id. Content
types and permissions are referred to by natural key: the target database gets its own from `migrate`.
LEFT_OUT says what is not exported, and why.

The import loads every row in one transaction the way `loaddata` does (`save_base(raw=True)`, so no
signal handler indexes or records history), except many-to-many rows: `loaddata` adds them with
`.set()`, which sends m2m_changed, and simple-history records a new historical row for every such
signal whether or not it is a raw load. Here they are inserted in bulk, which sends nothing. Then it
checks everything before committing: row counts, every governed document's content hash, every version's
hash against its snapshot, the audit chain and its head. Any difference rolls the whole import back.

The file holds password hashes, API token digests and webhook secrets: it is written readable by its
owner only, and must be kept like the database itself.
"""

import datetime
import json
import os
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JsonSerializer
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from tqdm import tqdm

from approvals.models import DocumentVersion
from approvals.registry import all_kinds, content_hash
from audit.models import AuditEvent
from audit.verification import ChainBreak, verify_chain

FORMAT = "sla-portal-registry"
VERSION = 1

# Every model of these apps is exported (unless LEFT_OUT names it), in dependency order.
EXPORTED_APPS = [
    "auth",
    "admin",
    "guardian",
    "api",
    "audit",
    "notifications",
    "sla_registry",
    "approvals",
    "reviews",
    "releases",
    "incidents",
]

# What an export leaves out, by app label or model label, and why. tests/portal/test_backups.py checks
# that every installed model is either exported or named here, so a new model cannot go missing silently.
LEFT_OUT = {
    "contenttypes": "made by `migrate` in the target database; rows refer to them by natural key",
    "auth.permission": "made by `migrate` in the target database; rows refer to them by natural key",
    "sessions": "sign-ins are bound to the old server's SECRET_KEY: people sign in again",
    "axes": "login-throttling counters and logs: short-lived, and keyed to addresses of the old server",
    "django_tasks_database": (
        "the worker's queue: tasks name rows of the old database; undelivered notifications and webhooks "
        "stay in the (exported) outbox and are delivered again by the worker or `deliver_notifications`"
    ),
    "core.workerheartbeat": "which workers are alive: each worker reports again when it starts",
    "search": "derived from the registry: the import rebuilds it (as `rebuild_search_index` does)",
    "knox": "its token model is swapped for api.ApiToken, which is exported",
}

# The only models referred to by natural key: their ids differ from one database to the next.
NATURAL_KEY_MODELS = (ContentType, Permission)

CHUNK_SIZE = 2000
PROGRESS_THRESHOLD = 2000  # below this many rows a progress bar is more noise than help


class BackupError(Exception):
    """An export or import that cannot go ahead, or an import that did not verify; the message says why."""


# Progress ------------------------------------------------------------------------------------------


def no_progress(total, description):
    return tqdm(total=total, disable=True)


def tqdm_progress(stream, *, enabled=True, threshold=PROGRESS_THRESHOLD):
    """A progress factory for the commands: a tqdm bar on `stream` for each step with `threshold`+ items."""

    def progress(total, description):
        return tqdm(
            total=total,
            desc=description,
            unit="row",
            file=stream,
            leave=False,
            disable=not enabled or total < threshold,
        )

    return progress


# What is exported --------------------------------------------------------------------------------


def _left_out_reason(model):
    return LEFT_OUT.get(model._meta.label_lower) or LEFT_OUT.get(model._meta.app_label)


def _relations(model):
    """Models this model's rows point to (foreign keys, one-to-ones and many-to-manys)."""
    return {
        field.remote_field.model
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.remote_field and not field.auto_created
    } | {field.remote_field.model for field in model._meta.many_to_many}


def exported_models():
    """The exported models, each after the models it points to (when there is no cycle)."""
    candidates = []
    for label in EXPORTED_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.proxy or not model._meta.managed or _left_out_reason(model):
                continue
            candidates.append(model)
    ordered = []
    remaining = list(candidates)
    while remaining:
        for model in remaining:
            waiting_for = (_relations(model) & set(remaining)) - {model}
            if not waiting_for:
                break
        else:
            model = remaining[0]  # a cycle: the deferred foreign keys are checked at commit anyway
        remaining.remove(model)
        ordered.append(model)
    return ordered


def unaccounted_models():
    """Installed models that are neither exported nor named in LEFT_OUT (should be empty)."""
    exported = set(exported_models())
    return [
        model
        for model in apps.get_models()
        if model not in exported and not model._meta.proxy and model._meta.managed and not _left_out_reason(model)
    ]


def _queryset(model):
    """All rows, in id order, with what natural keys and many-to-manys read fetched in bulk."""
    queryset = model._default_manager.order_by("pk")
    related = []
    for field in model._meta.concrete_fields:
        if field.is_relation and field.remote_field.model is ContentType:
            related.append(field.name)
        elif field.is_relation and field.remote_field.model is Permission:
            related.append(f"{field.name}__content_type")
    prefetch = [
        f"{field.name}__content_type" if field.remote_field.model is Permission else field.name
        for field in model._meta.many_to_many
        if field.serialize and field.remote_field.through._meta.auto_created
    ]
    if related:
        queryset = queryset.select_related(*related)
    if prefetch:
        queryset = queryset.prefetch_related(*prefetch)
    return queryset


def _label(model):
    return model._meta.label_lower


# Content hashes ----------------------------------------------------------------------------------


def governed_content_hashes(*, progress=no_progress):
    """{"sla:7": sha256, …}: every governed document's current content hash, through its kind's snapshot."""
    kinds = all_kinds()
    total = sum(kind.model._default_manager.count() for kind in kinds)
    hashes = {}
    with progress(total, "Hashing governed documents") as bar:
        for kind in kinds:
            for document in kind.model._default_manager.order_by("pk").iterator(chunk_size=CHUNK_SIZE):
                hashes[f"{kind.key}:{document.pk}"] = content_hash(kind.snapshot(document))
                bar.update(1)
    return hashes


# Export ----------------------------------------------------------------------------------------


class ExactJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but times keep their microseconds (it cuts them to milliseconds).

    Snapshots write times with microseconds, so a time rounded on the way through would change the
    content hash of every document it appears in.
    """

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class RegistrySerializer(JsonSerializer):
    """Django's JSON serializer, writing one object a line, with natural keys only for content types and
    permissions (every other row keeps its own id, and a natural key would cost a lookup per row)."""

    def start_serialization(self):
        self._init_options()
        self.stream.write("[\n")

    def end_serialization(self):
        self.stream.write("\n]")

    def end_object(self, obj):
        if not self.first:
            self.stream.write(",\n")
        json.dump(self.get_dump_object(obj), self.stream, **self.json_kwargs)
        self._current = None

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = field.remote_field.model in NATURAL_KEY_MODELS
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = field.remote_field.model in NATURAL_KEY_MODELS
        super().handle_m2m_field(obj, field)


@dataclass
class ExportSummary:
    counts: dict
    documents: int
    audit_head: dict | None


@contextmanager
def _consistent_reads():
    """One transaction, so the counts, hashes and rows all describe the same moment.

    PostgreSQL reads one snapshot (REPEATABLE READ); SQLite's transaction holds its write lock, so writes wait
    for the export. Inside an outer transaction (a test) the outer one already fixes what is read.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export_registry(stream, *, progress=no_progress):
    """Write the whole registry to the text `stream` as one JSON object; return what was written."""
    with _consistent_reads():
        models_in_order = exported_models()
        counts = {_label(model): model._default_manager.count() for model in models_in_order}
        hashes = governed_content_hashes(progress=progress)
        head = AuditEvent.objects.order_by("-id").values("id", "row_hash").first()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": timezone.now(),
            "counts": counts,
            "content_hashes": hashes,
            "audit_head": head,
        }
        # The header, then "objects" streamed row by row: nothing holds the whole registry in memory.
        opening = json.dumps(header, cls=ExactJSONEncoder, ensure_ascii=False, indent=1)
        stream.write(opening[: opening.rindex("}")].rstrip() + ',\n "objects": ')
        total = sum(counts.values())
        with progress(total, "Exporting") as bar:

            def rows():
                for model in models_in_order:
                    for obj in _queryset(model).iterator(chunk_size=CHUNK_SIZE):
                        yield obj
                        bar.update(1)

            RegistrySerializer().serialize(rows(), stream=stream, cls=ExactJSONEncoder)
        stream.write("\n}\n")
    return ExportSummary(counts=counts, documents=len(hashes), audit_head=head)


def export_to_file(path, *, progress=no_progress):
    """Export to `path`, readable by its owner only; the file appears only once it is complete."""
    directory = os.path.dirname(os.path.abspath(path))
    partial = os.path.join(directory, f".{os.path.basename(path)}.partial-{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(descriptor, "w", encoding="utf-8") as stream:
            summary = export_registry(stream, progress=progress)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return summary


# Import ----------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    counts: dict
    documents: int
    audit_events: int
    audit_head: dict | None
    search_documents: int
    seconds: float = 0.0


def read_export(path):
    """The parsed file, its envelope checked; BackupError says where it broke."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise BackupError(f"{path} is not UTF-8 text (byte {error.start}): not a registry export.") from None
    except json.JSONDecodeError as error:
        raise BackupError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno} "
            f"(character {error.pos}). Is the file truncated?"
        ) from None
    check_envelope(data, path)
    return data


def check_envelope(data, path="The file"):
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise BackupError(f"{path} is not an SLA Portal registry export (format {found!r}, expected {FORMAT!r}).")
    if data.get("version") != VERSION:
        raise BackupError(
            f"{path} is a version {data.get('version')!r} registry export; this portal reads version {VERSION}."
        )
    expectations = {
        "counts": dict,
        "content_hashes": dict,
        "objects": list,
    }
    for key, kind in expectations.items():
        if not isinstance(data.get(key), kind):
            raise BackupError(f"{path} is malformed: {key!r} is missing or not a JSON {kind.__name__}.")
    head = data.get("audit_head", "missing")
    if head is not None and not (isinstance(head, dict) and {"id", "row_hash"} <= set(head)):
        raise BackupError(f"{path} is malformed: 'audit_head' must be null or hold id and row_hash.")
    if not all(isinstance(number, int) for number in data["counts"].values()):
        raise BackupError(f"{path} is malformed: 'counts' must map model labels to numbers.")


def unapplied_migrations():
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def _anonymous_user():
    """guardian's anonymous user, which `migrate` creates: the one row a fresh database holds."""
    from guardian.conf.settings import ANONYMOUS_USER_NAME

    if not ANONYMOUS_USER_NAME:
        return None
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: ANONYMOUS_USER_NAME}).first()


def check_target_is_empty():
    """Refuse a database that is not migrated, or holds any portal row (guardian's anonymous user aside)."""
    pending = unapplied_migrations()
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _backwards in pending[:3])
        raise BackupError(
            f"The database is not fully migrated ({len(pending)} migration(s) to apply, e.g. {names}): "
            "run `manage.py migrate` first."
        )
    anonymous = _anonymous_user()
    occupied = []
    for model in exported_models():
        rows = model._default_manager.all()
        if model is get_user_model() and anonymous is not None:
            rows = rows.exclude(pk=anonymous.pk)
        number = rows.count()
        if number:
            occupied.append(f"{number} {_label(model)}")
    if occupied:
        shown = ", ".join(occupied[:5]) + (f" and {len(occupied) - 5} more tables" if len(occupied) > 5 else "")
        raise BackupError(
            f"The database already holds portal data ({shown}). Import only into a freshly migrated, empty database."
        )


def _check_counts_in_file(data, allowed):
    in_file = Counter()
    for index, item in enumerate(data["objects"]):
        well_formed = isinstance(item, dict) and isinstance(item.get("model"), str) and "pk" in item
        if not well_formed or not isinstance(item.get("fields"), dict):
            raise BackupError(f"Object #{index} in 'objects' is malformed: each needs a model, a pk and its fields.")
        label = item["model"].lower()
        if label not in allowed:
            raise BackupError(
                f"Object #{index} is a {item['model']!r} row (pk {item.get('pk')!r}): "
                "a registry export never holds those."
            )
        in_file[label] += 1
    unknown = sorted(set(data["counts"]) - allowed)
    if unknown:
        raise BackupError(f"The file counts rows of {', '.join(unknown)}, which this portal does not import.")
    for label in sorted(set(in_file) | set(data["counts"])):
        if in_file[label] != data["counts"].get(label, 0):
            raise BackupError(
                f"The file is inconsistent: its counts say {data['counts'].get(label, 0)} {label}, "
                f"but it holds {in_file[label]}."
            )


class _Position:
    """Which object of the file the deserializer is on, for error messages."""

    def __init__(self, objects):
        self.objects = objects
        self.index = -1

    def __iter__(self):
        for index, item in enumerate(self.objects):
            self.index = index
            yield item

    def describe(self):
        item = self.objects[self.index] if 0 <= self.index < len(self.objects) else {}
        return f"object #{self.index} ({item.get('model')} pk {item.get('pk')!r})"


def _load_objects(data, *, progress):
    """Save every row raw, then the many-to-many rows in bulk; return ({label: rows saved}, [through models])."""
    position = _Position(data["objects"])
    pending_links = defaultdict(list)  # through model -> unsaved rows
    saved = Counter()
    deserializer = serializers.deserialize("python", position, handle_forward_references=False)
    with progress(len(data["objects"]), "Importing") as bar:
        try:
            for deserialized in deserializer:
                instance = deserialized.object
                links = deserialized.m2m_data or {}
                deserialized.save(save_m2m=False, force_insert=True)
                for name, target_ids in links.items():
                    relation = instance._meta.get_field(name)
                    through = relation.remote_field.through
                    source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
                    pending_links[through].extend(
                        through(**{f"{source}_id": instance.pk, f"{target}_id": target_id}) for target_id in target_ids
                    )
                saved[_label(type(instance))] += 1
                bar.update(1)
        except (serializers.base.DeserializationError, DatabaseError, ValueError, LookupError) as error:
            raise BackupError(f"Cannot import {position.describe()}: {error}") from None
        except Exception as error:  # a field the model does not have, a value of the wrong shape…
            raise BackupError(f"Cannot import {position.describe()}: {type(error).__name__}: {error}") from None
    for through, links in pending_links.items():
        try:
            through._default_manager.bulk_create(links, batch_size=500)
        except DatabaseError as error:
            raise BackupError(f"Cannot import the {_label(through)} links: {error}") from None
    return saved, list(pending_links)


def _reset_sequences(models_loaded):
    statements = connection.ops.sequence_reset_sql(no_style(), models_loaded)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _verify(data, *, progress):
    """Compare what was loaded with what the file vouches for; raise BackupError at the first difference."""
    for label, expected in data["counts"].items():
        stored = apps.get_model(label)._default_manager.count()
        if stored != expected:
            raise BackupError(f"Row count mismatch for {label}: the file holds {expected}, the database {stored}.")

    for version in DocumentVersion.objects.order_by("pk").iterator(chunk_size=CHUNK_SIZE):
        if content_hash(version.snapshot) != version.content_hash:
            raise BackupError(
                f"Content hash mismatch: version {version.number} of {version.document_kind}:{version.document_id} "
                f"(document version #{version.pk}) holds a snapshot whose hash is not its recorded content hash "
                f"{version.content_hash}: the snapshot was altered."
            )

    expected_hashes = data["content_hashes"]
    actual_hashes = governed_content_hashes(progress=progress)
    for key in sorted(set(expected_hashes) | set(actual_hashes), key=_document_order):
        expected, actual = expected_hashes.get(key), actual_hashes.get(key)
        if expected != actual and not _vouched_before_normalising(key, expected):
            if expected is None:
                detail = "the file lists no hash for it"
            elif actual is None:
                detail = "the file vouches for it but holds no such document"
            else:
                detail = f"the file says {expected}, the imported rows give {actual}"
            raise BackupError(f"Content hash mismatch for {key}: {detail}.")

    outcome = verify_chain()
    if isinstance(outcome, ChainBreak):
        raise BackupError(str(outcome))
    head = {"id": outcome.event.pk, "row_hash": outcome.event.row_hash} if outcome.event else None
    if head != data.get("audit_head"):
        raise BackupError(
            f"Audit head mismatch: the file vouches for {data.get('audit_head')}, the imported chain ends at {head}."
        )
    return len(actual_hashes), outcome.count, head


def _vouched_before_normalising(key, expected):
    """Whether a file written before documents were normalised vouches for this document's content.

    Such a file hashed the text as stored then (an annex ending in a newline); the restored document now
    hashes normalised. It is the same content when a version of the document holds exactly the file's
    hash and says what the restored document says (DocumentVersion.holds compares them normalised).
    """
    if expected is None:
        return False
    kind_key, _, document_id = key.partition(":")
    version = DocumentVersion.objects.filter(
        document_kind=kind_key, document_id=document_id, content_hash=expected
    ).first()
    kind = next((kind for kind in all_kinds() if kind.key == kind_key), None)
    if version is None or kind is None:
        return False
    document = kind.model._default_manager.filter(pk=document_id).first()
    return document is not None and version.holds(kind.snapshot(document))


def _document_order(key):
    kind, _, number = key.partition(":")
    return (kind, int(number) if number.isdigit() else 0, number)


def import_registry(data, *, progress=no_progress):
    """Load a parsed export (see read_export) into this empty database, verify it, rebuild the search index.

    All in one transaction: if anything fails or does not verify, nothing is written.
    """
    from search.indexing import rebuild

    started = time.monotonic()
    check_envelope(data)
    models_in_order = exported_models()
    allowed = {_label(model) for model in models_in_order}
    _check_counts_in_file(data, allowed)

    user_model = get_user_model()
    with transaction.atomic():
        # Inside the transaction: on SQLite it holds the write lock, so nothing can slip in after the check.
        check_target_is_empty()
        anonymous = _anonymous_user()
        if anonymous is not None and _file_has_user(data, anonymous.get_username()):
            # The file brings its own (with its id, which its object permissions may name).
            user_model._default_manager.filter(pk=anonymous.pk).delete()
        saved, throughs = _load_objects(data, progress=progress)
        try:
            connection.check_constraints(table_names=[model._meta.db_table for model in [*models_in_order, *throughs]])
        except DatabaseError as error:
            raise BackupError(f"The imported rows do not hold together: {error}") from None
        _reset_sequences([*models_in_order, *throughs])
        documents, events, head = _verify(data, progress=progress)
        search = rebuild()
    return ImportSummary(
        counts=dict(saved),
        documents=documents,
        audit_events=events,
        audit_head=head,
        search_documents=sum(search.values()),
        seconds=time.monotonic() - started,
    )


def _file_has_user(data, username):
    label, field_name = _label(get_user_model()), get_user_model().USERNAME_FIELD
    return any(
        item["model"].lower() == label and item["fields"].get(field_name) == username for item in data["objects"]
    )


def import_from_file(path, *, progress=no_progress):
    return import_registry(read_export(path), progress=progress)
