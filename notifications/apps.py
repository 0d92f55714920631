"""The outbox: email and signed webhooks written with the event, delivered after commit, with retries."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from core.tasks import register_periodic
        from notifications.tasks import schedule_next_delivery

        register_periodic("notification delivery", schedule_next_delivery)
