"""Every background task is safe to run twice: the second run of the same work changes nothing.

A run killed with its worker is run again (core.workers), so each task is run twice here against the same
data, and its effect must have happened once. A task defined anywhere in the project fails
test_every_task_is_run_twice_by_a_test until a test here runs it twice, or RUN_TWICE_ELSEWHERE names the
test of its own app that does.
"""

import re
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals.actions import record_baseline_version
from approvals.choices import ChangeState
from approvals.models import DocumentVersion
from approvals.tasks import apply_due_changes_task
from audit.models import AuditEvent
from insights.tasks import send_reminders_task
from notifications.actions import create_subscription
from notifications.models import Notification, ReminderSent, WebhookDelivery
from notifications.outbox import message_id, notify
from notifications.tasks import deliver_notifications
from releases.models import CalendarSync, Release
from releases.tasks import sync_due_calendars_task
from reviews.models import ActionItem
from tests.notifications.receivers import Receiver

pytestmark = pytest.mark.django_db

RUN_TWICE = {}  # task path -> the test below that runs it twice
# Tasks whose own app's tests run them twice: task path -> that test.
RUN_TWICE_ELSEWHERE = {
    "incidents.tasks.escalate_due_notices": (
        "tests/incidents/test_notices.py::test_running_twice_creates_and_sends_each_notice_once"
    ),
    "releases.tasks.import_upload_task": (
        "tests/releases/test_background_imports.py::test_running_a_finished_import_again_does_nothing"
    ),
    "releases.oncall_schedules.sync_due_oncall_schedules_task": (
        "tests/insights/test_oncall_schedule.py::test_reading_twice_reads_each_feed_once_and_changes_nothing"
    ),
}
TASK_DEFINITION = re.compile(r"^@task\b.*\n(?:@.*\n)*(?:async )?def (\w+)", re.MULTILINE)


def runs_twice(task):
    def register(test):
        RUN_TWICE[task.module_path] = test.__name__
        return test

    return register


def defined_tasks():
    """The path of every function decorated with @task in the project's apps."""
    paths = set()
    for app in apps.get_app_configs():
        if Path(app.path).parent != settings.BASE_DIR:
            continue  # Django's and the libraries' apps
        for source in sorted(Path(app.path).rglob("*.py")):
            module = ".".join(source.relative_to(settings.BASE_DIR).with_suffix("").parts)
            paths |= {f"{module}.{name}" for name in TASK_DEFINITION.findall(source.read_text())}
    return paths


def waiting_runs(task):
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task.module_path).count()


def test_every_task_is_run_twice_by_a_test():
    defined = defined_tasks()
    missing = defined - set(RUN_TWICE) - set(RUN_TWICE_ELSEWHERE)
    assert not missing, f"add a test that runs these tasks twice: {', '.join(sorted(missing))}"
    assert set(RUN_TWICE) <= defined
    for task_path, test in RUN_TWICE_ELSEWHERE.items():
        if task_path in defined:
            path, name = test.split("::")
            assert f"def {name}(" in (settings.BASE_DIR / path).read_text(), f"{test} (running {task_path} twice)"


@runs_twice(deliver_notifications)
def test_delivering_twice_sends_each_email_and_each_webhook_once(make_team, make_user, admin_actor, settings):
    settings.WEBHOOKS_MAY_BE_INTERNAL = True
    receiver = Receiver().start()
    try:
        create_subscription(None, url=receiver.url, acting_user=admin_actor)
        team, person = make_team("Payments"), make_user("payments.lead")
        for number in (1, 2):
            notify("change_request.applied", subject=f"CR-000{number} applied", body="…", teams=[team], users=[person])

        first, second = deliver_notifications.call(), deliver_notifications.call()
    finally:
        receiver.stop()

    assert first == {"sent": 4, "failed": 0, "webhooks_delivered": 2, "webhooks_failed": 0}
    assert second == {"sent": 0, "failed": 0, "webhooks_delivered": 0, "webhooks_failed": 0}
    notifications = Notification.objects.order_by("pk")
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [message_id(n) for n in notifications]
    assert len({message_id(n) for n in notifications}) == 4
    assert sorted(receiver.delivery_ids()) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {WebhookDelivery.State.DELIVERED}


