"""An executive opens the summary from the home page, follows a breach to its review,
and prints the summary: the print stylesheet hides the navigation and the page fits
on two A4 sheets. The same on the seeded demo, with a screenshot to look at."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from demo.registry_data import DEMO_PASSWORD
from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db(transaction=True)

A4_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def printed_pages(page):
    """Print to PDF as the browser would, and count its pages."""
    page.emulate_media(media="print")
    return len(A4_PAGE.findall(page.pdf(format="A4")))


def test_an_executive_follows_a_breach_to_its_review_and_prints_the_summary(
    page, log_in, governed_sla, make_review, make_team, make_user
):
    leader = make_user("cto", teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])
    # 45 minutes to acknowledge against the 30 the SLA promises for SEV1.
    breached = make_review(
        [governed_sla.sla.service],
        started_at=timezone.now() - timedelta(hours=3),
        detect=5,
        acknowledge=50,
        title="Card payments failed for 40 minutes",
        status="published",  # figures count published reviews only
    )
    log_in(leader)

    page.get_by_role("link", name="Read the executive summary").click()
    assert page.url.endswith("/executive/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Q")
    tile = page.locator(".exec-tile", has_text="Incidents within SLA targets")
    assert tile.locator(".exec-tile-value").inner_text() == "0%"
    assert tile.locator(".exec-tile-note").inner_text() == "1 of 1 incident breached an SLA"

    page.get_by_role("link", name=breached.reference).click()
    page.wait_for_url(f"**{breached.get_absolute_url()}")
    expect(page.locator("body")).to_contain_text("SEV1 acknowledge target 30 min, took 45 min: breached by 15 min")

    page.go_back()
    page.wait_for_url("**/executive/")

    def display(selector):
        return page.locator(selector).first.evaluate("element => getComputedStyle(element).display")

    assert display(".site-header") != "none"
    assert page.get_by_role("navigation", name="Main").is_visible()
    pages = printed_pages(page)
    # The header holding the navigation, the quarter picker and the CSV links are not printed.
    assert (display(".site-header"), display(".exec-quarters"), display(".csv-link")) == ("none", "none", "none")
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert display(".exec-tiles") == "grid"
    assert 1 <= pages <= 2


def test_the_demo_summary_fits_on_two_a4_pages(page, log_in):
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())
    log_in(get_user_model().objects.get(username="exec.cto"), password=DEMO_PASSWORD)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/executive/")
    assert page.locator(".exec-tile").count() == 8
    assert page.locator(".trend-svg").count() == 4
    assert page.locator(".exec-breach-link").count() >= 1
    page.screenshot(path="/tmp/executive.png", full_page=True)
    assert 1 <= printed_pages(page) <= 2
