"""Pages of the registry: lists, details, histories and the edit forms.

Every list and detail page reads with a fixed number of queries however many
rows it shows (select_related, prefetch_related, annotate); tests pin the
counts. Every write goes through sla_registry.actions, so a page edit is
validated and recorded in history like any other.
"""

import copy

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import CreateView, DetailView, ListView, TemplateView, UpdateView
from guardian.utils import get_user_obj_perms_model

from portal.history import change_sets
from sla_registry import actions, forms
from sla_registry.choices import AgreementStatus, Duty
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

PAGE_SIZE = 25


# Shared building blocks ------------------------------------------------------


class DocumentLookupMixin:
    """Finds a governed document by its reference (SLA-0007, ESC-0003); anything else is a 404.

    `history_url_name` names the document's History tab, for the tabs shared by its pages.
    """

    history_url_name = None

    def get_object(self, queryset=None):
        queryset = self.get_queryset() if queryset is None else queryset
        reference = self.kwargs["reference"]
        pk = self.model.pk_from_reference(reference)
        if pk is None:
            raise Http404(f"“{reference}” is not a {self.model._meta.verbose_name} reference.")
        return get_object_or_404(queryset, pk=pk)


class HistoryView(DetailView):
    """The History tab of an object: readable change sets, newest first, 25 per page."""

    template_name = "sla_registry/object_history.html"

    def history_sources(self):
        """(historical rows, label function) pairs, as portal.history.change_sets() takes them."""
        return [(self.object.history.all(), lambda row, names: str(self.object))]

    def get_context_data(self, **kwargs):
        paginator = Paginator(change_sets(*self.history_sources()), PAGE_SIZE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(change_sets=page.object_list, page_obj=page, **kwargs)


def add_action_errors(form, error):
    """Show a ValidationError raised by an action on the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


class RegistryFormMixin(PermissionRequiredMixin):
    """A create or edit page: checks the model permission, writes through an action, then redirects.

    Subclasses set `model`, `form_class`, `permission_required`, `list_url_name`
    and implement `save_object(form)` by calling the model's action.
    """

    raise_exception = True
    template_name = "sla_registry/object_form.html"
    list_url_name = None

    def save_object(self, form):
        raise NotImplementedError

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.object is not None:
            # The form cleans a copy, so a rejected edit leaves the page's title
            # and Cancel link on the saved object rather than on the rejected input.
            kwargs["instance"] = copy.copy(self.object)
        return kwargs

    def form_valid(self, form):
        try:
            self.object = self.save_object(form)
        except ValidationError as error:
            add_action_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {self.model._meta.verbose_name} “{self.object}”.")
        return redirect(self.object)

    def get_context_data(self, **kwargs):
        verbose_name = self.model._meta.verbose_name
        if self.object is None:
            heading, cancel_url = f"New {verbose_name}", reverse(self.list_url_name)
        else:
            heading, cancel_url = f"Edit {verbose_name} {self.object}", self.object.get_absolute_url()
        return super().get_context_data(heading=heading, cancel_url=cancel_url, **kwargs)


def reason(form):
    return form.cleaned_data["reason"]


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
    permission_required = "sla_registry.change_team"


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


# Service level agreements ----------------------------------------------------


class AgreementListView(ListView):
    paginate_by = PAGE_SIZE
    context_object_name = "slas"
    template_name = "sla_registry/sla_list.html"

    def get_queryset(self):
        self.filter_form = forms.AgreementFilterForm(self.request.GET)
        self.filter_form.is_valid()  # unknown values drop out of cleaned_data and are ignored
        chosen = self.filter_form.cleaned_data
        slas = ServiceLevelAgreement.objects.select_related("service", "provider_team").prefetch_related(
            "consumer_teams"
        )
        if chosen.get("team"):
            team = chosen["team"]
            slas = slas.filter(Q(provider_team=team) | Q(consumer_teams=team)).distinct()
        if chosen.get("service"):
            slas = slas.filter(service=chosen["service"])
        if chosen.get("status"):
            slas = slas.filter(status=chosen["status"])
        if chosen.get("review") == forms.AgreementFilterForm.REVIEW_OVERDUE:
            # The same rule as GovernedDocument.is_review_overdue, on the stored due date.
            slas = slas.filter(status=AgreementStatus.ACTIVE, next_review_due__lt=timezone.now())
        return slas

    def get_context_data(self, **kwargs):
        is_filtered = any(self.filter_form.cleaned_data.values())
        return super().get_context_data(filter_form=self.filter_form, is_filtered=is_filtered, **kwargs)


class AgreementDetailView(DocumentLookupMixin, DetailView):
    model = ServiceLevelAgreement
    queryset = ServiceLevelAgreement.objects.select_related(
        "service__escalation_matrix", "provider_team"
    ).prefetch_related(
        "consumer_teams",
        "objectives",
        Prefetch(
            "response_targets",
            # "Any category" first under each severity, on SQLite and PostgreSQL alike.
            queryset=ResponseTarget.objects.select_related("severity", "category").order_by(
                "severity__rank", F("category__name").asc(nulls_first=True)
            ),
        ),
    )
    context_object_name = "sla"
    template_name = "sla_registry/sla_detail.html"
    history_url_name = "sla_registry:sla_history"


def response_target_label(row, names):
    category = names(IncidentCategory, row.category_id) if row.category_id else "any category"
    return f"Response target {names(Severity, row.severity_id)}, {category}"


class AgreementHistoryView(DocumentLookupMixin, HistoryView):
    model = ServiceLevelAgreement
    template_name = "sla_registry/document_history.html"
    history_url_name = "sla_registry:sla_history"

    def history_sources(self):
        # Children are read from history by SLA id, so deleted objectives and targets still show.
        sla_id = self.object.pk
        return [
            *super().history_sources(),
            (Objective.history.filter(sla_id=sla_id), lambda row, names: f"Objective “{row.indicator}”"),
            (ResponseTarget.history.filter(sla_id=sla_id), response_target_label),
        ]


# Escalation matrices ---------------------------------------------------------


class MatrixListView(ListView):
    queryset = (
        EscalationMatrix.objects.select_related("service", "owner_team")
        .annotate(step_count=Count("steps"))
        .order_by("pk")
    )
    paginate_by = PAGE_SIZE
    context_object_name = "matrices"
    template_name = "sla_registry/matrix_list.html"


class MatrixDetailView(DocumentLookupMixin, DetailView):
    model = EscalationMatrix
    queryset = EscalationMatrix.objects.select_related("service", "owner_team").prefetch_related(
        Prefetch("steps", queryset=EscalationStep.objects.select_related("severity", "team")),
        Prefetch("responsibilities", queryset=Responsibility.objects.select_related("team")),
        "playbook_steps",
    )
    context_object_name = "matrix"
    template_name = "sla_registry/matrix_detail.html"
    history_url_name = "sla_registry:matrix_history"

    def get_context_data(self, **kwargs):
        steps = list(self.object.steps.all())
        for step in steps:
            # Where a responder actually reaches the team on this step's channels.
            step.address = step.team.contact_for(step.channel)
            step.fallback_address = step.team.contact_for(step.fallback_channel)
        # Duties in the order an incident needs them (detection first), not alphabetically.
        duty_order = {duty: position for position, duty in enumerate(Duty.values)}
        responsibilities = sorted(
            self.object.responsibilities.all(), key=lambda item: (duty_order[item.duty], item.team.name)
        )
        return super().get_context_data(steps=steps, responsibilities=responsibilities, **kwargs)


class MatrixHistoryView(DocumentLookupMixin, HistoryView):
    model = EscalationMatrix
    template_name = "sla_registry/document_history.html"
    history_url_name = "sla_registry:matrix_history"

    def history_sources(self):
        # Children are read from history by matrix id, so deleted steps still show.
        matrix_id = self.object.pk
        return [
            *super().history_sources(),
            (
                EscalationStep.history.filter(matrix_id=matrix_id),
                lambda row, names: f"Escalation step {names(Severity, row.severity_id)} level {row.level}",
            ),
            (
                Responsibility.history.filter(matrix_id=matrix_id),
                lambda row, names: f"Responsibility “{row.get_duty_display()}” of {names(Team, row.team_id)}",
            ),
            (
                PlaybookStep.history.filter(matrix_id=matrix_id),
                lambda row, names: f"Playbook step “{row.title}”",
            ),
        ]
