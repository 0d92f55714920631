"""The demo organisation's review cycle: every Review due and reminder panel has something to show."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from reviews.choices import OPEN_ACTION_STATUSES
from reviews.models import ActionItem
from sla_registry.models import PeriodicReview
from sla_registry.review_cycle import documents_due

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())


def test_the_demo_has_a_review_cycle_to_show_and_seeding_again_changes_none_of_it():
    seed()
    now = timezone.now()

    due = documents_due()
    assert any(item.is_overdue for item in due)
    assert any(not item.is_overdue for item in due)
    waiting = ChangeRequest.objects.filter(state=ChangeState.IN_REVIEW, submitted_at__lte=now - timedelta(days=3))
    assert waiting.exists()
    assert ActionItem.objects.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=now.date()).exists()
    reviews = list(PeriodicReview.objects.order_by("outcome").values_list("outcome", "change_request__state"))
    assert reviews == [("changes_proposed", ChangeState.IN_REVIEW), ("unchanged", None)]

    before = (list(PeriodicReview.objects.values_list("pk", "reviewed_at")), list(waiting.values_list("submitted_at")))
    due_before = [(item.reference, item.due) for item in due]
    seed()

    assert (
        list(PeriodicReview.objects.values_list("pk", "reviewed_at")),
        list(waiting.values_list("submitted_at")),
    ) == before
    assert [(item.reference, item.due) for item in documents_due()] == due_before
