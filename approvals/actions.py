"""The change-request lifecycle: every transition is one function here.

    draft ──submit──> in_review ──all required teams approve──> approved ──apply──> applied
      ^                   │ any team rejects ──> rejected (revise ──> draft)
      └── revise ─────────┤ author withdraws ──> withdrawn
                          │ document moved on ──> stale (rebase ──> draft)

Each transition locks the request row, checks the state and the actor, writes,
records an audit event and queues notifications, all in one transaction.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals.choices import OPEN_STATES, REVISABLE_STATES, ChangeKind, ChangeState, Verdict
from approvals.exceptions import InvalidTransition, NotAllowed, RevisedMeanwhile
from approvals.models import ChangeRequest, Decision, DocumentVersion, EmergencyGrant, RequiredApproval
from approvals.registry import content_hash, get_kind, kind_for, normalise_document, same_content
from audit.log import events_for, record_event
from core.teams import team_model, teams_user_may_approve_for
from notifications.outbox import notify


def _portal_link(path):
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _webhook_data(change_request, **fields):
    """Structured fields of a change request's event, for webhook receivers (notifications.webhooks)."""
    document_id = change_request.document_id
    return {
        "change_request": change_request.reference,
        "kind": change_request.document_kind,
        "document": change_request.governed_kind.reference_of(document_id) if document_id else None,
        **fields,
    }


def _restriction(change_request):
    """What outbound messages about this request may say to whom: its kind's rule (a notifications Restriction
    when the document, as it stands or as proposed, is restricted; None: everyone reads everything). Every
    notify() about a change request passes it, so its payloads say "restricted" true or false from it."""
    link = _portal_link(change_request.get_absolute_url())
    return change_request.governed_kind.restriction(change_request, link=link)


def _locked(change_request):
    """Lock the request's document, then the request, and return the request fresh.

    Always in this order, so transitions racing on one document queue up instead
    of deadlocking (applying one request marks its siblings stale). of=("self",)
    keeps the author row, joined for messages, unlocked.
    """
    if change_request.document_id is not None:
        get_kind(change_request.document_kind).get_object(change_request.document_id, lock=True)
    return ChangeRequest.objects.select_for_update(of=("self",)).select_related("author").get(pk=change_request.pk)


def _require_state(change_request, *states, doing):
    if change_request.state not in states:
        raise InvalidTransition(
            f"{change_request.reference} is {change_request.get_state_display().lower()}; it cannot be {doing}."
        )


def _require_author(change_request, user, doing):
    if change_request.author_id != getattr(user, "pk", None):
        raise NotAllowed(f"Only the author of {change_request.reference} can {doing} it.")


def _check_text(summary, rationale):
    errors = {}
    if not (summary or "").strip():
        errors["summary"] = "Give the change a one-line summary."
    if not (rationale or "").strip():
        errors["rationale"] = "Say why this change is needed: approvers decide on it."
    if errors:
        raise ValidationError(errors)


def _check_changes_something(kind, base, cleaned, document):
    """Refuse a proposal that says what the document already says (text compared normalised): it would only
    add a version that changes nothing. `base` is the version the proposal is made against."""
    if base is not None and same_content(base.snapshot, cleaned):
        raise ValidationError(
            f"Nothing to propose: this is {kind.reference_of(document.pk)} as version {base.number} has it. "
            "Change something first."
        )


def _check_effective_at(effective_at):
    if effective_at is not None and effective_at <= timezone.now():
        raise ValidationError(
            {"effective_at": "The effective time must be in the future (leave it empty to apply on approval)."}
        )


# Versions ------------------------------------------------------------------


def latest_version(document_kind, document_id):
    return DocumentVersion.objects.of(document_kind, document_id).order_by("-number").first()


def version_in_force(document_kind, document_id, moment):
    return DocumentVersion.objects.of(document_kind, document_id).in_force_at(moment)


