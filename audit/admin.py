from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log is append-only: the admin shows it and nothing more."""

    list_display = ["occurred_at", "action", "object_repr", "actor"]
    list_filter = ["action"]
    search_fields = ["object_repr", "object_id"]
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
