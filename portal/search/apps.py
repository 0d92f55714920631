from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Full-text search over every app's objects; apps register their adapters in their own ready()."""

    name = "portal.search"
    label = "search"
    verbose_name = "Search"
