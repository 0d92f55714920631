"""What the apps' admins share: view-only pages for records that change only through their own write path."""

from django.contrib import admin


class ViewOnlyMixin:
    """No add, change or delete, for anyone (superusers included); the change page shows the record read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyTabularInline(ViewOnlyMixin, admin.TabularInline):
    extra = 0


class ViewOnlyStackedInline(ViewOnlyMixin, admin.StackedInline):
    extra = 0
