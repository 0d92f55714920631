"""A real `manage.py db_worker` killed (SIGKILL) while webhooks are in flight: nothing is lost.

Delivery is at least once (notifications.webhooks): a delivery whose answer the dead worker never
recorded stays pending and is sent again by the next worker once its back-off has passed; one may arrive
twice, none may arrive zero times. The workers are separate processes, so the test database must be one
they can open: PostgreSQL (pytest-django's SQLite test database lives in this process's memory).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from notifications.models import Notification, WebhookDelivery
from notifications.outbox import backoff, notify

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVENTS = 10
ANSWER_DELAY_SECONDS = 0.4
KILL_AFTER_ARRIVALS = 3
WAIT_LIMIT_SECONDS = 60
# The second worker starts with its clock past the back-off the dead worker's claim set, as if it had been
# started that much later; the delivery that was in flight is then due again.
SECOND_WORKER_CLOCK_AHEAD = backoff(1) + timedelta(seconds=15)


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "db_worker runs in another process, which cannot open pytest-django's in-memory SQLite test database: "
            "run on PostgreSQL (DATABASE_URL=postgres://...)"
        )


class SlowReceiver:
    """Stores each delivery id as it arrives (as a receiver stores the event), then takes its time to answer 200."""

    def __init__(self, delay):
        self.delay = delay
        self.arrivals = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.arrivals.append(int(self.headers["X-SLA-Portal-Delivery"]))
                time.sleep(receiver.delay)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"stored")
                except OSError:
                    pass  # the worker died waiting for the answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sla"

    def arrived(self):
        with self.lock:
            return list(self.arrivals)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def _database_url():
    database = connection.settings_dict
    password = f":{quote(database['PASSWORD'], safe='')}" if database.get("PASSWORD") else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
        f"{database['NAME']}"
    )


def _start_worker(log_path, *, clock_ahead=None):
    """A real `manage.py db_worker` on the test database; with `clock_ahead`, its clock runs that far ahead."""
    worker = ["manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2", "-v", "2"]
    if clock_ahead is None:
        command = [sys.executable, *worker]
    else:
        command = [
            sys.executable,
            "-c",
            "import sys, datetime, time_machine\n"
            f"time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds={clock_ahead}),"
            " tick=True).start()\n"
            "from django.core.management import execute_from_command_line\n"
            "execute_from_command_line(sys.argv[1:])\n",
            *worker,
        ]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "worker-kill-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "WEBHOOKS_MAY_BE_INTERNAL": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = open(log_path, "w")  # noqa: SIM115 (closed with the process, below)
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    return process


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


def _wait_for(condition, *, what, worker_logs):
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in worker_logs)
            pytest.fail(f"timed out after {WAIT_LIMIT_SECONDS} s waiting for {what}\n{logs}")
        time.sleep(0.05)


def _pending_webhooks():
    return set(WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).values_list("pk", flat=True))


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_next_worker_finishes(subscribe, tmp_path):
    with SlowReceiver(ANSWER_DELAY_SECONDS) as receiver:
        subscribe(receiver.url)
        for number in range(1, EVENTS + 1):
            with transaction.atomic():  # one event, one transaction: each queues its own delivery run on commit
                notify(
                    "change_request.applied",
                    subject=f"CR-{number:04d} applied",
                    body=f"Event {number} of {EVENTS}.",
                    data={"change_request": f"CR-{number:04d}"},
                )
        deliveries = set(WebhookDelivery.objects.values_list("pk", flat=True))
        assert len(deliveries) == EVENTS

        logs = [tmp_path / "first-worker.log", tmp_path / "second-worker.log"]
        first = _start_worker(logs[0])
        second = None
        try:
            _wait_for(
                lambda: len(receiver.arrived()) >= KILL_AFTER_ARRIVALS,
                what="the first deliveries to arrive",
                worker_logs=logs[:1],
            )
            first.send_signal(signal.SIGKILL)  # while the last arrival waits for its answer
            first.wait(timeout=15)
            _stop(first)

            arrived_before_kill = set(receiver.arrived())
            left_pending = _pending_webhooks()
            in_flight = arrived_before_kill & left_pending
            assert in_flight, "the kill did not catch a delivery between sending and recording its answer"
            assert left_pending - arrived_before_kill, "nothing was left for the next worker to send"

            second = _start_worker(logs[1], clock_ahead=SECOND_WORKER_CLOCK_AHEAD.total_seconds())
            _wait_for(lambda: not _pending_webhooks(), what="the outbox to empty", worker_logs=logs)
        finally:
            for process in (first, second):
                if process is not None:
                    _stop(process)

    arrivals = Counter(receiver.arrived())
    assert deliveries <= set(arrivals), f"never arrived: {sorted(deliveries - set(arrivals))}"
    assert all(arrivals[pk] >= 2 for pk in in_flight), "a delivery in flight at the kill was not sent again"
    assert set(arrivals) <= deliveries
    assert not WebhookDelivery.objects.exclude(state=WebhookDelivery.State.DELIVERED).exists()
    assert not Notification.objects.filter(state=Notification.State.PENDING).exists()
