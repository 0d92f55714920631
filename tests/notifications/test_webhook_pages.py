from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from notifications import actions
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.outbox import notify
from notifications.permissions import may_manage_global_webhooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(make_team):
    return {
        "payments": make_team("Payments"),
        "checkout": make_team("Checkout"),
        "committee": make_team("SLA Committee", is_sla_committee=True),
    }


@pytest.fixture
def hooks(teams, subscribe):
    return {
        "payments": subscribe("https://hooks.example.com/payments", team=teams["payments"]),
        "checkout": subscribe("https://hooks.example.com/checkout", team=teams["checkout"]),
        "global": subscribe("https://hooks.example.com/global"),
    }


def client_for(client, user):
    client.force_login(user)
    return client


def detail(hook):
    return reverse("notifications:webhook_detail", kwargs={"pk": hook.pk})


def test_anonymous_visitors_are_sent_to_log_in(client, hooks):
    for path in (reverse("notifications:webhook_list"), detail(hooks["payments"])):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_a_non_approver_may_not_see_or_touch_webhooks(client, make_user, teams, hooks):
    client = client_for(client, make_user("member", teams=[teams["payments"]]))
    assert client.get(reverse("notifications:webhook_list")).status_code == 403
    assert client.get(reverse("notifications:webhook_create")).status_code == 403
    assert client.get(detail(hooks["payments"])).status_code == 404
    assert client.post(reverse("notifications:webhook_test", kwargs={"pk": hooks["payments"].pk})).status_code == 404
    assert (
        client.post(reverse("notifications:webhook_deactivate", kwargs={"pk": hooks["payments"].pk})).status_code == 404
    )
    assert WebhookSubscription.objects.filter(active=True).count() == 3
    assert not WebhookDelivery.objects.exists()


def test_an_approver_sees_and_manages_only_their_teams_webhooks(client, make_user, teams, hooks):
    client = client_for(client, make_user("payments.approver", approver_for=[teams["payments"]]))
    page = client.get(reverse("notifications:webhook_list")).content.decode()
    assert "https://hooks.example.com/payments" in page
    assert "https://hooks.example.com/checkout" not in page
    assert "https://hooks.example.com/global" not in page
    assert client.get(detail(hooks["payments"])).status_code == 200
    assert client.get(detail(hooks["checkout"])).status_code == 404
    assert client.get(detail(hooks["global"])).status_code == 404

    response = client.post(reverse("notifications:webhook_test", kwargs={"pk": hooks["payments"].pk}), follow=True)
    assert "A test event is queued" in response.content.decode()
    assert hooks["payments"].deliveries.get().event == "webhook.test"

    client.post(reverse("notifications:webhook_deactivate", kwargs={"pk": hooks["payments"].pk}))
    hooks["payments"].refresh_from_db()
    assert not hooks["payments"].active
    assert "Inactive" in client.get(reverse("notifications:webhook_list")).content.decode()


def test_committee_members_manage_global_webhooks(client, make_user, teams, hooks):
    client = client_for(client, make_user("committee.member", teams=[teams["committee"]]))
    page = client.get(reverse("notifications:webhook_list")).content.decode()
    assert "https://hooks.example.com/global" in page
    assert "https://hooks.example.com/payments" not in page
    assert client.get(detail(hooks["global"])).status_code == 200


def test_staff_may_make_a_global_webhook_and_a_team_approver_may_not(client, make_user, teams):
    staff = make_user("portal.staff", is_staff=True)
    form = client_for(client, staff).get(reverse("notifications:webhook_create")).content.decode()
    assert "Global: every team" in form
    approver = make_user("checkout.approver", approver_for=[teams["checkout"]])
    form = client_for(client, approver).get(reverse("notifications:webhook_create")).content.decode()
    assert "Global: every team" not in form


