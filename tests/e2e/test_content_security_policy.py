"""The strict Content-Security-Policy (nothing inline, own files only) breaks nothing the browser shows.

Chromium reports every blocked inline script, style attribute or foreign resource
as a `securitypolicyviolation` event and a console error. An init script (run by
Playwright through the DevTools protocol, which the page's CSP does not govern)
forwards the events to the test on every page it opens.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  window.reportCspViolation(`${event.violatedDirective} blocked ${blocked} on ${location.pathname}`);
});
"""


@pytest.fixture
def violations(page):
    """CSP violations seen by the browser so far, from the events and from the console."""
    seen = []

    def report(text):
        seen.append(text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return seen


@pytest.fixture
def organisation(governed_sla, make_matrix, make_review, make_release, make_team, make_user):
    service = governed_sla.sla.service
    make_matrix(service)
    review = make_review([service], started_at=timezone.now() - timedelta(hours=5), acknowledge=50)
    make_release("Payments 4.2", services=[service], starts_at=timezone.now() - timedelta(hours=3))
    leader = make_user("cto", teams=[governed_sla.provider, make_team("Leadership", kind=TeamKind.LEADERSHIP)])
    return {"sla": governed_sla.sla, "service": service, "review": review, "user": leader}


def test_the_main_pages_raise_no_csp_violation(page, log_in, organisation, violations):
    response = page.goto("/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    log_in(organisation["user"])

    sla, service, review = organisation["sla"], organisation["service"], organisation["review"]
    pages = {
        "/": "SLA Portal",
        "/slas/": "SLAs",
        sla.get_absolute_url(): sla.title,
        f"/services/{service.slug}/oncall/": "On-call card",
        f"/services/{service.slug}/timeline/": "Payments 4.2",
        "/executive/": review.reference,
        review.get_absolute_url(): review.title,
        "/reviews/metrics/": "",
        f"/teams/{service.owner_team.slug}/scorecard/": "",
        "/changes/": "",
    }
    for path, text in pages.items():
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("body")).to_contain_text(text)
        # Stylesheets applied: the header is laid out by portal.css, not the browser's defaults.
        assert page.locator(".site-header").evaluate("element => getComputedStyle(element).display") != "block", path

    # "/" still focuses the search box (js/search-shortcut.js runs under the policy).
    page.goto("/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    assert page.locator("[data-search-box]").evaluate("element => element === document.activeElement")

    # Search with results as you type (htmx, without its inline indicator styles).
    page.goto("/search/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    page.keyboard.type(service.name, delay=20)
    page.wait_for_url(re.compile(r"q=Payments"))
    page.locator("#search-results .search-hit-title a").first.wait_for()
    assert service.name in page.locator("#search-results").inner_text()
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0

    assert violations == []


def test_the_violation_detector_sees_a_blocked_inline_style(page, log_in, organisation, violations):
    """The control: without it an empty list above could mean the listener never ran."""
    log_in(organisation["user"])
    page.goto("/")
    page.evaluate("() => { document.querySelector('main').innerHTML += '<p style=\"color: red\">inline</p>'; }")
    page.wait_for_timeout(300)
    assert any("style-src" in violation for violation in violations), violations
