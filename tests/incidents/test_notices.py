"""Notices: at 50 %, 80 % of each clock's target and at breach, to the escalation tier reached, once each.

The SEV1 acknowledgement target is 20 min here, so its thresholds fall at 10, 16 and 20 min; level 1 (Payments,
paged through its webhook receiver, email as the fallback) waits 12 min before level 2 (Platform, by email).
Each test freezes the clock first and builds everything from it, so it holds on any date."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from approvals.actions import record_baseline_version
from incidents import actions
from incidents.choices import ClockKind, EventKind, NoticeStatus
from incidents.escalation import fire_due_notices
from incidents.models import Notice
from incidents.tasks import escalate_due_notices
from notifications.actions import create_subscription
from notifications.outbox import deliver_due
from notifications.webhooks import verify_signature
from sla_registry.choices import Channel
from sla_registry.models import EscalationStep, PlaybookStep, ResponseTarget
from tests.notifications.receivers import Receiver

pytestmark = pytest.mark.django_db

ACK = timedelta(minutes=20)


@pytest.fixture
def escalation(make_team, make_service, make_sla, make_matrix, make_user, severities, admin_actor, settings,
               time_machine):  # fmt: skip
    time_machine.move_to(timezone.now(), tick=False)
    settings.WEBHOOKS_MAY_BE_INTERNAL = True
    payments = make_team("Payments", primary_channel=Channel.PAGE, fallback_channel=Channel.EMAIL)
    platform = make_team("Platform", primary_channel=Channel.EMAIL, fallback_channel=Channel.CHAT)
    checkout = make_team("Checkout", primary_channel=Channel.EMAIL, fallback_channel=Channel.CHAT)
    committee = make_team("SLA Committee", is_sla_committee=True, primary_channel=Channel.EMAIL,
                          fallback_channel=Channel.CHAT)  # fmt: skip
    service = make_service("Card API", owner_team=payments)
    target = ResponseTarget(
        severity=severities["SEV1"],
        time_to_acknowledge=ACK,
        time_to_restore=timedelta(hours=2),
        time_to_resolve=timedelta(days=1),
    )
    sla = make_sla("Cards", service=service, provider_team=payments, consumer_teams=[checkout],
                   response_targets=[target])  # fmt: skip
    record_baseline_version(sla, acting_user=admin_actor)
    steps = [
        EscalationStep(severity=severities["SEV1"], level=1, wait=timedelta(minutes=12), team=payments,
                       channel=Channel.PAGE, fallback_channel=Channel.EMAIL, bring_workarounds=True),
        EscalationStep(severity=severities["SEV1"], level=2, wait=timedelta(minutes=30), team=platform,
                       channel=Channel.EMAIL),
    ]  # fmt: skip
    playbook = [PlaybookStep(title="Fail over to the second acquirer", instructions="Flip the acquirer switch.",
                             timebox_minutes=5)]  # fmt: skip
    matrix = make_matrix(service, steps=steps, playbook_steps=playbook)
    record_baseline_version(matrix, acting_user=admin_actor)
    member = make_user("payments.oncall", teams=[payments])
    receiver = Receiver().start()
    subscription = create_subscription(payments, url=receiver.url, acting_user=admin_actor)
    yield {"payments": payments, "platform": platform, "checkout": checkout, "committee": committee,
           "service": service, "member": member, "receiver": receiver, "subscription": subscription,
           "severity": severities["SEV1"]}  # fmt: skip
    receiver.stop()


def open_incident(world):
    return actions.open_incident(
        title="Card payments failing", services=[world["service"]], severity=world["severity"],
        started_at=timezone.now(), acting_user=world["member"],
    )  # fmt: skip


def ack_notices(incident):
    return list(
        incident.notices.filter(clock__kind=ClockKind.ACKNOWLEDGE).order_by("due_at", "level", "team__slug")
        .values_list("threshold", "level", "team__slug", "status")
    )  # fmt: skip


def test_thresholds_fire_at_50_80_and_100_percent_to_the_tier_reached(escalation, time_machine):
    incident = open_incident(escalation)
    start = incident.started_at
    time_machine.shift(timedelta(minutes=9, seconds=59))
    assert fire_due_notices() == [] and ack_notices(incident) == []

    time_machine.shift(timedelta(seconds=1))  # 10 min: 50 % of 20 min
    fire_due_notices()
    assert ack_notices(incident) == [("50", 1, "payments", "sent")]
    notice = incident.notices.get()
    assert notice.due_at == start + timedelta(minutes=10) and notice.sent_at == timezone.now()
    assert (notice.channel, notice.fallback_used, notice.late_by) == (Channel.PAGE, False, None)
    (request,) = escalation["receiver"].requests
    secret = escalation["subscription"].secret
    headers = request.headers
    assert verify_signature(secret, headers["X-SLA-Portal-Timestamp"], request.body, headers["X-SLA-Portal-Signature"])
    assert headers["X-SLA-Portal-Event"] == "incident.notice"
    body = request.body.decode()
    # What the step says to bring: the timeline, the services, the playbook's workarounds, the clocks and links.
    assert "Fail over to the second acquirer" in body and "Card API" in body and "Triggered" in body
    assert f"/incidents/{incident.reference}/" in body and "/services/card-api/oncall/" in body

    time_machine.shift(timedelta(minutes=5, seconds=59))  # 15:59: level 2 is reached at 12 min, 80 % not yet
    fire_due_notices()
    assert len(ack_notices(incident)) == 1

    time_machine.shift(timedelta(seconds=1))  # 16 min: 80 %, past level 1's 12 min wait without an ack
    fire_due_notices()
    assert ack_notices(incident)[1:] == [("80", 2, "platform", "sent")]

    time_machine.shift(timedelta(minutes=4))  # 20 min: breach, also to the consumers and the committee
    fire_due_notices()
    assert sorted(ack_notices(incident)[2:], key=str) == [
        ("breach", 2, "platform", "sent"),
        ("breach", None, "checkout", "sent"),
        ("breach", None, "sla-committee", "sent"),
    ]
    deliver_due()
    assert {"platform@example.com", "checkout@example.com", "sla-committee@example.com"} <= {
        address for message in mail.outbox for address in message.to
    }


def test_level_2_only_after_level_1s_wait_and_an_acknowledgement_stops_escalation(escalation, time_machine):
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=10))
    fire_due_notices()
    time_machine.shift(timedelta(minutes=1))  # 11 min: acknowledged, before level 1's 12 min wait ran out
    actions.act_on_incident(incident, "acknowledge", acting_user=escalation["member"])
    # The restore clock (2 h) runs on: its 50 % at 1 h still goes to level 1, never to level 2.
    time_machine.shift(timedelta(hours=2))
    fire_due_notices()
    # The acknowledge clock was met: no 80 % and no breach notice for it.
    assert ack_notices(incident) == [("50", 1, "payments", "sent")]
    restore = list(
        incident.notices.filter(clock__kind=ClockKind.RESTORE).values_list("threshold", "level", "team__slug")
    )
    assert sorted(restore, key=str) == sorted(
        [("50", 1, "payments"), ("80", 1, "payments"), ("breach", 1, "payments"),
         ("breach", None, "checkout"), ("breach", None, "sla-committee")], key=str)  # fmt: skip
    assert not incident.notices.filter(level=2).exists()


def test_running_twice_creates_and_sends_each_notice_once(escalation, time_machine):
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=10))
    escalate_due_notices.call()
    escalate_due_notices.call()
    assert incident.notices.count() == 1
    assert len(escalation["receiver"].requests) == 1
    assert incident.events.filter(kind=EventKind.NOTICE).count() == 1
    # The task queued its next run (the 80 % moment is 6 min away: in 30 s), once.
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=escalate_due_notices.module_path)
    assert waiting.count() == 1
    assert waiting.get().run_after == timezone.now() + timedelta(seconds=30)


def test_a_primary_receiver_down_falls_back_to_email_and_the_timeline_says_so(escalation, time_machine):
    escalation["receiver"].answers.extend([503])
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=10))
    fire_due_notices()
    notice = incident.notices.get()
    assert (notice.status, notice.fallback_used) == (NoticeStatus.SENT, True)
    assert "HTTP 503" in notice.last_error
    summaries = list(incident.events.filter(kind=EventKind.NOTICE).values_list("summary", flat=True))
    assert len(summaries) == 2
    assert "via page: failed" in summaries[0] and "HTTP 503" in summaries[0]
    assert "via email (fallback): sent" in summaries[1]
    deliver_due()
    assert [message.to for message in mail.outbox] == [["payments@example.com"]]
    assert "at 50 %" in mail.outbox[0].subject


def test_a_receiver_that_refuses_connections_falls_back_too(escalation, time_machine):
    escalation["receiver"].stop()
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=10))
    fire_due_notices()
    notice = incident.notices.get()
    assert (notice.status, notice.fallback_used) == (NoticeStatus.SENT, True)


def test_after_an_outage_missed_notices_go_out_once_marked_late(escalation, time_machine):
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=25))  # the worker was down through 50 %, 80 % and the breach
    handled = fire_due_notices()
    assert fire_due_notices() == []
    notices = {(notice.threshold, notice.team.slug): notice for notice in handled}
    assert notices["50", "payments"].late_by == timedelta(minutes=15)
    assert notices["80", "platform"].late_by == timedelta(minutes=9)
    assert notices["breach", "platform"].late_by == timedelta(minutes=5)
    assert Notice.objects.filter(incident=incident, late_by__isnull=False).count() == len(handled) == 5
    sent = incident.events.filter(kind=EventKind.NOTICE, summary__contains="Acknowledge at 50 %")
    assert [event.summary.endswith("(late by 15 min)") for event in sent] == [True]


def test_escalate_due_sends_now_and_says_what_it_did(escalation, time_machine):
    incident = open_incident(escalation)
    out = StringIO()
    call_command("escalate_due", stdout=out)
    assert out.getvalue() == "No notices due.\n"
    time_machine.shift(timedelta(minutes=13))
    out = StringIO()
    call_command("escalate_due", stdout=out)
    assert out.getvalue().splitlines() == [
        f"{incident.reference} Acknowledge 50 % of the target → Payments (level 1) via page: sent, late by 3 min",
        "Sent 1 notices (1 late, 0 by fallback); 0 failed.",
    ]


def test_notices_are_in_the_api_and_on_the_incident_page(escalation, time_machine):
    incident = open_incident(escalation)
    time_machine.shift(timedelta(minutes=10))
    fire_due_notices()
    client = Client()
    client.force_login(escalation["member"])
    data = client.get(f"/api/v1/incidents/{incident.reference}/").json()
    assert data["notices"] == [
        {
            "clock": "acknowledge", "threshold": "50", "level": 1, "team": "payments", "channel": "page",
            "fallback_channel": "email", "status": "sent", "fallback_used": False,
            "due_at": data["notices"][0]["due_at"], "sent_at": data["notices"][0]["sent_at"], "late_by_seconds": None,
        }
    ]  # fmt: skip
    page = client.get(incident.get_absolute_url()).content.decode()
    assert f'id="notice-{incident.notices.get().pk}"' in page and "50 % of the target" in page
