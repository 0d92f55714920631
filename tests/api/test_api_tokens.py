"""Personal API tokens: made and revoked on the profile page, hashed, expiring, audited."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import create_api_token
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def token_client(text):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {text}")
    return client


def test_profile_page_makes_a_token_shown_once_and_stored_hashed(client, make_user):
    user = make_user("automation.owner")
    client.force_login(user)
    page = client.post("/profile/", {"name": "deploy pipeline", "days": "30"})
    assert page.status_code == 200
    text = page.context["new_token"]["text"]
    assert text.startswith("slap_") and text in page.content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.name == "deploy pipeline"
    assert text not in (token.digest, token.token_key) and text.startswith(token.token_key)
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    # Shown once: the profile page afterwards lists the token by its first characters only.
    again = client.get("/profile/").content.decode()
    assert token.token_key in again and text not in again
    assert token_client(text).get("/api/v1/teams/").status_code == 200


def test_profile_page_refuses_a_nameless_token(client, make_user):
    client.force_login(make_user())
    page = client.post("/profile/", {"name": " ", "days": "30"})
    assert page.status_code == 400
    assert "Name the token" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(make_user, time_machine):
    user = make_user()
    _, text = create_api_token(name="short-lived", days=7, acting_user=user)
    assert token_client(text).get("/api/v1/teams/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=8))
    answer = token_client(text).get("/api/v1/teams/")
    assert answer.status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_audited(client, make_user):
    user = make_user("token.revoker")
    token, text = create_api_token(name="laptop", days=30, acting_user=user)
    client.force_login(user)
    response = client.post(f"/profile/tokens/{token.token_key}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert token_client(text).get("/api/v1/teams/").status_code == 401
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert actions == ["api_token.created", "api_token.revoked"]


def test_nobody_revokes_another_persons_token(client, make_user):
    owner, other = make_user(), make_user()
    token, text = create_api_token(name="owner's", days=30, acting_user=owner)
    client.force_login(other)
    assert client.post(f"/profile/tokens/{token.token_key}/revoke/").status_code == 404
    assert token_client(text).get("/api/v1/teams/").status_code == 200


def test_create_api_token_command_prints_a_working_token(make_user, capsys):
    make_user("ci.bot")
    call_command("create_api_token", "ci.bot", "--name", "schema checks", "--days", "1")
    captured = capsys.readouterr()
    text = captured.out.strip()
    assert "schema checks" in captured.err
    assert token_client(text).get("/api/v1/teams/").status_code == 200


def test_an_expired_token_says_so_and_stays_listed_for_its_owner(client, make_user, time_machine):
    user = make_user("token.owner")
    _token, text = create_api_token(name="nightly export", days=1, acting_user=user)
    time_machine.move_to(timezone.now() + timedelta(days=2))
    answer = token_client(text).get("/api/v1/teams/")
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("Token expired on ")
    client.force_login(user)
    assert "expired" in client.get("/profile/").content.decode()  # kept, so its owner sees what happened


def test_last_use_is_recorded_at_most_once_a_minute(client, make_user, time_machine):
    user = make_user("pipeline.owner")
    token, text = create_api_token(name="deploy pipeline", days=30, acting_user=user)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    api = token_client(text)
    api.get("/api/v1/teams/", REMOTE_ADDR="192.0.2.10")
    token.refresh_from_db()
    assert (token.last_used_at, token.last_used_from) == (start, "192.0.2.10")
    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    api.get("/api/v1/teams/", REMOTE_ADDR="192.0.2.11")
    token.refresh_from_db()
    assert token.last_used_at == start  # not written again within the minute
    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    api.get("/api/v1/teams/", REMOTE_ADDR="192.0.2.11")
    token.refresh_from_db()
    assert (token.last_used_at, token.last_used_from) == (start + timedelta(seconds=61), "192.0.2.11")
    client.force_login(user)
    assert "from 192.0.2.11" in client.get("/profile/").content.decode()


def test_deactivating_a_user_revokes_their_tokens(make_user, admin_actor):
    from sla_registry.actions import record_access_flags

    user = make_user("leaver")
    _token, text = create_api_token(name="laptop", days=30, acting_user=user)
    user.is_active = False
    user.save()
    record_access_flags(user, {"is_active": (True, False)}, acting_user=admin_actor)
    assert not ApiToken.objects.filter(user=user).exists()
    assert token_client(text).get("/api/v1/teams/").status_code == 401
