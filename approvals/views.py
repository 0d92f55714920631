"""Change-request pages: lists, the request itself with its diff and decisions,
and the transitions (submit, decide, withdraw, rebase) as POST endpoints that
call one action each and report its outcome as a message."""

from functools import wraps

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from approvals import actions
from approvals.choices import OPEN_STATES, ChangeState, Verdict
from approvals.diff import field_differences, text_differences, without_text
from approvals.exceptions import InvalidTransition, NotAllowed, RevisedMeanwhile
from approvals.filters import ChangeRequestFilter, document_of
from approvals.forms import DecisionForm
from approvals.models import ChangeRequest, Decision, DocumentVersion, EmergencyGrant
from approvals.permissions import (
    access_change_request,
    approvals_waiting_for,
    revise_refusal,
    teams_user_may_approve_for,
    visible_change_requests,
)
from approvals.registry import approval_warnings, normalise_document
from audit.log import events_for
from core.formatting import key_words

PAGE_SIZE = 25


def _team_model():
    return apps.get_model(settings.APPROVALS_TEAM_MODEL)


def _list_queryset(user):
    return visible_change_requests(user, ChangeRequest.objects.select_related("author")).order_by("-pk")


def _paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def change_request_list(request):
    """Every visible change request, filtered by the same FilterSet as the API's list."""
    filters = ChangeRequestFilter(request.GET or None, queryset=_list_queryset(request.user), request=request)
    change_requests = filters.qs if filters.is_bound and filters.is_valid() else filters.queryset
    reference = (filters.form.cleaned_data.get("document") or "").strip() if filters.is_bound else ""
    if reference and document_of(reference) is None:
        messages.info(request, f"“{reference}” is not a document reference such as SLA-0003 or ESC-0002.")
    page = _paginate(request, change_requests)
    return render(
        request,
        "approvals/change_request_list.html",
        {
            "page_obj": page,
            "change_requests": page.object_list,
            "filter_form": filters.form,
            "heading": "Change requests",
        },
    )


def my_requests(request):
    change_requests = _list_queryset(request.user).filter(author=request.user, state__in=OPEN_STATES)
    page = _paginate(request, change_requests)
    return render(
        request,
        "approvals/change_request_list.html",
        {
            "page_obj": page,
            "change_requests": page.object_list,
            "heading": "My requests",
            "intro": "Your drafts and the requests of yours still open.",
        },
    )


def my_approvals(request):
    page = _paginate(request, approvals_waiting_for(request.user))
    return render(
        request,
        "approvals/my_approvals.html",
        {"page_obj": page, "waiting": page.object_list, "now": timezone.now()},
    )


def change_request_detail(request, reference):
    change_request = access_change_request(request.user, reference)
    kind = change_request.governed_kind
    required = list(change_request.required_approvals.select_related("team"))
    decisions = list(
        Decision.objects.filter(change_request=change_request)
        .select_related("team", "decided_by")
        .order_by("decided_at")
    )
    current = {
        decision.team_id: decision
        for decision in decisions
        if decision.revision == change_request.revision and decision.content_hash == change_request.content_hash
    }
    for requirement in required:
        requirement.decision = current.get(requirement.team_id)

    base = None
    if change_request.document_id is not None and change_request.base_version:
        base = (
            DocumentVersion.objects.of(kind.key, change_request.document_id)
            .filter(number=change_request.base_version)
            .first()
        )
    # Versions stored before text was normalised may differ from the proposal by whitespace alone: that is no change.
    base_snapshot = normalise_document(base.snapshot) if base else None
    proposed = normalise_document(change_request.proposed)
    moved_on = []
    if change_request.state == ChangeState.STALE:
        latest = actions.latest_version(kind.key, change_request.document_id)
        if latest and base:
            moved_on = kind.describe(base.snapshot, latest.snapshot)

    decidable_teams = _team_model().objects.none()
    if change_request.state == ChangeState.IN_REVIEW and change_request.author_id != request.user.pk:
        decidable_teams = teams_user_may_approve_for(request.user).filter(
            pk__in=[requirement.team_id for requirement in required if requirement.decision is None]
        )
    decision_form = (
        DecisionForm(teams=decidable_teams, initial={"revision": change_request.revision})
        if decidable_teams.exists()
        else None
    )
    is_author = change_request.author_id == request.user.pk
    return render(
        request,
        "approvals/change_request_detail.html",
        {
            "change_request": change_request,
            "kind": kind,
            "document_reference": kind.reference_of(change_request.document_id),
            "document_url": kind.document_url(change_request.document_id) if change_request.document_id else None,
            "revise_url": kind.revise_url(change_request),
            "base": base,
            # Sentences for the structured fields; the text fields are diffed line by line and word by word.
            "changes": kind.describe(without_text(base_snapshot, kind), without_text(proposed, kind)),
            "text_differences": text_differences(base_snapshot, proposed, kind),
            "field_differences": field_differences(
                base_snapshot, proposed, kind.child_keys, text_fields=kind.text_fields
            ),
            "moved_on": moved_on,
            "required": required,
            "earlier_decisions": [d for d in decisions if d.team_id not in current or current[d.team_id] != d],
            "decision_form": decision_form,
            "approval_warnings": approval_warnings(change_request) if decision_form else [],
            "is_author": is_author,
            "can_revise": revise_refusal(change_request, request.user) is None,
            "events": events_for(change_request),
            "applied_version": DocumentVersion.objects.filter(change_request=change_request).first(),
        },
    )


