"""Every outbound message about a restricted review obeys the same rule as its pages.

One review restricted to Security and Payments (which owns the affected service, so approves the review's
change requests and must be named). Its action items are owned by Security (a reader, its engineer the
assignee) and by Platform (not a reader, its engineer the assignee). The SLA committee reads it, as on the
pages; the global webhook speaks for no team and reads nothing restricted. Every kind of message about it
goes out, for real: the overdue-action-item reminders, the publication request (submitted, approved,
applied, review.published), two amendments (one applied, the other made stale by it) and a third
(rescheduled by someone else, then rejected). Emails go through the outbox into Django's mail outbox;
webhooks are POSTed by the worker to HTTP receivers on loopback, one per subscription (Security, Platform,
Payments, the committee, Checkout and a global one).

Every email and every webhook request received is checked: a reader gets the text; anyone else, the global
webhook included, gets the redacted words and the portal link, with no title or text of the review
anywhere; every webhook payload says "restricted" true or false. An unrestricted review and an SLA due for
review go out too, in full and marked `restricted: false`, so the check of what is restricted cannot pass
by everything being redacted.
"""

import copy
import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals import actions as approval_actions
from approvals.models import ChangeRequest
from insights.reminders import send_reminders
from notifications.models import Notification
from notifications.outbox import deliver_due
from notifications.webhooks import deliver_due_webhooks
from reviews import actions as review_actions
from reviews.models import ActionItem, PostIncidentReview
from tests.notifications.receivers import Receiver

pytestmark = pytest.mark.django_db

# Words that appear nowhere in the portal but in the restricted review and its change requests.
TITLE = "Quokka signing key leaked"
SECURITY_ITEM = "Rotate the narwhal HSM keys"
PLATFORM_ITEM = "Purge the tapioca tokens"
PUBLICATION = "Publish the okapi review"
PUBLICATION_WHY = "The marmalade timeline is complete."
PAYMENTS_COMMENT = "Zebrafish relay confirmed."
AMENDED_TITLE = "Quokka signing key leaked through the axolotl relay"
AMENDMENT = "Name the axolotl relay"
STALE_AMENDMENT = "Correct the pangolin detection time"
REJECTED_AMENDMENT = "Add the capybara customers"
REJECTION = "Capybara numbers are unconfirmed."
SECRET_WORDS = ("quokka", "narwhal", "tapioca", "okapi", "marmalade", "zebrafish", "axolotl", "pangolin", "capybara")

REDACTED_SUBJECT = re.compile(
    r"^(An overdue action item|Change request CR-\d+) of a restricted review needs you: open the portal$"
)
# All a payload about a restricted review may carry for a receiver whose owner may not read it.
REDACTED_FIELDS = {"event", "occurred_at", "subject", "body", "link", "teams", "restricted", "review"}
RESTRICTED_EVENTS = {
    "action_item.overdue",
    "change_request.submitted",
    "change_request.approved",
    "change_request.applied",
    "change_request.stale",
    "change_request.rescheduled",
    "change_request.rejected",
    "review.published",
}


def leaks(text):
    return [word for word in SECRET_WORDS if word in text.lower()]


@pytest.fixture
def receivers():
    running = {}
    yield running
    for receiver in running.values():
        receiver.stop()


@pytest.fixture
def world(make_team, make_user, make_service, make_sla, make_review, subscribe, receivers):
    security = make_team("Security")
    platform = make_team("Platform")
    payments = make_team("Payments")
    checkout = make_team("Checkout")
    committee = make_team("SLA Committee", is_sla_committee=True)
    service = make_service("Payments Gateway", owner_team=payments)
    now = timezone.now()
    # Due for its periodic review: a reminder about something nobody is kept from reading.
    make_sla(
        "Gateway for Checkout",
        service=service,
        provider_team=payments,
        consumer_teams=[checkout],
        last_reviewed_at=now - timedelta(days=100),
        effective_from=now - timedelta(days=400),
    )
    people = {
        "writer": make_user("security.writer", teams=[security]),
        "security.engineer": make_user("security.engineer", teams=[security]),
        "platform.engineer": make_user("platform.engineer", teams=[platform]),
        "payments.approver": make_user("payments.approver", approver_for=[payments]),
        "committee.approver": make_user("committee.approver", approver_for=[committee]),
    }
    yesterday = timezone.localdate() - timedelta(days=1)
    review = make_review(
        [service],
        title=TITLE,
        is_restricted=True,
        restricted_to=[security, payments],
        acting_user=people["writer"],
        action_items=[
            ActionItem(
                title=SECURITY_ITEM, owner_team=security, assignee=people["security.engineer"], due_date=yesterday
            ),
            ActionItem(
                title=PLATFORM_ITEM, owner_team=platform, assignee=people["platform.engineer"], due_date=yesterday
            ),
        ],
    )
    open_review = make_review(
        [service],
        title="Checkout latency after a cache flush",
        action_items=[ActionItem(title="Warm the cache on deploy", owner_team=checkout, due_date=yesterday)],
    )
    hooks = {}
    for name, team in [
        ("security", security),
        ("platform", platform),
        ("payments", payments),
        ("committee", committee),
        ("checkout", checkout),
        ("global", None),
    ]:
        receivers[name] = Receiver().start()
        hooks[name] = subscribe(receivers[name].url, team=team)
    return {
        "review": review,
        "open_review": open_review,
        "teams": {"payments": payments, "committee": committee},
        "people": people,
        "hooks": hooks,
    }


