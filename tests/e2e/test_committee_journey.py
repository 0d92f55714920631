"""The committee's journey in a real browser: a provider engineer proposes a faster SEV1
acknowledgement, every required team approves, version 2 is in force, and the
page as of a moment before the change still shows the old terms."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import ChangeRequest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_is_proposed_approved_by_every_team_and_applied(browser, live_server, governed_sla):
    def session(user):
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("demo-password-1")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    sla_url = governed_sla.sla.get_absolute_url()
    before_the_change = timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S")

    # A Payments engineer proposes SEV1 time to acknowledge 30 -> 15 minutes.
    author = session(governed_sla.author)
    author.goto(sla_url)
    author.get_by_role("link", name="Propose a change").click()
    acknowledge = author.get_by_label("Acknowledge within, row 1")
    assert acknowledge.input_value() == "30m"
    acknowledge.fill("15m")
    author.get_by_label(re.compile(r"^Summary")).fill("Faster SEV1 acknowledgement")
    author.get_by_label(re.compile(r"^Rationale")).fill("Checkout loses orders while nobody acknowledges.")
    author.get_by_role("button", name="Save as a draft").click()

    # The draft shows the diff before it is submitted.
    expect(author.locator("body")).to_contain_text("SEV1 time to acknowledge: 30 min → 15 min")
    author.get_by_role("button", name="Submit for approval").click()
    expect(author.locator("body")).to_contain_text("every required team has been asked to approve")
    change_request = ChangeRequest.objects.get()
    reference = change_request.reference

    # The approvers of each required team find it in "My approvals" and approve.
    for team in (governed_sla.provider, governed_sla.consumer, governed_sla.committee):
        approver = session(governed_sla.approvers[team])
        navigation = approver.get_by_role("navigation", name="Main")
        navigation.get_by_role("link", name=re.compile("My approvals")).click()
        approver.get_by_role("link", name=reference).click()
        approver.get_by_label("Approve").check()
        approver.get_by_label("Comment").fill(f"Fine for {team.name}")
        approver.get_by_role("button", name="Record decision").click()
        expect(approver.locator("body")).to_contain_text(f"You approved {reference} for {team.name}")
        approver.context.close()

    # Version 2 is in force, and its diff reads 30 min -> 15 min.
    author.goto(sla_url)
    expect(author.locator("body")).to_contain_text("Version 2")
    sev1 = author.get_by_role("row").filter(has_text="SEV1").first
    assert "15 min" in sev1.inner_text()
    author.get_by_role("link", name="Versions", exact=True).click()
    author.get_by_role("link", name=re.compile("Compare with previous|compare", re.IGNORECASE)).first.click()
    expect(author.locator("body")).to_contain_text("SEV1 time to acknowledge: 30 min → 15 min")

    # As of a moment before the change, the page still shows 30 minutes.
    author.goto(f"{sla_url}?at={before_the_change}")
    expect(author.locator("body")).to_contain_text(re.compile("version 1", re.IGNORECASE))
    sev1 = author.get_by_role("row").filter(has_text="SEV1").first
    assert "30 min" in sev1.inner_text()