@transaction.atomic
def record_baseline_version(document, *, acting_user):
    """Make sure the document's live state is a version.

    A document made before governance (demo data, an import) gets version 1; a
    document edited outside change requests since its last version (the admin)
    gets a version recording that unreviewed edit, so the record is complete and
    a proposal is never based on a state nobody saw.
    """
    kind = kind_for(document)
    if not kind.is_versioned(document):
        return None
    snapshot = normalise_document(kind.snapshot(document))
    digest = content_hash(snapshot)
    latest = latest_version(kind.key, document.pk)
    if latest is not None and latest.holds(snapshot):
        return latest
    version = DocumentVersion.objects.create(
        document_kind=kind.key,
        document_id=document.pk,
        number=(latest.number + 1) if latest else 1,
        content_hash=digest,
        snapshot=snapshot,
        effective_at=timezone.now() if latest else (getattr(document, "effective_from", None) or timezone.now()),
        recorded_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    record_event(
        "document.version_recorded" if latest is None else "document.unreviewed_edit_recorded",
        document,
        actor=acting_user,
        payload={"kind": kind.key, "version": version.number, "content_hash": digest},
    )
    return version


# Proposing -------------------------------------------------------------------


@transaction.atomic
def propose_change(
    document_kind, document, *, data=None, change_kind=None, summary, rationale, effective_at=None, acting_user
):
    """Open a draft change request: create a document (document=None), change it, or retire it."""
    kind = get_kind(document_kind)
    if change_kind is None:
        change_kind = ChangeKind.CREATE if document is None else ChangeKind.CHANGE
    if (document is None) != (change_kind == ChangeKind.CREATE):
        raise InvalidTransition("A create request names no document; a change or retirement names one.")
    _check_text(summary, rationale)
    _check_effective_at(effective_at)
    base_version = baseline = None
    if document is not None:
        baseline = record_baseline_version(document, acting_user=acting_user)
        base_version = baseline.number if baseline else None
        if change_kind == ChangeKind.RETIRE:
            data = kind.retired(kind.snapshot(document))
    cleaned = normalise_document(kind.validate(data, document))
    _check_changes_something(kind, baseline, cleaned, document)
    change_request = ChangeRequest.objects.create(
        document_kind=kind.key,
        document_id=document.pk if document is not None else None,
        kind=change_kind,
        summary=summary.strip(),
        rationale=rationale.strip(),
        proposed=cleaned,
        content_hash=content_hash(cleaned),
        base_version=base_version,
        effective_at=effective_at,
        author=acting_user,
    )
    record_event(
        "change_request.created",
        change_request,
        actor=acting_user,
        payload={"kind": change_kind, "base_version": base_version, "content_hash": change_request.content_hash},
    )
    return change_request


@transaction.atomic
def revise_change_request(change_request, *, data, summary, rationale, effective_at=None, acting_user):
    """Replace the proposal. Earlier decisions stay in the record but no longer count."""
    change_request = _locked(change_request)
    _require_author(change_request, acting_user, "revise")
    _require_state(change_request, *REVISABLE_STATES, doing="revised")
    _check_text(summary, rationale)
    _check_effective_at(effective_at)
    kind = change_request.governed_kind
    document = kind.get_object(change_request.document_id) if change_request.document_id else None
    cleaned = normalise_document(kind.validate(data, document))
    if document is not None and change_request.base_version:
        base = DocumentVersion.objects.of(kind.key, document.pk).filter(number=change_request.base_version).first()
        _check_changes_something(kind, base, cleaned, document)
    change_request.proposed = cleaned
    change_request.content_hash = content_hash(cleaned)
    change_request.summary, change_request.rationale = summary.strip(), rationale.strip()
    if effective_at != change_request.effective_at:
        change_request.effective_with = change_request.effective_with_url = ""  # no longer follows a release
    change_request.effective_at = effective_at
    change_request.revision += 1
    change_request.state = ChangeState.DRAFT
    change_request.save()
    record_event(
        "change_request.revised",
        change_request,
        actor=acting_user,
        payload={"revision": change_request.revision, "content_hash": change_request.content_hash},
    )
    return change_request


@transaction.atomic
def submit_change_request(change_request, *, acting_user):
    """Send the draft to every team the policy names, and tell them."""
    change_request = _locked(change_request)
    _require_author(change_request, acting_user, "submit")
    _require_state(change_request, ChangeState.DRAFT, doing="submitted")
    kind = change_request.governed_kind
    document = kind.get_object(change_request.document_id) if change_request.document_id else None
    required = kind.required_teams(document, change_request.proposed)
    change_request.required_approvals.all().delete()
    RequiredApproval.objects.bulk_create(
        RequiredApproval(change_request=change_request, team=team, reason=reason) for team, reason in required.items()
    )
    change_request.state = ChangeState.IN_REVIEW
    change_request.submitted_at = timezone.now()
    change_request.save()
    record_event(
        "change_request.submitted",
        change_request,
        actor=acting_user,
        payload={"revision": change_request.revision, "required_teams": sorted(team.name for team in required)},
    )
    notify(
        "change_request.submitted",
        subject=f"{change_request.reference} needs your team's approval: {change_request.summary}",
        body=(
            f"{acting_user} proposes: {change_request.summary}\n\n{change_request.rationale}\n\n"
            f"Review it: {_portal_link(change_request.get_absolute_url())}"
        ),
        teams=list(required),
        data=_webhook_data(change_request, required_teams=sorted(str(team) for team in required)),
        restriction=_restriction(change_request),
    )
    return change_request


# Deciding ------------------------------------------------------------------


def can_decide_for(user, team):
    return user.has_perm(settings.APPROVALS_APPROVE_PERMISSION, team)


def _require_revision_read(change_request, revision):
    """The decider read `revision` (None: not said, as from older API clients); refuse if it is no longer current."""
    if revision is None or revision == change_request.revision:
        return
    if revision > change_request.revision:
        raise InvalidTransition(f"{change_request.reference} has no revision {revision}; reload it.")
    reviser = (
        events_for(change_request)
        .filter(action__in=["change_request.revised", "change_request.rebased"])
        .order_by("-pk")
        .first()
    )
    who = reviser.actor if reviser is not None and reviser.actor is not None else change_request.author
    next_step = {
        ChangeState.DRAFT: "It is a draft again: read what changes now, and decide once it is submitted.",
        ChangeState.IN_REVIEW: "Read what changes now and decide again.",
    }.get(change_request.state, f"It is {change_request.get_state_display().lower()} now.")
    raise RevisedMeanwhile(
        f"{change_request.reference} was revised by {who.get_full_name() or who.get_username()} after you opened "
        f"it (revision {revision} → {change_request.revision}): your decision was not recorded. {next_step}"
    )


@transaction.atomic
def decide_change_request(change_request, team, *, verdict, comment="", revision=None, acting_user):
    """Approve or reject the current revision for one team; the last approval applies or schedules it.

    `revision` is the revision the decider read (the page and the API send it): a decision on one that a
    revision or rebase has since replaced is refused, naming who revised it.
    """
    change_request = _locked(change_request)
    _require_revision_read(change_request, revision)
    _require_state(change_request, ChangeState.IN_REVIEW, doing="decided on")
    if change_request.author_id == acting_user.pk:
        raise NotAllowed("You cannot approve or reject your own change request.")
    if not change_request.required_approvals.filter(team=team).exists():
        raise InvalidTransition(f"{team} is not asked to approve {change_request.reference}.")
    if not can_decide_for(acting_user, team):
        raise NotAllowed(f"You may not approve or reject for {team}.")
    if verdict == Verdict.REJECT and not comment.strip():
        raise ValidationError({"comment": "Say why you reject it, so the author can revise."})
    if change_request.decisions.filter(team=team, revision=change_request.revision).exists():
        raise InvalidTransition(f"{team} has already decided on revision {change_request.revision}.")

    Decision.objects.create(
        change_request=change_request,
        team=team,
        decided_by=acting_user,
        verdict=verdict,
        comment=comment.strip(),
        revision=change_request.revision,
        content_hash=change_request.content_hash,
    )
    record_event(
        f"change_request.{'approved' if verdict == Verdict.APPROVE else 'rejected'}",
        change_request,
        actor=acting_user,
        payload={"team": str(team), "revision": change_request.revision, "comment": comment.strip()},
    )
    verb = "approved" if verdict == Verdict.APPROVE else "rejected"
    notify(
        f"change_request.{verb}",
        subject=f"{change_request.reference}: {team} {verb} it",
        body=(
            f"{acting_user} for {team}: {comment.strip() or '(no comment)'}\n\n"
            f"{_portal_link(change_request.get_absolute_url())}"
        ),
        users=[change_request.author],
        concerned_teams=[team],
        data=_webhook_data(change_request, team=str(team), verdict=verb, comment=comment.strip()),
        restriction=_restriction(change_request),
    )
    if verdict == Verdict.REJECT:
        change_request.state = ChangeState.REJECTED
        change_request.save()
        return change_request
    if missing_approvals(change_request):
        return change_request

    change_request.state = ChangeState.APPROVED
    change_request.save()
    if change_request.effective_at and change_request.effective_at > timezone.now():
        record_event(
            "change_request.scheduled",
            change_request,
            actor=acting_user,
            payload={"effective_at": change_request.effective_at},
        )
        transaction.on_commit(lambda: _schedule_apply(change_request.effective_at))
        return change_request
    return _apply(change_request, acting_user=acting_user)


def missing_approvals(change_request):
    """Required teams without an approval of the current revision."""
    approved = {
        decision.team_id
        for decision in change_request.decisions.filter(
            revision=change_request.revision, content_hash=change_request.content_hash, verdict=Verdict.APPROVE
        )
    }
    return [
        required.team
        for required in change_request.required_approvals.select_related("team")
        if required.team_id not in approved
    ]


# Applying ------------------------------------------------------------------


def _schedule_apply(moment):
    from approvals.tasks import apply_due_changes_task

    apply_due_changes_task.using(run_after=moment).enqueue()


@transaction.atomic
def apply_change_request(change_request, *, acting_user):
    """Apply an approved request whose effective time has come."""
    change_request = _locked(change_request)
    _require_state(change_request, ChangeState.APPROVED, doing="applied")
    if change_request.effective_at and change_request.effective_at > timezone.now():
        raise InvalidTransition(
            f"{change_request.reference} takes effect at {change_request.effective_at:%Y-%m-%d %H:%M %Z}, not yet."
        )
    return _apply(change_request, acting_user=acting_user)


def _apply(change_request, *, acting_user):
    """Lock the document, compare-and-set its version, write, record. The caller holds the request's lock."""
    missing = missing_approvals(change_request)
    if missing:
        raise InvalidTransition(
            f"{change_request.reference} still needs approval from {', '.join(str(team) for team in missing)}."
        )
    kind = change_request.governed_kind
    document = None
    latest_number = 0
    if change_request.document_id is not None:
        document = kind.get_object(change_request.document_id, lock=True)
        latest = latest_version(kind.key, document.pk)
        latest_number = latest.number if latest else 0
        moved_on = latest_number != (change_request.base_version or 0) or (
            latest is not None and not latest.holds(kind.snapshot(document))
        )
        if moved_on:
            return _mark_stale(change_request, acting_user=acting_user, current_version=latest_number)

    document = kind.apply(document, change_request.proposed, acting_user=acting_user, change_request=change_request)
    snapshot = normalise_document(kind.snapshot(document))
    now = timezone.now()
    version = DocumentVersion.objects.create(
        document_kind=kind.key,
        document_id=document.pk,
        number=latest_number + 1,
        content_hash=content_hash(snapshot),
        snapshot=snapshot,
        effective_at=max(change_request.effective_at or now, now),
        recorded_by=acting_user,
        change_request=change_request,
    )
    change_request.document_id = document.pk
    change_request.state = ChangeState.APPLIED
    change_request.applied_at = now
    change_request.save()
    record_event(
        "change_request.applied",
        change_request,
        actor=acting_user,
        payload={"version": version.number, "content_hash": version.content_hash},
    )
    required_teams = [required.team for required in change_request.required_approvals.select_related("team")]
    notify(
        "change_request.applied",
        subject=(
            f"{change_request.reference} applied: {kind.label} {kind.title_of(snapshot)} "
            f"is now version {version.number}"
        ),
        body=f"{change_request.summary}\n\n{_portal_link(change_request.get_absolute_url())}",
        teams=required_teams,
        users=[change_request.author],
        data=_webhook_data(change_request, version=version.number, content_hash=version.content_hash),
        restriction=_restriction(change_request),
    )
    siblings = ChangeRequest.objects.filter(document_kind=kind.key, document_id=document.pk, state__in=OPEN_STATES)
    behind = Q(base_version__lt=version.number) | Q(base_version__isnull=True)
    for other in siblings.filter(behind).exclude(pk=change_request.pk):
        _mark_stale(other, acting_user=acting_user, current_version=version.number)
    return change_request


def _mark_stale(change_request, *, acting_user, current_version):
    change_request.state = ChangeState.STALE
    change_request.save()
    record_event(
        "change_request.stale",
        change_request,
        actor=acting_user,
        payload={"base_version": change_request.base_version, "current_version": current_version},
    )
    notify(
        "change_request.stale",
        subject=f"{change_request.reference} needs a rebase: the document has moved on",
        body=(
            f"The document is now at version {current_version}; your request was based on version "
            f"{change_request.base_version}. Rebase it: {_portal_link(change_request.get_absolute_url())}"
        ),
        users=[change_request.author],
        data=_webhook_data(change_request, base_version=change_request.base_version, current_version=current_version),
        restriction=_restriction(change_request),
    )
    return change_request


def apply_due_changes(*, acting_user=None, now=None):
    """Apply every approved request whose effective time has come; return the applied and the stale."""
    now = now or timezone.now()
    due = ChangeRequest.objects.filter(state=ChangeState.APPROVED, effective_at__lte=now).order_by("effective_at", "pk")
    outcomes = []
    for change_request in due:
        try:
            outcomes.append(apply_change_request(change_request, acting_user=acting_user))
        except InvalidTransition:
            continue  # another worker applied it first
    return outcomes


@transaction.atomic
def reschedule_change_request(change_request, *, effective_at, effective_with="", effective_with_url="", acting_user):
    """Set when an open or approved request takes effect, and what that time follows (e.g. a release).

    Approvals stand: they are given to the content, not to the moment. An
    approved request is queued for its new time; with no time it is held until
    it is given one, since approving it already happened.
    """
    change_request = _locked(change_request)
    _require_state(change_request, *OPEN_STATES, ChangeState.APPROVED, doing="rescheduled")
    if effective_at is not None and change_request.state != ChangeState.APPROVED:
        _check_effective_at(effective_at)
    previous = change_request.effective_at
    change_request.effective_at = effective_at
    change_request.effective_with = effective_with
    change_request.effective_with_url = effective_with_url
    change_request.save()
    record_event(
        "change_request.rescheduled",
        change_request,
        actor=acting_user,
        payload={"from": previous, "to": effective_at, "effective_with": effective_with},
    )
    if change_request.state == ChangeState.APPROVED and effective_at is not None:
        transaction.on_commit(lambda: _schedule_apply(effective_at))
    if change_request.author_id != getattr(acting_user, "pk", None):
        when = f"{effective_at:%Y-%m-%d %H:%M %Z}" if effective_at else "no time: it is held"
        notify(
            "change_request.rescheduled",
            subject=f"{change_request.reference} now takes effect at {when}",
            body=f"{effective_with or 'Rescheduled'}.\n\n{_portal_link(change_request.get_absolute_url())}",
            users=[change_request.author],
            data=_webhook_data(change_request, effective_at=effective_at, effective_with=effective_with),
            restriction=_restriction(change_request),
        )
    return change_request


# Withdrawing and rebasing ----------------------------------------------------


@transaction.atomic
def withdraw_change_request(change_request, *, acting_user):
    change_request = _locked(change_request)
    _require_author(change_request, acting_user, "withdraw")
    _require_state(change_request, *OPEN_STATES, doing="withdrawn")
    change_request.state = ChangeState.WITHDRAWN
    change_request.save()
    record_event("change_request.withdrawn", change_request, actor=acting_user)
    return change_request


def three_way_merge(base, mine, theirs):
    """Merge my changes (base -> mine) onto theirs, key by key. Returns (merged, conflicting keys).

    On a conflict (both sides changed a key differently) my value is kept and the
    key reported, so the author and the approvers see it in the diff.
    """
    merged, conflicts = {}, []
    for key in sorted(set(base) | set(mine) | set(theirs)):
        base_value, my_value, their_value = base.get(key), mine.get(key), theirs.get(key)
        if my_value == base_value:
            merged[key] = their_value
        elif their_value in (base_value, my_value):
            merged[key] = my_value
        else:
            merged[key] = my_value
            conflicts.append(key)
    return merged, conflicts


@transaction.atomic
def rebase_change_request(change_request, *, acting_user):
    """Re-propose a stale request on top of the current version; approvals start again."""
    change_request = _locked(change_request)
    _require_author(change_request, acting_user, "rebase")
    _require_state(change_request, ChangeState.STALE, doing="rebased")
    kind = change_request.governed_kind
    document = kind.get_object(change_request.document_id)
    current = record_baseline_version(document, acting_user=acting_user) or latest_version(kind.key, document.pk)
    base = DocumentVersion.objects.of(kind.key, document.pk).filter(number=change_request.base_version).first()
    merged, conflicts = three_way_merge(base.snapshot if base else {}, change_request.proposed, current.snapshot)
    cleaned = normalise_document(kind.validate(merged, document))
    previous_base = change_request.base_version
    change_request.proposed = cleaned
    change_request.content_hash = content_hash(cleaned)
    change_request.base_version = current.number
    change_request.revision += 1
    change_request.state = ChangeState.DRAFT
    change_request.save()
    record_event(
        "change_request.rebased",
        change_request,
        actor=acting_user,
        payload={"from_version": previous_base, "to_version": current.number, "conflicts": conflicts},
    )
    return change_request, conflicts


# Break glass -------------------------------------------------------------------


@transaction.atomic
def emergency_grant(team, user, *, reason, acting_user=None):
    """Let `user` approve for `team` at once, outside the access policy, for a committee that cannot act.

    Loud by design: an `emergency.granted` audit event, and a banner on every page until a member of the
    SLA committee acknowledges the grant. The access policy shows the right like any other approver's.
    """
    from guardian.shortcuts import assign_perm

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "An emergency grant needs a reason: it is read by the committee."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is not an active user."})
    grant = EmergencyGrant.objects.create(user=user, team=team, reason=reason)
    assign_perm(settings.APPROVALS_APPROVE_PERMISSION, user, team)
    record_event(
        "emergency.granted",
        team,
        actor=acting_user,
        payload={
            "user": user.get_username(),
            "user_id": user.pk,
            "team": str(team),
            "permission": settings.APPROVALS_APPROVE_PERMISSION,
            "reason": reason,
            "grant": grant.pk,
        },
    )
    return grant


def may_acknowledge_emergencies(user):
    """Members and approvers of the SLA committee (and superusers, who are never the only ones asked)."""
    if not user.is_authenticated:
        return False
    committee = team_model().objects.filter(is_sla_committee=True)
    return (
        user.is_superuser or committee.filter(Q(group__user=user) | Q(pk__in=teams_user_may_approve_for(user))).exists()
    )


@transaction.atomic
def acknowledge_emergency_grant(grant, *, acting_user):
    """The committee has seen the grant: the banner goes; the right stays until the policy changes it."""
    grant = EmergencyGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.acknowledged_at is not None:
        raise InvalidTransition("This emergency grant is already acknowledged.")
    if grant.user_id == acting_user.pk:
        raise NotAllowed("The person granted cannot acknowledge their own emergency grant.")
    if not may_acknowledge_emergencies(acting_user):
        raise NotAllowed("Only the SLA committee acknowledges an emergency grant.")
    grant.acknowledged_at, grant.acknowledged_by = timezone.now(), acting_user
    grant.save(update_fields=["acknowledged_at", "acknowledged_by"])
    record_event(
        "emergency.acknowledged",
        grant.team,
        actor=acting_user,
        payload={"user": grant.user.get_username(), "grant": grant.pk},
    )
    return grant
