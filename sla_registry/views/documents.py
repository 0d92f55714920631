"""SLAs and escalation matrices: lists, the terms, history.

Every list and detail page reads with a fixed number of queries however many
rows it shows (select_related, prefetch_related, annotate); tests pin the
counts. Every write goes through sla_registry.actions, so a page edit is
validated and recorded in history like any other.
"""

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from django.views.generic import DetailView, ListView

from sla_registry import forms
from sla_registry.choices import AgreementStatus, Duty
from sla_registry.models import (
    EscalationMatrix,
    EscalationStep,
    IncidentCategory,
    Objective,
    PlaybookStep,
    ResponseTarget,
    Responsibility,
    ServiceLevelAgreement,
    Severity,
    Team,
)
from sla_registry.views.common import PAGE_SIZE, DocumentLookupMixin, HistoryView

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
