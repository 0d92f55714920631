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
    """Django's user admin, saving what an edit does to the person's access through sla_registry.actions.

    Team membership is a group membership, so joining or leaving a team's group here goes through
    add_team_member and remove_team_member (leaving ends approving for the team); other groups, global
    permissions and the active, staff and superuser flags are recorded on the user. All in the admin's
    transaction.
    """

    def save_related(self, request, form, formsets, change):
        user = form.instance
        # Taken out of the form's own many-to-many save: the actions write them, with their audit events.
        groups = form.cleaned_data.pop("groups", None)
        permissions = form.cleaned_data.pop("user_permissions", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            actions.set_user_groups(user, groups, acting_user=request.user)
        if permissions is not None:
            actions.set_global_permissions(user, permissions, acting_user=request.user)
        if change:
            flags_changed = {
                name: (form.initial.get(name), getattr(user, name))
                for name in actions.ACCESS_FLAGS
                if name in form.changed_data
            }
            actions.record_access_flags(user, flags_changed, acting_user=request.user)


admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(GroupAdmin):
    """Django's group admin, saving the group's global permissions through sla_registry.actions (audited)."""

    def save_related(self, request, form, formsets, change):
        permissions = form.cleaned_data.pop("permissions", None)
        super().save_related(request, form, formsets, change)
        if permissions is not None:
            actions.set_global_permissions(form.instance, permissions, acting_user=request.user)


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
