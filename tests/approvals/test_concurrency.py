"""Racing approvers and appliers on PostgreSQL: exactly one version, never a 500."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection

from approvals import actions
from approvals.choices import ChangeState
from approvals.exceptions import InvalidTransition
from approvals.models import DocumentVersion
from audit.models import AuditEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row-lock races need PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/sla_portal"
        )


def race(workers):
    """Run every callable at once behind a barrier; return what each returned or raised."""
    barrier = threading.Barrier(len(workers))
    outcomes = [None] * len(workers)

    def run(index, work):
        try:
            barrier.wait()
            outcomes[index] = work()
        except Exception as error:  # collected and asserted on below
            outcomes[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(index, work)) for index, work in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_racing_approvers_and_appliers_produce_one_version(governed_sla, propose_acknowledge):
    change_request = actions.submit_change_request(
        propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author
    )
    teams = [governed_sla.provider, governed_sla.consumer, governed_sla.committee]

    def approve(team):
        return lambda: actions.decide_change_request(
            change_request, team, verdict="approve", comment="race", acting_user=governed_sla.approvers[team]
        )

    def apply():
        return actions.apply_due_changes()

    workers = [approve(teams[index % 3]) for index in range(14)] + [apply for _ in range(6)]
    outcomes = race(workers)

    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    # Duplicate decisions are refused with a clear message; nothing else goes wrong.
    assert all(isinstance(error, InvalidTransition) for error in errors), errors
    change_request.refresh_from_db()
    assert change_request.state == ChangeState.APPLIED
    assert DocumentVersion.objects.filter(document_kind="sla", document_id=governed_sla.sla.pk).count() == 2
    assert AuditEvent.objects.filter(action="change_request.applied").count() == 1
    assert change_request.decisions.count() == 3
    target = governed_sla.sla.response_targets.get(severity__key="SEV1")
    assert target.time_to_acknowledge == timedelta(minutes=15)


def test_two_requests_racing_on_one_base_version(governed_sla, propose_acknowledge, approve_all):
    teams = [governed_sla.provider, governed_sla.consumer]
    requests = []
    for minutes in (15, 20):
        change_request = actions.submit_change_request(
            propose_acknowledge(governed_sla, minutes, summary=f"{minutes} minutes"), acting_user=governed_sla.author
        )
        requests.append(approve_all(governed_sla, change_request, teams=teams))

    committee = governed_sla.committee
    outcomes = race(
        [
            lambda change_request=change_request: actions.decide_change_request(
                change_request, committee, verdict="approve", acting_user=governed_sla.approvers[committee]
            )
            for change_request in requests
        ]
    )
    # The loser either finds itself stale when it comes to apply, or is refused
    # because the winner already marked it stale: a clear message, not an error page.
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert all(isinstance(error, InvalidTransition) and "is stale" in str(error) for error in errors), errors
    for change_request in requests:
        change_request.refresh_from_db()
    assert sorted(change_request.state for change_request in requests) == [ChangeState.APPLIED, ChangeState.STALE]
    assert DocumentVersion.objects.filter(document_kind="sla", document_id=governed_sla.sla.pk).count() == 2
