"""Proposing changes to SLAs and escalation matrices: the editors that open and
revise change requests, and retirement.

An editor edits the whole governed document as its adapter reads it
(sla_registry.documents): a form for the top-level fields, a formset per child
list, and the change's summary, rationale and effective time. The forms check
field types only. The adapter's validate(), called by the approval actions, is
the one judge of the document; its errors ("response_targets[1].time_to_restore",
"steps") are shown back on the row and field they name. One Editor serves both
kinds, configured with its forms.
"""

import re
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.forms.formsets import DELETION_FIELD_NAME, all_valid
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from approvals import actions
from approvals.choices import ChangeKind
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.permissions import access_change_request, revise_refusal
from approvals.registry import get_kind
from sla_registry import forms, review_cycle
from sla_registry.choices import AgreementStatus
from sla_registry.models import ReviewOutcome, Team

# "response_targets[1].time_to_restore", "steps[0]"
ITEM_ERROR_KEY = re.compile(r"^(?P<list>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")


@dataclass(frozen=True)
class ChildList:
    """A child list of the document (its key) and the formset that edits it."""

    key: str
    heading: str
    formset: type
    help: str = ""


@dataclass(frozen=True)
class Editor:
    """The editor of one governed kind: its forms, and the views that open, revise and retire proposals."""

    kind_key: str
    noun: str  # "SLA", "escalation matrix"
    document_form: type
    children: tuple
    owner_field: str  # the team preselected on a new document: the author's own, when they have one
    list_url_name: str

    @property
    def kind(self):
        return get_kind(self.kind_key)

    # The views ---------------------------------------------------------------

    def propose_new(self, request):
        own_team = _own_team_slug(request.user)
        proposal = Proposal(self, request, document={self.owner_field: own_team} if own_team else {})
        return self._handle(
            request,
            proposal,
            save=lambda document, **change: actions.propose_change(
                self.kind_key, None, data=document, acting_user=request.user, **change
            ),
            refused_url=reverse(self.list_url_name),
            context={
                "heading": f"Propose a new {self.noun}",
                "intro": f"Proposing a new {self.noun}. It comes into being once every required team approves.",
                "cancel_url": reverse(self.list_url_name),
            },
        )

    def propose(self, request, reference):
        document = self._document(reference)
        snapshot = self.kind.snapshot(document)
        based_on = _based_on(self.kind, document, snapshot)
        review = PeriodicReviewLink.from_request(request, document, ReviewOutcome.CHANGES_PROPOSED)
        return self._handle(
            request,
            Proposal(self, request, document=snapshot, change_initial=review.change_initial),
            save=review.recording(
                lambda data, **change: actions.propose_change(
                    self.kind_key, document, data=data, acting_user=request.user, **change
                )
            ),
            refused_url=document.get_absolute_url(),
            context={
                "heading": f"Propose a change to {document}",
                "intro": f"Proposing a change to {document.reference}, based on {based_on}.{review.intro}",
                "cancel_url": document.get_absolute_url(),
            },
        )

    def retire(self, request, reference):
        document = self._document(reference)
        snapshot = self.kind.snapshot(document)
        if snapshot.get("status") == AgreementStatus.RETIRED:
            messages.info(request, f"{document.reference} is already retired.")
            return redirect(document)
        retired = self.kind.retired(snapshot)
        based_on = _based_on(self.kind, document, snapshot)
        review = PeriodicReviewLink.from_request(request, document, ReviewOutcome.RETIRE_PROPOSED)
        return self._handle(
            request,
            Proposal(self, request, document=None, change_initial=review.change_initial),
            save=review.recording(
                lambda data, **change: actions.propose_change(
                    self.kind_key, document, change_kind=ChangeKind.RETIRE, acting_user=request.user, **change
                )
            ),
            refused_url=document.get_absolute_url(),
            context={
                "heading": f"Retire {document}",
                "intro": f"Proposing to retire {document.reference}, based on {based_on}.{review.intro}",
                "cancel_url": document.get_absolute_url(),
                "retirement_changes": self.kind.describe(snapshot, retired),
                "required_teams": sorted(
                    self.kind.required_teams(document, retired).items(), key=lambda item: item[0].name
                ),
            },
        )

    def revise(self, request, change_reference):
        change_request = self._change_request(request.user, change_reference)
        refusal = revise_refusal(change_request, request.user)
        if refusal:
            messages.error(request, refusal)
            return redirect(change_request)
        retiring = change_request.kind == ChangeKind.RETIRE
        proposal = Proposal(
            self,
            request,
            document=None if retiring else change_request.proposed,
            change_initial={
                "summary": change_request.summary,
                "rationale": change_request.rationale,
                "effective_at": change_request.effective_at,
            },
        )
        return self._handle(
            request,
            proposal,
            save=lambda data, **change: actions.revise_change_request(
                change_request,
                data=change_request.proposed if retiring else data,
                acting_user=request.user,
                **change,
            ),
            refused_url=change_request.get_absolute_url(),
            success=lambda revised: (
                f"{revised.reference} is revised (revision {revised.revision}) and back to draft. "
                "Check what changes, then submit it for approval."
            ),
            context={
                "heading": f"Revise {change_request}",
                "intro": _revising(change_request, self.kind, self.noun),
                "cancel_url": change_request.get_absolute_url(),
                "change_request": change_request,
            },
        )

    # Shared ------------------------------------------------------------------

    def _document(self, reference):
        document_id = self.kind.document_id_from_reference(reference)
        if document_id is None:
            raise Http404(f"“{reference}” is not a {self.noun} reference.")
        return get_object_or_404(self.kind.model, pk=document_id)

    def _change_request(self, user, change_reference):
        change_request = access_change_request(user, change_reference)
        if change_request.document_kind != self.kind_key:
            raise Http404(f"{change_request.reference} is not a change request for a {self.noun}.")
        return change_request

    def _handle(self, request, proposal, *, save, refused_url, context, success=None):
        """Show the editor; on a valid POST call `save` (one approval action) and go to the change request."""
        if request.method == "POST" and proposal.is_valid():
            try:
                change_request = save(proposal.document(), **proposal.change())
            except ValidationError as error:
                proposal.add_errors(error)
            except (InvalidTransition, NotAllowed) as error:
                messages.error(request, str(error))
                return redirect(refused_url)
            else:
                messages.success(
                    request,
                    success(change_request)
                    if success
                    else f"{change_request.reference} is a draft. Check what changes, then submit it for approval.",
                )
                return redirect(change_request)
        template = "sla_registry/proposal_form.html" if proposal.edits_document else "sla_registry/proposal_retire.html"
        return render(request, template, {**context, "proposal": proposal, "editor": self})


