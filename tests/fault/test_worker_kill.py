"""A real `manage.py worker` killed (SIGKILL) in the middle of a delivery run and of an apply run.

The next worker takes the killed run back once the dead one has not reported for a lease (core.workers;
TASK_LEASE_SECONDS=2 here) and finishes the work: every notice is recorded delivered once, and every due
change is applied once. Over HTTP "once" needs the receiver's help: a webhook whose answer the dead worker
never recorded is sent again with the same X-SLA-Portal-Delivery id, so deduplicating on it gives exactly once.

Workers are separate processes, so they need a database they can open: on PostgreSQL the test database; on
SQLite (whose test database lives in this process's memory) a file copy of it that this test switches to
for its duration.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals.actions import record_baseline_version
from approvals.choices import ChangeState
from approvals.models import DocumentVersion
from audit.models import AuditEvent
from audit.verification import ChainHead, verify_chain
from core.models import WorkerHeartbeat
from notifications.actions import create_subscription
from notifications.models import Notification, WebhookDelivery
from notifications.outbox import backoff, notify

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
EVENTS = 6
HANG_ON_ARRIVAL = 3  # the receiver holds the third delivery's request until the worker is dead
CHANGES = 5
HANG_ON_CHANGE = 3  # the third due change hangs inside its transaction
WAIT_LIMIT_SECONDS = 60


@pytest.fixture
def worker_database(tmp_path):
    """The DATABASE_URL a worker process opens to see this test's data."""
    if connection.vendor == "postgresql":
        database = connection.settings_dict
        password = f":{quote(database['PASSWORD'], safe='')}" if database.get("PASSWORD") else ""
        host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
        yield f"postgres://{database['USER']}{password}@{host}:{port}/{database['NAME']}"
        return
    # SQLite: copy the in-memory test database (schema, triggers, rows so far) to a file and use that here.
    path = tmp_path / "portal.sqlite3"
    in_memory = connections["default"]
    in_memory.ensure_connection()
    with closing(sqlite3.connect(path)) as file_copy:
        in_memory.connection.backup(file_copy)
    on_file = in_memory.__class__({**in_memory.settings_dict, "NAME": str(path)}, "default")
    connections["default"] = on_file
    try:
        yield f"sqlite:///{path}"
    finally:
        on_file.close()
        connections["default"] = in_memory


