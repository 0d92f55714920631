"""The executive reads the summary; an engineer saves a junk draft review in the editor; the executive reloads
and not one headline figure has moved: the draft is listed apart, as awaiting review.

The quarter holds six SEV1 incidents with published reviews on Payments API, one of them
acknowledged late: "6 incidents, 83 % within SLA targets". The junk draft is the one of
the issue: a SEV1 that ran 33 hours and was never acknowledged, saved today. Dates are
worked out from now (inside the current quarter), so the journey holds on any day.
"""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.moments import Quarter
from reviews.choices import ReviewStatus
from reviews.models import PostIncidentReview
from sla_registry.choices import TeamKind

pytestmark = pytest.mark.django_db(transaction=True)

MEETING = {"detect": 5, "acknowledge": 20, "restore": 90, "resolve": 240}
LATE = {"detect": 5, "acknowledge": 55, "restore": 90, "resolve": 240}


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def headline(page):
    """Every headline tile as (label, value, note), as the executive reads them."""
    tiles = page.locator(".exec-tile")
    return [
        (
            tiles.nth(index).locator(".exec-tile-label").inner_text(),
            tiles.nth(index).locator(".exec-tile-value").inner_text(),
            tiles.nth(index).locator(".exec-tile-note").inner_text(),
        )
        for index in range(tiles.count())
    ]


def test_a_junk_draft_saved_in_the_editor_moves_no_headline_figure(
    page, browser, live_server, log_in, governed_sla, make_review, make_team, make_user
):
    clock = time.perf_counter()
    now = timezone.now().replace(second=0, microsecond=0)
    quarter = Quarter.current()
    # Six incidents spread over the quarter so far while the SLA was in force, each resolved before now.
    first = max(quarter.start, governed_sla.sla.effective_from + timedelta(minutes=1))
    span = (now - timedelta(hours=5)) - first
    for number in range(6):
        make_review(
            [governed_sla.sla.service],
            started_at=first + span * number / 6,
            title=f"Payments incident {number + 1}",
            status=ReviewStatus.PUBLISHED,
            **(LATE if number == 0 else MEETING),
        )
    leader = make_user("cto", teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])

    # The executive reads the summary.
    log_in(leader)
    page.goto("/executive/")
    tile = page.locator(".exec-tile", has_text="Incidents within SLA targets")
    expect(tile.locator(".exec-tile-value")).to_have_text("83%")
    expect(tile.locator(".exec-tile-note")).to_have_text("1 of 6 incidents breached an SLA")
    expect(page.locator(".exec-tile", has_text=f"Incidents in {quarter.short_label}")).to_contain_text("6")
    before = headline(page)
    assert page.locator(".awaiting-review").count() == 0

    # An engineer saves a junk draft: SEV1, 33 hours long, never acknowledged (kept inside this quarter).
    started = max(now - timedelta(hours=33), first)
    engineer_context = browser.new_context(base_url=live_server.url)
    editor = engineer_context.new_page()
    editor.set_default_timeout(10_000)
    editor.goto("/accounts/login/")
    editor.get_by_label("Username").fill(governed_sla.author.username)
    editor.get_by_label("Password").fill("demo-password-1")
    editor.get_by_role("button", name="Log in").click()
    editor.wait_for_url(lambda url: "/accounts/login/" not in url)
    editor.goto("/reviews/new/")
    editor.get_by_label("Title:", exact=True).fill("asdf")
    editor.get_by_label(re.compile(r"^Severity")).select_option(label="SEV1 Critical")
    editor.get_by_label("Payments API", exact=True).check()
    editor.get_by_label(re.compile(r"^Started")).fill(local_input(started))
    editor.get_by_label(re.compile(r"^Resolved")).fill(local_input(now))
    editor.get_by_role("button", name="Save as a draft").click()
    junk = PostIncidentReview.objects.get(title="asdf")
    expect(editor.locator("body")).to_contain_text(junk.reference)
    assert junk.status == ReviewStatus.DRAFT and junk.acknowledged_at is None
    engineer_context.close()

    # The executive reloads: every headline figure is where it was; the draft is listed apart.
    page.reload()
    expect(page.locator(".awaiting-review")).to_contain_text("Awaiting review: 1 incident")
    expect(page.locator(".awaiting-review")).to_contain_text(f"{junk.reference} asdf (draft)")
    assert headline(page) == before
    expect(tile.locator(".exec-tile-value")).to_have_text("83%")

    print(f"\nexecutive draft journey: wall time {time.perf_counter() - clock:.1f} s")
