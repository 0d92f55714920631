"""The search index: one document per searchable object, two backends, filled by registered adapters."""

from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Full-text search over every app's objects; apps register their adapters in their own ready()."""

    name = "search"
    label = "search"
    verbose_name = "Search"