class Worker:
    """A `manage.py worker` subprocess on the test's database, logging to a file."""

    def __init__(self, worker_id, database_url, log_dir, **faults):
        self.worker_id = worker_id
        self.log_path = log_dir / f"{worker_id}.log"
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "worker-kill-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "TASK_LEASE_SECONDS": str(LEASE_SECONDS),
            "WEBHOOKS_MAY_BE_INTERNAL": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **{f"FAULT_{name.upper()}": str(value) for name, value in faults.items()},
        }
        command = [sys.executable, "-m", "tests.fault.worker", "worker", "--no-reload", "--no-startup-delay"]
        command += ["--interval", "0.1", "--worker-id", worker_id, "-v", "2"]
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def output(self):
        return self.log_path.read_text()


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each request as it arrives (as a receiver stores the event
    before answering), and holds the `hang_on`-th request without answering until `release()`."""

    def __init__(self, hang_on):
        self.requests = []  # (delivery id, body)
        self.hanging = threading.Event()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((int(self.headers["X-SLA-Portal-Delivery"]), body))
                if len(receiver.requests) == hang_on:
                    receiver.hanging.set()
                    receiver.released.wait(WAIT_LIMIT_SECONDS)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the worker died waiting for the answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sla"

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, *, what, workers):
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {worker.worker_id}\n{worker.output()[-4000:]}" for worker in workers)
            pytest.fail(f"timed out after {WAIT_LIMIT_SECONDS} s waiting for {what}\n{logs}")
        time.sleep(0.05)


def run_of(worker_id):
    """The task run the worker `worker_id` claimed first (the one it was killed in)."""
    runs = [run for run in DBTaskResult.objects.order_by("started_at") if worker_id in run.worker_ids]
    return runs[0] if runs else None


def all_runs_finished():
    return not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists() and not (
        DBTaskResult.objects.ready().exists()
    )


def test_a_worker_killed_mid_delivery_records_every_notice_delivered_once_and_resends_only_with_its_id(
    worker_database, make_team, admin_actor, settings, tmp_path
):
    settings.WEBHOOKS_MAY_BE_INTERNAL = True
    clock = time.monotonic()
    receiver = Receiver(hang_on=HANG_ON_ARRIVAL)
    workers = []
    try:
        create_subscription(None, url=receiver.url, acting_user=admin_actor)
        team = make_team("Payments")
        for number in range(1, EVENTS + 1):
            with transaction.atomic():  # one event, one commit: each queues a delivery run
                notify(
                    "change_request.applied",
                    subject=f"CR-{number:04d} applied",
                    body=f"Event {number} of {EVENTS}.",
                    teams=[team],
                    data={"change_request": f"CR-{number:04d}"},
                )
        deliveries = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
        assert len(deliveries) == EVENTS and Notification.objects.count() == EVENTS

        first = Worker("first-worker", worker_database, tmp_path)
        workers.append(first)
        wait_for(receiver.hanging.is_set, what="the delivery the receiver holds", workers=workers)
        hung_at = timezone.now()
        # The worker's loop is stuck in the POST, yet its heartbeat thread keeps reporting: nobody may take its run.
        wait_for(
            lambda: (
                WorkerHeartbeat.objects.get(pk=first.worker_id).seen_at > hung_at + timedelta(seconds=LEASE_SECONDS)
            ),
            what="a heartbeat a lease after the worker's loop got stuck",
            workers=workers,
        )
        assert run_of(first.worker_id).status == TaskResultStatus.RUNNING
        first.kill()
        killed_at = time.monotonic()
        receiver.released.set()

        in_flight = receiver.requests[-1][0]
        assert in_flight == deliveries[HANG_ON_ARRIVAL - 1]
        states = dict(WebhookDelivery.objects.values_list("pk", "state"))
        assert [states[pk] for pk in deliveries] == ["delivered"] * (HANG_ON_ARRIVAL - 1) + ["pending"] * (
            EVENTS - HANG_ON_ARRIVAL + 1
        ), "the kill did not land in the middle of the delivery run"

        # The next worker starts once the held delivery's back-off has passed (its clock ahead by that much).
        second = Worker(
            "second-worker", worker_database, tmp_path, clock_ahead_seconds=(backoff(1).total_seconds() + 15)
        )
        workers.append(second)
        wait_for(
            lambda: (
                not WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).exists() and all_runs_finished()
            ),
            what="every delivery recorded and every run finished",
            workers=workers,
        )
        recovered = time.monotonic() - killed_at
    finally:
        for worker in workers:
            worker.stop()
        receiver.stop()

    # The portal recorded each notice delivered once: each email sent in one attempt, each webhook delivered.
    assert set(Notification.objects.values_list("state", "attempts")) == {(Notification.State.SENT, 1)}
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {WebhookDelivery.State.DELIVERED}
    # The receiver saw every delivery; only the one in flight at the kill twice, both times with its id and body.
    bodies = defaultdict(list)
    for delivery_id, body in receiver.requests:
        bodies[delivery_id].append(body)
    assert sorted(bodies) == deliveries
    assert {delivery_id: len(seen) for delivery_id, seen in bodies.items() if len(seen) > 1} == {in_flight: 2}
    assert len(set(bodies[in_flight])) == 1
    # The killed run was taken back and finished by the second worker, which said so.
    killed_run = run_of("first-worker")
    assert (killed_run.status, killed_run.worker_ids) == (
        TaskResultStatus.SUCCESSFUL,
        ["first-worker", "second-worker"],
    )
    assert f"Reclaimed notifications.tasks.deliver_notifications ({killed_run.id}) of worker first-worker" in (
        second.output()
    )
    print(f"\ndelivery: {time.monotonic() - clock:.1f} s in all; all delivered {recovered:.1f} s after the kill")


def governed_slas(governed, count, make_sla, make_service, admin_actor):
    """`count` SLAs between the governed SLA's teams, each at version 1, governed like it."""
    slas = []
    for number in range(1, count + 1):
        service = make_service(f"Ledger {number}", owner_team=governed.provider)
        sla = make_sla(
            f"Ledger {number} for Checkout",
            service=service,
            provider_team=governed.provider,
            consumer_teams=[governed.consumer],
        )
        record_baseline_version(sla, acting_user=admin_actor)
        slas.append(replace(governed, sla=sla))
    return slas


