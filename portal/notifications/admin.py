from django.contrib import admin

from portal.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox: what was sent, and what is waiting or failing (with its last error)."""

    list_display = ["created_at", "event", "recipient", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "event"]
    search_fields = ["recipient", "subject"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
