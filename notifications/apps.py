"""The outbox: email and signed webhooks written with the event, delivered after commit, with retries."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = "Notifications"
