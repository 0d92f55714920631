import json
import socket
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals import actions as approval_actions
from audit.log import events_for
from notifications import actions, webhooks
from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from notifications.outbox import Restriction, notify
from notifications.tasks import deliver_notifications
from notifications.webhooks import deliver_due_webhooks, sign, verify_signature
from tests.notifications.receivers import Receiver

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-tests"


def signed(receiver_request, secret):
    headers = receiver_request.headers
    return verify_signature(
        secret, headers["X-SLA-Portal-Timestamp"], receiver_request.body, headers["X-SLA-Portal-Signature"]
    )


# Signing -------------------------------------------------------------------------


def test_a_signature_verifies_and_any_tampering_is_rejected():
    body = b'{"event":"change_request.applied"}'
    now = int(time.time())
    header = f"sha256={sign(SECRET, now, body)}"

    assert verify_signature(SECRET, str(now), body, header)
    assert not verify_signature(SECRET, str(now), body + b" ", header), "tampered body"
    assert not verify_signature(SECRET, str(now + 1), body, header), "tampered timestamp"
    assert not verify_signature("another-secret", str(now), body, header), "wrong secret"
    assert not verify_signature(SECRET, str(now), body, sign(SECRET, now, body)), "no sha256= prefix"
    assert not verify_signature(SECRET, "yesterday", body, header)
    assert not verify_signature(SECRET, str(now), body, None)


def test_an_old_signature_is_refused_as_a_replay():
    body = b"{}"
    then = int(time.time()) - 301
    header = f"sha256={sign(SECRET, then, body)}"
    assert not verify_signature(SECRET, str(then), body, header)
    assert verify_signature(SECRET, str(then), body, header, tolerance=600)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + b"payload", hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, b"payload") == expected


# Fan-out -------------------------------------------------------------------------


def test_notify_fans_out_to_matching_active_subscriptions(make_team, subscribe):
    payments, checkout = make_team("Payments"), make_team("Checkout")
    payments_submitted = subscribe("https://hooks.example.com/p", team=payments, events=["change_request.submitted"])
    payments_applied = subscribe("https://hooks.example.com/pa", team=payments, events=["change_request.applied"])
    checkout_all = subscribe("https://hooks.example.com/c", team=checkout)
    global_all = subscribe("https://hooks.example.com/g")
    global_rejected = subscribe("https://hooks.example.com/gr", events=["change_request.rejected"])
    inactive = subscribe("https://hooks.example.com/off")
    actions.deactivate_subscription(inactive, acting_user=inactive.created_by)

    notify(
        "change_request.submitted",
        subject="CR-0007 needs your team's approval",
        body="Review it: http://127.0.0.1:8000/changes/CR-0007/",
        teams=[payments],
        data={"change_request": "CR-0007", "kind": "sla"},
    )

    deliveries = {delivery.subscription_id: delivery for delivery in WebhookDelivery.objects.all()}
    assert set(deliveries) == {payments_submitted.pk, global_all.pk}
    assert not {payments_applied.pk, checkout_all.pk, global_rejected.pk, inactive.pk} & set(deliveries)
    payload = deliveries[global_all.pk].payload
    assert payload["event"] == "change_request.submitted"
    assert payload["subject"] == "CR-0007 needs your team's approval"
    assert payload["link"] == "http://127.0.0.1:8000/changes/CR-0007/"
    assert payload["teams"] == ["payments"]
    assert (payload["change_request"], payload["kind"]) == ("CR-0007", "sla")
    assert timezone.datetime.fromisoformat(payload["occurred_at"]).tzinfo is not None


def test_concerned_teams_hear_an_event_they_are_not_emailed(make_team, make_user, subscribe):
    payments = make_team("Payments")
    hook = subscribe("https://hooks.example.com/p", team=payments)
    author = make_user("author")
    notify("change_request.approved", subject="Approved", body="OK", users=[author], concerned_teams=[payments])
    assert WebhookDelivery.objects.get().subscription == hook
    assert list(Notification.objects.values_list("recipient", flat=True)) == [author.email]


