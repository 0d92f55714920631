"""Every write to a post-incident review goes through a function here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from approvals import actions as approval_actions
from approvals.choices import ChangeState
from approvals.exceptions import InvalidTransition, NotAllowed
from approvals.models import ChangeRequest
from approvals.registry import get_kind
from audit.log import record_event
from core.history import Reason, stamp
from reviews.choices import ActionStatus, ReviewStatus
from reviews.models import PinnedVersion, PostIncidentReview
from reviews.permissions import grant_restricted_access, visible_reviews
from sla_registry.documents import agreement_versions_in_force


def pin_agreements(review):
    """Pin, per affected service, each SLA and escalation-matrix version in force when the incident started."""
    review.pinned_versions.all().delete()
    rows = [
        PinnedVersion(review=review, service=service, version=version)
        for service, version in agreement_versions_in_force(review.services.all(), review.started_at)
    ]
    PinnedVersion.objects.bulk_create(rows)
    return rows


def _validate(review, timeline, action_items):
    errors = {}
    try:
        review.full_clean(exclude=["services", "journeys", "restricted_to", "authors"])
    except ValidationError as error:
        errors.update(error.message_dict)
    for prefix, children in (("timeline", timeline), ("action_items", action_items)):
        for index, child in enumerate(children):
            try:
                child.full_clean(exclude=["review"])
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    errors.setdefault(f"{prefix}[{index}].{name}", []).extend(messages)
    return errors


def validate_review(review, *, services, timeline=(), action_items=()):
    """Check a review and its children (unsaved instances) as a whole; ValidationError names each bad field."""
    errors = _validate(review, timeline, action_items)
    if not services:
        errors.setdefault("services", []).append("Name at least one affected service.")
    if errors:
        raise ValidationError(errors)


def _write_review(
    review, *, services, journeys, restricted_to, timeline, action_items, acting_user, reason, keep_tracking
):
    """The one write path of a review and its children, shared by drafts (save_review) and governed changes.

    Pinned agreements follow the start time and services: they are recomputed for
    a draft, and for a published review only when an amendment corrects its start
    or its services, since the pinned versions are those in force at the (corrected)
    start. With keep_tracking, action items matched by title keep their row and
    their tracking (status, completion note): those are not review content.
    """
    previous = None
    if review.pk:
        previous = PostIncidentReview.objects.filter(pk=review.pk).values("started_at").first()
    old_services = set(review.services.values_list("pk", flat=True)) if review.pk else set()
    stamp(review, acting_user, reason)
    review.save()
    review.services.set(services)
    review.journeys.set(journeys)
    review.restricted_to.set(restricted_to if review.is_restricted else [])

    if keep_tracking:
        _replace_keeping_tracking(review, action_items, acting_user, reason)
        children = ((review.timeline, timeline),)
    else:
        children = ((review.timeline, timeline), (review.action_items, action_items))
    for manager, rows in children:
        for old in manager.all():
            stamp(old, acting_user, reason)
            old.delete()
        for child in rows:
            child.review = review
            stamp(child, acting_user, reason)
            child.save()

    if (
        previous is None
        or review.status == ReviewStatus.DRAFT
        or (previous["started_at"] != review.started_at or old_services != {service.pk for service in services})
    ):
        pin_agreements(review)
    grant_restricted_access(review)
    return review


# What an action item says, as opposed to how its tracking stands (status, completion note).
ACTION_ITEM_CONTENT = ("title", "kind", "owner_team", "assignee", "due_date", "priority", "link")


def _replace_keeping_tracking(review, action_items, acting_user, reason):
    """Write the action items; one whose title the review already has keeps its row and its tracking."""
    existing = {item.title: item for item in review.action_items.all()}
    kept = set()
    for item in action_items:
        current = existing.get(item.title)
        if current is not None and current.pk not in kept:
            for name in ACTION_ITEM_CONTENT:
                setattr(current, name, getattr(item, name))
            item = current
            kept.add(current.pk)
        else:
            item.pk = None
        item.review = review
        stamp(item, acting_user, reason)
        item.save()
    for old in existing.values():
        if old.pk not in kept:
            stamp(old, acting_user, reason)
            old.delete()


@transaction.atomic
def save_review(review, *, services, journeys=(), restricted_to=(), timeline=(), action_items=(), acting_user, reason):
    """Write a draft review with its timeline and action items, all or nothing.

    While the review is a draft, its pinned agreements follow its start time and
    services; once it is in review or published it changes only through a change
    request (see publish_review / propose_amendment).
    """
    if review.pk and review.status != ReviewStatus.DRAFT:
        raise ValidationError("Only a draft can be edited; a published review changes through an amendment.")
    validate_review(review, services=services, timeline=timeline, action_items=action_items)
    _write_review(
        review,
        services=services,
        journeys=journeys,
        restricted_to=restricted_to,
        timeline=timeline,
        action_items=action_items,
        acting_user=acting_user,
        reason=reason,
        keep_tracking=False,
    )
    if acting_user is not None and getattr(acting_user, "pk", None):
        review.authors.add(acting_user)
    return review


@transaction.atomic
def complete_action_item(item, *, note, acting_user):
    """Mark an action item done, with what was done: by its owner team, the review's authors or the committee."""
    from reviews.permissions import may_update_action_item

    if acting_user is not None and not may_update_action_item(acting_user, item):
        raise NotAllowed(
            f"Only {item.owner_team}, the authors of the review and the SLA committee can mark “{item}” done."
        )
    if not note.strip():
        raise ValidationError({"completion_note": "Say what was done, so the review's readers can check it."})
    item.status = ActionStatus.DONE
    item.completion_note = note.strip()
    item.completed_at = timezone.now()
    stamp(item, acting_user, "Marked done")
    item.save()
    return item


