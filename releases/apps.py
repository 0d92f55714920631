"""When things ship: release calendars (iCalendar in and out), releases and freeze windows."""

from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from approvals.registry import register_approval_warning
        from core.tasks import register_periodic
        from releases import feed_tokens, search
        from releases.freeze import freeze_window_warnings
        from releases.oncall_schedules import schedule_oncall_schedule_sync
        from releases.tasks import schedule_calendar_sync
        from search.registry import register_adapters

        register_approval_warning(freeze_window_warnings)
        register_adapters(*search.ADAPTERS)
        post_save.connect(
            feed_tokens.revoke_when_deactivated, sender=get_user_model(), dispatch_uid="releases.feed_tokens"
        )
        register_periodic("calendar sync", schedule_calendar_sync)
        register_periodic("on-call schedule sync", schedule_oncall_schedule_sync)
