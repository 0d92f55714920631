"""Personal feed links: random, stored as digests, expiring, revocable one by one, rotated, ended by a password
change or deactivation, refused with a plain explanation (old signed links too), audited."""

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from releases.actions import create_feed_token, revoke_feed_token, rotate_feed_token
from releases.models import FeedToken

pytestmark = pytest.mark.django_db


def feed_url():
    return reverse("releases:feed_all")


def links_url():
    return reverse("releases:feed_links")


@pytest.fixture
def owner(make_user):
    return make_user("calendar.owner")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def read_feed(client, token):
    """The feed as a calendar program reads it: no session, the token in the address."""
    client.logout()
    return client.get(feed_url(), {"token": token})


def refusal(response):
    assert response.status_code == 403
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    return response.content.decode()


def events(target):
    return list(
        AuditEvent.objects.filter(object_type="releases.feedtoken", object_id=str(target.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_feed_link_is_random_says_nothing_of_its_user_and_is_kept_only_as_a_digest(owner):
    token, text = create_feed_token(label="Outlook", acting_user=owner)
    _other, other_text = create_feed_token(label="Phone", acting_user=owner)

    assert re.fullmatch(r"slaf_[A-Za-z0-9_-]{43}", text)
    secret = base64.urlsafe_b64decode(text.removeprefix("slaf_") + "=")
    assert len(secret) == 32, "32 random bytes, no payload"
    with pytest.raises(signing.BadSignature):
        signing.loads(text, salt="releases.feed")  # not a signed value naming anyone, as the old links were
    assert text[5:] != other_text[5:] and text[5:13] != other_text[5:13], "two links of one user share nothing"

    stored = FeedToken.objects.filter(pk=token.pk).values().get()
    assert stored["digest"] == hashlib.sha256(text.encode()).hexdigest()
    assert stored["key"] == text[5:13]
    assert not any(text in str(value) for value in stored.values()), "the token itself is stored nowhere"
    assert not any(text in str(event.payload) for event in AuditEvent.objects.all())


def test_the_feed_links_page_shows_a_new_link_once_and_lists_when_each_was_made_expires_and_was_used(
    owner_client, owner, settings, time_machine
):
    settings.FEED_TOKEN_LIFETIME_DAYS = 30
    made_at = timezone.now().replace(microsecond=0)
    time_machine.move_to(made_at, tick=False)

    page = owner_client.post(links_url(), {"label": "Outlook on my laptop"}).content.decode()
    shown = re.search(r'value="http://testserver/releases/calendar\.ics\?token=(slaf_[^"]+)"', page)
    assert shown, "the new link's address, with its token"
    assert "shown only this once" in page
    token = FeedToken.objects.get(user=owner)
    assert token.expires_at == made_at + timedelta(days=30)
    assert 'href="webcal://testserver/releases/governance.ics?token=' in page

    time_machine.move_to(made_at + timedelta(hours=2), tick=False)
    assert read_feed(owner_client, shown.group(1)).status_code == 200
    owner_client.force_login(owner)
    listing = owner_client.get(links_url()).content.decode()
    assert shown.group(1) not in listing, "never shown again"
    assert "Outlook on my laptop" in listing and f"slaf_{token.key}…" in listing
    local = timezone.localtime
    assert local(made_at).strftime("%-d %b %Y %H:%M") in listing  # made
    assert local(made_at + timedelta(days=30)).strftime("%-d %b %Y %H:%M") in listing  # expires
    assert local(made_at + timedelta(hours=2)).strftime("%-d %b %Y %H:%M") in listing  # last used
    assert "Active" in listing
    assert events(token) == ["feed_token.created"]


def test_a_nameless_link_is_refused_with_a_message(owner_client):
    page = owner_client.post(links_url(), {"label": "  "})
    assert page.status_code == 400
    assert "Name the link" in page.content.decode()
    assert not FeedToken.objects.exists()


def test_a_feed_link_expires_after_the_configured_lifetime_and_says_so(owner, client, settings, time_machine):
    settings.FEED_TOKEN_LIFETIME_DAYS = 7
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _token, text = create_feed_token(label="Outlook", acting_user=owner)
    time_machine.move_to(start + timedelta(days=7) - timedelta(minutes=1), tick=False)
    assert read_feed(client, text).status_code == 200
    time_machine.move_to(start + timedelta(days=7, minutes=1), tick=False)
    text_shown = refusal(read_feed(client, text))
    assert "no longer works: expired on" in text_shown
    assert "http://testserver/releases/feed-links/" in text_shown, "where to get a new one"


def test_revoking_one_link_ends_it_alone_and_is_audited(owner_client, owner, client):
    laptop, laptop_text = create_feed_token(label="Laptop", acting_user=owner)
    _phone, phone_text = create_feed_token(label="Phone", acting_user=owner)

    response = owner_client.post(reverse("releases:feed_link_revoke", args=[laptop.pk]), follow=True)
    assert "“Laptop” is revoked" in response.content.decode()
    assert "no longer works: revoked on" in refusal(read_feed(client, laptop_text))
    assert read_feed(client, phone_text).status_code == 200
    assert events(laptop) == ["feed_token.created", "feed_token.revoked"]
    revoked = AuditEvent.objects.get(action="feed_token.revoked")
    assert revoked.actor == owner and revoked.payload["label"] == "Laptop"


def test_rotating_a_link_gives_a_new_address_and_ends_the_old_one(owner_client, owner, client):
    old, old_text = create_feed_token(label="Outlook", acting_user=owner)
    page = owner_client.post(reverse("releases:feed_link_rotate", args=[old.pk])).content.decode()
    new_text = re.search(r'calendar\.ics\?token=(slaf_[^"]+)"', page).group(1)
    assert new_text != old_text
    new = FeedToken.objects.get(revoked_at__isnull=True)
    assert new.label == "Outlook" and new.pk != old.pk

    assert read_feed(client, new_text).status_code == 200
    assert "revoked" in refusal(read_feed(client, old_text))
    assert events(old) == ["feed_token.created", "feed_token.revoked"]
    assert events(new) == ["feed_token.created"]
    assert AuditEvent.objects.get(action="feed_token.revoked").payload["replaced_by"] == new.key


def test_a_revoked_link_is_neither_revoked_again_nor_rotated(owner):
    token, _text = create_feed_token(label="Outlook", acting_user=owner)
    revoke_feed_token(token, acting_user=owner)
    with pytest.raises(ValidationError, match="already revoked"):
        revoke_feed_token(token, acting_user=owner)
    with pytest.raises(ValidationError, match="make a new one"):
        rotate_feed_token(token, acting_user=owner)
    assert events(token) == ["feed_token.created", "feed_token.revoked"]


def test_nobody_revokes_or_rotates_another_person_s_link(client, owner, make_user):
    token, text = create_feed_token(label="Owner's desk calendar", acting_user=owner)
    client.force_login(make_user("someone.else"))
    assert client.post(reverse("releases:feed_link_revoke", args=[token.pk])).status_code == 404
    assert client.post(reverse("releases:feed_link_rotate", args=[token.pk])).status_code == 404
    assert "Owner&#x27;s desk calendar" not in client.get(links_url()).content.decode()
    assert "You have no feed links yet" in client.get(links_url()).content.decode()
    assert FeedToken.objects.get().revoked_at is None
    assert read_feed(client, text).status_code == 200


def test_a_password_change_ends_every_feed_link(owner, client):
    _one, one_text = create_feed_token(label="Laptop", acting_user=owner)
    _two, two_text = create_feed_token(label="Phone", acting_user=owner)
    assert read_feed(client, one_text).status_code == 200

    owner.set_password("a-new-password-2")
    owner.save()
    for text in (one_text, two_text):
        assert "its owner's password (or the portal's SECRET_KEY) changed" in refusal(read_feed(client, text))
    client.force_login(owner)
    assert (
        "password (or the portal&#x27;s SECRET_KEY) changed after it was made"
        in client.get(links_url()).content.decode()
    )

    _new, new_text = create_feed_token(label="Laptop again", acting_user=owner)
    assert read_feed(client, new_text).status_code == 200, "a link made after the change works"


def test_a_password_change_through_the_portal_ends_the_links_too(owner, client):
    _token, text = create_feed_token(label="Laptop", acting_user=owner)
    client.force_login(owner)
    response = client.post(
        reverse("password_change"),
        {"old_password": "demo-password-1", "new_password1": "Brand-new-pass-77", "new_password2": "Brand-new-pass-77"},
    )
    assert response.status_code == 302
    assert "password (or the portal's SECRET_KEY) changed" in refusal(read_feed(client, text))


def test_deactivating_the_user_revokes_their_links_for_good(owner, client):
    token, text = create_feed_token(label="Laptop", acting_user=owner)
    owner.is_active = False
    owner.save()
    assert "revoked on" in refusal(read_feed(client, text))
    assert events(token) == ["feed_token.created", "feed_token.revoked"]
    assert AuditEvent.objects.get(action="feed_token.revoked").payload["reason"] == "account deactivated"

    owner.is_active = True
    owner.save()
    assert "revoked on" in refusal(read_feed(client, text)), "it does not wake with the account"


def test_an_old_signed_link_is_refused_with_an_explanation_not_an_error(owner, client):
    """Links made before feed links existed carried a signed user id: they stop working, and say so."""
    old_style = signing.dumps({"u": owner.pk}, salt="releases.feed", compress=True)
    for path in (feed_url(), reverse("releases:feed_governance")):
        text = refusal(client.get(path, {"token": old_style}))
        assert "old kind of link, which no longer works" in text
        assert "http://testserver/releases/feed-links/" in text
    assert "not known" in refusal(client.get(feed_url(), {"token": "slaf_" + "A" * 43}))


def test_a_link_s_use_is_written_at_most_once_a_minute(owner, client, time_machine):
    token, text = create_feed_token(label="Outlook", acting_user=owner)
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    assert read_feed(client, text).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start

    time_machine.move_to(start + timedelta(seconds=50), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert read_feed(client, text).status_code == 200
    assert not [query for query in queries if query["sql"].startswith("UPDATE")], "no write within the minute"
    token.refresh_from_db()
    assert token.last_used_at == start

    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    assert read_feed(client, text).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_a_secret_key_rotated_with_a_fallback_keeps_the_links(owner, client, settings):
    _token, text = create_feed_token(label="Laptop", acting_user=owner)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert read_feed(client, text).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert "SECRET_KEY) changed" in refusal(read_feed(client, text))
