"""During an incident an engineer opens a service's on-call card: the first screen says who to reach at levels
1 to 3 (the person on call now, from the team's published schedule, and links that call, mail or open the chat
channel), the targets and the playbook's first step. One row of severity links switches the card from the
keyboard, and works as well with JavaScript off, as does "as of", which names who was on call then.

The schedule is a PagerDuty-style feed served on 127.0.0.1 and read by the worker's task; its weekly rotation
is written from today, so the test holds on any day.
"""

import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from approvals.actions import record_baseline_version
from releases.oncall_schedules import sync_due_oncall_schedules_task
from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.models import EscalationStep, PlaybookStep, ResponseTarget, Team

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH, HEIGHT = 1366, 900
PEOPLE = ["Ana Lima", "Ben Adeyemi", "Chloe Martin"]


def rotation_start():
    """The Monday, 08:00 UTC, of three weeks ago: the rotation's first turn."""
    today = timezone.now().astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=3)
    return datetime(monday.year, monday.month, monday.day, 8, tzinfo=UTC)


def on_call_at(moment):
    weeks = (moment - rotation_start()) // timedelta(weeks=1)
    return PEOPLE[weeks % len(PEOPLE)]


def schedule_feed():
    start, lines = rotation_start(), ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//PagerDuty Inc.//Schedules//EN"]
    for turn, person in enumerate(PEOPLE):
        begins = start + timedelta(weeks=turn)
        lines += [
            "BEGIN:VEVENT",
            f"UID:rota-{turn}@payments.example",
            f"DTSTART:{begins:%Y%m%dT%H%M%SZ}",
            f"DTEND:{begins + timedelta(weeks=1):%Y%m%dT%H%M%SZ}",
            f"RRULE:FREQ=WEEKLY;INTERVAL={len(PEOPLE)}",
            f"SUMMARY:On Call - {person} - Payments primary",
            "END:VEVENT",
        ]
    return "\r\n".join([*lines, "END:VCALENDAR", ""]).encode()


@pytest.fixture
def schedule_server():
    body = schedule_feed()

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/private/feed"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def checkout_card(
    make_team, make_service, make_matrix, make_sla, make_user, severities, admin_actor, schedule_server, settings
):
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = True
    settings.CHAT_URL_TEMPLATE = "https://slack.com/app_redirect?channel={channel}"
    payments = make_team("Payments", pager_handle="payments-pager", chat_channel="#payments-incidents")
    platform = make_team("Platform", pager_handle="+44 20 7946 0958", email="platform@example.com")
    care = make_team("Customer Care")
    service = make_service("Checkout API", owner_team=payments)
    sev1, sev2 = severities["SEV1"], severities["SEV2"]

    def step(severity, level, team, channel, **fields):
        return EscalationStep(
            severity=severity, level=level, wait=timedelta(minutes=15), team=team, channel=channel, **fields
        )

    matrix = make_matrix(
        service,
        steps=[
            step(sev1, 1, payments, Channel.PAGE, contact="Checkout on-call", fallback_channel=Channel.CHAT),
            step(sev1, 2, platform, Channel.PHONE, contact="Platform lead", fallback_channel=Channel.EMAIL),
            step(sev1, 3, care, Channel.CHAT),
            step(sev1, 4, platform, Channel.EMAIL),
            step(sev2, 1, payments, Channel.CHAT, contact="Checkout day team"),
        ],
        playbook_steps=[
            PlaybookStep(title="Confirm impact", timebox_minutes=10, checkpoint_question="Are orders failing?"),
            PlaybookStep(title="Roll back the last deploy", timebox_minutes=20),
        ],
    )
    minutes = timedelta(minutes=1)
    sla = make_sla(
        "Checkout for merchants",
        service=service,
        provider_team=payments,
        response_targets=[
            ResponseTarget(
                severity=sev1,
                time_to_acknowledge=5 * minutes,
                time_to_restore=60 * minutes,
                time_to_resolve=240 * minutes,
            ),
            ResponseTarget(
                severity=sev2,
                time_to_acknowledge=30 * minutes,
                time_to_restore=4 * 60 * minutes,
                time_to_resolve=24 * 60 * minutes,
            ),
        ],
    )
    for document in (matrix, sla):
        record_baseline_version(document, acting_user=admin_actor)
    payments = Team.objects.get(pk=payments.pk)
    payments.oncall_schedule_url = schedule_server
    actions.save_team(payments, acting_user=admin_actor, reason="Our PagerDuty schedule")
    assert sync_due_oncall_schedules_task.call() == [{"team": "payments", "error": ""}]
    return {"path": f"/services/{service.slug}/oncall/", "engineer": make_user("checkout.engineer", teams=[payments])}


