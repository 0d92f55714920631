from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from approvals import actions
from notifications.models import Notification
from notifications.outbox import backoff, deliver_due, notify

pytestmark = pytest.mark.django_db


class RefusingEmailBackend:
    """An SMTP server that is down: every send raises, as smtplib would."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def test_submitting_writes_one_notification_per_required_team(governed_sla, propose_acknowledge):
    actions.submit_change_request(propose_acknowledge(governed_sla, 15), acting_user=governed_sla.author)
    recipients = set(Notification.objects.filter(event="change_request.submitted").values_list("recipient", flat=True))
    assert recipients == {team.email for team in (governed_sla.provider, governed_sla.consumer, governed_sla.committee)}
    assert all(address for address in recipients)


def test_notifications_roll_back_with_their_event(make_team):
    team = make_team("Payments", email="payments@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify("test.event", subject="Hello", body="Body", teams=[team])
        raise RuntimeError("the event failed")
    assert not Notification.objects.exists()


def test_delivery_sends_email_and_marks_sent(settings, make_team):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team = make_team("Payments", email="payments@example.com")
    notify("test.event", subject="CR-0001 needs you", body="Please review", teams=[team])
    assert deliver_due() == (1, 0)
    assert [message.to for message in mail.outbox] == [["payments@example.com"]]
    notification = Notification.objects.get()
    assert notification.state == Notification.State.SENT
    assert notification.sent_at is not None


def test_a_failed_delivery_stays_in_the_outbox_and_is_retried_with_backoff(settings, make_team):
    team = make_team("Payments", email="payments@example.com")
    notify("test.event", subject="CR-0001 needs you", body="Please review", teams=[team])

    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.RefusingEmailBackend"
    assert deliver_due() == (0, 1)
    notification = Notification.objects.get()
    assert notification.state == Notification.State.PENDING
    assert notification.attempts == 1
    assert "Connection refused" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert deliver_due() == (0, 0)  # not due again before its back-off

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert deliver_due() == (1, 0)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1


def test_backoff_grows_and_is_capped():
    assert [backoff(attempt) for attempt in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert backoff(30) == timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_what_the_outbox_holds(settings, make_team):
    """On commit a delivery task is stored in the database; `db_worker` (the background worker) runs it."""
    from django_tasks_db.models import DBTaskResult

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team = make_team("Payments", email="payments@example.com")
    with transaction.atomic():
        notify("test.event", subject="Hello", body="Body", teams=[team])
        assert not DBTaskResult.objects.exists()  # nothing is asked of the worker before the commit
    assert DBTaskResult.objects.count() == 1
    assert Notification.objects.get().state == Notification.State.PENDING

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert Notification.objects.get().state == Notification.State.SENT
    assert [message.subject for message in mail.outbox] == ["Hello"]


def test_deliver_notifications_command_reports_what_it_did(settings, make_team, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notify("test.event", subject="Hello", body="Body", teams=[make_team("Payments", email="p@example.com")])
    call_command("deliver_notifications")
    out = capsys.readouterr().out
    assert "Delivered 1 notification(s); 0 failed" in out
    assert "0 waiting in the outbox" in out