def amend(review, *, summary, acting_user, restricted_to=None, **changes):
    review = PostIncidentReview.objects.get(pk=review.pk)
    edited = copy.copy(review)
    for name, value in changes.items():
        setattr(edited, name, value)
    return review_actions.propose_amendment(
        review,
        edited=edited,
        services=list(review.services.all()),
        journeys=list(review.journeys.all()),
        restricted_to=list(review.restricted_to.all()) if restricted_to is None else restricted_to,
        timeline=[copy.copy(entry) for entry in review.timeline.all()],
        action_items=[copy.copy(item) for item in review.action_items.all()],
        summary=summary,
        rationale="Amended after the follow-up.",
        acting_user=acting_user,
    )


def send_every_kind_of_message(world):
    review, people = world["review"], world["people"]
    payments, committee = world["teams"]["payments"], world["teams"]["committee"]

    def decide(change_request, team, approver, verdict="approve", comment="OK"):
        return approval_actions.decide_change_request(
            change_request, team, verdict=verdict, comment=comment, acting_user=people[approver]
        )

    send_reminders(timezone.now())  # action_item.overdue (and review.due of the SLA)

    publication = review_actions.submit_for_publication(
        review, summary=PUBLICATION, rationale=PUBLICATION_WHY, acting_user=people["writer"]
    )
    decide(publication, payments, "payments.approver", comment=PAYMENTS_COMMENT)
    decide(publication, committee, "committee.approver")  # applied: review.published

    amendment = amend(review, summary=AMENDMENT, title=AMENDED_TITLE, acting_user=people["writer"])
    # Each amendment changes something: a proposal that changes nothing is refused ("nothing to propose").
    amend(review, summary=STALE_AMENDMENT, detection="Synthetic checks failed at 10:04.", acting_user=people["writer"])
    decide(amendment, payments, "payments.approver")
    decide(amendment, committee, "committee.approver")  # applied; the other amendment is stale

    rejected = amend(review, summary=REJECTED_AMENDMENT, customers_affected=1200, acting_user=people["writer"])
    approval_actions.reschedule_change_request(
        rejected, effective_at=timezone.now() + timedelta(days=3), acting_user=people["committee.approver"]
    )
    decide(rejected, payments, "payments.approver", verdict="reject", comment=REJECTION)

    while deliver_due() != (0, 0) or deliver_due_webhooks() != (0, 0):
        pass


