"""Read-only pages across apps.

Home, the on-call card, the executive summary, team scorecards and the reminders digest.
"""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"
