"""Login throttling (django-axes): five wrong passwords lock a username out from that address for 15 minutes."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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


def test_a_lockout_leaves_other_users_and_other_addresses_alone(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    fail(Client(), alice.username, 5)

    colleague = Client()
    assert log_in(colleague, bob.username, PASSWORD).status_code == 302
    assert is_logged_in(colleague)

    # The lock is on the username *and* the address: alice at her own desk is not held hostage.
    elsewhere = Client(REMOTE_ADDR="10.20.30.40")
    assert log_in(elsewhere, alice.username, PASSWORD).status_code == 302
    assert is_logged_in(elsewhere)


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
