"""Writing reviews: the editor, publication and reopening.

The editor is one page for a new review, a draft (edited in place by its
authors) and a published review (the same page proposes an amendment, a change
request). The forms parse field types only; reviews.actions judges the review and
names its problems ("acknowledged_at", "timeline[1].at", "services"), shown back
on the field or row they name. "Recalculate figures" works out the breach panel
from the times entered, in memory, without saving anything.
"""

import copy
import re

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.formsets import DELETION_FIELD_NAME, all_valid
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from approvals.exceptions import InvalidTransition, NotAllowed
from reviews import actions, forms
from reviews.choices import ReviewStatus
from reviews.figures import review_figures
from reviews.models import PostIncidentReview
from reviews.permissions import access_review
from reviews.views.common import pins_in_memory
from reviews.views.reading import detail_queryset, review_page_context
from sla_registry.models import Service

# "timeline[1].at", "action_items[0]"
ROW_ERROR_KEY = re.compile(r"^(?P<list>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")
RECALCULATE = "recalculate"


class ReviewEditor:
    """The forms of one editor page: the review, its timeline and action items, and (amending) the change."""

    def __init__(self, request, review, *, amending=False, initial=None):
        data = request.POST if request.method == "POST" else None
        self.review, self.amending = review, amending
        people = forms.People()
        # The form edits a copy, so a rejected edit leaves the page's heading on the saved review.
        self.form = forms.ReviewForm(data, instance=copy.copy(review), initial=initial)
        existing = review.pk is not None
        self.formsets = {
            "timeline": forms.TimelineFormSet(
                data,
                prefix="timeline",
                initial=[forms.TimelineEntryForm.initial_from(entry) for entry in review.timeline.all()]
                if existing
                else [],
            ),
            "action_items": forms.ActionItemFormSet(
                data,
                prefix="action_items",
                initial=[forms.ActionItemForm.initial_from(item) for item in review.action_items.all()]
                if existing
                else [],
                form_kwargs={"people": people},
            ),
        }
        self.change_form = forms.ChangeForm(data, prefix="change") if amending else None
        self.rows = {key: [] for key in self.formsets}

    @property
    def sections(self):
        return [
            (
                {
                    "heading": "Timeline",
                    "help": "What happened when, in your time zone. Saved in time order.",
                },
                self.formsets["timeline"],
            ),
            (
                {
                    "heading": "Action items",
                    "help": "Follow-up work, each owned by a team. Done items keep their completion note.",
                },
                self.formsets["action_items"],
            ),
        ]

    def _forms(self):
        return [form for form in (self.form, *self.formsets.values(), self.change_form) if form is not None]

    @property
    def has_errors(self):
        return any(form.errors for form in (self.form, self.change_form) if form is not None) or any(
            formset.total_error_count() for formset in self.formsets.values()
        )

    def is_valid(self):
        valid = all_valid(self._forms())
        self.rows = {
            key: [
                row
                for row in formset.forms
                if hasattr(row, "cleaned_data") and not row.cleaned_data.get(DELETION_FIELD_NAME) and not row.is_blank()
            ]
            for key, formset in self.formsets.items()
        }
        return valid

    def edited_review(self):
        return self.form.instance

    def children(self):
        return {key: [row.to_instance() for row in rows] for key, rows in self.rows.items()}

    def check_times(self):
        """The review's own rules (times in order, drill kind) for a recalculation, which saves nothing."""
        try:
            self.edited_review().clean()
        except ValidationError as error:
            for name, field_messages in error.message_dict.items():
                if name not in self.form.errors:
                    self.form.add_error(name if name in self.form.fields else None, field_messages)

    def preview(self):
        """Figures from the times and services entered, with the agreements that would be pinned; None if unknown."""
        data = getattr(self.form, "cleaned_data", {})
        review = self.edited_review()
        if not data.get("started_at") or not data.get("severity") or not data.get("services"):
            return None
        return review_figures(review, pinned_versions=pins_in_memory(review, data["services"]), contacts=True)

    # Errors from the action, placed where the user made them ------------------------

    def add_errors(self, error):
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error.messages)
            return
        for key, field_messages in error.message_dict.items():
            self._add_error(key, field_messages)

    def _add_error(self, key, field_messages):
        match = ROW_ERROR_KEY.match(key)
        if match and match["list"] in self.formsets:
            rows = self.rows[match["list"]]
            index = int(match["index"])
            if index < len(rows):
                row, name = rows[index], match["field"]
                if name and name in row.fields:
                    row.add_error(name, field_messages)
                else:
                    row.add_error(None, [f"{name}: {text}" if name else text for text in field_messages])
            else:
                self.formsets[match["list"]].non_form_errors().extend(field_messages)
            return
        for form in (self.form, self.change_form):
            if form is not None and key in form.fields:
                form.add_error(key, field_messages)
                return
        shown = field_messages if key == NON_FIELD_ERRORS else [f"{key}: {text}" for text in field_messages]
        self.form.add_error(None, shown)


def _editor_page(request, editor, *, heading, intro, cancel_url, figures):
    return render(
        request,
        "reviews/review_form.html",
        {
            "editor": editor,
            "review": editor.review,
            "heading": heading,
            "intro": intro,
            "cancel_url": cancel_url,
            "figures": figures,
            "counted_breaches": [] if figures is None or editor.form.instance.is_drill else figures.breaches,
            "recalculated": request.method == "POST" and RECALCULATE in request.POST,
        },
    )


