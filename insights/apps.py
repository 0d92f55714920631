"""Read-only pages across apps.

Home, the on-call card, the executive summary, team scorecards and the reminders digest.
"""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self):
        # The menu's role is remembered at sign-in (user_logged_in), so the menu costs no query per page.
        import insights.navigation  # noqa: F401
        from core.tasks import register_periodic
        from insights.tasks import schedule_reminders

        register_periodic("daily reminders", schedule_reminders)
