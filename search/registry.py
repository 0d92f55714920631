"""How apps make their objects searchable, and how the index follows every write.

Each app registers its adapters (its own search.py) from its AppConfig.ready();
this module imports no app. An adapter says how one kind of object becomes a
SearchDocument and which writes (the object, its children, its many-to-many
relations) make that document stale.

When the index is written: after the transaction commits (transaction.on_commit),
once per document however many rows of it the transaction wrote. Saving an SLA
with ten objectives and targets fires a dozen signals; they only mark
("sla", 7) dirty, and one rebuild of that document runs when the write commits.
A rolled-back write never touches the index, and the write path pays no index
cost while it holds its locks (SQLite has a single writer). The price is a
window of a few milliseconds after commit where the change is not yet
searchable, and a crash in that window leaves the index stale until
`rebuild_search_index`. Within the writing transaction itself, a search first
applies its pending marks (`flush_pending`), so a request (or a test) that
writes and then searches reads its own writes.
"""

from dataclasses import dataclass
from functools import partial

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

_adapters = {}  # kind -> SearchAdapter
_visibility_rule = None  # callable(user) -> (sql, params); see register_visibility_rule
_pending = {}  # connection alias -> set of (kind, object_id) marked in the open transaction


@dataclass(frozen=True)
class Dependency:
    """A model whose writes make documents stale: `keys(instance)` gives their (kind, object_id)."""

    model: str
    keys: object  # callable(instance) -> iterable of (kind, pk)


class SearchAdapter:
    """How one kind of object becomes a SearchDocument. Subclasses set `kind` and `model`."""

    kind = ""
    model = ""  # "app_label.ModelName"
    m2m_fields = ()  # many-to-many field names on `model` whose changes reindex the object
    children = ()  # Dependency(...) for child rows

    def model_class(self):
        return apps.get_model(self.model)

    def get_queryset(self):
        """Objects to index, with what document() reads prefetched."""
        return self.model_class()._default_manager.all()

    def document(self, obj):
        """A dict of SearchDocument fields (title, body, url, services, teams, updated_at, …)."""
        raise NotImplementedError

    def related_keys(self, obj):
        """Other documents whose text depends on this object (reindexed with it)."""
        return ()


def register(adapter):
    if adapter.kind in _adapters:
        return
    _adapters[adapter.kind] = adapter
    model = adapter.model_class()
    uid = f"search:{adapter.kind}"
    post_save.connect(_object_saved, sender=model, dispatch_uid=f"{uid}:save", weak=False)
    post_delete.connect(_object_saved, sender=model, dispatch_uid=f"{uid}:delete", weak=False)
    for name in adapter.m2m_fields:
        through = model._meta.get_field(name).remote_field.through
        m2m_changed.connect(_relation_changed, sender=through, dispatch_uid=f"{uid}:{name}", weak=False)
    for dependency in adapter.children:
        child = apps.get_model(dependency.model)
        handler = _child_handler(dependency)
        post_save.connect(handler, sender=child, dispatch_uid=f"{uid}:{dependency.model}:save", weak=False)
        post_delete.connect(handler, sender=child, dispatch_uid=f"{uid}:{dependency.model}:delete", weak=False)


def register_adapters(*adapters_of_an_app):
    """Register an app's adapters (its search.py ADAPTERS): call from its AppConfig.ready()."""
    for adapter in adapters_of_an_app:
        register(adapter)


def register_visibility_rule(rule):
    """Say who may read restricted documents: `rule(user)` gives (sql, params) selecting, as a column named pk,
    the visibility keys of the restricted documents `user` may read, or (None, ()) when none.

    One rule for the index (today's restricted documents are reviews and their action items); an app
    registers it from its AppConfig.ready(). Without one, restricted documents are for superusers only.
    """
    global _visibility_rule
    _visibility_rule = rule


def readable_keys_sql(user):
    """The registered visibility rule's (sql, params) for `user`; (None, ()) when no rule is registered."""
    return _visibility_rule(user) if _visibility_rule else (None, ())


def adapters():
    return dict(_adapters)


def adapter_for(kind):
    return _adapters[kind]


def _kinds_of(model):
    return [adapter.kind for adapter in _adapters.values() if adapter.model_class() is model]


def _object_saved(sender, instance, raw=False, using=DEFAULT_DB_ALIAS, **kwargs):
    if raw:
        return
    mark([(kind, instance.pk) for kind in _kinds_of(sender)], using=using)


def _relation_changed(sender, instance, action, reverse, model, pk_set, using=DEFAULT_DB_ALIAS, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:
        mark([(kind, instance.pk) for kind in _kinds_of(type(instance))], using=using)
    elif pk_set:
        mark([(kind, pk) for kind in _kinds_of(model) for pk in pk_set], using=using)


def _child_handler(dependency):
    def handler(sender, instance, raw=False, using=DEFAULT_DB_ALIAS, **kwargs):
        if not raw:
            mark(dependency.keys(instance), using=using)

    return handler


# The pending marks of the open transaction ------------------------------------


def _flush_callback_registered(connection):
    return any(
        getattr(callback, "func", callback) is _flush_on_commit for _sids, callback, *_ in connection.run_on_commit
    )


def _flush_on_commit(using=DEFAULT_DB_ALIAS):
    keys = _pending.pop(using, set())
    if keys:
        from search.indexing import reindex

        reindex(keys, using=using)


def mark(keys, *, using=DEFAULT_DB_ALIAS):
    """Mark documents stale; they are rebuilt once, when the current transaction commits."""
    keys = {(kind, pk) for kind, pk in keys if pk is not None}
    if not keys:
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        from search.indexing import reindex

        reindex(keys, using=using)
        return
    if not _flush_callback_registered(connection):
        # A rollback (of the transaction or of the savepoint that queued the flush) dropped the
        # callback: the marks collected so far belong to writes that never happened.
        _pending[using] = set()
        transaction.on_commit(partial(_flush_on_commit, using), using=using)
    _pending.setdefault(using, set()).update(keys)


def mark_objects(model, pks, *, using=DEFAULT_DB_ALIAS):
    """Mark the documents of these rows stale: for writes that send no signals (bulk_create, bulk_update)."""
    mark([(kind, pk) for kind in _kinds_of(model) for pk in pks], using=using)


def flush_pending(using=DEFAULT_DB_ALIAS):
    """Apply this transaction's pending marks now, so a search inside it reads its own writes."""
    connection = connections[using]
    if not _pending.get(using):
        return
    if not connection.in_atomic_block or not _flush_callback_registered(connection):
        _pending.pop(using, None)  # rolled back, or already flushed
        return
    _flush_on_commit(using)
