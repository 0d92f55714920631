"""Admin for the registry, with history on every model.

SLAs and escalation matrices are governed documents: they change only through change requests and their
approvals, so here they are view-only for everyone, superusers included. Teams, services, journeys and
the taxonomy are saved through sla_registry.actions (validated, audited, with a reason); deleting them
is not offered here, since agreements, reviews and history refer to them.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from core.admin import ViewOnlyMixin, ViewOnlyStackedInline, ViewOnlyTabularInline
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
)

admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AuditedUserAdmin(UserAdmin):
    """Django's user admin, saving what an edit does to the person's access through sla_registry.actions.

    Team membership is a group membership, so joining or leaving a team's group here goes through
    add_team_member and remove_team_member (leaving ends approving for the team); other groups, global
    permissions and the active, staff and superuser flags are recorded on the user. All in the admin's
    transaction.
    """

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class GovernedMembershipForm(form_class):
            def clean_groups(self):
                groups = self.cleaned_data["groups"]
                current = set(self.instance.groups.all()) if self.instance.pk else set()
                changed = Team.objects.filter(group__in=current ^ set(groups))
                try:
                    actions.check_governed_memberships(changed)
                except ValidationError as error:
                    raise ValidationError(error.message_dict["groups"]) from error
                return groups

        return GovernedMembershipForm

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
class TeamAdmin(SimpleHistoryAdmin):
    """Names and contacts, saved through save_team. Kind and the committee flag are shown, never edited,
    and there is no object-permission page: approver rights come from team membership (add_team_member),
    so nobody grants themselves the right to approve for a team here."""

    list_display = ["name", "kind", "is_sla_committee", "primary_channel", "fallback_channel"]
    list_filter = ["kind", "is_sla_committee"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["kind", "is_sla_committee"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actions.save_team(obj, acting_user=request.user, reason="Edited in the admin")


class RegistryAdmin(SimpleHistoryAdmin):
    """Saves through the app's action for the model (`save_action`), with its many-to-many fields passed to it."""

    save_action = None  # callable(instance, *, acting_user, reason, **many_to_many)
    many_to_many = ()  # field names the action takes as keyword arguments
    check_related = None  # callable(instance, **many_to_many) raising the action's ValidationError, or None

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        check_related, names = type(self).check_related, self.many_to_many
        if check_related is None:
            return form_class

        class CheckedForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                related = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
                try:
                    check_related(self.instance, **related)
                except ValidationError as error:
                    self._update_errors(error)

        return CheckedForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        related = {name: form.cleaned_data[name] for name in self.many_to_many if name in form.cleaned_data}
        type(self).save_action(obj, acting_user=request.user, reason="Edited in the admin", **related)

    def save_related(self, request, form, formsets, change):
        # The action has set the many-to-many fields; only inline formsets remain (none here).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Service)
class ServiceAdmin(RegistryAdmin):
    save_action = actions.save_service
    many_to_many = ("dependencies",)
    check_related = actions.check_service_dependencies
    list_display = ["name", "owner_team", "tier"]
    list_filter = ["tier", "owner_team"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["dependencies"]
    list_select_related = ["owner_team"]


@admin.register(CustomerJourney)
class CustomerJourneyAdmin(RegistryAdmin):
    save_action = actions.save_journey
    many_to_many = ("services",)
    list_display = ["name"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["services"]


@admin.register(Severity)
class SeverityAdmin(RegistryAdmin):
    save_action = actions.save_severity
    list_display = ["key", "name", "rank"]


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(RegistryAdmin):
    save_action = actions.save_category
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ObjectiveInline(ViewOnlyTabularInline):
    model = Objective
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ResponseTargetInline(ViewOnlyTabularInline):
    model = ResponseTarget


@admin.register(ServiceLevelAgreement)
class ServiceLevelAgreementAdmin(ViewOnlyMixin, SimpleHistoryAdmin):
    """View-only: an SLA changes through a change request (its page's "Propose a change")."""

    list_display = ["reference", "title", "service", "provider_team", "status", "next_review_due"]
    list_filter = ["status", "provider_team"]
    search_fields = ["title"]
    list_select_related = ["service", "provider_team"]
    inlines = [ObjectiveInline, ResponseTargetInline]


class EscalationStepInline(ViewOnlyTabularInline):
    model = EscalationStep


class ResponsibilityInline(ViewOnlyTabularInline):
    model = Responsibility


class PlaybookStepInline(ViewOnlyStackedInline):
    model = PlaybookStep


@admin.register(EscalationMatrix)
class EscalationMatrixAdmin(ViewOnlyMixin, SimpleHistoryAdmin):
    """View-only: a matrix changes through a change request."""

    list_display = ["reference", "title", "service", "owner_team", "status"]
    list_filter = ["status", "owner_team"]
    list_select_related = ["service", "owner_team"]
    inlines = [EscalationStepInline, ResponsibilityInline, PlaybookStepInline]
