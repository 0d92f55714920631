"""PostgreSQL restarted while change requests are being applied: nothing acknowledged is lost, and it recovers.

A writer thread proposes, submits, approves and applies change requests through the real actions, the way
a request cycle would run them (stale connections closed before and after each action, a failed action
retried after its connection is closed), and records every write that committed without error. Meanwhile
the test restarts the database server with FAULT_PG_RESTART. Run with `pytest -m fault` against a
PostgreSQL you may restart: CI restarts its own; on a shared machine use a cluster of your own.
"""

import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.db import Error as DatabaseError
from django.db import close_old_connections, connection
from django.test import Client

from approvals import actions as approval_actions
from approvals.choices import OPEN_STATES, ChangeState
from approvals.models import ChangeRequest, Decision, DocumentVersion
from approvals.registry import content_hash
from audit.models import AuditEvent
from audit.verification import ChainHead, verify_chain
from sla_registry.documents import ServiceLevelAgreementKind
from tests.conftest import with_acknowledge

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

DEFAULT_RESTART = "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
DEFAULT_DATA_DIRECTORY = "/var/lib/postgresql/15/main"
RECOVERY_LIMIT_SECONDS = 10
APPLIED_BEFORE_RESTART = 3
APPLIED_AFTER_RESTART = 3
RUN_LIMIT_SECONDS = 90
RETRY_PAUSE_SECONDS = 0.05


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("restarts the database server: needs PostgreSQL (set DATABASE_URL=postgres://...)")


@dataclass
class Acknowledged:
    """What the writer was told had committed, and when it first failed and first succeeded again."""

    proposed: list = field(default_factory=list)  # change request pks
    submitted: list = field(default_factory=list)  # change request pks
    decided: list = field(default_factory=list)  # (change request pk, team pk, revision)
    applied: list = field(default_factory=list)  # (change request pk, version number, minutes)
    successes: list = field(default_factory=list)  # monotonic start times of acknowledged actions
    failures: list = field(default_factory=list)  # (monotonic time, error text)


def _as_a_request(action):
    """Run one action as a request cycle does: stale or broken connections are closed around it."""
    close_old_connections()
    try:
        return action()
    finally:
        close_old_connections()


class Writer(threading.Thread):
    """Drives change requests on one SLA through their lifecycle until told to stop."""

    def __init__(self, governed):
        super().__init__(name="fault-writer", daemon=True)
        self.governed = governed
        self.acknowledged = Acknowledged()
        self.stop_requested = threading.Event()
        self.crashed = None
        self.round = 0

    def run(self):
        try:
            while not self.stop_requested.is_set():
                started = time.monotonic()
                try:
                    _as_a_request(self.step)
                except DatabaseError as error:
                    self.acknowledged.failures.append((started, f"{type(error).__name__}: {error}"))
                    # The error marked the connection; closing it (as the next request would) lets the
                    # retry open a fresh one once the server answers again.
                    close_old_connections()
                    time.sleep(RETRY_PAUSE_SECONDS)
                else:
                    self.acknowledged.successes.append(started)
        except BaseException as error:
            self.crashed = error
        finally:
            connection.close()

    def step(self):
        """Take the open request one step further, or open a new one. Resumes after a failure from the database."""
        governed, acknowledged = self.governed, self.acknowledged
        open_request = (
            ChangeRequest.objects.filter(document_kind="sla", document_id=governed.sla.pk, state__in=OPEN_STATES)
            .order_by("-pk")
            .first()
        )
        if open_request is None:
            self.round += 1
            governed.sla.refresh_from_db()
            minutes = 5 + self.round % 50
            change_request = approval_actions.propose_change(
                "sla",
                governed.sla,
                data=with_acknowledge(ServiceLevelAgreementKind().snapshot(governed.sla), minutes),
                summary=f"SEV1 acknowledgement in {minutes} minutes",
                rationale="Fault test: written while the database restarts.",
                acting_user=governed.author,
            )
            acknowledged.proposed.append(change_request.pk)
        elif open_request.state == ChangeState.DRAFT:
            approval_actions.submit_change_request(open_request, acting_user=governed.author)
            acknowledged.submitted.append(open_request.pk)
        elif open_request.state == ChangeState.IN_REVIEW:
            team = approval_actions.missing_approvals(open_request)[0]
            outcome = approval_actions.decide_change_request(
                open_request, team, verdict="approve", comment="OK", acting_user=governed.approvers[team]
            )
            acknowledged.decided.append((outcome.pk, team.pk, outcome.revision))
            if outcome.state == ChangeState.APPLIED:
                version = DocumentVersion.objects.get(change_request=outcome)
                minutes = version.snapshot["response_targets"][0]["time_to_acknowledge_minutes"]
                acknowledged.applied.append((outcome.pk, version.number, minutes))
        else:
            raise AssertionError(f"{open_request.reference} is {open_request.state}: the writer cannot go on")


def _postmaster_started():
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        return cursor.fetchone()[0]


def _wait_for(condition, *, limit, what):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {limit} s waiting for {what}"
        time.sleep(0.05)