@runs_twice(apply_due_changes_task)
def test_applying_twice_applies_each_due_change_once(
    governed_sla, make_sla, make_service, submit_acknowledge, approve_all, admin_actor
):
    other = make_sla(
        "Refunds for Checkout",
        service=make_service("Refunds API", owner_team=governed_sla.provider),
        provider_team=governed_sla.provider,
        consumer_teams=[governed_sla.consumer],
    )
    record_baseline_version(other, acting_user=admin_actor)
    governed_other = replace(governed_sla, sla=other)
    effective_at = timezone.now() + timedelta(hours=1)
    change_requests = [
        approve_all(governed, submit_acknowledge(governed, 15, effective_at=effective_at))
        for governed in (governed_sla, governed_other)
    ]

    with time_machine.travel(effective_at + timedelta(minutes=1), tick=False):
        first, second = apply_due_changes_task.call(), apply_due_changes_task.call()

    assert first == [change_request.reference for change_request in change_requests]
    assert second == []
    for change_request in change_requests:
        change_request.refresh_from_db()
        assert change_request.state == ChangeState.APPLIED
        assert DocumentVersion.objects.filter(change_request=change_request).count() == 1
        assert AuditEvent.objects.filter(action="change_request.applied", object_id=str(change_request.pk)).count() == 1


def release_feed(starts_at):
    """An iCalendar feed with one release two days after `starts_at`."""
    moment = "%Y%m%dT%H%M%SZ"
    release = starts_at + timedelta(days=2)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SLA Portal tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:checkout-release@tests\r\nDTSTAMP:{starts_at:{moment}}\r\nDTSTART:{release:{moment}}\r\n"
        f"DTEND:{release + timedelta(hours=1):{moment}}\r\nSUMMARY:Checkout release\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@runs_twice(sync_due_calendars_task)
def test_syncing_twice_imports_each_feed_once(make_calendar, make_team, settings):
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = True
    feed = release_feed(timezone.now())

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(feed)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        calendar = make_calendar("Checkout train", team=make_team(), feed_url=f"http://127.0.0.1:{server.server_port}/")
        first, second = sync_due_calendars_task.call(), sync_due_calendars_task.call()
    finally:
        server.shutdown()
        server.server_close()

    assert first == [{"calendar": "Checkout train", "error": ""}]
    assert second == []
    assert CalendarSync.objects.filter(calendar=calendar).count() == 1
    assert list(Release.objects.filter(calendar=calendar).values_list("title", flat=True)) == ["Checkout release"]
    assert waiting_runs(sync_due_calendars_task) == 1


@runs_twice(send_reminders_task)
def test_reminding_twice_reminds_of_each_due_item_once(make_team, make_sla, make_service, make_user, make_review):
    now = timezone.now()
    payments, support = make_team("Payments"), make_team("Support")
    make_sla(
        "Payments for checkout",
        provider_team=payments,
        last_reviewed_at=now - timedelta(days=100),
        effective_from=now - timedelta(days=400),
    )
    alice = make_user("alice", teams=[support])
    today = timezone.localdate(now)
    make_review(
        [make_service(owner_team=payments)],
        action_items=[
            ActionItem(
                title="Alert on refund errors", owner_team=support, assignee=alice, due_date=today - timedelta(3)
            )
        ],
    )

    with time_machine.travel(now, tick=False):
        first, second = send_reminders_task.call(), send_reminders_task.call()

    assert first == {"sent": 3, "already_sent": 0}  # the SLA's owner; the action item's team and assignee
    assert second == {"sent": 0, "already_sent": 3}
    assert Notification.objects.count() == ReminderSent.objects.count() == 3
    assert waiting_runs(send_reminders_task) == 1