def test_global_webhooks_are_made_by_staff_superusers_and_the_committee_only(make_user, teams):
    committee = teams["committee"]
    allowed = {
        "staff": make_user("portal.staff", is_staff=True),
        "superuser": make_user("portal.root", is_superuser=True),
        "committee member": make_user("committee.member", teams=[committee]),
        "committee approver": make_user("committee.approver", approver_for=[committee]),
    }
    refused = {
        "team approver": make_user("payments.approver", approver_for=[teams["payments"]]),
        "team member": make_user("payments.member", teams=[teams["payments"]]),
        "anonymous": AnonymousUser(),
    }
    for role, user in allowed.items():
        assert may_manage_global_webhooks(user), role
        url = f"https://hooks.example.com/{role.replace(' ', '-')}"
        hook = actions.create_subscription(None, url=url, acting_user=user)
        assert hook.is_global, role
    for role, user in refused.items():
        assert not may_manage_global_webhooks(user), role
        if user.is_authenticated:
            with pytest.raises(PermissionDenied):
                actions.create_subscription(None, url="https://hooks.example.com/refused", acting_user=user)
    assert WebhookSubscription.objects.filter(team__isnull=True).count() == len(allowed)


def test_creating_a_webhook_shows_its_secret_once(client, make_user, teams):
    client = client_for(client, make_user("payments.approver", approver_for=[teams["payments"]]))
    form = client.get(reverse("notifications:webhook_create")).content.decode()
    assert "Global: every team" not in form  # a team approver cannot make a global webhook
    assert 'value="review.published"' in form

    response = client.post(
        reverse("notifications:webhook_create"),
        {
            "url": "https://hooks.example.com/new",
            "events": ["review.published", "review.due"],
            "team": teams["payments"].pk,
        },
    )
    assert response.status_code == 200
    hook = WebhookSubscription.objects.get(url="https://hooks.example.com/new")
    assert (hook.team, hook.events) == (teams["payments"], ["review.published", "review.due"])
    assert hook.secret in response.content.decode()
    assert hook.secret not in client.get(detail(hook)).content.decode()
    assert hook.secret not in client.get(reverse("notifications:webhook_list")).content.decode()


def test_an_approver_cannot_create_for_another_team_or_globally(client, make_user, teams):
    client = client_for(client, make_user("payments.approver", approver_for=[teams["payments"]]))
    for team in (teams["checkout"].pk, ""):
        response = client.post(
            reverse("notifications:webhook_create"), {"url": "https://hooks.example.com/x", "team": team}
        )
        assert response.status_code == 200
        assert "Please correct the problems below" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_retry_now_makes_a_waiting_delivery_due(client, make_user, teams, hooks):
    notify("review.due", subject="Due", body="", teams=[teams["payments"]])
    delivery = hooks["payments"].deliveries.get()
    later = timezone.now() + timedelta(minutes=30)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=3, next_attempt_at=later, last_error="HTTP 500")
    client = client_for(client, make_user("payments.approver", approver_for=[teams["payments"]]))
    page = client.get(detail(hooks["payments"])).content.decode()
    assert "Retry now" in page and "HTTP 500" in page
    client.post(
        reverse("notifications:delivery_retry", kwargs={"pk": hooks["payments"].pk, "delivery_pk": delivery.pk})
    )
    delivery.refresh_from_db()
    assert delivery.next_attempt_at <= timezone.now()


@pytest.mark.parametrize("rows", [1, 30])
def test_subscription_page_query_count_does_not_grow_with_deliveries(
    client, make_user, teams, hooks, django_assert_num_queries, rows
):
    for number in range(rows):
        notify("review.due", subject=f"Due {number}", body="", teams=[teams["payments"]])
    WebhookDelivery.objects.filter(pk=hooks["payments"].deliveries.first().pk).update(
        state="delivered", delivered_at=timezone.now(), last_status_code=200
    )
    client = client_for(client, make_user("payments.approver", approver_for=[teams["payments"]]))
    with django_assert_num_queries(7):
        response = client.get(detail(hooks["payments"]))
    assert response.status_code == 200
    assert response.content.decode().count("<code>review.due</code>") == min(rows, 25)


@pytest.mark.parametrize("rows", [1, 30])
def test_list_page_query_count_does_not_grow(client, admin_actor, subscribe, django_assert_num_queries, rows):
    for number in range(rows):
        subscribe(f"https://hooks.example.com/{number}")
    client = client_for(client, admin_actor)
    with django_assert_num_queries(5):
        assert client.get(reverse("notifications:webhook_list")).status_code == 200
