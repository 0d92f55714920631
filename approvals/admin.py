"""Read-only admin views of the governance record: it changes only through approvals.actions."""

from django.contrib import admin

from approvals.models import ChangeRequest, Decision, DocumentVersion, RequiredApproval


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequiredApprovalInline(admin.TabularInline):
    model = RequiredApproval
    extra = 0
    can_delete = False
    readonly_fields = ["team", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    can_delete = False
    readonly_fields = ["team", "decided_by", "verdict", "comment", "revision", "content_hash", "decided_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["reference", "summary", "document_kind", "document_id", "kind", "state", "author", "updated_at"]
    list_filter = ["state", "kind", "document_kind"]
    search_fields = ["summary", "rationale"]
    list_select_related = ["author"]
    inlines = [RequiredApprovalInline, DecisionInline]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ["document_kind", "document_id", "number", "effective_at", "change_request", "content_hash"]
    list_filter = ["document_kind"]
    list_select_related = ["change_request"]
