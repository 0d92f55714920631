"""Change requests made effective with a release: linking them, and following the release when it moves."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from approvals.actions import reschedule_change_request
from approvals.choices import OPEN_STATES, ChangeState
from approvals.exceptions import NotAllowed
from releases.models import ReleaseChange

# A request still waiting to take effect: it can follow its release.
WAITING_STATES = (*OPEN_STATES, ChangeState.APPROVED)


@transaction.atomic
def make_effective_with_release(change_request, release, *, acting_user):
    """The author makes an open request take effect when `release` starts."""
    if change_request.author_id != acting_user.pk:
        raise NotAllowed(f"Only the author of {change_request.reference} can choose when it takes effect.")
    if change_request.state not in (ChangeState.DRAFT, ChangeState.IN_REVIEW, ChangeState.REJECTED):
        raise ValidationError(
            f"{change_request.reference} is {change_request.get_state_display().lower()}: its timing is settled."
        )
    if release.is_cancelled:
        raise ValidationError(f"{release.label} is cancelled.")
    if release.starts_at <= timezone.now():
        raise ValidationError(f"{release.label} has already started; choose a release still to come.")
    ReleaseChange.objects.update_or_create(
        change_request=change_request, defaults={"release": release, "linked_by": acting_user}
    )
    return reschedule_change_request(
        change_request,
        effective_at=release.starts_at,
        effective_with=f"effective with {release.label}",
        effective_with_url=release.get_absolute_url(),
        acting_user=acting_user,
    )


def follow_releases(releases, *, acting_user=None):
    """Move the requests linked to these releases to their (new) start; hold them if a release is cancelled.

    Called after an import or an edit changed releases. A request whose author has
    since chosen another time no longer follows the release: its link is dropped.
    Returns the requests that moved.
    """
    moved = []
    links = ReleaseChange.objects.filter(release__in=releases, change_request__state__in=WAITING_STATES).select_related(
        "release", "change_request"
    )
    for link in links:
        release, change_request = link.release, link.change_request
        if change_request.effective_with_url != release.get_absolute_url():
            link.delete()
            continue
        if release.is_cancelled:
            target, note = None, f"held: {release.label} was cancelled; choose another release or time"
        else:
            target, note = release.starts_at, f"effective with {release.label}"
        if change_request.effective_at == target and change_request.effective_with == note:
            continue
        moved.append(
            reschedule_change_request(
                change_request,
                effective_at=target,
                effective_with=note,
                effective_with_url=release.get_absolute_url(),
                acting_user=acting_user,
            )
        )
    return moved
