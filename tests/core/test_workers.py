"""Tasks of workers that stopped reporting go back to the queue; the worker does its schedules itself at start."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals.choices import ChangeState
from approvals.models import DocumentVersion
from approvals.tasks import apply_due_changes_task
from core.models import WorkerHeartbeat
from core.tasks import periodic_work
from core.workers import reclaim_abandoned_tasks, report

pytestmark = pytest.mark.django_db

LEASE = timedelta(minutes=5)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def lease(settings):
    settings.TASK_LEASE = LEASE


def claimed(worker_id, *, at, earlier_workers=()):
    """A run of a real task, claimed by `worker_id` at `at` (after `earlier_workers` claimed it and died)."""
    run = DBTaskResult.objects.get(pk=apply_due_changes_task.enqueue().id)
    run.worker_ids = list(earlier_workers)
    with time_machine.travel(at, tick=False):
        run.claim(worker_id)
    return run


def run_worker(worker_id):
    call_command("worker", "--batch", "--no-reload", "--no-startup-delay", "--worker-id", worker_id, verbosity=0)


def test_a_run_whose_worker_stopped_reporting_goes_back_to_the_queue_once_a_lease_has_passed():
    start = timezone.now()
    report("dead-worker", started_at=start, now=start)
    run = claimed("dead-worker", at=start)

    assert reclaim_abandoned_tasks(now=start + LEASE - SECOND) == []
    reclaimed = reclaim_abandoned_tasks(now=start + LEASE + SECOND)

    run.refresh_from_db()
    assert (run.status, run.worker_ids) == (TaskResultStatus.READY, ["dead-worker"])
    assert [(taken.task_id, taken.worker_id, taken.last_seen, taken.failed) for taken in reclaimed] == [
        (str(run.pk), "dead-worker", start, False)
    ]
    assert not WorkerHeartbeat.objects.exists()  # the dead worker is forgotten


def test_a_long_run_of_a_worker_that_keeps_reporting_is_left_to_it():
    start = timezone.now()
    report("busy-worker", started_at=start, now=start)
    run = claimed("busy-worker", at=start)
    report("busy-worker", started_at=start, now=start + 3 * LEASE)

    assert reclaim_abandoned_tasks(now=start + 3 * LEASE + LEASE / 2) == []
    run.refresh_from_db()
    assert run.status == TaskResultStatus.RUNNING


def test_a_run_of_a_worker_that_never_reports_goes_back_once_it_has_run_for_a_lease():
    """django-tasks-db's own `db_worker` does not report: its runs count as abandoned after a lease."""
    start = timezone.now()
    run = claimed("plain-db-worker", at=start)

    assert reclaim_abandoned_tasks(now=start + LEASE - SECOND) == []
    [taken] = reclaim_abandoned_tasks(now=start + LEASE + SECOND)

    assert (taken.worker_id, taken.last_seen) == ("plain-db-worker", None)
    run.refresh_from_db()
    assert run.status == TaskResultStatus.READY


def test_a_run_whose_workers_died_five_times_is_failed_instead_of_run_a_sixth_time():
    start = timezone.now()
    run = claimed("worker-5", at=start, earlier_workers=["worker-1", "worker-2", "worker-3", "worker-4"])

    [taken] = reclaim_abandoned_tasks(now=start + LEASE + SECOND)

    assert taken.failed
    run.refresh_from_db()
    assert run.status == TaskResultStatus.FAILED
    assert run.exception_class_path == "core.workers.TaskAbandoned"
    assert "worker-1, worker-2, worker-3, worker-4, worker-5" in run.traceback


def test_every_app_registers_the_work_that_keeps_itself_going():
    expected = {"calendar sync", "daily reminders", "notification delivery", "scheduled applies"}
    assert expected <= set(periodic_work())


# The worker closes its connection between tasks, as in production: these run outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_back_abandoned_runs_and_queues_periodic_work_at_start_once(caplog):
    run = claimed("dead-worker", at=timezone.now() - 2 * LEASE)

    run_worker("new-worker")

    run.refresh_from_db()
    assert (run.status, run.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["dead-worker", "new-worker"])
    assert f"Reclaimed approvals.tasks.apply_due_changes_task ({run.pk}) of worker dead-worker" in caplog.text
    waiting = list(DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("task_path", flat=True))
    assert {"insights.tasks.send_reminders_task", "releases.tasks.sync_due_calendars_task"} <= set(waiting)
    assert len(waiting) == len(set(waiting))
    assert not WorkerHeartbeat.objects.exists()  # it signed off when it stopped

    run_worker("another-worker")
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == len(waiting)  # nothing queued twice


@pytest.mark.django_db(transaction=True)
def test_the_worker_at_start_applies_a_scheduled_change_whose_queued_run_was_lost(
    governed_sla, submit_acknowledge, approve_all
):
    effective_at = timezone.now() + timedelta(hours=1)
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15, effective_at=effective_at))
    assert change_request.state == ChangeState.APPROVED
    DBTaskResult.objects.all().delete()  # the runs its approval queued, lost (a queue pruned, a database restored)

    with time_machine.travel(effective_at + timedelta(minutes=1), tick=False):
        run_worker("restarted-worker")

    change_request.refresh_from_db()
    assert change_request.state == ChangeState.APPLIED
    assert DocumentVersion.objects.filter(change_request=change_request).count() == 1
