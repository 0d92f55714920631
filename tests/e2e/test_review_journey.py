"""An incident reviewer writes a review in a real browser, watches the breach panel
fill in from the times entered, and submits the review for publication."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import ChangeRequest
from reviews.models import PostIncidentReview

pytestmark = pytest.mark.django_db(transaction=True)


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_reviewer_writes_a_review_sees_the_breach_and_submits_it(page, log_in, governed_sla):
    started = (timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
    log_in(governed_sla.author)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    page.get_by_role("link", name=re.compile("New review")).first.click()
    page.get_by_label("Title:", exact=True).fill("Payments API errors after a config push")
    page.get_by_label(re.compile(r"^Severity")).select_option(label="SEV1 Critical")
    page.get_by_label("Payments API", exact=True).check()
    page.get_by_label(re.compile(r"^Started")).fill(local_input(started))
    page.get_by_label(re.compile(r"^Detected")).fill(local_input(started + timedelta(minutes=5)))
    page.get_by_label(re.compile(r"^Acknowledged")).fill(local_input(started + timedelta(minutes=45)))
    page.get_by_label(re.compile(r"^Mitigated")).fill(local_input(started + timedelta(minutes=90)))
    page.get_by_label(re.compile(r"^Resolved")).fill(local_input(started + timedelta(hours=4)))

    # The breach panel fills in from the times entered, before anything is saved.
    page.get_by_role("button", name="Recalculate figures").first.click()
    expect(page.locator("body")).to_contain_text("SEV1 acknowledge target 30 min, took 40 min: breached by 10 min")
    expect(page.locator("body")).to_contain_text(f"measured against {governed_sla.sla.reference} v1")
    assert not PostIncidentReview.objects.exists()

    page.get_by_role("button", name="Save as a draft").click()
    review = PostIncidentReview.objects.get()
    assert page.url.endswith(review.get_absolute_url())
    expect(page.locator("body")).to_contain_text("breached by 10 min")

    # Submitting asks the owners of the affected service and the committee to approve.
    page.get_by_role("textbox", name="Summary:").fill("Publish the Payments API review")
    page.get_by_role("textbox", name="Rationale:").fill("The review is complete and the action items are agreed.")
    page.get_by_role("button", name="Submit for publication").click()
    change_request = ChangeRequest.objects.get(document_kind="review", document_id=review.pk)
    assert change_request.state == "in_review"
    assert {required.team.name for required in change_request.required_approvals.all()} == {
        "Payments",
        "SLA Committee",
    }
    review.refresh_from_db()
    assert review.status == "in_review"
