from django.contrib import admin

from notifications.models import Notification, WebhookDelivery, WebhookSubscription


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox: what was sent, and what is waiting or failing (with its last error)."""

    list_display = ["created_at", "event", "recipient", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "event"]
    search_fields = ["recipient", "subject"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Read-only: webhooks are created and deactivated on their pages (through notifications.actions).

    The secret is never shown: it was shown once, to the user who created the webhook.
    """

    list_display = ["url", "team", "active", "consecutive_failures", "created_at"]
    list_filter = ["active"]
    search_fields = ["url"]
    exclude = ["secret"]
    readonly_fields = [field.name for field in WebhookSubscription._meta.fields if field.name != "secret"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The webhook log: what was delivered, and what is waiting (with its last status and error)."""

    list_display = ["created_at", "event", "subscription", "state", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["state", "event"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
