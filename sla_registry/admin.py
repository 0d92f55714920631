"""Admin for the registry, with history on every model.

SLAs and escalation matrices are edited here until change requests govern them;
such edits carry no change request and show in history as unreviewed.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from guardian.admin import GuardedModelAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from sla_registry import actions
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    EscalationStep,
    IncidentCategory,
    Objective,
    PlaybookStep,
    ResponseTarget,
    Responsibility,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
    check_escalation_levels,
)


class AuditedPermissionsForm:
    """The admin's object-permission forms, saving through sla_registry.actions so each change is audited."""

    acting_user = None

    def save_obj_perms(self):
        holder = getattr(self, "user", None) or self.group
        codenames = self.cleaned_data[self.get_obj_perms_field_name()]
        actions.set_team_permissions(self.obj, holder, codenames, acting_user=self.acting_user)


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AuditedUserAdmin(UserAdmin):
    """Django's user admin, with what an edit does to the person's access recorded in the audit log.

    Team membership is a group membership, so joining or leaving a team's group here is recorded as the
    registry's own actions record it (and leaving ends approving for the team); other groups, global
    permissions and the active, staff and superuser flags are recorded on the user. All in the admin's
    transaction.
    """

    def save_related(self, request, form, formsets, change):
        user = form.instance
        groups_before = set(user.groups.all()) if change else set()
        permissions_before = set(user.user_permissions.select_related("content_type")) if change else set()
        super().save_related(request, form, formsets, change)
        flags_changed = {
            name: (form.initial.get(name), getattr(user, name))
            for name in actions.ACCESS_FLAGS
            if change and name in form.changed_data
        }
        actions.record_account_changes(
            user,
            groups_before=groups_before,
            permissions_before=permissions_before,
            flags_changed=flags_changed,
            acting_user=request.user,
        )


admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(GroupAdmin):
    """Django's group admin, with the global permissions an edit grants or revokes recorded in the audit log."""

    def save_related(self, request, form, formsets, change):
        group = form.instance
        permissions_before = set(group.permissions.select_related("content_type")) if change else set()
        super().save_related(request, form, formsets, change)
        actions.record_group_changes(group, permissions_before=permissions_before, acting_user=request.user)


@admin.register(Team)
class TeamAdmin(GuardedModelAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "is_sla_committee", "primary_channel", "fallback_channel"]
    list_filter = ["kind", "is_sla_committee"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        actions.save_team(obj, acting_user=request.user, reason="Edited in the admin")

    def get_obj_perms_manage_user_form(self, request):
        base = super().get_obj_perms_manage_user_form(request)
        return type("AuditedUserPermissionsForm", (AuditedPermissionsForm, base), {"acting_user": request.user})

    def get_obj_perms_manage_group_form(self, request):
        base = super().get_obj_perms_manage_group_form(request)
        return type("AuditedGroupPermissionsForm", (AuditedPermissionsForm, base), {"acting_user": request.user})


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "owner_team", "tier"]
    list_filter = ["tier", "owner_team"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["dependencies"]
    list_select_related = ["owner_team"]


@admin.register(CustomerJourney)
class CustomerJourneyAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["services"]


@admin.register(Severity)
class SeverityAdmin(SimpleHistoryAdmin):
    list_display = ["key", "name", "rank"]


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ResponseTargetInline(admin.TabularInline):
    model = ResponseTarget
    extra = 0


@admin.register(ServiceLevelAgreement)
class ServiceLevelAgreementAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "service", "provider_team", "status", "next_review_due"]
    list_filter = ["status", "provider_team"]
    search_fields = ["title"]
    list_select_related = ["service", "provider_team"]
    filter_horizontal = ["consumer_teams"]
    inlines = [ObjectiveInline, ResponseTargetInline]


class EscalationStepFormSet(BaseInlineFormSet):
    """Checks that each severity's levels start at 1 and run without gaps."""

    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("severity")
        ]
        try:
            check_escalation_levels((row["severity"], row["level"]) for row in kept)
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    formset = EscalationStepFormSet
    extra = 0


class ResponsibilityInline(admin.TabularInline):
    model = Responsibility
    extra = 0


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    extra = 0


@admin.register(EscalationMatrix)
class EscalationMatrixAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "service", "owner_team", "status"]
    list_filter = ["status", "owner_team"]
    list_select_related = ["service", "owner_team"]
    inlines = [EscalationStepInline, ResponsibilityInline, PlaybookStepInline]