def test_a_worker_killed_mid_apply_applies_every_due_change_once(
    worker_database, governed_sla, make_sla, make_service, submit_acknowledge, approve_all, admin_actor, tmp_path
):
    clock = time.monotonic()
    now = timezone.now()
    # Approved an hour ago, due half an hour ago: each approval queued an apply run, all of them due now.
    with time_machine.travel(now - timedelta(hours=1), tick=True):
        change_requests = [
            approve_all(
                governed, submit_acknowledge(governed, 10 + number, effective_at=now - timedelta(minutes=30 - number))
            )
            for number, governed in enumerate(governed_slas(governed_sla, CHANGES, make_sla, make_service, admin_actor))
        ]
    assert {change_request.state for change_request in change_requests} == {ChangeState.APPROVED}
    hanging = change_requests[HANG_ON_CHANGE - 1]
    marker = tmp_path / "hanging"
    workers = []
    try:
        first = Worker("first-worker", worker_database, tmp_path, hang_applying=hanging.reference, hang_marker=marker)
        workers.append(first)
        wait_for(marker.exists, what=f"{hanging.reference} to hang inside its transaction", workers=workers)
        first.kill()
        killed_at = time.monotonic()

        for change_request in change_requests:
            change_request.refresh_from_db()
        assert [change_request.state for change_request in change_requests] == [ChangeState.APPLIED] * (
            HANG_ON_CHANGE - 1
        ) + [ChangeState.APPROVED] * (CHANGES - HANG_ON_CHANGE + 1), "the kill did not land in the middle of the run"
        assert not DocumentVersion.objects.filter(change_request=hanging).exists()  # rolled back with the worker

        second = Worker("second-worker", worker_database, tmp_path)
        workers.append(second)
        wait_for(
            lambda: run_of("first-worker").status == TaskResultStatus.SUCCESSFUL and all_runs_finished(),
            what="the killed run to be taken back and every run to finish",
            workers=workers,
        )
        recovered = time.monotonic() - killed_at
    finally:
        for worker in workers:
            worker.stop()

    for change_request in change_requests:
        change_request.refresh_from_db()
        assert change_request.state == ChangeState.APPLIED
        assert DocumentVersion.objects.filter(change_request=change_request).count() == 1
        assert list(
            DocumentVersion.objects.of("sla", change_request.document_id)
            .order_by("number")
            .values_list("number", flat=True)
        ) == [1, 2]
        assert AuditEvent.objects.filter(action="change_request.applied", object_id=str(change_request.pk)).count() == 1
    assert isinstance(verify_chain(), ChainHead)
    killed_run = run_of("first-worker")
    assert killed_run.worker_ids == ["first-worker", "second-worker"]
    assert f"Reclaimed approvals.tasks.apply_due_changes_task ({killed_run.id}) of worker first-worker" in (
        second.output()
    )
    print(f"\napply: {time.monotonic() - clock:.1f} s in all; all applied {recovered:.1f} s after the kill")