class Proposal:
    """The forms of one editor page: the change fields and, unless retiring, the whole document."""

    def __init__(self, editor, request, *, document, change_initial=None):
        data = request.POST if request.method == "POST" else None
        vocabulary = forms.Vocabulary()
        self.editor, self.base = editor, document
        self.change_form = forms.ChangeForm(data, initial=change_initial)
        self.document_form, self.formsets, self.rows = None, {}, {}
        if document is None:
            return
        self.document_form = editor.document_form(
            data, initial=editor.document_form.initial_from(document), vocabulary=vocabulary
        )
        for child in editor.children:
            self.formsets[child.key] = child.formset(
                data,
                prefix=child.key,
                initial=[child.formset.form.initial_from(item) for item in document.get(child.key) or []],
                form_kwargs={"vocabulary": vocabulary},
            )

    @property
    def edits_document(self):
        return self.document_form is not None

    @property
    def sections(self):
        return [(child, self.formsets[child.key]) for child in self.editor.children]

    @property
    def has_errors(self):
        return any(form.errors for form in self._main_forms()) or any(
            formset.total_error_count() for formset in self.formsets.values()
        )

    @property
    def non_field_errors(self):
        """Problems that belong to no single field, shown in the summary at the top."""
        return [error for form in self._main_forms() for error in form.non_field_errors()]

    def _main_forms(self):
        return [form for form in (self.document_form, self.change_form) if form is not None]

    def _forms(self):
        return [*self._main_forms(), *self.formsets.values()]

    def is_valid(self):
        if not all_valid(self._forms()):
            return False
        # The rows that make the document's lists, in order: what the adapter's error indexes count.
        self.rows = {
            key: [row for row in formset.forms if not row.cleaned_data.get(DELETION_FIELD_NAME) and not row.is_blank()]
            for key, formset in self.formsets.items()
        }
        return True

    def change(self):
        return {name: self.change_form.cleaned_data[name] for name in ("summary", "rationale", "effective_at")}

    def document(self):
        if self.document_form is None:
            return None
        return {
            **self.base,
            **self.document_form.to_document(),
            **{key: [row.to_document() for row in rows] for key, rows in self.rows.items()},
        }

    # Errors from the approval action, placed where the user made them ---------------

    def add_errors(self, error):
        if not hasattr(error, "error_dict"):
            self._main_form().add_error(None, error.messages)
            return
        for key, messages_ in error.message_dict.items():
            self._add_error(key, messages_)

    def _main_form(self):
        return self.document_form or self.change_form

    def _add_error(self, key, messages_):
        match = ITEM_ERROR_KEY.match(key)
        if match and match["list"] in self.formsets:
            list_key, index = match["list"], int(match["index"])
            rows = self.rows[list_key]
            if index < len(rows):
                _add_row_error(rows[index], match["field"], messages_)
            else:
                self.formsets[list_key].non_form_errors().extend(messages_)
            return
        if key in self.formsets:
            self.formsets[key].non_form_errors().extend(messages_)
            return
        for form in (self.change_form, self.document_form):
            if form is not None and key in form.fields:
                form.add_error(key, messages_)
                return
        shown = messages_ if key == NON_FIELD_ERRORS else [f"{key}: {message}" for message in messages_]
        self._main_form().add_error(None, shown)


def _add_row_error(row, field, messages_):
    """On the cell the adapter names ("time_to_restore" is the cell time_to_restore_minutes), else on the row."""
    for name in (field, f"{field}_minutes", f"{field}_days") if field else ():
        if name in row.fields:
            row.add_error(name, messages_)
            return
    row.add_error(None, [f"{field}: {message}" for message in messages_] if field else messages_)


