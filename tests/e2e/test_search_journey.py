"""During an incident an engineer presses "/", types the service's name, and lands on its on-call card,
switches to SEV2 and sees the release of a dependency that went out ten hours ago."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sla_registry.choices import Channel
from sla_registry.models import EscalationStep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checkout_on_call(make_team, make_service, make_matrix, make_sla, make_release, make_user, severities):
    payments = make_team("Payments")
    checkout = make_team("Checkout")
    ledger = make_service("Ledger", owner_team=payments, description="Double-entry bookkeeping.")
    service = make_service(
        "Checkout API", owner_team=checkout, dependencies=[ledger], description="Takes the customer's order."
    )
    make_matrix(
        service,
        steps=[
            EscalationStep(
                severity=severities["SEV1"], level=1, wait=timedelta(minutes=5), team=checkout, channel=Channel.PAGE
            ),
            EscalationStep(
                severity=severities["SEV2"], level=1, wait=timedelta(minutes=5), team=checkout, channel=Channel.CHAT
            ),
        ],
    )
    make_sla("Checkout API for the shop", service=service, provider_team=checkout, consumer_teams=[payments])
    # A release of the dependency, ten hours ago: what an engineer should suspect first.
    make_release(
        "Ledger 4.2 rounding change",
        services=[ledger],
        starts_at=timezone.now() - timedelta(hours=10),
        lasts=timedelta(minutes=30),
    )
    return {"service": service, "engineer": make_user("checkout.engineer", teams=[checkout])}


def test_slash_search_opens_the_on_call_card_and_shows_the_recent_release(page, log_in, checkout_on_call):
    log_in(checkout_on_call["engineer"])
    page.goto("/search/")

    # "/" focuses the search box from anywhere on the page.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    box = page.get_by_label(re.compile("Search SLAs"))
    assert box.evaluate("element => element === document.activeElement")

    # Typing updates the results in place (htmx), without submitting the form or leaving the page.
    page.keyboard.type("Checkout API", delay=30)
    first_hit = page.locator("#search-results .search-hit-title a").first
    first_hit.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#search-results .search-hit-title a')?.textContent.trim() === 'Checkout API'"
    )
    assert "/search/" in page.url and "q=Checkout" in page.url  # hx-push-url keeps the address shareable
    # The service filter now offers what the results concern (swapped in out of band with them).
    page.wait_for_function(
        "() => [...document.querySelectorAll('#search-service option')].some(o => o.textContent === 'Checkout API')"
    )
    # The strict-CSP setting: htmx injected no inline <style> for its indicators.
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0

    # The service's name makes its on-call card the first hit, with its service page beside it.
    oncall_url = f"/services/{checkout_on_call['service'].slug}/oncall/"
    assert first_hit.get_attribute("href") == oncall_url
    assert page.locator("#search-results").get_by_role("link", name="Service page").first.is_visible()
    first_hit.click()
    page.wait_for_url(re.compile(re.escape(oncall_url)))
    assert "SEV1" in page.get_by_text(re.compile(r"On-call card · SEV1")).first.inner_text()

    # Switch to SEV2: the card for that severity, with the dependency's release of ten hours ago.
    page.get_by_role("navigation", name="Severities").get_by_role("link", name="SEV2").click()
    page.wait_for_url(re.compile(r"severity=SEV2"))
    assert page.get_by_text(re.compile(r"On-call card · SEV2")).first.is_visible()
    releases = page.locator("section", has=page.get_by_role("heading", name=re.compile("Releases: last 72 hours")))
    assert "Ledger 4.2 rounding change" in releases.inner_text()
