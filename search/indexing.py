"""Writing SearchDocuments: for a few marked objects (after a commit) or for everything (rebuild)."""

from collections import defaultdict

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from search.models import SearchDocument, SearchTerm, slug_list
from search.query import tokens_of
from search.registry import adapter_for, adapters

MAX_TITLE = 300
MAX_URL = 500


def build_document(adapter, obj):
    """The unsaved SearchDocument for `obj`, from its adapter's description."""
    data = adapter.document(obj)
    services = [(slug, name) for slug, name in data.get("services", ()) if slug]
    teams = [(slug, name) for slug, name in data.get("teams", ()) if slug]
    title = data["title"][:MAX_TITLE]
    labels = {
        "services": sorted({name for _slug, name in services}),
        "teams": sorted({name for _slug, name in teams}),
    }
    if data.get("status_label"):
        labels["status"] = data["status_label"]
    return SearchDocument(
        kind=adapter.kind,
        object_id=obj.pk,
        title=title,
        title_key=" ".join(tokens_of(title))[:MAX_TITLE],
        body="\n".join(part for part in data.get("body", ()) if part),
        url=data["url"][:MAX_URL],
        service_slugs=slug_list(slug for slug, _name in services),
        team_slugs=slug_list(slug for slug, _name in teams),
        labels=labels,
        status=data.get("status", ""),
        is_archived=bool(data.get("is_archived")),
        visibility_key=data.get("visibility_key"),
        is_restricted=bool(data.get("is_restricted")),
        updated_at=data.get("updated_at") or timezone.now(),
    )


def record_words(documents, *, using=DEFAULT_DB_ALIAS):
    """Add the words of `documents` to SearchTerm, which turns a typed prefix into whole words, and mark
    the words of their titles (what a mistyped word may be corrected to)."""
    title_words, words = set(), set()
    for document in documents:
        title_words.update(tokens_of(document.title))
        words.update(tokens_of(document.body))
    terms = SearchTerm.objects.using(using)
    terms.bulk_create(
        [SearchTerm(term=word, in_title=word in title_words) for word in sorted(words | title_words)],
        ignore_conflicts=True,
        batch_size=500,
    )
    # Words that were in the table already, from bodies only, become title words now (rarely any).
    ordered = sorted(title_words)
    for start in range(0, len(ordered), 500):
        terms.filter(term__in=ordered[start : start + 500], in_title=False).update(in_title=True)


def reindex(keys, *, using=DEFAULT_DB_ALIAS):
    """Make the documents for `keys` ((kind, object_id) pairs) match the database: rebuilt, or gone."""
    todo, seen = set(keys), set()
    with transaction.atomic(using=using):
        while todo:
            by_kind = defaultdict(set)
            for kind, pk in todo - seen:
                by_kind[kind].add(pk)
            seen |= todo
            todo = set()
            for kind, ids in by_kind.items():
                adapter = adapter_for(kind)
                objects = list(adapter.get_queryset().using(using).filter(pk__in=ids))
                documents = [build_document(adapter, obj) for obj in objects]
                SearchDocument.objects.using(using).filter(kind=kind, object_id__in=ids).delete()
                SearchDocument.objects.using(using).bulk_create(documents)
                record_words(documents, using=using)
                for obj in objects:
                    todo.update(key for key in adapter.related_keys(obj) if key not in seen)


def rebuild(*, progress=None, batch_size=500, using=DEFAULT_DB_ALIAS):
    """Replace the whole index from the database; returns {kind: count}. `progress(n)` is told of each batch."""
    counts = {}
    with transaction.atomic(using=using):
        SearchDocument.objects.using(using).all().delete()
        for kind, adapter in adapters().items():
            counts[kind] = 0
            batch = []
            for obj in adapter.get_queryset().using(using).iterator(chunk_size=batch_size):
                batch.append(build_document(adapter, obj))
                if len(batch) >= batch_size:
                    SearchDocument.objects.using(using).bulk_create(batch)
                    record_words(batch, using=using)
                    counts[kind] += len(batch)
                    if progress:
                        progress(len(batch))
                    batch = []
            if batch:
                SearchDocument.objects.using(using).bulk_create(batch)
                record_words(batch, using=using)
                counts[kind] += len(batch)
                if progress:
                    progress(len(batch))
    return counts


def total_objects():
    return sum(adapter.get_queryset().count() for adapter in adapters().values())
