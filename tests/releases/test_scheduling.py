"""Change requests effective with a release, following it when it moves, and the freeze-window warning."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from approvals import actions as approval_actions
from approvals.choices import ChangeState
from approvals.exceptions import NotAllowed
from approvals.models import ChangeRequest
from releases.actions import save_release
from releases.choices import ReleaseKind, ReleaseStatus
from releases.freeze import freeze_window_warnings
from releases.models import ReleaseChange
from releases.scheduling import make_effective_with_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(governed_sla, make_release):
    return make_release("2026.12.1", services=[governed_sla.sla.service], starts_in=timedelta(days=4))


def test_a_change_made_effective_with_a_release_takes_effect_when_it_starts(governed_sla, propose_acknowledge, release):
    change_request = propose_acknowledge(governed_sla, 10)

    change_request = make_effective_with_release(change_request, release, acting_user=governed_sla.author)

    assert change_request.effective_at == release.starts_at
    assert change_request.effective_with == f"effective with {release.label}"
    assert change_request.effective_with_url == release.get_absolute_url()
    assert ReleaseChange.objects.get(change_request=change_request).release == release
    assert "effective with release 2026.12.1" in change_request.effective_with


def test_only_the_author_may_tie_a_change_to_a_release(governed_sla, propose_acknowledge, release, make_user):
    change_request = propose_acknowledge(governed_sla, 10)
    with pytest.raises(NotAllowed):
        make_effective_with_release(change_request, release, acting_user=make_user())
    assert not ReleaseChange.objects.exists()


def test_a_release_that_already_started_or_was_cancelled_is_refused(
    governed_sla, propose_acknowledge, make_release, admin_actor
):
    from django.core.exceptions import ValidationError

    change_request = propose_acknowledge(governed_sla, 10)
    past = make_release("2026.11.9", services=[governed_sla.sla.service], starts_in=timedelta(hours=-1))
    with pytest.raises(ValidationError, match="already started"):
        make_effective_with_release(change_request, past, acting_user=governed_sla.author)
    cancelled = make_release("2026.12.9", services=[governed_sla.sla.service], status=ReleaseStatus.CANCELLED)
    with pytest.raises(ValidationError, match="cancelled"):
        make_effective_with_release(change_request, cancelled, acting_user=governed_sla.author)
    change_request.refresh_from_db()
    assert change_request.effective_at is None


def test_an_approved_change_applies_when_its_release_starts_and_not_before(
    governed_sla, propose_acknowledge, approve_all, release
):
    change_request = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), release, acting_user=governed_sla.author
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    change_request = approve_all(governed_sla, change_request)
    assert change_request.state == ChangeState.APPROVED

    assert approval_actions.apply_due_changes() == []
    with time_machine.travel(release.starts_at + timedelta(minutes=1)):
        applied = approval_actions.apply_due_changes()
    assert [request.pk for request in applied] == [change_request.pk]
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.APPLIED
    assert change_request.applied_version.effective_at >= release.starts_at


def test_a_moved_release_moves_its_changes_and_a_cancelled_one_holds_them(
    governed_sla, propose_acknowledge, approve_all, release, admin_actor
):
    change_request = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), release, acting_user=governed_sla.author
    )
    change_request = approve_all(
        governed_sla, approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    )

    release.starts_at += timedelta(days=2)
    release.ends_at += timedelta(days=2)
    save_release(release, acting_user=admin_actor, reason="slipped two days")
    change_request.refresh_from_db()
    assert change_request.effective_at == release.starts_at
    assert change_request.state == ChangeState.APPROVED
    assert "(" in change_request.effective_with and release.title in change_request.effective_with

    release.status = ReleaseStatus.CANCELLED
    save_release(release, acting_user=admin_actor, reason="called off")
    change_request.refresh_from_db()
    assert change_request.effective_at is None
    assert change_request.effective_with.startswith("held:")
    with time_machine.travel(release.starts_at + timedelta(days=1)):
        assert approval_actions.apply_due_changes() == []
    assert ChangeRequest.objects.get(pk=change_request.pk).state == ChangeState.APPROVED


def test_revising_the_effective_time_by_hand_unties_the_release(
    governed_sla, propose_acknowledge, release, admin_actor
):
    change_request = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), release, acting_user=governed_sla.author
    )
    own_time = timezone.now() + timedelta(days=9)
    change_request = approval_actions.revise_change_request(
        change_request,
        data=change_request.proposed,
        summary=change_request.summary,
        rationale=change_request.rationale,
        effective_at=own_time,
        acting_user=governed_sla.author,
    )
    assert change_request.effective_with == ""

    release.starts_at += timedelta(days=1)
    release.ends_at += timedelta(days=1)
    save_release(release, acting_user=admin_actor, reason="slipped")
    change_request.refresh_from_db()
    assert change_request.effective_at == own_time
    assert not ReleaseChange.objects.exists()


def test_approving_inside_a_freeze_window_of_the_service_warns_the_approver(
    governed_sla, submit_acknowledge, make_release, client
):
    service = governed_sla.sla.service
    freeze = make_release(
        "Holiday freeze",
        services=[service],
        kind=ReleaseKind.FREEZE,
        starts_in=timedelta(days=3),
        lasts=timedelta(days=5),
    )
    make_release("Other freeze", kind=ReleaseKind.FREEZE, starts_in=timedelta(days=3), lasts=timedelta(days=5))
    inside = submit_acknowledge(governed_sla, 10, effective_at=freeze.starts_at + timedelta(days=1))
    outside = submit_acknowledge(governed_sla, 12, effective_at=freeze.ends_at + timedelta(days=1), summary="Later")

    warnings = freeze_window_warnings(inside)
    assert len(warnings) == 1 and "Holiday freeze" in warnings[0] and service.name in warnings[0]
    assert freeze_window_warnings(outside) == []

    approver = governed_sla.approvers[governed_sla.provider]
    client.force_login(approver)
    page = client.get(inside.get_absolute_url()).content.decode()
    assert "Before you approve" in page and "Holiday freeze" in page
    assert "Before you approve" not in client.get(outside.get_absolute_url()).content.decode()

    response = client.post(
        reverse("approvals:decide", args=[inside.reference]),
        {"team": governed_sla.provider.pk, "verdict": "approve", "comment": ""},
        follow=True,
    )
    assert "inside the freeze window" in response.content.decode()


def test_a_freeze_without_the_changes_service_or_cancelled_does_not_warn(
    governed_sla, submit_acknowledge, make_release
):
    freeze = make_release(
        "Cancelled freeze",
        services=[governed_sla.sla.service],
        kind=ReleaseKind.FREEZE,
        status=ReleaseStatus.CANCELLED,
        starts_in=timedelta(days=1),
        lasts=timedelta(days=5),
    )
    change_request = submit_acknowledge(governed_sla, 10, effective_at=freeze.starts_at + timedelta(days=1))
    assert freeze_window_warnings(change_request) == []


def test_the_change_request_and_document_pages_say_effective_with_release(
    governed_sla, propose_acknowledge, release, client
):
    change_request = make_effective_with_release(
        propose_acknowledge(governed_sla, 10), release, acting_user=governed_sla.author
    )
    client.force_login(governed_sla.author)
    label = f"effective with {release.label}"
    assert "release 2026.12.1 (" in label
    assert label in client.get(change_request.get_absolute_url()).content.decode()
    assert label in client.get(governed_sla.sla.get_absolute_url()).content.decode()
    assert change_request.reference in client.get(release.get_absolute_url()).content.decode()