# Governance: publishing and amending through change requests -----------------

REVIEW_KIND = "review"


def _locked_review(review):
    return PostIncidentReview.objects.select_for_update().get(pk=review.pk)


def _require_author(review, user, doing):
    if not getattr(user, "pk", None) or not review.authors.filter(pk=user.pk).exists():
        raise NotAllowed(f"Only the authors of {review.reference} can {doing}.")


def _set_status(review, status, *, acting_user, reason):
    review.status = status
    stamp(review, acting_user, reason)
    review.save(update_fields=["status", "updated_at"])
    return review


def publication_request(review):
    """The latest change request that proposes publishing the review (it has no version yet), or None."""
    return (
        ChangeRequest.objects.filter(document_kind=REVIEW_KIND, document_id=review.pk, base_version__isnull=True)
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def submit_for_publication(review, *, summary, rationale, acting_user):
    """Propose publishing a draft and send it for approval; the draft is locked until the request ends.

    Approving the request publishes the review as version 1. Only its authors submit it.
    """
    review = _locked_review(review)
    _require_author(review, acting_user, "submit it for publication")
    if review.status != ReviewStatus.DRAFT:
        raise InvalidTransition(f"{review.reference} is {review.get_status_display().lower()}, not a draft.")
    kind = get_kind(REVIEW_KIND)
    data = {**kind.snapshot(review), "status": ReviewStatus.PUBLISHED}
    change_request = approval_actions.propose_change(
        REVIEW_KIND, review, data=data, summary=summary, rationale=rationale, acting_user=acting_user
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=acting_user)
    _set_status(
        review,
        ReviewStatus.IN_REVIEW,
        acting_user=acting_user,
        reason=Reason("submitted for publication", change_request.reference),
    )
    return change_request


@transaction.atomic
def reopen_draft(review, *, acting_user):
    """Make a review whose publication request was rejected or withdrawn an editable draft again.

    A rejected request is withdrawn on the way, so it can never be revised and
    applied over the edits made to the draft since.
    """
    review = _locked_review(review)
    _require_author(review, acting_user, "reopen it")
    if review.status != ReviewStatus.IN_REVIEW:
        raise InvalidTransition(
            f"{review.reference} is {review.get_status_display().lower()}; only a review "
            "in review for publication can be reopened."
        )
    change_request = publication_request(review)
    if change_request is not None:
        change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if change_request.state not in (ChangeState.REJECTED, ChangeState.WITHDRAWN):
            raise InvalidTransition(
                f"{change_request.reference} is {change_request.get_state_display().lower()}; "
                "withdraw it before reopening the draft."
            )
        if change_request.state == ChangeState.REJECTED:
            change_request.state = ChangeState.WITHDRAWN
            change_request.save()
            record_event(
                "change_request.withdrawn",
                change_request,
                actor=acting_user,
                payload={"reason": f"{review.reference} reopened as a draft"},
            )
    reason = Reason("reopened as a draft", change_request.reference) if change_request else "Reopened as a draft"
    return _set_status(review, ReviewStatus.DRAFT, acting_user=acting_user, reason=reason)


@transaction.atomic
def propose_amendment(
    review,
    *,
    edited,
    services,
    journeys=(),
    restricted_to=(),
    timeline=(),
    action_items=(),
    summary,
    rationale,
    acting_user,
):
    """Propose a change to a published review and send it for approval; returns the change request.

    `edited` is the review with the amended fields (an unsaved copy, or the review
    itself changed in memory: nothing is written until the request is approved);
    the children are unsaved instances, as for save_review. Anyone who may see the
    review may propose an amendment.
    """
    if not visible_reviews(acting_user).filter(pk=review.pk).exists():
        raise NotAllowed(f"You may not amend {review.reference}.")
    current = PostIncidentReview.objects.get(pk=review.pk)
    if current.status != ReviewStatus.PUBLISHED:
        raise InvalidTransition(
            f"{review.reference} is {current.get_status_display().lower()}; only a published review is amended."
        )
    kind = get_kind(REVIEW_KIND)
    data = kind.document_of(
        edited,
        services=services,
        journeys=journeys,
        restricted_to=restricted_to,
        timeline=timeline,
        action_items=action_items,
        status=ReviewStatus.PUBLISHED,
    )
    change_request = approval_actions.propose_change(
        REVIEW_KIND, current, data=data, summary=summary, rationale=rationale, acting_user=acting_user
    )
    return approval_actions.submit_change_request(change_request, acting_user=acting_user)


def apply_review(review, *, services, journeys, restricted_to, timeline, action_items, acting_user, reason):
    """Write an approved change to a review and publish it (the adapter's apply; the engine holds the locks).

    Action items keep their tracking; restricted access follows the new restriction.
    """
    review.status = ReviewStatus.PUBLISHED
    return _write_review(
        review,
        services=services,
        journeys=journeys,
        restricted_to=restricted_to,
        timeline=timeline,
        action_items=action_items,
        acting_user=acting_user,
        reason=reason,
        keep_tracking=True,
    )
