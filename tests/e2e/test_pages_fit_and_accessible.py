"""Each user's main pages on the seeded demo, in a real browser at 1366 px: nothing scrolls sideways,
axe-core finds no serious or critical violation, and a screenshot of each lands in var/screenshots/
for a reviewer to look at.

The pages are the ones each of the three users opens first: the committee chair's approvals, a change
request, an SLA and its proposal editor; the engineer's home, services, on-call card, reviews and search;
the executive's summary and a team's scorecard.
"""

import time
from io import StringIO
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from demo.registry_data import DEMO_PASSWORD
from reviews.choices import ReviewStatus
from reviews.models import PostIncidentReview
from sla_registry.models import EscalationMatrix, ServiceLevelAgreement

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTH = 1366
SERIOUS = {"serious", "critical"}

PAGES = {
    "committee.chair": [
        ("approvals", "/changes/approvals/"),
        ("change-request", "{change_request}"),
        ("sla", "{sla}"),
        ("proposal-editor", "{sla}propose/"),
        ("matrix", "{matrix}"),
        ("audit-of-sla", "/audit/?object={sla_reference}"),
    ],
    "payments.engineer": [
        ("home", "/"),
        ("services", "/services/"),
        ("oncall-card", "/services/payments-gateway/oncall/"),
        ("reviews", "/reviews/"),
        ("review", "{review}"),
        ("search", "/search/?q=payments"),
        ("timeline", "/services/payments-gateway/timeline/"),
    ],
    "exec.cto": [
        ("executive-summary", "/executive/"),
        ("scorecard", "/teams/payments/scorecard/"),
    ],
}


@pytest.fixture
def demo(db):
    """Seed the demo; the addresses of its objects (references depend on what ran before in this database)."""
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())
    sla = ServiceLevelAgreement.objects.filter(service__slug="payments-gateway").first()
    return {
        "sla": sla.get_absolute_url(),
        "sla_reference": sla.reference,
        "matrix": EscalationMatrix.objects.get(service__slug="payments-gateway").get_absolute_url(),
        "change_request": ChangeRequest.objects.filter(state=ChangeState.IN_REVIEW).first().get_absolute_url(),
        "review": PostIncidentReview.objects.filter(
            status=ReviewStatus.PUBLISHED, is_restricted=False, services__slug="payments-gateway"
        )
        .first()
        .get_absolute_url(),
    }


def sideways_overflow(page):
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — {len(violation['nodes'])} element(s), "
        f"first {violation['nodes'][0]['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("username", list(PAGES))
def test_each_users_main_pages_fit_1366_px_and_pass_axe(demo, page, log_in, username):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": 900})
    log_in(get_user_model().objects.get(username=username), password=DEMO_PASSWORD)

    problems = []
    for name, path in PAGES[username]:
        path = path.format(**demo)
        started = time.perf_counter()
        response = page.goto(path)
        elapsed = time.perf_counter() - started
        assert response.status == 200, f"{path} answered {response.status}"
        page.screenshot(path=str(SCREENSHOTS / f"{username.split('.')[0]}-{name}.png"), full_page=True)
        print(f"{username} {path}: {elapsed * 1000:.0f} ms")
        if overflow := sideways_overflow(page):
            problems.append(f"{path} is {overflow} px wider than {WIDTH} px")
        problems += [f"{path}: {violation}" for violation in serious_violations(page)]
    assert problems == []
