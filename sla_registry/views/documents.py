"""SLAs and escalation matrices: lists, the terms, versions, time travel, diffs, history.

Every page of a document renders its terms from a snapshot (the JSON its governed
kind writes into versions) through sla_registry.presentation, so the live
document, any version and the version in force at a moment read the same way.

Every list and detail page reads with a fixed number of queries however many
rows it shows (select_related, prefetch_related, annotate); tests pin the
counts. Changes are proposed as change requests (sla_registry.views.proposals);
nothing here writes.
"""

from collections import defaultdict

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.views.generic import DetailView, ListView

from approvals.actions import latest_version, version_in_force
from approvals.choices import OPEN_STATES, Verdict
from approvals.diff import field_differences
from approvals.models import ChangeRequest, Decision, DocumentVersion
from approvals.registry import get_kind
from core.moments import parse_moment
from sla_registry import forms
from sla_registry.attainment import attainments
from sla_registry.choices import AgreementStatus
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
from sla_registry.presentation import TERMS_TEMPLATES, contacts_changed_since, present
from sla_registry.review_cycle import periodic_reviews_of
from sla_registry.views.common import PAGE_SIZE, DocumentLookupMixin, HistoryView

# The largest version number a database integer column holds: anything above is no version.
MAX_VERSION_NUMBER = 2**31 - 1
# The latest periodic reviews shown on a document's page.
PERIODIC_REVIEWS_SHOWN = 10


# The pages of one governed document -------------------------------------------


class DocumentPagesMixin(DocumentLookupMixin):
    """What every page of one document shares: its kind, its tabs and the names of its pages.

    Subclasses set `model`, `kind_key` ("sla") and `url_prefix` ("sla_registry:sla"),
    from which the page names follow: sla_versions, sla_version, sla_compare, …
    """

    kind_key = None
    url_prefix = None
    tab = "terms"
    # Whether the terms of a past moment (a version, ?at=) show the teams as they were then: a matrix shows how
    # each team is reached, and those contacts must be the moment's, not today's.
    teams_as_of_moment = False

    def _page(self, page):
        return f"{self.url_prefix}_{page}"

    # The names of the document's pages, for the templates' {% url %}.
    history_url_name = property(lambda self: self._page("history"))
    versions_url_name = property(lambda self: self._page("versions"))
    version_url_name = property(lambda self: self._page("version"))
    compare_url_name = property(lambda self: self._page("compare"))
    propose_url_name = property(lambda self: self._page("propose"))
    retire_url_name = property(lambda self: self._page("retire"))

    @property
    def kind(self):
        return get_kind(self.kind_key)

    def get_queryset(self):
        return self.model._default_manager.all()

    def versions(self):
        return DocumentVersion.objects.of(self.kind.key, self.object.pk)

    def present_at(self, snapshot, moment):
        """The terms of a snapshot shown for a past `moment`: its teams as of then where the kind says so."""
        return present(self.kind, snapshot, at=moment if self.teams_as_of_moment else None)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            document=self.object,
            kind=self.kind,
            kind_label=self.model._meta.verbose_name.capitalize(),
            tab=self.tab,
            terms_template=TERMS_TEMPLATES[self.kind.key],
            **kwargs,
        )


class DocumentDetailView(DocumentPagesMixin, DetailView):
    """The Terms tab: the live document, or with ?at= the version in force at that moment."""

    def get_context_data(self, **kwargs):
        at_text = self.request.GET.get("at", "").strip()
        moment = parse_moment(at_text) if at_text else None
        if moment is not None:
            return super().get_context_data(**self.as_of(moment), **kwargs)
        context = self.live()
        if at_text:
            context["at_error"] = f"“{at_text}” is not a date and time."
        return super().get_context_data(**context, **kwargs)

    def live(self):
        """The document as it is now, with its current version and what is open on it."""
        kind, document = self.kind, self.object
        snapshot = kind.snapshot(document)
        current = self.versions().select_related("change_request").order_by("-number").first()
        return {
            "snapshot": snapshot,
            "terms": present(kind, snapshot),
            "review_document": document,
            "current_version": current,
            "unapproved_edit": current is not None and not current.holds(snapshot),
            "open_change_requests": ChangeRequest.objects.filter(
                document_kind=kind.key, document_id=document.pk, state__in=OPEN_STATES
            )
            .select_related("author")
            .order_by("pk"),
            "periodic_reviews": periodic_reviews_of(kind.key, document.pk)[:PERIODIC_REVIEWS_SHOWN],
        }

    def as_of(self, moment):
        """The version in force at `moment`, and whether the document has changed since."""
        version = version_in_force(self.kind.key, self.object.pk, moment)
        latest = latest_version(self.kind.key, self.object.pk)
        return {
            "as_of": {
                "moment": moment,
                "version": version,
                "changed_since": version is not None and latest.number != version.number,
                "never_versioned": latest is None,
            },
            "at_value": timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M"),
            "terms": self.present_at(version.snapshot, moment) if version else None,
        }


