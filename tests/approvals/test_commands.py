from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from approvals.choices import ChangeState

pytestmark = pytest.mark.django_db


def test_apply_due_changes_applies_what_is_due_and_says_so(governed_sla, submit_acknowledge, approve_all, capsys):
    effective_at = timezone.now() + timedelta(hours=6)
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15, effective_at=effective_at))
    assert change_request.state == ChangeState.APPROVED

    call_command("apply_due_changes")
    assert capsys.readouterr().out.strip() == "No approved change request is due."

    with time_machine.travel(effective_at + timedelta(seconds=1)):
        call_command("apply_due_changes")
    out = capsys.readouterr().out
    assert f"applied {change_request.reference}: Faster SEV1 acknowledgement" in out
    assert "Applied 1 due change request(s); 0 became stale." in out
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.APPLIED


def test_approval_schedules_the_background_apply(
    governed_sla, submit_acknowledge, approve_all, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    effective_at = timezone.now() + timedelta(hours=6)
    change_request = submit_acknowledge(governed_sla, 15, effective_at=effective_at)
    with django_capture_on_commit_callbacks(execute=True):
        approve_all(governed_sla, change_request)
    task = DBTaskResult.objects.get(task_path="approvals.tasks.apply_due_changes_task")
    assert task.run_after == effective_at