def test_every_message_about_a_restricted_review_gives_its_text_only_to_readers(world, receivers):
    send_every_kind_of_message(world)
    review, open_review = world["review"], world["open_review"]
    readers = {"security@example.com", "payments@example.com", "sla-committee@example.com"}
    readers |= {"security.writer@example.com", "security.engineer@example.com"}
    outsiders = {"platform@example.com", "platform.engineer@example.com"}

    # Every kind of email reached its readers and its outsiders.
    sent = set(Notification.objects.filter(state=Notification.State.SENT).values_list("event", "recipient"))
    assert not Notification.objects.exclude(state=Notification.State.SENT).exists()
    assert sent >= {
        ("action_item.overdue", "security@example.com"),
        ("action_item.overdue", "security.engineer@example.com"),
        ("action_item.overdue", "platform@example.com"),
        ("action_item.overdue", "platform.engineer@example.com"),
        ("action_item.overdue", "checkout@example.com"),
        ("review.due", "payments@example.com"),
        ("change_request.submitted", "payments@example.com"),
        ("change_request.submitted", "sla-committee@example.com"),
        ("change_request.approved", "security.writer@example.com"),
        ("change_request.applied", "payments@example.com"),
        ("change_request.applied", "sla-committee@example.com"),
        ("change_request.applied", "security.writer@example.com"),
        ("change_request.stale", "security.writer@example.com"),
        ("change_request.rescheduled", "security.writer@example.com"),
        ("change_request.rejected", "security.writer@example.com"),
    }
    assert {recipient for _event, recipient in sent} <= readers | outsiders | {"checkout@example.com"}

    restricted_refs = {review.reference, *review_change_requests(review)}
    about_restricted = re.compile(rf"\b({'|'.join(map(re.escape, sorted(restricted_refs)))})\b")
    full_texts = []
    assert len(mail.outbox) == Notification.objects.count()
    for message in mail.outbox:
        (recipient,) = message.to
        text = f"{message.subject}\n{message.body}"
        if not about_restricted.search(text):
            assert leaks(text) == [], (recipient, text)  # the SLA, the open review: in full
            continue
        if recipient in readers:
            assert not REDACTED_SUBJECT.match(message.subject), (recipient, text)
            full_texts.append(text)
        else:
            assert leaks(text) == [], (recipient, text)
            assert REDACTED_SUBJECT.match(message.subject), (recipient, message.subject)
            assert "http" in message.body and open_review.title not in text
    readers_read = "\n".join(full_texts)
    for words in (SECURITY_ITEM, PUBLICATION, AMENDED_TITLE, STALE_AMENDMENT, REJECTION):
        assert words in readers_read

    # Every webhook request received: the teams that may read get the text, the others and the global one not.
    received = {
        name: [(request, json.loads(request.body)) for request in receiver.requests]
        for name, receiver in receivers.items()
    }
    for name, requests in received.items():
        assert requests, name
        for request, payload in requests:
            raw = request.body.decode()
            assert request.headers["X-SLA-Portal-Event"] == payload["event"]
            assert payload["restricted"] in (True, False), (name, payload)
            if not payload["restricted"]:
                assert leaks(raw) == [], (name, payload)
            elif name in ("security", "payments", "committee"):
                assert not REDACTED_SUBJECT.match(payload["subject"]), (name, payload)
            else:
                assert leaks(raw) == [], (name, payload)
                assert REDACTED_SUBJECT.match(payload["subject"]), (name, payload)
                assert set(payload) <= REDACTED_FIELDS, (name, sorted(payload))
                assert payload["review"] == review.reference and payload["link"]

    def events(name, restricted):
        return {payload["event"] for _request, payload in received[name] if payload["restricted"] is restricted}

    assert events("global", True) == RESTRICTED_EVENTS
    assert events("global", False) == {"action_item.overdue", "review.due"}
    assert events("payments", True) == RESTRICTED_EVENTS - {
        "action_item.overdue",
        "change_request.stale",
        "change_request.rescheduled",
    }
    assert events("committee", True) == events("payments", True) - {"change_request.rejected"}  # Payments rejected
    assert events("security", True) == events("platform", True) == {"action_item.overdue"}
    assert events("checkout", False) == {"action_item.overdue"}
    (security_item,) = [payload for _request, payload in received["security"]]
    assert security_item["title"] == SECURITY_ITEM and TITLE in security_item["body"]
    applied = [payload for _request, payload in received["committee"] if payload["event"] == "review.published"]
    assert AMENDED_TITLE in applied[-1]["subject"]
    (open_item,) = [payload for _request, payload in received["global"] if payload.get("title")]
    assert open_item["title"] == "Warm the cache on deploy"


def review_change_requests(review):
    return [
        change_request.reference
        for change_request in ChangeRequest.objects.filter(document_kind="review", document_id=review.pk)
    ]


def test_a_proposal_to_restrict_a_review_goes_out_only_to_those_it_would_restrict_it_to(world, receivers, admin_actor):
    """An amendment restricting a public review is read as the review would be: never in full by everyone."""
    review, people = world["open_review"], world["people"]
    payments, committee = world["teams"]["payments"], world["teams"]["committee"]
    publication = review_actions.submit_for_publication(
        review, summary="Publish it", rationale="Done", acting_user=admin_actor
    )
    for team, approver in ((payments, "payments.approver"), (committee, "committee.approver")):
        approval_actions.decide_change_request(
            publication, team, verdict="approve", comment="OK", acting_user=people[approver]
        )
    amend(
        review,
        summary="Restrict the okapi review",
        title="Okapi cache poisoning",
        is_restricted=True,
        restricted_to=[payments],
        acting_user=admin_actor,
    )
    while deliver_due_webhooks() != (0, 0):
        pass

    def submitted(name):
        payloads = [json.loads(request.body) for request in receivers[name].requests]
        (payload,) = [
            payload for payload in payloads if payload["event"] == "change_request.submitted" and payload["restricted"]
        ]
        return payload

    assert "okapi" in submitted("payments")["subject"].lower()
    assert "okapi" in submitted("committee")["subject"].lower()
    redacted = submitted("global")
    assert REDACTED_SUBJECT.match(redacted["subject"]) and leaks(json.dumps(redacted)) == []
    emails = Notification.objects.filter(event="change_request.submitted", body__icontains="okapi")
    assert set(emails.values_list("recipient", flat=True)) == {"payments@example.com", "sla-committee@example.com"}