class DocumentVersionsView(DocumentPagesMixin, DetailView):
    """The Versions tab: every version, newest first, with the approvals that carried it."""

    template_name = "sla_registry/document_versions.html"
    tab = "versions"

    def get_context_data(self, **kwargs):
        versions = self.versions().select_related("change_request").defer("snapshot").order_by("-number")
        page = Paginator(versions, PAGE_SIZE).get_page(self.request.GET.get("page"))
        rows = list(page.object_list)
        approvals = defaultdict(list)
        if rows:
            # The approvals that applied each request: on its final revision and content.
            carried = Decision.objects.filter(
                change_request__applied_version__in=[version.pk for version in rows],
                verdict=Verdict.APPROVE,
                revision=F("change_request__revision"),
                content_hash=F("change_request__content_hash"),
            ).select_related("team", "decided_by")
            for decision in carried.order_by("team__name", "pk"):
                approvals[decision.change_request_id].append(decision)
        for version in rows:
            version.approvals = approvals[version.change_request_id] if version.change_request_id else []
        return super().get_context_data(versions=rows, page_obj=page, **kwargs)


class DocumentVersionView(DocumentPagesMixin, DetailView):
    """One version as it was, with when it was in force; a matrix's teams reached as they were when it took effect,
    and what they changed since."""

    template_name = "sla_registry/document_version.html"
    tab = "versions"

    def get_context_data(self, **kwargs):
        number = self.kwargs["number"]
        if not 1 <= number < MAX_VERSION_NUMBER:
            raise Http404(f"{self.object.reference} has no version {number}.")
        pair = {
            version.number: version
            for version in self.versions().select_related("change_request").filter(number__in=[number, number + 1])
        }
        if number not in pair:
            raise Http404(f"{self.object.reference} has no version {number}.")
        version = pair[number]
        return super().get_context_data(
            version=version,
            next_version=pair.get(number + 1),
            latest_number=self.versions().aggregate(latest=Max("number"))["latest"],
            terms=self.present_at(version.snapshot, version.effective_at),
            **kwargs,
        )


class DocumentCompareView(DocumentPagesMixin, DetailView):
    """Two versions side by side, either way round: what changed, in words and field by field."""

    template_name = "sla_registry/document_compare.html"
    tab = "versions"

    def chosen_number(self, name, numbers, errors):
        text = self.request.GET.get(name, "").strip()
        side = {"from": "from", "to": "to"}[name]
        if not text:
            errors.append(f"Choose the version to compare {side}.")
            return None
        if not (text.isascii() and text.isdigit()):
            errors.append(f"“{text}” is not a version number.")
            return None
        number = int(text)
        if number not in numbers:
            errors.append(
                f"{self.object.reference} has no version {number}; it has versions {min(numbers)} to {max(numbers)}."
            )
            return None
        return number

    def get_context_data(self, **kwargs):
        reference = self.object.reference
        choices = list(self.versions().order_by("number").values_list("number", "effective_at"))
        numbers = {number for number, _ in choices}
        context = {"version_choices": choices, "errors": [], "notes": []}
        errors = context["errors"]
        if len(choices) < 2:
            so_far = "only one version" if choices else "no version"
            errors.append(f"{reference} has {so_far} so far: nothing to compare yet.")
            return super().get_context_data(**context, **kwargs)

        params = self.request.GET
        if not params.get("from", "").strip() and not params.get("to", "").strip():
            # Nothing chosen yet: start from the latest change.
            from_number, to_number = choices[-2][0], choices[-1][0]
            context["notes"].append("Showing the latest change. Choose any two versions to compare them.")
        else:
            from_number = self.chosen_number("from", numbers, errors)
            to_number = self.chosen_number("to", numbers, errors)
        context.update(from_number=from_number, to_number=to_number)
        if errors:
            return super().get_context_data(**context, **kwargs)
        if from_number == to_number:
            errors.append(f"Both sides are version {from_number}: there is nothing to compare.")
            return super().get_context_data(**context, **kwargs)

        snapshots = dict(self.versions().filter(number__in=[from_number, to_number]).values_list("number", "snapshot"))
        old, new = snapshots[from_number], snapshots[to_number]
        context.update(
            compared=True,
            backwards=from_number > to_number,
            changes=self.kind.describe(old, new),
            field_differences=field_differences(old, new, self.kind.child_keys),
        )
        return super().get_context_data(**context, **kwargs)