def test_an_applied_review_is_also_review_published(make_team, subscribe):
    only_published = subscribe("https://hooks.example.com/reviews", events=["review.published"])
    everything = subscribe("https://hooks.example.com/all")
    notify("change_request.applied", subject="PIR-0003 applied", body="", data={"kind": "review", "version": 1})
    notify("change_request.applied", subject="SLA-0001 applied", body="", data={"kind": "sla", "version": 2})

    assert list(only_published.deliveries.values_list("event", flat=True)) == ["review.published"]
    assert list(everything.deliveries.values_list("event", flat=True)) == [
        "change_request.applied",
        "review.published",
        "change_request.applied",
    ]


def test_a_restricted_event_gives_its_text_only_to_subscriptions_whose_team_may_read_it(make_team, subscribe):
    payments, checkout = make_team("Payments"), make_team("Checkout")
    reader = subscribe("https://hooks.example.com/p", team=payments)
    outsider = subscribe("https://hooks.example.com/c", team=checkout)
    global_hook = subscribe("https://hooks.example.com/g")
    restriction = Restriction(
        may_read_team=lambda team: team == payments,
        may_read_user=lambda user: False,
        subject="Something restricted needs you",
        body="Open the portal.",
        data={"review": "PIR-0004"},
    )
    notify(
        "change_request.submitted",
        subject="Leaked keys",
        body="Rotate them",
        teams=[payments, checkout],
        data={"summary": "Leaked keys"},
        restriction=restriction,
    )

    full = reader.deliveries.get().payload
    assert (full["restricted"], full["subject"], full["summary"]) == (True, "Leaked keys", "Leaked keys")
    for hook in (outsider, global_hook):
        payload = hook.deliveries.get().payload
        assert payload["restricted"] is True
        assert (payload["subject"], payload["body"], payload["review"]) == (
            "Something restricted needs you",
            "Open the portal.",
            "PIR-0004",
        )
        assert "Leaked" not in json.dumps(payload) and "Rotate" not in json.dumps(payload)


def test_an_unrestricted_event_says_so_and_callers_may_not_set_the_flag(subscribe):
    global_hook = subscribe("https://hooks.example.com/g")
    notify("change_request.submitted", subject="SLA-0001", body="Faster")
    assert global_hook.deliveries.get().payload["restricted"] is False
    with pytest.raises(ValueError, match="restricted"):
        notify("change_request.submitted", subject="SLA-0001", body="", data={"restricted": False})


def test_webhook_data_may_not_replace_the_standard_fields(subscribe):
    subscribe("https://hooks.example.com/g")
    with pytest.raises(ValueError, match="event"):
        notify("change_request.submitted", subject="S", body="B", data={"event": "something.else"})


def test_no_deliveries_when_the_event_rolls_back(make_team, subscribe):
    team = make_team("Payments")
    subscribe("https://hooks.example.com/p", team=team)
    subscribe("https://hooks.example.com/g")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify("change_request.submitted", subject="Hello", body="Body", teams=[team])
        assert WebhookDelivery.objects.count() == 2
        raise RuntimeError("the event failed")
    assert not WebhookDelivery.objects.exists()
    assert not Notification.objects.exists()


def test_submitting_a_change_reaches_the_required_teams_webhooks(governed_sla, propose_acknowledge, subscribe):
    provider_hook = subscribe("https://hooks.example.com/p", team=governed_sla.provider)
    change_request = propose_acknowledge(governed_sla, 15)
    approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)

    delivery = provider_hook.deliveries.get()
    assert delivery.event == "change_request.submitted"
    assert delivery.payload["change_request"] == change_request.reference
    assert delivery.payload["kind"] == "sla"
    assert delivery.payload["link"].endswith(change_request.get_absolute_url())
    assert "Payments" in delivery.payload["required_teams"]


def test_a_decision_reaches_the_deciding_teams_webhook(governed_sla, submit_acknowledge, subscribe):
    consumer_decisions = subscribe(
        "https://hooks.example.com/cd", team=governed_sla.consumer, events=["change_request.rejected"]
    )
    change_request = submit_acknowledge(governed_sla, 15)
    approval_actions.decide_change_request(
        change_request,
        governed_sla.consumer,
        verdict="reject",
        comment="Too aggressive for us",
        acting_user=governed_sla.approvers[governed_sla.consumer],
    )
    delivery = consumer_decisions.deliveries.get()
    assert (delivery.payload["verdict"], delivery.payload["team"]) == ("rejected", "Checkout")
    assert delivery.payload["comment"] == "Too aggressive for us"


