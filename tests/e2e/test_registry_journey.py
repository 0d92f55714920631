"""An engineer during an incident finds the agreement and who to call, in a real browser."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_organisation():
    call_command("seed_demo", "--force", verbosity=0)


def test_an_engineer_finds_the_payments_sla_and_its_escalation(page, log_in, demo_organisation):
    from django.contrib.auth import get_user_model

    log_in(get_user_model().objects.get(username="checkout.engineer"), password="demo-password")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLAs").click()
    page.get_by_label("Team").select_option(label="Payments")
    page.get_by_role("button", name=re.compile("Filter|Apply")).click()
    row = page.get_by_role("row").filter(has_text="Payments Gateway for checkout")
    row.get_by_role("link", name=re.compile(r"SLA-\d{4}")).click()

    # The executive summary comes first, the technical annex below.
    summary = page.get_by_role("heading", name="Executive summary")
    annex = page.get_by_role("heading", name="Technical annex")
    assert summary.bounding_box()["y"] < annex.bounding_box()["y"]
    expect(page.locator("body")).to_contain_text("SEV1 raised by Checkout within 15 minutes")
    sev1_row = page.get_by_role("row").filter(has_text="SEV1").first
    assert "15 min" in sev1_row.inner_text()

    # From the SLA to its service, and to who gets paged.
    page.get_by_role("link", name="Payments Gateway", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text().endswith("Payments Gateway")
    page.get_by_role("link", name=re.compile(r"ESC-\d{4}")).first.click()
    assert page.get_by_role("heading", name=re.compile("SEV1")).first.is_visible()
    expect(page.locator("body")).to_contain_text("Payments")

    # The history tab says who wrote the terms and why.
    page.get_by_role("link", name="History").click()
    expect(page.locator("body")).to_contain_text("Demo data")


def test_anonymous_visitors_are_sent_to_the_login_page(page, live_server):
    page.goto("/slas/")
    assert "/accounts/login/" in page.url
    assert page.get_by_label("Username").is_visible()
