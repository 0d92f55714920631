"""Read-only admin views of post-incident reviews, with their history.

Reviews change only through reviews.actions (the pages, governed publication and
amendments), which pin agreements and keep restricted access in step; an admin
edit would bypass both. Restricted reviews are listed to superusers only.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin import ViewOnlyMixin, ViewOnlyTabularInline
from reviews.models import ActionItem, PinnedVersion, PostIncidentReview, TimelineEntry


class PinnedVersionInline(ViewOnlyTabularInline):
    model = PinnedVersion
    fields = ["service", "version"]
    readonly_fields = fields


class TimelineEntryInline(ViewOnlyTabularInline):
    model = TimelineEntry
    fields = ["at", "kind", "entry"]
    readonly_fields = fields


class ActionItemInline(ViewOnlyTabularInline):
    model = ActionItem
    fields = ["title", "kind", "owner_team", "assignee", "due_date", "priority", "status", "completion_note"]
    readonly_fields = fields


def visible_in_admin(request, queryset, restricted_field="is_restricted"):
    return queryset if request.user.is_superuser else queryset.filter(**{restricted_field: False})


@admin.register(PostIncidentReview)
class PostIncidentReviewAdmin(ViewOnlyMixin, SimpleHistoryAdmin):
    list_display = ["reference", "title", "severity", "status", "is_drill", "is_restricted", "started_at"]
    list_filter = ["status", "severity", "is_drill", "is_restricted", "category"]
    search_fields = ["title", "summary"]
    date_hierarchy = "started_at"
    list_select_related = ["severity"]
    inlines = [PinnedVersionInline, TimelineEntryInline, ActionItemInline]

    def get_queryset(self, request):
        return visible_in_admin(request, super().get_queryset(request))


@admin.register(ActionItem)
class ActionItemAdmin(ViewOnlyMixin, SimpleHistoryAdmin):
    list_display = ["title", "review", "owner_team", "assignee", "due_date", "priority", "status"]
    list_filter = ["status", "priority", "kind", "owner_team"]
    search_fields = ["title"]
    list_select_related = ["review", "owner_team", "assignee"]

    def get_queryset(self, request):
        return visible_in_admin(request, super().get_queryset(request), "review__is_restricted")


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ViewOnlyMixin, SimpleHistoryAdmin):
    list_display = ["review", "at", "kind", "entry"]
    list_select_related = ["review"]

    def get_queryset(self, request):
        return visible_in_admin(request, super().get_queryset(request), "review__is_restricted")