def test_create_subscription_validates_and_checks_permission(make_team, make_user, subscribe):
    team = make_team("Payments")
    with pytest.raises(ValidationError) as error:
        subscribe("https://hooks.example.com/p", team=team, events=["change_request.exploded"])
    assert "events" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        subscribe("ftp://hooks.example.com/p", team=team)
    assert "url" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        subscribe("https://hooks.example.com/p", team=team, acting_user=make_user("member", teams=[team]))
    approver = make_user("approver", approver_for=[team])
    hook = subscribe("https://hooks.example.com/p", team=team, acting_user=approver)
    assert len(hook.secret) >= 40 and hook.created_by == approver
    with pytest.raises(PermissionDenied):
        subscribe("https://hooks.example.com/g", acting_user=approver)  # global needs the committee
    assert WebhookSubscription.objects.count() == 1


def test_internal_addresses_are_refused_outside_development(settings, subscribe):
    settings.WEBHOOKS_MAY_BE_INTERNAL = False
    with pytest.raises(ValidationError, match="internal address"):
        subscribe("http://127.0.0.1:9/hooks")

    settings.WEBHOOKS_MAY_BE_INTERNAL = True
    hook = subscribe("http://127.0.0.1:9/hooks")
    settings.WEBHOOKS_MAY_BE_INTERNAL = False
    notify("review.due", subject="Due", body="")
    assert deliver_due_webhooks() == (0, 1)
    assert "127.0.0.1 is a loopback address" in hook.deliveries.get().last_error
    (refused,) = events_for(hook).filter(action="outbound.refused")
    assert refused.payload["url"] == "http://127.0.0.1:9/hooks"
    assert "127.0.0.1 is a loopback address" in refused.payload["reason"]


# Delivery against a real receiver ---------------------------------------------------


def test_a_failed_delivery_is_retried_after_its_backoff_and_arrives_signed(receiver, subscribe):
    hook = subscribe(receiver.url)
    receiver.answers.extend([500, 200])
    notify("review.due", subject="SLA-0001 is due for review", body="Please prepare", data={"document": "SLA-0001"})
    delivery = WebhookDelivery.objects.get()

    assert deliver_due_webhooks() == (0, 1)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error.startswith("HTTP 500")
    assert delivery.next_attempt_at > timezone.now()
    assert deliver_due_webhooks() == (0, 0)  # not again before its back-off

    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1)):
        assert deliver_due_webhooks() == (1, 0)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "delivered",
        2,
        200,
        "",
    )
    assert delivery.delivered_at is not None

    assert receiver.delivery_ids() == [delivery.pk, delivery.pk]
    for request in receiver.requests:
        assert request.path == "/hooks/sla"
        assert request.headers["X-SLA-Portal-Event"] == "review.due"
        assert request.headers["Content-Type"] == "application/json"
        assert signed(request, hook.secret)
        assert not signed(request, "someone-elses-secret")
    body = json.loads(receiver.requests[-1].body)
    assert (body["event"], body["subject"], body["document"]) == (
        "review.due",
        "SLA-0001 is due for review",
        "SLA-0001",
    )
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0


