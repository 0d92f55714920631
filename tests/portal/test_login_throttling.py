"""Login throttling (django-axes): five wrong passwords for a username, or from an address, lock it for 15 minutes."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.addresses import client_address

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-1"
LOCKED = "Too many failed log-ins"


def log_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def is_logged_in(client):
    return client.get(reverse("home")).status_code == 200


def fail(client, username, times, **extra):
    return [log_in(client, username, "wrong-password", **extra) for _ in range(times)]


def test_five_wrong_passwords_lock_the_username_out_even_with_the_right_one(make_user):
    alice = make_user("alice")
    client = Client()

    attempts = fail(client, alice.username, 5)
    assert [response.status_code for response in attempts[:4]] == [200] * 4
    assert "didn't match" in attempts[0].content.decode()
    assert attempts[4].status_code == 429

    response = log_in(client, alice.username, PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in page and "locked for 15 minutes" in page and "alice" in page
    assert not is_logged_in(client)


def test_a_username_lock_counts_wrong_passwords_from_every_address(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    # Five guesses from five addresses: no address is over its limit, the username is.
    for number in range(5):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{number}"), alice.username, "wrong-password")

    assert log_in(Client(REMOTE_ADDR="192.0.2.50"), alice.username, PASSWORD).status_code == 429
    colleague = Client(REMOTE_ADDR="198.51.100.0")
    assert log_in(colleague, bob.username, PASSWORD).status_code == 302
    assert is_logged_in(colleague)


def test_one_address_trying_many_usernames_is_locked_and_others_are_not(make_user):
    users = [make_user(name) for name in ("alice", "bob", "carol", "dave", "erin", "frank")]
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    # The same password tried once on each account: no username is over its limit, the address is.
    responses = [log_in(sprayer, user.username, "Winter2026!") for user in users[:5]]
    assert [response.status_code for response in responses] == [200] * 4 + [429]
    assert log_in(sprayer, users[5].username, PASSWORD).status_code == 429

    elsewhere = Client(REMOTE_ADDR="192.0.2.50")
    assert log_in(elsewhere, users[5].username, PASSWORD).status_code == 302
    assert is_logged_in(elsewhere)


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(make_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    alice = make_user("alice")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    # A new "client address" on every try, and a chain that pretends to come through the trusted proxy.
    for number in range(5):
        log_in(attacker, f"guess{number}", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 10.0.0.2")

    assert log_in(attacker, alice.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429
    failure = AuditEvent.objects.filter(action="auth.login_failed").order_by("pk").first()
    assert failure.payload["ip_address"] == "203.0.113.9"


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(make_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    alice = make_user("alice")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(5):
        log_in(Client(**proxy), f"guess{number}", "x", HTTP_X_FORWARDED_FOR="forged, 198.51.100.7")

    # The client the proxy saw (the rightmost address it did not add itself) is locked ...
    assert log_in(Client(**proxy), alice.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # ... not everyone behind the same proxy.
    colleague = Client(**proxy)
    assert log_in(colleague, alice.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302
    assert is_logged_in(colleague)
    failure = AuditEvent.objects.filter(action="auth.login_failed").order_by("pk").first()
    assert failure.payload["ip_address"] == "198.51.100.7"


def test_a_user_locked_out_by_someone_else_signs_in_through_a_reset_link(make_user, mailoutbox):
    alice = make_user("alice")
    for number in range(5):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{number}"), alice.username, "wrong-password")
    client = Client()
    locked = log_in(client, alice.username, PASSWORD)
    assert locked.status_code == 429 and reverse("password_reset") in locked.content.decode()

    sent = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert sent.status_code == 302
    (message,) = mailoutbox
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Set a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-password-7", "new_password2": "a-new-long-password-7"},
        follow=True,
    )
    assert "signed in" in done.content.decode() and "lock on your username is lifted" in done.content.decode()
    assert is_logged_in(client)

    client.post(reverse("logout"))
    assert log_in(client, alice.username, "a-new-long-password-7").status_code == 302


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ([], "198.51.100.1", "192.0.2.9", "198.51.100.1"),
        (["10.0.0.0/8"], "10.1.2.3", "192.0.2.9", "192.0.2.9"),
        (["10.0.0.0/8"], "10.1.2.3", "192.0.2.9, 10.9.9.9", "192.0.2.9"),
        (["10.0.0.0/8"], "10.1.2.3", "not-an-address, 10.9.9.9", "10.9.9.9"),
        (["10.0.0.0/8"], "::ffff:10.1.2.3", "192.0.2.9", "192.0.2.9"),
        (["10.0.0.0/8"], "10.1.2.3", "", "10.1.2.3"),
        (["2001:db8::/32"], "2001:db8::1", "2001:db8:ffff::5, 2606:4700::1111", "2606:4700::1111"),
    ],
)
def test_the_client_address_goes_back_only_through_trusted_proxies(settings, trusted, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_the_lock_lifts_after_fifteen_minutes(make_user):
    alice = make_user("alice")
    client = Client()
    fail(client, alice.username, 5)

    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=14)):
        assert log_in(client, alice.username, PASSWORD).status_code == 429
    # Trying again while locked restarts the 15 minutes: still locked a quarter of an hour after the first lock.
    with time_machine.travel(start + timedelta(minutes=16)):
        assert log_in(client, alice.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16 + 15, seconds=1)):
        assert log_in(client, alice.username, PASSWORD).status_code == 302
        assert is_logged_in(client)


def test_a_successful_log_in_resets_the_count(make_user):
    alice = make_user("alice")
    client = Client()
    fail(client, alice.username, 4)
    assert log_in(client, alice.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))

    assert all(response.status_code == 200 for response in fail(client, alice.username, 4))
    assert log_in(client, alice.username, PASSWORD).status_code == 302


def test_the_lockout_page_loads_nothing_inline(make_user):
    alice = make_user("alice")
    response = fail(Client(), alice.username, 5)[-1]
    html = response.content.decode()
    assert response.status_code == 429
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
