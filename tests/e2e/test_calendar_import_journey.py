"""A large calendar upload in the browser: the page answers at once, then follows the background import
(static/js/calendar-import-progress.js polling its progress) to its result, under the strict CSP."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from releases.models import Release

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def release_calendar(count):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    for number in range(count):
        start = (timezone.now() + timedelta(days=number + 1)).strftime("%Y%m%dT100000Z")
        lines += ["BEGIN:VEVENT", f"UID:train-{number}@example.com", f"DTSTART:{start}", "DURATION:PT1H"]
        lines += [f"SUMMARY:Release train {number}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_large_upload_is_followed_to_its_result_without_reloading(
    page, log_in, make_team, make_user, make_calendar, settings
):
    settings.CALENDAR_BACKGROUND_IMPORT_BYTES = 1024
    violations = []

    def report(text):
        violations.append(text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT_VIOLATIONS)
    payments = make_team("Payments")
    calendar = make_calendar("Payments releases", team=payments)
    log_in(make_user("payments.engineer", teams=[payments]))

    page.goto(calendar.get_absolute_url())
    page.get_by_label("iCalendar file (.ics)").set_input_files(
        {"name": "train.ics", "mimeType": "text/calendar", "buffer": release_calendar(30)}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".messages")).to_contain_text("is importing in the background")
    summary = page.locator("[data-import-summary]")
    expect(summary).to_have_text("Queued: train.ics waits for the background worker.")
    assert not Release.objects.filter(calendar=calendar).exists()

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    expect(summary).to_have_text("Imported train.ics: 30 added, 0 updated, 0 cancelled, 0 unchanged.")
    expect(page.locator("[data-import-state]")).to_have_text("Done")
    assert page.locator("progress").evaluate("bar => bar.value") == 100
    expect(page.get_by_role("link", name="Show the imported releases")).to_be_visible()
    assert violations == []
