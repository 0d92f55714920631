"""When things ship: release calendars (iCalendar in and out), releases and freeze windows."""

from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from approvals.registry import register_approval_warning
        from releases import search
        from releases.freeze import freeze_window_warnings
        from search.registry import register_adapters

        register_approval_warning(freeze_window_warnings)
        register_adapters(*search.ADAPTERS)