def within_first_screen(locator):
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= HEIGHT


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_the_first_screen_says_who_to_reach_and_how(page, log_in, checkout_card):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(checkout_card["engineer"])
    page.goto(checkout_card["path"])

    escalation = page.locator("section", has=page.locator("#escalation"))
    rows = escalation.locator("tbody tr")
    assert rows.count() == 3  # level 4 waits below
    level_1 = rows.nth(0).inner_text()
    assert f"On call now: {on_call_at(timezone.now())}" in level_1 and "Checkout on-call" in level_1
    assert escalation.get_by_role("link", name="#payments-incidents").get_attribute("href") == (
        "https://slack.com/app_redirect?channel=payments-incidents"
    )
    assert escalation.get_by_role("link", name="+44 20 7946 0958").get_attribute("href") == "tel:+442079460958"
    assert escalation.get_by_role("link", name="platform@example.com").get_attribute("href") == (
        "mailto:platform@example.com"
    )
    # Levels 1–3, the targets and the playbook's first step, without scrolling.
    for thing in (
        rows.nth(2),
        page.locator("table.oncall-targets"),
        page.get_by_role("heading", name=re.compile("Confirm impact")),
        page.get_by_text("Are orders failing?"),
    ):
        assert within_first_screen(thing), thing
    # Level 4 comes after them.
    further, targets = (
        page.locator("#further-levels").bounding_box(),
        page.locator("table.oncall-targets").bounding_box(),
    )
    assert further["y"] > targets["y"] + targets["height"]
    assert serious_violations(page) == []


def test_the_severity_links_work_from_the_keyboard(page, log_in, checkout_card):
    log_in(checkout_card["engineer"])
    page.goto(checkout_card["path"])

    severities = page.get_by_role("navigation", name="Severities")
    severities.get_by_role("link", name="SEV1").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "SEV2"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"severity=SEV2"))

    assert "Checkout day team" in page.locator("table.oncall-steps tbody").inner_text()
    assert severities.get_by_role("link", name="SEV2").get_attribute("aria-current") == "page"
    assert page.locator("select").count() == 0  # one severity control, not a second one in a form


def test_without_javascript_severity_and_as_of_work_and_name_who_was_on_call_then(browser, live_server, checkout_card):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("checkout.engineer")
        page.get_by_label("Password").fill("demo-password-1")
        page.get_by_role("button", name="Log in").click()
        page.goto(checkout_card["path"])

        page.get_by_role("navigation", name="Severities").get_by_role("link", name="SEV2").click()
        page.wait_for_url(re.compile(r"severity=SEV2"))
        then = timezone.localtime(timezone.now() - timedelta(days=8)).replace(second=0, microsecond=0)
        page.get_by_label("As of").fill(then.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("As of").press("Enter")
        page.wait_for_url(re.compile(r"at=.*severity=SEV2|severity=SEV2.*at="))

        steps = page.locator("table.oncall-steps tbody").inner_text()
        assert f"On call then: {on_call_at(then)}" in steps and "Checkout day team" in steps
        assert "As it applied at" in page.locator(".oncall-asof").inner_text()
    finally:
        context.close()
