"""The approver's diff in a real browser.

On the seeded demo, the committee chair opens the request waiting for the committee
(SEV1 acknowledge 30 → 15 min for refunds) from "My approvals", sees only that change
(no "Technical annex rewritten": the annex differed from version 1 by a trailing
newline alone), sees on the timeline that it was submitted six days ago, and approves.
Then a one-word change to an annex: the word is marked, the rest folded, and the
toggle shows the rendered text side by side (with JavaScript; without it, the source).
"""

import re
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from approvals import actions
from approvals.models import ChangeRequest, DocumentVersion
from demo.registry_data import DEMO_PASSWORD
from sla_registry.documents import ServiceLevelAgreementKind

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class Journey:
    """Counts what the person does (page loads, clicks, checks, typing) and the wall time it takes."""

    def __init__(self, page):
        self.page, self.interactions, self.started = page, 0, time.perf_counter()

    def act(self, locator_action, *args):
        self.interactions += 1
        return locator_action(*args)

    def report(self, name):
        print(f"\n{name}: {time.perf_counter() - self.started:.2f} s wall time, {self.interactions} interactions")


def test_the_chair_approves_the_demo_request_seeing_only_the_changed_number(page, log_in):
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())
    waiting = ChangeRequest.objects.get(summary="Faster SEV1 acknowledgement for refunds")
    chair = get_user_model().objects.get(username="committee.chair")
    journey = Journey(page)

    journey.interactions += 4  # log in: open the page, fill two fields, press the button
    log_in(chair, password=DEMO_PASSWORD)
    navigation = page.get_by_role("navigation", name="Main")
    journey.act(navigation.get_by_role("link", name=re.compile("My approvals")).click)
    journey.act(page.get_by_role("link", name=waiting.reference).click)
    page.wait_for_url(f"**{waiting.get_absolute_url()}")

    changes = page.locator("h2#what-changes ~ ul.changes").first
    expect(changes).to_have_text("SEV1 time to acknowledge: 30 min → 15 min")
    body = page.locator("main")
    expect(body).not_to_contain_text("Technical annex")
    expect(body).not_to_contain_text("rewritten")
    assert page.locator("[data-text-diff]").count() == 0
    expect(page.get_by_text("Field by field (1)")).to_be_visible()
    # The timeline says when it was submitted: six days ago, as "My approvals" and the facts say.
    submitted = page.locator("ol.timeline li", has_text=re.compile(r"\bsubmitted\b"))
    expect(submitted.locator("time")).to_have_attribute("datetime", re.compile(f"^{waiting.submitted_at:%Y-%m-%d}"))

    journey.act(page.get_by_label("Approve").check)
    journey.act(page.get_by_label("Comment").fill, "Matches the gateway's 15 minutes.")
    journey.act(page.get_by_role("button", name="Record decision").click)
    expect(page.locator(".messages")).to_contain_text(f"You approved {waiting.reference} for SLA Committee.")
    journey.report("Chair approves the demo request")
    assert journey.interactions <= 9


def test_a_one_word_annex_change_is_marked_and_the_rendered_text_is_a_toggle_away(
    browser, live_server, page, log_in, governed_sla, admin_actor
):
    annex = "\n".join(f"- Line {number}: requests are measured at the load balancer." for number in range(1, 31))
    sla = governed_sla.sla
    sla.technical_annex = f"## Measurement\n\n{annex}\n"
    sla.save()
    DocumentVersion.objects.filter(document_kind="sla", document_id=sla.pk).delete()
    actions.record_baseline_version(sla, acting_user=admin_actor)
    current = ServiceLevelAgreementKind().snapshot(sla)
    edited = current["technical_annex"].replace("Line 15: requests are measured", "Line 15: requests are sampled")
    change_request = actions.submit_change_request(
        actions.propose_change(
            "sla",
            sla,
            data={**current, "technical_annex": edited},
            summary="Sample line 15",
            rationale="The load balancer samples.",
            acting_user=governed_sla.author,
        ),
        acting_user=governed_sla.author,
    )
    violations = []
    page.expose_function("reportCspViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    journey = Journey(page)
    journey.interactions += 4
    log_in(governed_sla.approvers[governed_sla.committee])
    journey.act(page.goto, change_request.get_absolute_url())

    diff = page.locator("[data-text-diff]")
    expect(diff.get_by_role("heading", level=3)).to_have_text("Technical annex · 1 line changed")
    expect(diff.locator("del")).to_have_text("measured")
    expect(diff.locator("ins")).to_have_text("sampled")
    expect(diff.locator(".diff-fold")).to_have_text(["… 13 unchanged lines …", "… 12 unchanged lines …"])
    source, rendered = diff.locator("[data-text-diff-source]"), diff.locator("[data-text-diff-rendered]")
    expect(source).to_be_visible()
    expect(rendered).to_be_hidden()

    toggle = diff.get_by_role("button", name="Show rendered")
    journey.act(toggle.click)
    expect(rendered).to_be_visible()
    expect(source).to_be_hidden()
    expect(rendered.locator(".text-diff-side").nth(0)).to_contain_text("Line 15: requests are measured")
    expect(rendered.locator(".text-diff-side").nth(1)).to_contain_text("Line 15: requests are sampled")
    assert rendered.locator(".text-diff-side li").count() == 60  # rendered markdown: the list items, both sides
    journey.act(diff.get_by_role("button", name="Show the source").click)
    expect(source).to_be_visible()
    assert violations == []
    journey.report("Approver reads a one-word annex change")

    # Without JavaScript: the source, and no button that would do nothing.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    plain = context.new_page()
    plain.goto("/accounts/login/")
    plain.get_by_label("Username").fill(governed_sla.author.username)
    plain.get_by_label("Password").fill("demo-password-1")
    plain.get_by_role("button", name="Log in").click()
    plain.goto(change_request.get_absolute_url())
    expect(plain.locator("[data-text-diff-source]")).to_be_visible()
    expect(plain.locator("[data-text-diff-rendered]")).to_be_hidden()
    expect(plain.locator("[data-text-diff-toggle]")).to_be_hidden()
    context.close()
