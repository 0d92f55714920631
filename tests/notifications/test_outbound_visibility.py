"""Every outbound message about a restricted review obeys the same rule as its pages.

One review restricted to Security and Payments (which owns the affected service, so must be named).
Its action items are owned by Security (a reader) and by Platform (not a reader, whose engineer is
the assignee); its publication request goes to Payments and the committee. Every email and webhook
delivery that the reminders and the publication request send is checked, recipient by recipient:
a reader gets the text, anyone else gets a message that holds no title or text of the review.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.reminders import send_reminders
from notifications.models import Notification, WebhookDelivery
from reviews import actions as review_actions
from reviews.models import ActionItem

pytestmark = pytest.mark.django_db

SECRET_WORDS = ("Leaked signing key", "Rotate the HSM keys", "Purge the leaked tokens")


@pytest.fixture
def restricted_review(governed_sla, make_team, make_user, make_review, subscribe):
    security = make_team("Security", email="security@example.com")
    platform = make_team("Platform", email="platform@example.com")
    assignee = make_user("platform.engineer", teams=[platform])
    yesterday = timezone.localdate() - timedelta(days=1)
    review = make_review(
        [governed_sla.sla.service],
        title=SECRET_WORDS[0],
        is_restricted=True,
        restricted_to=[security, governed_sla.provider],
        acting_user=governed_sla.author,
        action_items=[
            ActionItem(title=SECRET_WORDS[1], owner_team=security, due_date=yesterday),
            ActionItem(title=SECRET_WORDS[2], owner_team=platform, assignee=assignee, due_date=yesterday),
        ],
    )
    hooks = {
        "security": subscribe("https://hooks.example.com/security", team=security),
        "platform": subscribe("https://hooks.example.com/platform", team=platform),
        "payments": subscribe("https://hooks.example.com/payments", team=governed_sla.provider),
        "global": subscribe("https://hooks.example.com/everything"),
    }
    return review, hooks, governed_sla


def leaks(text):
    return [words for words in SECRET_WORDS if words in text]


def test_every_message_about_a_restricted_review_gives_its_text_only_to_readers(restricted_review):
    review, hooks, governed = restricted_review
    send_reminders(timezone.now())
    review_actions.submit_for_publication(
        review, summary="Publish the key leak review", rationale="Reviewed", acting_user=governed.author
    )

    emails = {(row.event, row.recipient): row for row in Notification.objects.all()}
    assert set(emails) >= {
        ("action_item.overdue", "security@example.com"),
        ("action_item.overdue", "platform@example.com"),
        ("action_item.overdue", "platform.engineer@example.com"),
        ("change_request.submitted", governed.provider.email),
    }
    readers = {"security@example.com", governed.provider.email, governed.committee.email}
    assert emails[("change_request.submitted", governed.provider.email)].subject.endswith("Publish the key leak review")
    assert SECRET_WORDS[1] in emails[("action_item.overdue", "security@example.com")].subject
    for (event, recipient), row in emails.items():
        text = f"{row.subject}\n{row.body}"
        if recipient not in readers:
            assert leaks(text) == [], (event, recipient, text)
            assert "restricted review" in row.subject

    deliveries = list(WebhookDelivery.objects.select_related("subscription"))
    assert not [delivery for delivery in deliveries if delivery.subscription_id == hooks["global"].pk]
    by_hook = {}
    for delivery in deliveries:
        by_hook.setdefault(delivery.subscription_id, []).append(delivery.payload)
    assert by_hook[hooks["security"].pk] and by_hook[hooks["platform"].pk] and by_hook[hooks["payments"].pk]
    for payload in by_hook[hooks["security"].pk]:
        assert payload["restricted"] is True and SECRET_WORDS[1] in payload["subject"]
    assert all(payload["restricted"] is True for payload in by_hook[hooks["payments"].pk])
    for hook in ("platform",):
        for payload in by_hook[hooks[hook].pk]:
            assert payload["restricted"] is True
            assert leaks(repr(payload)) == [], (hook, payload)
            assert "title" not in payload
