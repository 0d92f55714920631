"""Teams, services, customer journeys and the incident taxonomy: lists, details, histories, forms.

Every list and detail page reads with a fixed number of queries however many
rows it shows (select_related, prefetch_related, annotate); tests pin the
counts. Every write goes through sla_registry.actions, so a page edit is
validated and recorded in history like any other.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.views.generic import CreateView, DetailView, ListView, TemplateView, UpdateView
from guardian.utils import get_user_obj_perms_model

from sla_registry import actions, forms
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    EscalationStep,
    IncidentCategory,
    Responsibility,
    Service,
    Severity,
    Team,
)
from sla_registry.permissions import may_edit_team
from sla_registry.views.common import PAGE_SIZE, HistoryView, RegistryFormMixin, reason

# Teams -----------------------------------------------------------------------


class TeamListView(ListView):
    queryset = Team.objects.annotate(
        service_count=Count("services", distinct=True), member_count=Count("group__user", distinct=True)
    ).order_by("name")  # Meta.ordering does not apply to aggregating queries
    paginate_by = PAGE_SIZE
    context_object_name = "teams"
    template_name = "sla_registry/team_list.html"


def team_members(team):
    """The team's members and approvers in one query, each flagged `is_member` / `is_approver`.

    Approvers hold the object permission to approve for the team; one given the
    permission in the admin without joining the group is still listed.
    """
    User = get_user_model()
    is_member = Exists(User.groups.through.objects.filter(user=OuterRef("pk"), group=team.group_id))
    is_approver = Exists(
        get_user_obj_perms_model().objects.filter(
            user=OuterRef("pk"),
            permission__codename="approve_for_team",
            content_type__app_label=Team._meta.app_label,
            content_type__model=Team._meta.model_name,
            object_pk=str(team.pk),
        )
    )
    return (
        User.objects.annotate(is_member=is_member, is_approver=is_approver)
        .filter(Q(is_member=True) | Q(is_approver=True))
        .order_by("-is_approver", "first_name", "last_name", "username")
    )


def escalation_roles(team):
    """Each escalation matrix that names the team, with what the team does in it.

    Returns [(matrix, ["owner", "SEV1 level 2, by page", "Incident commander"]), …]
    in reference order, from three queries.
    """
    named = {}

    def note(matrix, role):
        named.setdefault(matrix.pk, (matrix, []))[1].append(role)

    for matrix in EscalationMatrix.objects.filter(owner_team=team).select_related("service"):
        note(matrix, "Owner")
    for step in EscalationStep.objects.filter(team=team).select_related("matrix__service", "severity"):
        note(step.matrix, f"Notified at {step.severity} level {step.level}, by {step.get_channel_display().lower()}")
    for responsibility in Responsibility.objects.filter(team=team).select_related("matrix__service"):
        note(responsibility.matrix, responsibility.get_duty_display())
    return [named[pk] for pk in sorted(named)]


class TeamDetailView(DetailView):
    model = Team
    template_name = "sla_registry/team_detail.html"

    def get_context_data(self, **kwargs):
        team = self.object
        return super().get_context_data(
            members=team_members(team),
            services=team.services.all(),
            slas_provided=team.slas_provided.select_related("service"),
            slas_consumed=team.slas_consumed.select_related("service", "provider_team"),
            escalation_roles=escalation_roles(team),
            **kwargs,
        )


class TeamHistoryView(HistoryView):
    model = Team


class TeamFormMixin(RegistryFormMixin):
    model = Team
    form_class = forms.TeamForm
    list_url_name = "sla_registry:team_list"

    def save_object(self, form):
        return actions.save_team(form.instance, acting_user=self.request.user, reason=reason(form))


class TeamCreateView(TeamFormMixin, CreateView):
    permission_required = "sla_registry.add_team"


class TeamUpdateView(TeamFormMixin, UpdateView):
    """Edited by the team's approvers and the committee (may_edit_team), not by a global permission."""

    def has_permission(self):
        return may_edit_team(self.request.user, self.get_object())


# Services --------------------------------------------------------------------