def _restart_command():
    """FAULT_PG_RESTART, or the default when the database under test is the default cluster's.

    The default restarts 15/main whatever DATABASE_URL names; refusing when the test database lives
    elsewhere keeps a run against a cluster of one's own from restarting a shared one by mistake.
    """
    command = os.environ.get("FAULT_PG_RESTART")
    if command:
        return shlex.split(command)
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = cursor.fetchone()[0]
    if data_directory.rstrip("/") != DEFAULT_DATA_DIRECTORY:
        pytest.fail(
            f"The test database lives in {data_directory}, but the default restart ({DEFAULT_RESTART}) restarts "
            f"{DEFAULT_DATA_DIRECTORY}: set FAULT_PG_RESTART to the command that restarts this server."
        )
    return shlex.split(DEFAULT_RESTART)


def test_acknowledged_writes_survive_a_postgresql_restart_and_requests_recover_within_10_s(governed_sla):
    restart = _restart_command()
    started_before = _postmaster_started()
    writer = Writer(governed_sla)
    writer.start()
    try:
        _wait_for(
            lambda: len(writer.acknowledged.applied) >= APPLIED_BEFORE_RESTART or writer.crashed,
            limit=RUN_LIMIT_SECONDS,
            what="changes applied before the restart",
        )
        issued = time.monotonic()
        result = subprocess.run(restart, capture_output=True, text=True, timeout=120)
        returned = time.monotonic()
        assert result.returncode == 0, f"{shlex.join(restart)} failed: {result.stderr or result.stdout}"
        # Counted once the restart has returned: the writer goes on applying while the server shuts down, and
        # those changes must not stand in for the ones that prove writes work again.
        applied_by_return = len(writer.acknowledged.applied)

        # A page served from this thread. The test client keeps its connection across requests (for test
        # transactions), so close what the restart broke around each request, as the real handler does.
        client = Client()
        while _as_a_request(lambda: client.get("/healthz/")).status_code != 200:
            assert time.monotonic() - issued < RUN_LIMIT_SECONDS, "the portal never answered /healthz/ again"
            time.sleep(0.05)
        healthz_recovered = time.monotonic() - issued

        _wait_for(
            lambda: len(writer.acknowledged.applied) >= applied_by_return + APPLIED_AFTER_RESTART or writer.crashed,
            limit=RUN_LIMIT_SECONDS,
            what="changes applied after the restart",
        )
    finally:
        writer.stop_requested.set()
        writer.join(timeout=RUN_LIMIT_SECONDS)
    assert writer.crashed is None, f"the writer stopped on an unexpected error: {writer.crashed!r}"

    acknowledged = writer.acknowledged
    first_write_after = min(moment for moment in acknowledged.successes if moment >= returned)
    write_recovered = first_write_after - issued
    failures_during = [error for moment, error in acknowledged.failures if moment >= issued - 1]
    print(
        f"\nrestart command took {returned - issued:.2f} s; /healthz/ answered 200 {healthz_recovered:.2f} s and "
        f"a write was acknowledged {write_recovered:.2f} s after it was issued; "
        f"{len(acknowledged.failures)} failed attempts, {len(acknowledged.applied)} changes applied"
    )
    for error in failures_during[:3]:
        print(f"  e.g. {error.splitlines()[0]}")

    close_old_connections()
    assert _postmaster_started() > started_before, "the database server was not restarted"

    # Every acknowledged write is there.
    assert set(acknowledged.proposed) <= set(ChangeRequest.objects.values_list("pk", flat=True))
    submitted = ChangeRequest.objects.filter(pk__in=acknowledged.submitted)
    assert all(change_request.submitted_at is not None for change_request in submitted)
    assert submitted.count() == len(set(acknowledged.submitted))
    for change_request_pk, team_pk, revision in acknowledged.decided:
        assert Decision.objects.filter(change_request_id=change_request_pk, team_id=team_pk, revision=revision).exists()
    for change_request_pk, number, minutes in acknowledged.applied:
        change_request = ChangeRequest.objects.get(pk=change_request_pk)
        assert change_request.state == ChangeState.APPLIED
        version = DocumentVersion.objects.get(change_request=change_request)
        assert version.number == number
        assert version.snapshot["response_targets"][0]["time_to_acknowledge_minutes"] == minutes
        assert AuditEvent.objects.filter(
            action="change_request.applied", object_id=str(change_request_pk), payload__version=number
        ).exists()

    # The versions of the SLA have no gaps, and the live SLA is its latest version.
    numbers = list(
        DocumentVersion.objects.of("sla", governed_sla.sla.pk).order_by("number").values_list("number", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    latest = DocumentVersion.objects.of("sla", governed_sla.sla.pk).order_by("-number").first()
    governed_sla.sla.refresh_from_db()
    assert content_hash(ServiceLevelAgreementKind().snapshot(governed_sla.sla)) == latest.content_hash

    outcome = verify_chain()
    assert isinstance(outcome, ChainHead), str(outcome)

    assert healthz_recovered <= RECOVERY_LIMIT_SECONDS
    assert write_recovered <= RECOVERY_LIMIT_SECONDS
