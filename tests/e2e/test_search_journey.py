"""During an incident an engineer presses "/", types the service's name, and lands on its on-call card,
switches to SEV2 and sees the release of a dependency that went out ten hours ago; from any page, the header
box suggests as they type, and "/", a few letters (or a typo) and Enter open the on-call card."""

import re
import time
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


@pytest.fixture
def demo_organisation():
    from django.core.management import call_command

    call_command("seed_demo", "--force", verbosity=0)


def test_slash_type_enter_opens_the_on_call_card_in_three_keystrokes(page, log_in, demo_organisation):
    """From the home page, keyboard only: "/", the start of the name (or the name mistyped), Enter."""
    from django.contrib.auth import get_user_model

    log_in(get_user_model().objects.get(username="checkout.engineer"), password="demo-password")
    card_url = re.compile(r"/services/payments-gateway/oncall/")
    for typed in ("paym", "paymnts"):
        page.goto("/")
        started = time.perf_counter()
        page.keyboard.press("/")  # 1: focuses the header's search box
        page.keyboard.type(typed)  # 2: suggestions as you type
        page.keyboard.press("Enter")  # 3: the first suggestion, the service, opens its on-call card
        page.wait_for_url(card_url)
        assert page.get_by_text(re.compile(r"On-call card · SEV1")).first.is_visible()
        assert page.get_by_role("heading", name=re.compile("Payments Gateway")).first.is_visible()
        print(f"\n/ {typed!r} Enter → Payments Gateway on-call card (SEV1): {time.perf_counter() - started:.2f} s")


def test_arrows_move_through_the_suggestions_and_escape_leaves_the_box_a_plain_search(page, log_in, demo_organisation):
    from django.contrib.auth import get_user_model

    log_in(get_user_model().objects.get(username="checkout.engineer"), password="demo-password")
    page.goto("/")
    page.keyboard.press("/")
    page.keyboard.type("checkout")
    box = page.get_by_role("combobox", name="Find anything in the portal")
    options = page.locator("#site-search-suggestions [role=option]")
    options.first.wait_for()
    # Services first: the Checkout API, although a team is called Checkout too.
    assert options.first.inner_text().startswith("Checkout API")
    # The open list passes axe-core like every page (no serious or critical violation).
    from axe_playwright_python.sync_playwright import Axe

    violations = [
        f"{violation['id']}: {violation['help']} {violation['nodes'][0]['target']}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert violations == []
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    page.keyboard.press("ArrowDown")
    second = options.nth(1)
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")
    assert second.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last line: every result
    assert options.last.get_attribute("aria-selected") == "true"
    # Escape closes the list; Enter then submits the box to the search page, as without JavaScript.
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=checkout"))
    pinned = page.get_by_role("region", name="Services")
    assert pinned.get_by_role("link", name="Checkout API").first.is_visible()
