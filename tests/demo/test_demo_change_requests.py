"""The demo's change requests tell a story whose times agree: each step is dated where the story puts it
(demo.clock), so a request's own times, its decisions and its timeline (the audit events) say the same."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from audit.log import events_for
from audit.verification import ChainBreak, verify_chain
from demo import registry_data as demo_data

pytestmark = pytest.mark.django_db

SUMMARIES = [spec.summary for spec in demo_data.DEMO_CHANGE_REQUESTS]


def seed():
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())


def timeline(change_request):
    return [(event.action, event.occurred_at) for event in events_for(change_request).order_by("pk")]


def test_each_demo_request_is_dated_consistently_and_its_timeline_says_so():
    before = timezone.now()
    seed()
    after = timezone.now()
    requests = {request.summary: request for request in ChangeRequest.objects.filter(summary__in=SUMMARIES)}
    assert sorted(requests) == sorted(SUMMARIES)

    for change_request in requests.values():
        events = timeline(change_request)
        times = [moment for _action, moment in events]
        assert times == sorted(times), f"{change_request}: the timeline runs backwards"
        assert all(moment <= after for moment in times)
        created = dict(events)["change_request.created"]
        assert abs(created - change_request.created_at) < timedelta(seconds=1)
        decisions = list(change_request.decisions.order_by("decided_at"))
        if change_request.submitted_at is not None:
            submitted = dict(events)["change_request.submitted"]
            assert abs(submitted - change_request.submitted_at) < timedelta(seconds=1)
            assert change_request.created_at < change_request.submitted_at
            # Decisions come after the submission, each on the timeline at its own time.
            assert all(decision.decided_at > change_request.submitted_at for decision in decisions)
        approvals = [moment for action, moment in events if action == "change_request.approved"]
        assert len(approvals) == len(decisions)
        for decision, approved in zip(decisions, approvals, strict=True):
            assert abs(decision.decided_at - approved) < timedelta(seconds=1)
        # "Updated" is the request's own last step: proposed, submitted or applied.
        last_step = change_request.applied_at or change_request.submitted_at or change_request.created_at
        assert abs(change_request.updated_at - last_step) < timedelta(seconds=1)

    waiting = requests["Faster SEV1 acknowledgement for refunds"]
    assert waiting.state == ChangeState.IN_REVIEW
    # Submitted six days ago, and the timeline, not only the field, says so.
    six_days_ago = before - timedelta(days=6)
    assert abs(waiting.submitted_at - six_days_ago) < timedelta(minutes=5)
    assert [action for action, moment in timeline(waiting) if moment < before - timedelta(days=5)] == [
        "change_request.created",
        "change_request.submitted",
        "change_request.approved",  # Payments, the next day
    ]
    assert waiting.updated_at < before - timedelta(days=5)

    applied = requests["Acknowledge a search SEV1 within 20 minutes"]
    assert applied.state == ChangeState.APPLIED
    # Proposed days ago; the last approval applies it at the seeding, after the SLA it changes was seeded.
    assert applied.created_at < before - timedelta(days=3)
    assert before <= applied.applied_at <= after

    # "Updated" (shown to the minute) differs per request.
    shown = [request.updated_at.replace(second=0, microsecond=0) for request in requests.values()]
    assert len(set(shown)) == len(shown)
    # Dating the story breaks nothing in the audit chain.
    assert not isinstance(verify_chain(), ChainBreak)
