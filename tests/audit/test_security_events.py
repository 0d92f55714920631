"""Security events in the audit log: who was given or lost a permission or a team, who may read a restricted
review, and failed (and locked-out) log-ins. Each is written in the transaction of what it records."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from sla_registry import actions
from sla_registry.actions import APPROVE_FOR_TEAM

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "Tr0ub4dor&3-wrong"


class Refused(Exception):
    pass


def events(*prefixes):
    rows = AuditEvent.objects.order_by("id")
    return [event for event in rows if not prefixes or event.action.startswith(prefixes)]


def verify_audit():
    out = StringIO()
    call_command("verify_audit", stdout=out, stderr=StringIO())
    return out.getvalue()


def may_approve(user, team):
    # A fresh user object: the permission backends cache what they read.
    return get_user_model().objects.get(pk=user.pk).has_perm(APPROVE_FOR_TEAM, team)


# Team membership and approve_for_team ---------------------------------------------


def test_adding_an_approver_records_the_membership_and_the_grant(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    alice = make_user("alice")

    actions.add_team_member(payments, alice, acting_user=admin_actor, approver=True)

    added, granted = events("team.", "permission.")
    assert (added.action, granted.action) == ("team.member_added", "permission.granted")
    for event in (added, granted):
        assert event.actor == admin_actor
        assert (event.object_type, event.object_id) == ("sla_registry.team", str(payments.pk))
        assert event.payload["user"] == "alice"
        assert event.payload["team"] == "payments"
    assert granted.payload["permission"] == APPROVE_FOR_TEAM
    assert "permission" not in added.payload
    assert may_approve(alice, payments)


def test_a_plain_member_gets_no_grant_and_nothing_already_held_is_recorded_again(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    bob = make_user("bob")
    actions.add_team_member(payments, bob, acting_user=admin_actor)
    assert [event.action for event in events("team.", "permission.")] == ["team.member_added"]

    actions.add_team_member(payments, bob, acting_user=admin_actor)
    actions.add_team_member(payments, bob, acting_user=admin_actor, approver=True)
    actions.add_team_member(payments, bob, acting_user=admin_actor, approver=True)
    assert [event.action for event in events("team.", "permission.")] == ["team.member_added", "permission.granted"]


def test_removing_a_member_records_the_removal_and_the_revocation(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    carol = make_user("carol", approver_for=[payments])
    before = AuditEvent.objects.count()

    actions.remove_team_member(payments, carol, acting_user=admin_actor)

    removed, revoked = AuditEvent.objects.filter(id__gt=AuditEvent.objects.order_by("id")[before - 1].pk)
    assert (removed.action, revoked.action) == ("team.member_removed", "permission.revoked")
    assert revoked.payload == {
        "user": "carol",
        "user_id": carol.pk,
        "team": "payments",
        "permission": APPROVE_FOR_TEAM,
    }
    assert {removed.actor, revoked.actor} == {admin_actor}
    assert not may_approve(carol, payments)
    assert not carol.groups.filter(pk=payments.group_id).exists()

    # Removing someone who is no longer there changes nothing and records nothing.
    actions.remove_team_member(payments, carol, acting_user=admin_actor)
    assert AuditEvent.objects.count() == before + 2


def test_a_rolled_back_grant_leaves_no_event(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    dave = make_user("dave")
    before = AuditEvent.objects.count()

    with pytest.raises(Refused), transaction.atomic():
        actions.add_team_member(payments, dave, acting_user=admin_actor, approver=True)
        assert [event.action for event in events("team.", "permission.")] == ["team.member_added", "permission.granted"]
        raise Refused

    assert AuditEvent.objects.count() == before
    assert not may_approve(dave, payments)
    assert not dave.groups.filter(pk=payments.group_id).exists()
    assert "intact" in verify_audit()


def test_a_grant_whose_event_cannot_be_written_does_not_happen(make_team, make_user, admin_actor, monkeypatch):
    """The other half of "same transaction": no grant without its event."""
    payments = make_team("Payments")
    erin = make_user("erin", teams=[payments])

    def refuse(action, *args, **kwargs):
        if action == "permission.granted":
            raise Refused
        raise AssertionError(f"unexpected {action}")

    monkeypatch.setattr(actions, "record_event", refuse)
    with pytest.raises(Refused):
        actions.add_team_member(payments, erin, acting_user=admin_actor, approver=True)
    assert not may_approve(erin, payments)


def test_a_revocation_whose_event_cannot_be_written_does_not_happen(make_team, make_user, admin_actor, monkeypatch):
    payments = make_team("Payments")
    frank = make_user("frank", approver_for=[payments])

    def refuse(*args, **kwargs):
        raise Refused

    monkeypatch.setattr(actions, "record_event", refuse)
    with pytest.raises(Refused):
        actions.remove_team_member(payments, frank, acting_user=admin_actor)
    assert may_approve(frank, payments)
    assert frank.groups.filter(pk=payments.group_id).exists()


# Who may read a restricted review ---------------------------------------------------


@pytest.fixture
def security_review(make_team, make_user, make_service, make_review):
    security = make_team("Security")
    make_team("SLA Committee", is_sla_committee=True)
    payments = make_team("Payments")
    author = make_user("security.writer", teams=[security])
    review = make_review(
        [make_service("Payments Gateway", owner_team=payments)],
        title="Leaked signing key",
        is_restricted=True,
        restricted_to=[security],
        acting_user=author,
    )
    return review, author, security, payments


def access_events(review):
    return list(
        AuditEvent.objects.filter(
            action="review.access_granted", object_type="reviews.postincidentreview", object_id=str(review.pk)
        ).order_by("id")
    )


def resave(review, *, restricted_to, author, is_restricted=True):
    from reviews.actions import save_review

    review.is_restricted = is_restricted
    return save_review(
        review,
        services=list(review.services.all()),
        restricted_to=restricted_to,
        acting_user=author,
        reason="test edit",
    )


def test_restricting_a_review_records_who_may_read_it(security_review):
    review, author, _, _ = security_review
    (event,) = access_events(review)
    assert event.actor == author
    assert event.payload == {"restricted": True, "teams": ["security", "sla-committee"], "previous_teams": []}


def test_saving_a_review_with_the_same_readers_records_nothing(security_review):
    review, author, security, _ = security_review
    resave(review, restricted_to=[security], author=author)
    resave(review, restricted_to=[security], author=author)
    assert len(access_events(review)) == 1


def test_changing_or_lifting_the_restriction_is_recorded(security_review):
    review, author, security, payments = security_review
    resave(review, restricted_to=[security, payments], author=author)
    resave(review, restricted_to=[], author=author, is_restricted=False)
    _, widened, lifted = access_events(review)
    assert widened.payload == {
        "restricted": True,
        "teams": ["payments", "security", "sla-committee"],
        "previous_teams": ["security", "sla-committee"],
    }
    assert lifted.payload == {
        "restricted": False,
        "teams": [],
        "previous_teams": ["payments", "security", "sla-committee"],
    }
    assert lifted.actor == author


def test_an_unrestricted_review_records_no_access_event(make_review, make_service):
    review = make_review([make_service()])
    assert access_events(review) == []


def test_a_rolled_back_review_write_leaves_no_access_event(security_review):
    review, author, security, payments = security_review
    with pytest.raises(Refused), transaction.atomic():
        resave(review, restricted_to=[security, payments], author=author)
        assert len(access_events(review)) == 2
        raise Refused
    assert len(access_events(review)) == 1


# Failed log-ins -----------------------------------------------------------------------


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_failed_login_through_the_login_page_is_recorded_without_the_password(make_user):
    alice = make_user("alice")
    client = Client(REMOTE_ADDR="198.51.100.7")

    assert log_in(client, "alice", WRONG_PASSWORD).status_code == 200

    (event,) = events("auth.")
    assert event.action == "auth.login_failed"
    assert event.actor is None
    assert (event.object_type, event.object_id, event.object_repr) == ("auth.user", str(alice.pk), "alice")
    assert event.payload == {"username": "alice", "ip_address": "198.51.100.7", "locked_out": False}
    assert WRONG_PASSWORD not in event.canonical_content()
    assert "intact" in verify_audit()


def test_a_failed_login_for_an_unknown_username_is_recorded_too(db):
    client = Client(REMOTE_ADDR="198.51.100.8")
    log_in(client, "mallory", WRONG_PASSWORD)
    (event,) = events("auth.")
    assert (event.action, event.object_type, event.object_id, event.object_repr) == (
        "auth.login_failed",
        "auth.user",
        "",
        "mallory",
    )
    assert event.payload == {"username": "mallory", "ip_address": "198.51.100.8", "locked_out": False}
    assert WRONG_PASSWORD not in event.canonical_content()


def test_a_successful_login_records_no_failure(make_user):
    make_user("alice")
    assert log_in(Client(), "alice", "demo-password-1").status_code == 302
    assert events("auth.") == []


def test_the_lockout_is_recorded_and_so_is_every_failure_while_locked(make_user):
    make_user("alice")
    client = Client(REMOTE_ADDR="203.0.113.9")
    responses = [log_in(client, "alice", WRONG_PASSWORD) for _ in range(6)]
    assert [response.status_code for response in responses] == [200] * 4 + [429] * 2

    recorded = [(event.action, event.payload.get("locked_out")) for event in events("auth.")]
    assert recorded == [
        *[("auth.login_failed", False)] * 4,
        # The fifth failure locks alice out from this address; the sixth is refused while locked.
        ("auth.locked_out", None),
        ("auth.login_failed", True),
        ("auth.locked_out", None),
        ("auth.login_failed", True),
    ]
    lockout = events("auth.locked_out")[0]
    assert lockout.payload == {"username": "alice", "ip_address": "203.0.113.9"}
    assert all(WRONG_PASSWORD not in event.canonical_content() for event in events())
    assert "intact" in verify_audit()


@pytest.mark.django_db(transaction=True)
def test_a_failed_login_outside_any_transaction_is_committed_on_its_own(make_user):
    """The login view runs in autocommit; the receiver opens the transaction record_event needs."""
    make_user("alice")
    log_in(Client(), "alice", WRONG_PASSWORD)
    assert [event.action for event in events("auth.")] == ["auth.login_failed"]
    assert "intact" in verify_audit()


# On the audit page --------------------------------------------------------------------


def test_the_audit_page_filters_the_new_events_by_action(client, make_team, make_user, admin_actor):
    committee = make_team("SLA Committee", is_sla_committee=True)
    payments = make_team("Payments")
    reader = make_user("committee.reader", teams=[committee])
    alice = make_user("alice")
    actions.add_team_member(payments, alice, acting_user=admin_actor, approver=True)
    actions.remove_team_member(payments, alice, acting_user=admin_actor)
    log_in(Client(), "alice", WRONG_PASSWORD)

    client.force_login(reader)
    url = reverse("audit:event_list")

    def shown(action):
        return [event.action for event in client.get(url, {"action": action}).context["page_obj"]]

    assert shown("permission.") == ["permission.revoked", "permission.granted"]
    # alice removed from Payments, alice added to it, the reader added to the committee: newest first.
    assert shown("team.member_") == ["team.member_removed", "team.member_added", "team.member_added"]
    assert shown("auth.login_failed") == ["auth.login_failed"]
    page = client.get(url, {"action": "auth."}).content.decode()
    assert "alice" in page and WRONG_PASSWORD not in page


def test_the_emergency_grant_is_the_one_way_around_the_policy_and_it_is_loud(make_team, make_user, client):
    from django.core.management import CommandError, call_command

    from approvals.models import EmergencyGrant

    committee = make_team("SLA Committee", is_sla_committee=True)
    chair = make_user("chair", teams=[committee])
    person = make_user("payments.lead")
    with pytest.raises(CommandError, match="needs a reason"):
        call_command("emergency_grant", team=committee.slug, user="payments.lead", reason="  ")
    assert not person.has_perm(APPROVE_FOR_TEAM, committee)

    out = StringIO()
    call_command("emergency_grant", team=committee.slug, user="payments.lead", reason="Committee offline", stdout=out)
    assert "EMERGENCY GRANT" in out.getvalue()
    person = get_user_model().objects.get(pk=person.pk)
    assert person.has_perm(APPROVE_FOR_TEAM, committee)
    (event,) = events("emergency.")
    assert (event.payload["user"], event.payload["reason"]) == ("payments.lead", "Committee offline")

    client.force_login(person)
    assert "Emergency access in force" in client.get(reverse("home")).content.decode()
    grant = EmergencyGrant.objects.get()
    acknowledge = reverse("approvals:acknowledge_emergency_grant", args=[grant.pk])
    assert client.post(acknowledge).status_code == 403  # the person granted cannot silence it
    client.force_login(chair)
    assert client.post(acknowledge).status_code == 302
    assert "Emergency access in force" not in client.get(reverse("home")).content.decode()
    assert [event.action for event in events("emergency.")] == ["emergency.granted", "emergency.acknowledged"]


# Access changed in Django's user admin ----------------------------------------------


def recorded_since(count):
    """(action, object type, actor id, payload) of the events after the first `count`."""
    return [
        (event.action, event.object_type, event.actor_id, event.payload)
        for event in AuditEvent.objects.order_by("id")[count:]
    ]


def _staff_client(admin_actor):
    admin_actor.is_staff = True
    admin_actor.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(admin_actor)
    return client


def _save_user_in_admin(client, person, *, groups=(), permissions=(), is_staff=False, last_name=""):
    """POST the admin's change form of `person` as a person ticking boxes there would."""
    data = {
        "username": person.username,
        "first_name": person.first_name,
        "last_name": last_name,
        "email": person.email,
        "is_active": "on",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
        "groups": [group.pk for group in groups],
        "user_permissions": [permission.pk for permission in permissions],
    }
    if is_staff:
        data["is_staff"] = "on"
    response = client.post(reverse("admin:auth_user_change", args=[person.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return get_user_model().objects.get(pk=person.pk)


def test_joining_a_team_a_group_a_permission_and_staff_in_the_user_admin_are_audited(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    auditors = Group.objects.create(name="Auditors")
    export_permission = Permission.objects.get(codename="view_auditevent")
    person = make_user("frank")
    client = _staff_client(admin_actor)
    before = AuditEvent.objects.count()

    person = _save_user_in_admin(
        client, person, groups=[payments.group, auditors], permissions=[export_permission], is_staff=True
    )

    assert set(person.groups.all()) == {payments.group, auditors}
    assert recorded_since(before) == [
        (
            "group.member_added",
            "auth.group",
            admin_actor.pk,
            {"user": "frank", "user_id": person.pk, "group": "Auditors"},
        ),
        (
            "team.member_added",
            "sla_registry.team",
            admin_actor.pk,
            {"user": "frank", "user_id": person.pk, "team": "payments"},
        ),
        (
            "permission.granted",
            "auth.user",
            admin_actor.pk,
            {"user": "frank", "user_id": person.pk, "permission": "audit.view_auditevent"},
        ),
        (
            "user.access_changed",
            "auth.user",
            admin_actor.pk,
            {"user": "frank", "user_id": person.pk, "field": "is_staff", "from": False, "to": True},
        ),
    ]
    assert "intact" in verify_audit()


def test_leaving_a_team_in_the_user_admin_is_audited_and_ends_approving_for_it(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    person = make_user("grace", approver_for=[payments])
    client = _staff_client(admin_actor)
    before = AuditEvent.objects.count()

    person = _save_user_in_admin(client, person, groups=[])

    assert not person.groups.filter(pk=payments.group_id).exists()
    assert not may_approve(person, payments)
    assert [event.action for event in AuditEvent.objects.order_by("id")[before:]] == [
        "team.member_removed",
        "permission.revoked",
    ]


def test_an_edit_in_the_user_admin_that_changes_no_access_records_nothing(make_team, make_user, admin_actor):
    payments = make_team("Payments")
    person = make_user("heidi", teams=[payments])
    client = _staff_client(admin_actor)
    before = AuditEvent.objects.count()

    person = _save_user_in_admin(client, person, groups=[payments.group], last_name="Renamed")

    assert person.last_name == "Renamed"
    assert AuditEvent.objects.count() == before


def test_permissions_granted_and_revoked_in_the_group_admin_are_audited(admin_actor):
    auditors = Group.objects.create(name="Auditors")
    view_events = Permission.objects.get(codename="view_auditevent")
    view_teams = Permission.objects.get(codename="view_team")
    client = _staff_client(admin_actor)
    url = reverse("admin:auth_group_change", args=[auditors.pk])
    before = AuditEvent.objects.count()

    assert client.post(url, {"name": "Auditors", "permissions": [view_events.pk, view_teams.pk]}).status_code == 302
    assert client.post(url, {"name": "Auditors", "permissions": [view_teams.pk]}).status_code == 302

    assert recorded_since(before) == [
        (
            "permission.granted",
            "auth.group",
            admin_actor.pk,
            {"group": "Auditors", "permission": "audit.view_auditevent"},
        ),
        (
            "permission.granted",
            "auth.group",
            admin_actor.pk,
            {"group": "Auditors", "permission": "sla_registry.view_team"},
        ),
        (
            "permission.revoked",
            "auth.group",
            admin_actor.pk,
            {"group": "Auditors", "permission": "audit.view_auditevent"},
        ),
    ]
    assert "intact" in verify_audit()