class DocumentHistoryView(DocumentPagesMixin, HistoryView):
    """The History tab: every row write, with the ones not made through a change request flagged."""

    template_name = "sla_registry/document_history.html"
    tab = "history"
    governed = True


# Service level agreements ----------------------------------------------------


class AgreementPagesMixin:
    model = ServiceLevelAgreement
    kind_key = "sla"
    url_prefix = "sla_registry:sla"


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


class AgreementDetailView(AgreementPagesMixin, DocumentDetailView):
    template_name = "sla_registry/sla_detail.html"

    def live(self):
        """The live terms, plus each objective's attainment over its current window (two more queries).

        Only the live page shows attainment: a past version's objectives were measured
        against windows that have long since moved on.
        """
        prefetch_related_objects([self.object], "objectives")
        measured = attainments([self.object])
        return {
            **super().live(),
            "objective_attainments": [
                measured[(self.object.pk, objective.indicator)] for objective in self.object.objectives.all()
            ],
        }


class AgreementVersionsView(AgreementPagesMixin, DocumentVersionsView):
    pass


class AgreementVersionView(AgreementPagesMixin, DocumentVersionView):
    pass


class AgreementCompareView(AgreementPagesMixin, DocumentCompareView):
    pass


def response_target_label(row, names):
    category = names(IncidentCategory, row.category_id) if row.category_id else "any category"
    return f"Response target {names(Severity, row.severity_id)}, {category}"


class AgreementHistoryView(AgreementPagesMixin, DocumentHistoryView):
    def history_sources(self):
        # Children are read from history by SLA id, so deleted objectives and targets still show.
        sla_id = self.object.pk
        return [
            *super().history_sources(),
            (Objective.history.filter(sla_id=sla_id), lambda row, names: f"Objective “{row.indicator}”"),
            (ResponseTarget.history.filter(sla_id=sla_id), response_target_label),
        ]


# Escalation matrices ---------------------------------------------------------


class MatrixPagesMixin:
    model = EscalationMatrix
    kind_key = "escalation_matrix"
    url_prefix = "sla_registry:matrix"
    teams_as_of_moment = True


class MatrixListView(ListView):
    queryset = (
        EscalationMatrix.objects.select_related("service", "owner_team")
        .annotate(step_count=Count("steps"))
        .order_by("pk")
    )
    paginate_by = PAGE_SIZE
    context_object_name = "matrices"
    template_name = "sla_registry/matrix_list.html"


class MatrixDetailView(MatrixPagesMixin, DocumentDetailView):
    template_name = "sla_registry/matrix_detail.html"

    def live(self):
        context = super().live()
        version = context["current_version"]
        slugs = {step["team"] for step in context["snapshot"].get("steps", [])}
        context["contacts_changed"] = contacts_changed_since(slugs, version.effective_at if version else None)
        return context


class MatrixVersionsView(MatrixPagesMixin, DocumentVersionsView):
    pass


class MatrixVersionView(MatrixPagesMixin, DocumentVersionView):
    pass


class MatrixCompareView(MatrixPagesMixin, DocumentCompareView):
    pass


class MatrixHistoryView(MatrixPagesMixin, DocumentHistoryView):
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