def test_a_redirect_is_not_followed(receiver, subscribe):
    subscribe(receiver.url)
    receiver.answers.append(302)
    notify("review.due", subject="Due", body="")
    assert deliver_due_webhooks() == (0, 1)
    assert [request.path for request in receiver.requests] == ["/hooks/sla"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == ("pending", 302)


def test_receiver_down_for_an_hour_then_up_gets_every_event_once_in_order(settings, make_team, subscribe):
    """Port closed for an hour while events keep coming; then it listens: each arrives exactly once, in order."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team = make_team("Payments")
    down = Receiver()  # not started: its port is closed
    hook = subscribe(down.url, team=team)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for minute in range(60):
            if minute % 10 == 0:
                notify("review.due", subject=f"Event at minute {minute}", body="", teams=[team])
            assert deliver_due_webhooks()[0] == 0
            traveller.shift(timedelta(minutes=1))
        created = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
        assert len(created) == 6
        assert WebhookDelivery.objects.filter(state="pending").count() == 6
        hook.refresh_from_db()
        # Only the head of the queue is tried, with growing back-off: a handful of attempts, not one per event per run.
        assert 3 <= hook.consecutive_failures <= 8
        assert WebhookDelivery.objects.exclude(pk=created[0]).filter(attempts__gt=0).count() == 0

        up = down.start()
        try:
            for _minute in range(61):
                deliver_due_webhooks()
                if not WebhookDelivery.objects.filter(state="pending").exists():
                    break
                traveller.shift(timedelta(minutes=1))
        finally:
            up.stop()
        # Checked at the (travelled) time they were received: verify_signature refuses old timestamps.
        assert all(signed(request, hook.secret) for request in up.requests)

    assert WebhookDelivery.objects.filter(state="pending").count() == 0
    assert up.delivery_ids() == created  # each exactly once, in the order they were created
    assert [json.loads(request.body)["subject"] for request in up.requests] == [
        f"Event at minute {minute}" for minute in range(0, 60, 10)
    ]
    # The team was told once that its webhook was failing, by email, and the message never went to the webhook.
    failing = Notification.objects.filter(event="webhook.failing")
    assert list(failing.values_list("recipient", flat=True)) == [team.email]
    assert "events are kept and retried" in failing.get().body
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.fallback_notified_at) == (0, None)


def test_the_fallback_email_goes_once_per_outage(settings, make_team, subscribe):
    settings.WEBHOOK_FALLBACK_AFTER_FAILURES = 3
    team = make_team("Payments", email="payments-oncall@example.com")
    receiver = Receiver(default_status=503).start()
    try:
        hook = subscribe(receiver.url, team=team)
        notify("review.due", subject="Due", body="", teams=[team])

        def fail_times(count, traveller):
            for _ in range(count):
                assert deliver_due_webhooks() == (0, 1)
                traveller.shift(timedelta(hours=1))

        with time_machine.travel(timezone.now(), tick=False) as traveller:
            fail_times(2, traveller)
            assert not Notification.objects.filter(event="webhook.failing").exists()
            fail_times(1, traveller)
            failing = Notification.objects.get(event="webhook.failing")
            assert failing.recipient == "payments-oncall@example.com"
            assert failing.body.startswith(f"Webhook to {receiver.url} is failing: HTTP 503")
            assert "events are kept and retried" in failing.body
            fail_times(4, traveller)
            assert Notification.objects.filter(event="webhook.failing").count() == 1

            receiver.default_status = 200
            assert deliver_due_webhooks() == (1, 0)
            hook.refresh_from_db()
            assert (hook.consecutive_failures, hook.fallback_notified_at) == (0, None)

            receiver.default_status = 500
            notify("review.due", subject="Due again", body="", teams=[team])
            fail_times(3, traveller)
            assert Notification.objects.filter(event="webhook.failing").count() == 2
        assert WebhookDelivery.objects.filter(event="webhook.failing").count() == 0
    finally:
        receiver.stop()


class WorkerKilled(BaseException):
    """What the worker process dying looks like from inside it: nothing after this line runs."""


def test_a_delivery_whose_worker_dies_after_sending_stays_pending_and_is_sent_again(receiver, subscribe, monkeypatch):
    hook = subscribe(receiver.url)
    notify("review.due", subject="Due", body="")
    real_post = webhooks.post

    def post_then_die(*args, **kwargs):
        real_post(*args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(webhooks, "post", post_then_die)
    with pytest.raises(WorkerKilled):
        deliver_due_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert len(receiver.requests) == 1  # the receiver did get it, but the portal never heard back

    monkeypatch.setattr(webhooks, "post", real_post)
    assert deliver_due_webhooks() == (0, 0)  # another worker does not grab it mid-flight
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1)):
        assert deliver_due_webhooks() == (1, 0)
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    # At least once: the same delivery id twice, so the receiver can drop the duplicate.
    assert receiver.delivery_ids() == [delivery.pk, delivery.pk]
    assert all(signed(request, hook.secret) for request in receiver.requests)


def test_a_worker_killed_before_recording_success_leaves_it_pending(receiver, subscribe, monkeypatch):
    subscribe(receiver.url)
    notify("review.due", subject="Due", body="")

    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(webhooks, "_record_success", die)
    with pytest.raises(WorkerKilled):
        deliver_due_webhooks()
    assert WebhookDelivery.objects.get().state == "pending"
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1)):
        assert deliver_due_webhooks() == (1, 0)
    assert len(receiver.requests) == 2


def test_a_deactivated_subscription_is_not_sent_to(receiver, subscribe):
    hook = subscribe(receiver.url)
    notify("review.due", subject="Due", body="")
    actions.deactivate_subscription(hook, acting_user=hook.created_by)
    assert deliver_due_webhooks() == (0, 0)
    assert receiver.requests == []
    with pytest.raises(ValidationError, match="already inactive"):
        actions.deactivate_subscription(hook, acting_user=hook.created_by)


def test_send_test_event_and_retry_now(receiver, subscribe, django_capture_on_commit_callbacks):
    hook = subscribe(receiver.url)
    receiver.answers.append(500)
    with django_capture_on_commit_callbacks() as callbacks:
        test_delivery = actions.send_test_event(hook, acting_user=hook.created_by)
    assert len(callbacks) == 1  # the worker is asked after commit
    assert test_delivery.event == "webhook.test"
    assert deliver_due_webhooks() == (0, 1)
    notify("review.due", subject="Due", body="")
    later = WebhookDelivery.objects.latest("pk")

    actions.retry_delivery(later, acting_user=hook.created_by)  # also brings forward the earlier one
    assert deliver_due_webhooks() == (2, 0)
    assert receiver.delivery_ids() == [test_delivery.pk, test_delivery.pk, later.pk]
    with pytest.raises(ValidationError, match="already delivered"):
        actions.retry_delivery(later, acting_user=hook.created_by)


def test_the_task_delivers_webhooks_and_queues_itself_for_the_next_retry(subscribe):
    down_port = Receiver().port  # nothing listens there
    hook = subscribe(f"http://127.0.0.1:{down_port}/hooks")
    notify("review.due", subject="Due", body="")

    assert deliver_notifications.call() == {"sent": 0, "failed": 0, "webhooks_delivered": 0, "webhooks_failed": 1}
    delivery = hook.deliveries.get()
    assert "Connection refused" in delivery.last_error or "ConnectionRefused" in delivery.last_error
    queued = DBTaskResult.objects.get(status=TaskResultStatus.READY, task_path=deliver_notifications.module_path)
    assert queued.run_after == delivery.next_attempt_at

    deliver_notifications.call()  # nothing due yet: no second run is queued
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_the_command_reports_webhooks(receiver, subscribe, capsys):
    from django.core.management import call_command

    subscribe(receiver.url)
    notify("review.due", subject="Due", body="")
    call_command("deliver_notifications")
    assert "Delivered 1 webhook(s); 0 failed" in capsys.readouterr().out
    assert len(receiver.requests) == 1


def test_port_is_really_closed_while_down():
    """Guards the outage test: connecting to a Receiver that was never started is refused."""
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", Receiver().port), timeout=1):
        pass


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_webhooks_after_commit(receiver, subscribe):
    """notify() asks the worker after commit; `db_worker` (the background worker) sends the webhook."""
    from django.core.management import call_command

    hook = subscribe(receiver.url)
    with transaction.atomic():
        notify("review.due", subject="Due", body="")
        assert not DBTaskResult.objects.exists()  # nothing is asked of the worker before the commit
    assert DBTaskResult.objects.count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert hook.deliveries.get().state == "delivered"
    assert receiver.delivery_ids() == [hook.deliveries.get().pk]


def test_schedule_queues_the_run_a_killed_worker_left_undone_once(subscribe, capsys):
    """A run killed with its worker queued no successor: `deliver_notifications --schedule` queues it, once."""
    from django.core.management import call_command

    hook = subscribe(f"http://127.0.0.1:{Receiver().port}/hooks")  # nothing listens there
    call_command("deliver_notifications", "--schedule")
    assert "Nothing is waiting for delivery" in capsys.readouterr().out

    notify("review.due", subject="Due", body="")
    DBTaskResult.objects.all().delete()  # the run notify() queued, as if its worker had died with it
    call_command("deliver_notifications", "--schedule")
    assert "Queued a delivery run for" in capsys.readouterr().out
    queued = DBTaskResult.objects.get(status=TaskResultStatus.READY, task_path=deliver_notifications.module_path)
    assert queued.run_after <= timezone.now()  # the delivery is due now, so is its run

    call_command("deliver_notifications", "--schedule")
    assert "already queued" in capsys.readouterr().out
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
    assert hook.deliveries.get().state == "pending"  # --schedule delivers nothing itself


# Rotating the secret ------------------------------------------------------------------


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(receiver, subscribe, admin_actor, settings):
    settings.WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)
    hook = subscribe(receiver.url)
    old_secret = hook.secret
    rotated_at = timezone.now()

    with time_machine.travel(rotated_at, tick=False):
        hook = actions.rotate_secret(hook, acting_user=admin_actor)
    new_secret = hook.secret
    assert new_secret != old_secret and hook.secret_created_at == rotated_at
    (event,) = events_for(hook).filter(action="webhook.secret_rotated")
    assert event.actor == admin_actor and "secret" not in json.dumps(event.payload).replace("secret_ended", "")

    # Within the window both secrets verify the same delivery: the receiver may switch at any moment.
    with time_machine.travel(rotated_at + timedelta(hours=23)):
        notify("review.due", subject="Due", body="")
        assert deliver_due_webhooks() == (1, 0)
        during = receiver.requests[-1]
        assert signed(during, new_secret) and signed(during, old_secret)
        assert during.headers["X-SLA-Portal-Signature"].count("sha256=") == 2

    # After it, only the new one.
    with time_machine.travel(rotated_at + timedelta(hours=24, seconds=1)):
        notify("review.due", subject="Due again", body="")
        assert deliver_due_webhooks() == (1, 0)
        after = receiver.requests[-1]
        assert signed(after, new_secret) and not signed(after, old_secret)
        assert after.headers["X-SLA-Portal-Signature"].count("sha256=") == 1


def test_rotating_twice_in_the_window_ends_the_oldest_secret_at_once(receiver, subscribe, admin_actor):
    hook = subscribe(receiver.url)
    first = hook.secret
    second = actions.rotate_secret(hook, acting_user=admin_actor).secret
    third = actions.rotate_secret(hook, acting_user=admin_actor).secret

    notify("review.due", subject="Due", body="")
    assert deliver_due_webhooks() == (1, 0)
    (request,) = receiver.requests
    assert signed(request, third) and signed(request, second) and not signed(request, first)
    (_, latest) = events_for(hook).filter(action="webhook.secret_rotated").order_by("pk")
    assert latest.payload["earlier_secret_ended"] is True


def test_the_page_shows_the_secret_age_and_rotation_shows_the_new_secret_once(client, subscribe, admin_actor):
    hook = subscribe("https://hooks.example.com/in")
    client.force_login(admin_actor)
    page = client.get(hook.get_absolute_url()).content.decode()
    assert "Secret issued" in page and "Rotate the secret" in page and hook.secret not in page

    answer = client.post(reverse("notifications:webhook_rotate_secret", args=[hook.pk]))
    hook.refresh_from_db()
    text = answer.content.decode()
    assert answer.status_code == 200 and "Signing secret rotated" in text and hook.secret in text
    assert "two signatures" in text
    page = client.get(hook.get_absolute_url()).content.decode()
    assert hook.secret not in page and "the previous secret also signs until" in page


def test_only_a_manager_of_the_webhook_may_rotate_it(client, subscribe, make_user):
    hook = subscribe("https://hooks.example.com/in")
    before = hook.secret
    client.force_login(make_user("outsider"))
    answer = client.post(reverse("notifications:webhook_rotate_secret", args=[hook.pk]))
    assert answer.status_code in (403, 404)
    hook.refresh_from_db()
    assert hook.secret == before and not events_for(hook).filter(action="webhook.secret_rotated").exists()