def _own_team_slug(user):
    slugs = list(Team.objects.filter(group__user=user).values_list("slug", flat=True)[:2])
    return slugs[0] if len(slugs) == 1 else None


def _based_on(kind, document, snapshot):
    latest = actions.latest_version(kind.key, document.pk)
    if latest is None:
        return "its current state (no version recorded yet)"
    if not latest.holds(snapshot):
        return f"version {latest.number} and the edits made since outside change requests"
    return f"version {latest.number}"


def _revising(change_request, kind, noun):
    what = {
        ChangeKind.CREATE: f"a new {noun}",
        ChangeKind.CHANGE: f"a change to {kind.reference_of(change_request.document_id)}",
        ChangeKind.RETIRE: f"retiring {kind.reference_of(change_request.document_id)}",
    }[change_request.kind]
    based_on = f", based on version {change_request.base_version}" if change_request.base_version else ""
    return f"Revising {change_request.reference} (revision {change_request.revision}): {what}{based_on}."


@dataclass(frozen=True)
class PeriodicReviewLink:
    """A proposal opened from the committee's periodic review (the Review due page adds ?periodic_review=1).

    The review's note pre-fills the rationale; the review is recorded, linked to
    the new change request, in the transaction that creates the request, so
    there is never one without the other. Without the parameter it does nothing.
    """

    document: object = None
    outcome: str = ""
    user: object = None
    note: str = ""

    @classmethod
    def from_request(cls, request, document, outcome):
        if request.GET.get("periodic_review") != "1":
            return cls()
        return cls(document, outcome, request.user, request.GET.get("note", "").strip())

    @property
    def change_initial(self):
        if not self.outcome:
            return None
        reference = self.document.reference
        if self.outcome == ReviewOutcome.RETIRE_PROPOSED:
            summary = f"Retire {reference} after its periodic review"
        else:
            summary = f"Changes from the periodic review of {reference}"
        return {"summary": summary, "rationale": self.note}

    @property
    def intro(self):
        if not self.outcome:
            return ""
        return (
            f" It records the SLA committee's periodic review of {self.document.reference} "
            f"({ReviewOutcome(self.outcome).label.lower()}); the rationale becomes the review's note."
        )

    def recording(self, save):
        """`save` (which opens the change request), followed by recording the review it comes from."""
        if not self.outcome:
            return save

        def save_and_record(data, **change):
            with transaction.atomic():
                change_request = save(data, **change)
                review_cycle.record_periodic_review(
                    self.document,
                    outcome=self.outcome,
                    note=change["rationale"],
                    acting_user=self.user,
                    change_request=change_request,
                )
            return change_request

        return save_and_record


SLA_EDITOR = Editor(
    kind_key="sla",
    noun="SLA",
    document_form=forms.AgreementDocumentForm,
    children=(
        ChildList(
            "objectives",
            "Objectives",
            forms.ObjectiveFormSet,
            "Customer-facing indicators the provider commits to, e.g. 99.95 % of checkouts succeed over 28 days.",
        ),
        ChildList(
            "response_targets",
            "Response targets",
            forms.ResponseTargetFormSet,
            "How fast the provider responds per severity (and optionally category), in minutes.",
        ),
    ),
    owner_field="provider_team",
    list_url_name="sla_registry:sla_list",
)

MATRIX_EDITOR = Editor(
    kind_key="escalation_matrix",
    noun="escalation matrix",
    document_form=forms.MatrixDocumentForm,
    children=(
        ChildList(
            "steps",
            "Escalation steps",
            forms.EscalationStepFormSet,
            "Per severity, levels 1, 2, 3… without gaps: after the wait, the next level is brought in.",
        ),
        ChildList("responsibilities", "Responsibilities", forms.ResponsibilityFormSet, "Which team owns each duty."),
        ChildList(
            "playbook",
            "Playbook",
            forms.PlaybookStepFormSet,
            "Time-boxed steps, in the order listed, each ending in a checkpoint question.",
        ),
    ),
    owner_field="owner_team",
    list_url_name="sla_registry:matrix_list",
)

_views = require_http_methods(["GET", "POST"])


@_views
def propose_new_sla(request):
    return SLA_EDITOR.propose_new(request)


@_views
def propose_sla(request, reference):
    return SLA_EDITOR.propose(request, reference)


@_views
def retire_sla(request, reference):
    return SLA_EDITOR.retire(request, reference)


@_views
def revise_sla_change(request, change_reference):
    return SLA_EDITOR.revise(request, change_reference)


@_views
def propose_new_matrix(request):
    return MATRIX_EDITOR.propose_new(request)


@_views
def propose_matrix(request, reference):
    return MATRIX_EDITOR.propose(request, reference)


@_views
def retire_matrix(request, reference):
    return MATRIX_EDITOR.retire(request, reference)


@_views
def revise_matrix_change(request, change_reference):
    return MATRIX_EDITOR.revise(request, change_reference)
