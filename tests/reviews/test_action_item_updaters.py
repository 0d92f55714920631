"""Who closes an action item: the attack on the demo, replayed.

`payments.engineer` posted to /action-items/9/done/ and closed Platform's action item, silencing its
reminders. Now an action item is closed (or otherwise updated) only by its owner team's members, the
review's authors, the SLA committee and superusers: one rule, reviews.permissions.may_update_action_item,
checked first by the page (403, whatever the form or the item's state) and again by the action. The API
lists action items and changes none: every write verb there is refused.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import NotAllowed
from reviews import actions
from reviews.choices import ActionStatus
from reviews.models import ActionItem
from reviews.permissions import may_update_action_item, with_may_update
from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_team, make_service, make_user, make_review):
    """A review of a Platform incident, written by an SRE, with an action item Platform owns."""
    platform, payments, sre = make_team("Platform"), make_team("Payments"), make_team("SRE")
    committee = make_team("SLA Committee", is_sla_committee=True)
    leadership = make_team("Leadership", kind=TeamKind.LEADERSHIP)
    people = {
        "platform.engineer": make_user("platform.engineer", teams=[platform]),
        "platform.approver": make_user("platform.approver", approver_for=[platform]),
        "sre.author": make_user("sre.author", teams=[sre]),
        "sre.colleague": make_user("sre.colleague", teams=[sre]),
        "payments.engineer": make_user("payments.engineer", teams=[payments]),
        "payments.approver": make_user("payments.approver", approver_for=[payments]),
        "committee.member": make_user("committee.member", teams=[committee]),
        "committee.approver": make_user("committee.approver", approver_for=[committee]),
        "leadership.member": make_user("leadership.member", teams=[leadership]),
        "nobody": make_user("nobody"),
        "root": get_user_model().objects.create_superuser("root", "root@example.com", "unused-password-1"),
    }
    review = make_review(
        [make_service("Platform Gateway", owner_team=platform)],
        acting_user=people["sre.author"],
        action_items=[ActionItem(title="Add a canary stage", owner_team=platform)],
    )
    return review.action_items.get(), people


MAY_UPDATE = {"platform.engineer", "platform.approver", "sre.author", "committee.member", "committee.approver", "root"}


def done_url(item):
    return reverse("reviews:action_item_done", args=[item.pk])


def untouched(item):
    item.refresh_from_db()
    return (item.status, item.completion_note, item.completed_at) == (ActionStatus.OPEN, "", None)


# The rule, in one function ---------------------------------------------------------------


def test_the_owner_team_the_authors_the_committee_and_superusers_may_update(world):
    item, people = world
    assert {name for name, user in people.items() if may_update_action_item(user, item)} == MAY_UPDATE
    listed = {
        name: with_may_update(ActionItem.objects.filter(pk=item.pk), user).get().may_update
        for name, user in people.items()
    }
    assert {name for name, may in listed.items() if may} == MAY_UPDATE


# The page ---------------------------------------------------------------------------------


def test_the_attack_another_teams_engineer_cannot_close_the_item(client, world):
    item, people = world
    client.force_login(people["payments.engineer"])
    for form in (
        {"note": "Nothing to do"},
        {"note": "Nothing to do", "next": "/reviews/"},
        {"note": ""},  # an invalid form: still 403, not a redirect with a message
        {},
    ):
        answer = client.post(done_url(item), form)
        assert answer.status_code == 403, form
        assert untouched(item)
    assert item.history.count() == 1  # the review's set-up wrote it; nothing since


def test_another_team_is_refused_even_for_an_item_already_done(client, world):
    """An outsider learns nothing about the item's state from the answer: 403 before 'already done'."""
    item, people = world
    actions.complete_action_item(item, note="Canary in place", acting_user=people["platform.engineer"])
    client.force_login(people["payments.engineer"])
    assert client.post(done_url(item), {"note": "again"}).status_code == 403
    item.refresh_from_db()
    assert (item.status, item.completion_note) == (ActionStatus.DONE, "Canary in place")


def test_every_role_through_the_page(client, world):
    """Who may update closes the item (a redirect, the item done); everyone else 403 and nothing written;
    anonymous is sent to log in. Each in a savepoint rolled back."""
    item, people = world
    answers = {}
    for name in [None, *people]:
        with transaction.atomic():
            client.logout()
            if name is not None:
                client.force_login(people[name])
            answer = client.post(done_url(item), {"note": f"Done by {name}"})
            item.refresh_from_db()
            answers[name] = (answer.status_code, item.status)
            transaction.set_rollback(True)
    expected = {None: (302, ActionStatus.OPEN)}
    for name in people:
        expected[name] = (302, ActionStatus.DONE) if name in MAY_UPDATE else (403, ActionStatus.OPEN)
    assert answers == expected
    assert untouched(item)
    client.logout()
    assert client.post(done_url(item), {"note": "x"})["Location"].startswith(reverse("login"))


def test_the_list_offers_the_form_only_to_who_may_update(client, world):
    item, people = world
    form = f'action="{done_url(item)}"'
    client.force_login(people["payments.engineer"])
    page = client.get(reverse("reviews:action_item_list")).content.decode()
    assert form not in page and "Platform closes it" in page
    client.force_login(people["sre.author"])
    assert form in client.get(reverse("reviews:action_item_list")).content.decode()


def test_the_owner_team_closes_it_and_the_write_names_them(client, world):
    item, people = world
    client.force_login(people["platform.engineer"])
    answer = client.post(done_url(item), {"note": "Canary stage added to the gateway pipeline"})
    assert answer.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.completion_note) == (ActionStatus.DONE, "Canary stage added to the gateway pipeline")
    assert item.history.first().history_user == people["platform.engineer"]


# The action, whoever calls it --------------------------------------------------------------


def test_the_action_refuses_an_outsider_too(world):
    item, people = world
    with pytest.raises(NotAllowed, match="Only Platform, the authors of the review and the SLA committee"):
        actions.complete_action_item(item, note="Nothing to do", acting_user=people["payments.engineer"])
    assert untouched(item)


# The API ------------------------------------------------------------------------------------


def test_the_api_changes_no_action_item(world):
    """The API reads action items; no verb writes one, whoever asks (405), and nothing changes."""
    item, people = world
    for name in ("payments.engineer", "platform.engineer", "root"):
        api = APIClient()
        api.force_authenticate(people[name])
        detail = f"/api/v1/action-items/{item.pk}/"
        assert api.get(detail).json()["status"] == ActionStatus.OPEN
        for method in ("put", "patch", "delete"):
            assert getattr(api, method)(detail, {"status": "done"}, format="json").status_code == 405
        assert api.post("/api/v1/action-items/", {"status": "done"}, format="json").status_code == 405
        assert api.post(f"{detail}done/", {"note": "x"}, format="json").status_code == 404
    assert untouched(item)