class ServiceListView(ListView):
    paginate_by = PAGE_SIZE
    context_object_name = "services"
    template_name = "sla_registry/service_list.html"

    def get_queryset(self):
        self.filter_form = forms.ServiceFilterForm(self.request.GET)
        self.filter_form.is_valid()  # an unknown tier or team drops out of cleaned_data and is ignored
        chosen = self.filter_form.cleaned_data
        services = (
            Service.objects.select_related("owner_team")
            .annotate(dependency_count=Count("dependencies"))
            .order_by("name")
        )
        if chosen.get("tier"):
            services = services.filter(tier=chosen["tier"])
        if chosen.get("team"):
            services = services.filter(owner_team=chosen["team"])
        return services

    def get_context_data(self, **kwargs):
        is_filtered = any(self.filter_form.cleaned_data.values())
        return super().get_context_data(filter_form=self.filter_form, is_filtered=is_filtered, **kwargs)


class ServiceDetailView(DetailView):
    queryset = Service.objects.select_related("owner_team", "escalation_matrix")
    template_name = "sla_registry/service_detail.html"

    def get_context_data(self, **kwargs):
        service = self.object
        return super().get_context_data(
            dependencies=service.dependencies.select_related("owner_team"),
            dependents=service.dependents.select_related("owner_team"),
            journeys=service.journeys.all(),
            slas=service.slas.select_related("provider_team"),
            # Loaded with the service above; None when it has no matrix yet.
            escalation_matrix=getattr(service, "escalation_matrix", None),
            **kwargs,
        )


class ServiceHistoryView(HistoryView):
    model = Service


class ServiceFormMixin(RegistryFormMixin):
    model = Service
    form_class = forms.ServiceForm
    list_url_name = "sla_registry:service_list"

    def save_object(self, form):
        return actions.save_service(
            form.instance,
            dependencies=list(form.cleaned_data["dependencies"]),
            acting_user=self.request.user,
            reason=reason(form),
        )


class ServiceCreateView(ServiceFormMixin, CreateView):
    permission_required = "sla_registry.add_service"


class ServiceUpdateView(ServiceFormMixin, UpdateView):
    permission_required = "sla_registry.change_service"


# Customer journeys -----------------------------------------------------------


class JourneyListView(ListView):
    queryset = CustomerJourney.objects.annotate(service_count=Count("services")).order_by("name")
    paginate_by = PAGE_SIZE
    context_object_name = "journeys"
    template_name = "sla_registry/journey_list.html"


class JourneyDetailView(DetailView):
    model = CustomerJourney
    context_object_name = "journey"
    template_name = "sla_registry/journey_detail.html"

    def get_context_data(self, **kwargs):
        services = self.object.services.select_related("owner_team")
        return super().get_context_data(services=services, **kwargs)


class JourneyHistoryView(HistoryView):
    model = CustomerJourney


class JourneyFormMixin(RegistryFormMixin):
    model = CustomerJourney
    form_class = forms.JourneyForm
    list_url_name = "sla_registry:journey_list"

    def save_object(self, form):
        return actions.save_journey(
            form.instance,
            services=list(form.cleaned_data["services"]),
            acting_user=self.request.user,
            reason=reason(form),
        )


class JourneyCreateView(JourneyFormMixin, CreateView):
    permission_required = "sla_registry.add_customerjourney"


class JourneyUpdateView(JourneyFormMixin, UpdateView):
    permission_required = "sla_registry.change_customerjourney"


# Incident taxonomy -----------------------------------------------------------


class TaxonomyView(TemplateView):
    template_name = "sla_registry/taxonomy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            severities=Severity.objects.all(), categories=IncidentCategory.objects.all(), **kwargs
        )


class SeverityFormMixin(RegistryFormMixin):
    model = Severity
    form_class = forms.SeverityForm
    list_url_name = "sla_registry:taxonomy"
    slug_field = slug_url_kwarg = "key"

    def save_object(self, form):
        return actions.save_severity(form.instance, acting_user=self.request.user, reason=reason(form))


class SeverityCreateView(SeverityFormMixin, CreateView):
    permission_required = "sla_registry.add_severity"


class SeverityUpdateView(SeverityFormMixin, UpdateView):
    permission_required = "sla_registry.change_severity"


class CategoryFormMixin(RegistryFormMixin):
    model = IncidentCategory
    form_class = forms.CategoryForm
    list_url_name = "sla_registry:taxonomy"

    def save_object(self, form):
        return actions.save_category(form.instance, acting_user=self.request.user, reason=reason(form))


class CategoryCreateView(CategoryFormMixin, CreateView):
    permission_required = "sla_registry.add_incidentcategory"


class CategoryUpdateView(CategoryFormMixin, UpdateView):
    permission_required = "sla_registry.change_incidentcategory"