def _transition(view):
    """Run one lifecycle action and report its outcome; a refused step is a message, never an error page."""

    @wraps(view)
    @require_POST
    def wrapper(request, reference):
        change_request = access_change_request(request.user, reference)
        try:
            outcome = view(request, change_request)
        except RevisedMeanwhile as error:
            messages.error(request, str(error))
            return redirect(f"{change_request.get_absolute_url()}#what-changes")
        except (InvalidTransition, NotAllowed) as error:
            messages.error(request, str(error))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if outcome:
                messages.success(request, outcome)
        return redirect(change_request.get_absolute_url())

    return wrapper


@_transition
def submit(request, change_request):
    actions.submit_change_request(change_request, acting_user=request.user)
    return f"{change_request.reference} is submitted: every required team has been asked to approve."


@_transition
def decide(request, change_request):
    form = DecisionForm(request.POST, teams=teams_user_may_approve_for(request.user))
    if not form.is_valid():
        raise ValidationError([f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()])
    team, verdict = form.cleaned_data["team"], form.cleaned_data["verdict"]
    result = actions.decide_change_request(
        change_request,
        team,
        verdict=verdict,
        comment=form.cleaned_data["comment"],
        revision=form.cleaned_data["revision"],
        acting_user=request.user,
    )
    if verdict == Verdict.APPROVE:
        for warning in approval_warnings(result):
            messages.warning(request, f"{result.reference}: {warning}")
    if verdict == Verdict.REJECT:
        return f"You rejected {change_request.reference} for {team}. The author can revise and resubmit it."
    if result.state == ChangeState.APPLIED:
        return f"You approved {change_request.reference} for {team}. That was the last approval: it is applied."
    if result.state == ChangeState.APPROVED:
        return f"You approved {change_request.reference} for {team}. It is fully approved and scheduled."
    if result.state == ChangeState.STALE:
        return f"You approved for {team}, but the document has moved on: {change_request.reference} needs a rebase."
    return f"You approved {change_request.reference} for {team}."


@_transition
def withdraw(request, change_request):
    actions.withdraw_change_request(change_request, acting_user=request.user)
    return f"{change_request.reference} is withdrawn."


@_transition
def rebase(request, change_request):
    _, conflicts = actions.rebase_change_request(change_request, acting_user=request.user)
    if conflicts:
        names = ", ".join(key_words(key) for key in conflicts)
        return (
            f"{change_request.reference} is rebased on the current version. Both sides changed {names}: your "
            "version is kept; check the diff before you submit it again."
        )
    return f"{change_request.reference} is rebased on the current version. Check the diff and submit it again."


@require_POST
def acknowledge_emergency_grant(request, pk):
    """A member of the SLA committee has read the emergency grant: the banner goes, the grant stays recorded."""
    grant = get_object_or_404(EmergencyGrant, pk=pk)
    try:
        actions.acknowledge_emergency_grant(grant, acting_user=request.user)
    except InvalidTransition as error:
        messages.info(request, str(error))
    else:
        messages.success(request, f"Acknowledged the emergency grant to {grant.user} for {grant.team}.")
    back = request.POST.get("next", "")
    return redirect(back if url_has_allowed_host_and_scheme(back, allowed_hosts=None) else "home")
