"""send_reminders: who is reminded of what, through the outbox, at most once a day; and its daily task."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from insights.reminders import send_reminders
from insights.tasks import next_reminders_run, send_reminders_task
from notifications.models import Notification, ReminderSent
from reviews import actions as review_actions
from reviews.models import ActionItem
from sla_registry.choices import AgreementStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def reviewed_days_ago(days):
    return {"last_reviewed_at": NOW - timedelta(days=days), "effective_from": NOW - timedelta(days=400)}


@pytest.fixture
def organisation(make_team, make_service, make_sla, make_user, make_review, admin_actor):
    """Payments owns an overdue SLA, Search one due in 10 days and one due in 40; two action items are overdue."""
    payments, search, support = make_team("Payments"), make_team("Search"), make_team("Support")
    overdue = make_sla("Payments for checkout", provider_team=payments, **reviewed_days_ago(100))
    due_soon = make_sla("Search for the shop", provider_team=search, **reviewed_days_ago(80))
    make_sla("Search for the app", provider_team=search, **reviewed_days_ago(50))
    make_sla("Old payments terms", provider_team=payments, status=AgreementStatus.RETIRED, **reviewed_days_ago(300))
    alice = make_user("alice", first_name="Alice", last_name="Ng", teams=[support])
    review = make_review(
        [make_service(owner_team=payments)],
        action_items=[
            ActionItem(
                title="Alert on refund errors", owner_team=support, assignee=alice, due_date=TODAY - timedelta(3)
            ),
            ActionItem(title="Write the runbook", owner_team=payments, due_date=TODAY - timedelta(1)),
            ActionItem(title="Load test", owner_team=payments, due_date=TODAY),  # due today: not overdue yet
            ActionItem(title="Rotate keys", owner_team=support, assignee=alice, due_date=TODAY - timedelta(9)),
        ],
    )
    rotated = review.action_items.get(title="Rotate keys")
    review_actions.complete_action_item(rotated, note="Rotated.", acting_user=alice)
    return {"overdue": overdue, "due_soon": due_soon, "review": review, "alice": alice}


def run_command(*args):
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue().splitlines()


def outbox():
    return sorted((row.event, row.recipient, row.subject) for row in Notification.objects.all())


def test_owners_of_due_documents_and_of_overdue_action_items_are_reminded(organisation):
    overdue, due_soon, review = organisation["overdue"], organisation["due_soon"], organisation["review"]

    lines = run_command()

    refund_subject = f"Overdue action item from {review.reference}: Alert on refund errors (due 26 Nov 2026)"
    runbook_subject = f"Overdue action item from {review.reference}: Write the runbook (due 28 Nov 2026)"
    overdue_subject = (
        f"{overdue.reference} Payments for checkout: periodic review was due on 19 Nov 2026 (10 days overdue)"
    )
    soon_subject = f"{due_soon.reference} Search for the shop: periodic review is due on 9 Dec 2026"
    assert outbox() == sorted(
        [
            ("review.due", "payments@example.com", overdue_subject),
            ("review.due", "search@example.com", soon_subject),
            ("action_item.overdue", "support@example.com", refund_subject),
            ("action_item.overdue", "alice@example.com", refund_subject),
            ("action_item.overdue", "payments@example.com", runbook_subject),
        ]
    )
    assert lines == [
        f"  {overdue_subject} → Payments",
        f"  {soon_subject} → Search",
        f"  {refund_subject} → Support",
        f"  {refund_subject} → Alice Ng",
        f"  {runbook_subject} → Payments",
        "Sent 5 reminders (2 review due, 3 action items overdue); 0 already sent today.",
    ]
    body = Notification.objects.get(recipient="search@example.com").body
    assert f"http://127.0.0.1:8000{due_soon.get_absolute_url()}" in body
    assert "http://127.0.0.1:8000/review-due/" in body
    assert set(ReminderSent.objects.values_list("subject_key", "recipient_key", "day")) == {
        (f"review-due:sla:{overdue.pk}", "team:payments", TODAY),
        (f"review-due:sla:{due_soon.pk}", "team:search", TODAY),
        (f"action-item-overdue:{review.action_items.get(title='Alert on refund errors').pk}", "team:support", TODAY),
        (
            f"action-item-overdue:{review.action_items.get(title='Alert on refund errors').pk}",
            f"user:{organisation['alice'].pk}",
            TODAY,
        ),
        (f"action-item-overdue:{review.action_items.get(title='Write the runbook').pk}", "team:payments", TODAY),
    }


def test_each_reminder_goes_out_once_a_day(organisation):
    run_command()
    sent_today = outbox()

    later_today = run_command()
    with time_machine.travel(NOW + timedelta(hours=11), tick=False):  # 23:00, still the same day
        send_reminders()

    assert later_today == ["Sent 0 reminders (0 review due, 0 action items overdue); 5 already sent today."]
    assert outbox() == sent_today

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        next_day = run_command()

    # Again the next day, and the load test, due yesterday by then, is overdue too.
    assert next_day[-1] == "Sent 6 reminders (2 review due, 4 action items overdue); 0 already sent today."
    assert Notification.objects.count() == 11


def test_a_reminder_already_sent_today_is_skipped_but_a_new_one_goes_out(organisation, make_sla, make_team):
    run_command()
    make_sla("Newly overdue", provider_team=make_team("Identity"), **reviewed_days_ago(91))

    lines = run_command()

    assert lines[-1] == "Sent 1 reminder (1 review due, 0 action items overdue); 5 already sent today."
    assert Notification.objects.filter(recipient="identity@example.com").count() == 1


def test_nothing_to_remind(db):
    assert run_command() == ["Sent 0 reminders (0 review due, 0 action items overdue); 0 already sent today."]
    assert not Notification.objects.exists()


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="Concurrent writers need PostgreSQL; SQLite's test database is one in-memory connection.",
)
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(organisation):
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def run():
        try:
            barrier.wait()
            runs.append(send_reminders())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(len(run.sent) for run in runs) in ([0, 5], [1, 4], [2, 3])
    assert sum(len(run.sent) for run in runs) == 5
    assert Notification.objects.count() == 5


# The daily task ---------------------------------------------------------------------------


def test_schedule_queues_the_daily_run_for_tomorrow_morning(db):
    lines = run_command("--schedule")

    assert lines == [
        "Queued the daily reminders for 2026-11-30 07:00 UTC.",
        "Sent 0 reminders (0 review due, 0 action items overdue); 0 already sent today.",
    ]
    waiting = DBTaskResult.objects.get(task_path=send_reminders_task.module_path)
    assert waiting.run_after == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert run_command("--schedule")[0] == "The daily reminders were already queued."


def test_the_next_run_is_the_next_morning():
    assert next_reminders_run(datetime(2026, 11, 29, 6, 59, tzinfo=UTC)) == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert next_reminders_run(datetime(2026, 11, 29, 7, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert next_reminders_run(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(2027, 1, 1, 7, 0, tzinfo=UTC)


def test_the_task_sends_reminders_and_queues_its_next_run_once(organisation):
    result = send_reminders_task.call()
    send_reminders_task.call()  # the next run is already queued: not queued twice

    assert result == {"sent": 5, "already_sent": 0}
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=send_reminders_task.module_path
    ).get()
    assert waiting.run_after == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert Notification.objects.count() == 5