def _recalculate(request, editor, **page):
    editor.is_valid()
    editor.check_times()
    return _editor_page(request, editor, figures=editor.preview(), **page)


@require_http_methods(["GET", "POST"])
def review_create(request):
    initial = {}
    service_slug = request.GET.get("service")
    if service_slug:
        initial["services"] = list(Service.objects.filter(slug=service_slug))
    editor = ReviewEditor(request, PostIncidentReview(), initial=initial)
    page = {
        "heading": "New post-incident review",
        "intro": "A blameless review of one incident or drill. It is a draft until you submit it for publication.",
        "cancel_url": reverse("reviews:review_list"),
    }
    if request.method == "POST":
        if RECALCULATE in request.POST:
            return _recalculate(request, editor, **page)
        if editor.is_valid():
            try:
                review = actions.save_review(
                    editor.edited_review(),
                    **editor.form.choices(),
                    **editor.children(),
                    acting_user=request.user,
                    reason="Started the review",
                )
            except ValidationError as error:
                editor.add_errors(error)
            else:
                messages.success(request, f"{review.reference} is saved as a draft.")
                return redirect(review)
        return _editor_page(request, editor, figures=editor.preview(), **page)
    return _editor_page(request, editor, figures=None, **page)


def _editing_refusal(review, user):
    if review.status == ReviewStatus.IN_REVIEW:
        return f"{review.reference} is in review for publication; reopen it as a draft to edit it."
    if review.status == ReviewStatus.DRAFT and not any(author.pk == user.pk for author in review.authors.all()):
        return f"Only the authors of {review.reference} can edit its draft."
    return None


@require_http_methods(["GET", "POST"])
def review_update(request, reference):
    review = access_review(request.user, reference, detail_queryset())
    refusal = _editing_refusal(review, request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect(review)
    amending = review.status == ReviewStatus.PUBLISHED
    editor = ReviewEditor(request, review, amending=amending)
    page = {
        "heading": f"Propose an amendment to {review}" if amending else f"Edit {review}",
        "intro": (
            f"{review.reference} is published: your edit becomes a change request, and the review changes "
            "once it is approved."
            if amending
            else f"{review.reference} is a draft; saving changes it at once."
        ),
        "cancel_url": review.get_absolute_url(),
    }
    if request.method == "POST":
        if RECALCULATE in request.POST:
            return _recalculate(request, editor, **page)
        if editor.is_valid():
            try:
                if amending:
                    change_request = actions.propose_amendment(
                        review,
                        edited=editor.edited_review(),
                        **editor.form.choices(),
                        **editor.children(),
                        summary=editor.change_form.cleaned_data["summary"],
                        rationale=editor.change_form.cleaned_data["rationale"],
                        acting_user=request.user,
                    )
                else:
                    actions.save_review(
                        editor.edited_review(),
                        **editor.form.choices(),
                        **editor.children(),
                        acting_user=request.user,
                        reason="Edited the draft",
                    )
            except ValidationError as error:
                editor.add_errors(error)
            except (InvalidTransition, NotAllowed) as error:
                messages.error(request, str(error))
                return redirect(review)
            else:
                if amending:
                    messages.success(
                        request, f"{change_request.reference} proposes the amendment. Check it, then submit it."
                    )
                    return redirect(change_request)
                messages.success(request, f"{review.reference} is saved.")
                return redirect(review)
        return _editor_page(request, editor, figures=editor.preview(), **page)
    return _editor_page(
        request,
        editor,
        figures=review_figures(review, pinned_versions=list(review.pinned_versions.all()), contacts=True),
        **page,
    )


@require_POST
def review_publish(request, reference):
    review = access_review(request.user, reference, detail_queryset())
    refusal = _editing_refusal(review, request.user)
    if refusal or review.status != ReviewStatus.DRAFT:
        messages.error(request, refusal or f"{review.reference} is already published.")
        return redirect(review)
    publish_form = forms.ChangeForm(request.POST)
    if publish_form.is_valid():
        try:
            change_request = actions.submit_for_publication(
                review,
                summary=publish_form.cleaned_data["summary"],
                rationale=publish_form.cleaned_data["rationale"],
                acting_user=request.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for key, field_messages in error.message_dict.items():
                    publish_form.add_error(key if key in publish_form.fields else None, field_messages)
            else:
                publish_form.add_error(None, error.messages)
        except (InvalidTransition, NotAllowed) as error:
            messages.error(request, str(error))
            return redirect(review)
        else:
            messages.success(
                request, f"{change_request.reference} asks to publish {review.reference}; the approvers are told."
            )
            return redirect(change_request)
    return render(
        request, "reviews/review_detail.html", review_page_context(request, review, publish_form=publish_form)
    )


@require_POST
def review_reopen(request, reference):
    review = access_review(request.user, reference)
    try:
        actions.reopen_draft(review, acting_user=request.user)
    except (ValidationError, InvalidTransition, NotAllowed) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"{review.reference} is a draft again.")
    return redirect(review)
