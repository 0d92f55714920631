"""A restricted review stays invisible on every path where a review, or a part of it, could surface.

One review restricted to Security (and Payments, which owns the affected service), with distinctive words in
its title, body, timeline and action item, a pinned SLA version, an SLA breach and a publication request in
review. A staff member of another team walks every page, export, feed and API endpoint and finds none of it;
a staff member of Security walks the same paths and finds it wherever reviews are shown, so the first walk
cannot pass by every page being empty.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from approvals import actions as approval_actions
from insights.executive import EXPORTS
from notifications.models import Notification
from reviews.actions import submit_for_publication
from reviews.models import ActionItem, TimelineEntry

pytestmark = pytest.mark.django_db

# Words that appear nowhere in the portal but in the restricted review.
TITLE = "Quokka exfiltration through the zebrafish relay"
SUMMARY = "An attacker replayed **marmalade** tokens against the relay."
TIMELINE = "Tapioca alarms fire on the relay."
ACTION = "Rotate the narwhal signing keys"
PUBLICATION = "Publish the okapi incident review"
SECRET_WORDS = ("quokka", "zebrafish", "marmalade", "tapioca", "narwhal", "okapi")


@dataclass
class World:
    review: object
    publication: object
    action_item: object
    service: object
    sla: object
    security: object
    payments: object
    outsider: object  # staff, member of Checkout: may read the audit page, not the review
    member: object  # staff, member of Security


@pytest.fixture
def world(make_team, make_user, make_service, make_sla, make_matrix, make_review, make_release, admin_actor):
    security = make_team("Security")
    payments = make_team("Payments")
    checkout = make_team("Checkout")
    make_team("SLA Committee", is_sla_committee=True)
    service = make_service("Payments Gateway", owner_team=payments)
    sla = make_sla("Gateway for Checkout", service=service, provider_team=payments, consumer_teams=[checkout])
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    approval_actions.record_baseline_version(make_matrix(service), acting_user=admin_actor)
    make_release("2026.11 gateway", services=[service], starts_in=timedelta(days=1))
    author = make_user("security.writer", teams=[security])
    started = timezone.now() - timedelta(days=2)
    review = make_review(
        [service],
        started_at=started,
        acknowledge=50,  # the SLA gives 30 minutes: a breach, for the breaches export
        title=TITLE,
        summary=SUMMARY,
        is_restricted=True,
        restricted_to=[security, payments],  # the owner of the service must be named
        timeline=[TimelineEntry(at=started + timedelta(minutes=5), entry=TIMELINE)],
        action_items=[ActionItem(title=ACTION, owner_team=payments, due_date=timezone.localdate() - timedelta(days=1))],
        acting_user=author,
    )
    assert review.pinned_versions.exists()
    publication = submit_for_publication(
        review, summary=PUBLICATION, rationale="The okapi review is ready.", acting_user=author
    )
    # Figures count published reviews only (reviews.counting), so a published one, restricted the same way, puts
    # its breach and overdue action item into the executive summary's exports and the scorecard.
    make_review(
        [service],
        started_at=started,
        acknowledge=50,
        title="Quokka replay, published",
        status="published",
        is_restricted=True,
        restricted_to=[security, payments],
        action_items=[ActionItem(title="Narwhal key audit", owner_team=payments, due_date=started.date())],
        acting_user=author,
    )
    # Something visible to everybody, so lists and exports have rows for the outsider too.
    make_review([service], title="Gateway slowdown during the sale", acknowledge=50)
    return World(
        review=review,
        publication=publication,
        action_item=review.action_items.get(),
        service=service,
        sla=sla,
        security=security,
        payments=payments,
        outsider=make_user("checkout.staff", teams=[checkout], is_staff=True),
        member=make_user("security.staff", teams=[security], is_staff=True),
    )


SHOWN, NOT_SHOWN = True, None  # whether a reader of the review finds it on a path (None: reviews never show there)
SHOWING_EXPORTS = {"breaches", "overdue-actions", "approvals-waiting"}


def paths(world):
    """(name, url, query, SHOWN or NOT_SHOWN) for every path where the review or its parts could surface."""
    review, publication, service, sla = world.review, world.publication, world.service, world.sla
    return [
        ("home", reverse("home"), {}, NOT_SHOWN),
        ("review list", reverse("reviews:review_list"), {}, SHOWN),
        ("review list of the service", reverse("reviews:review_list"), {"service": service.slug}, SHOWN),
        ("review detail", reverse("reviews:review_detail", args=[review.reference]), {}, SHOWN),
        ("review editor", reverse("reviews:review_update", args=[review.reference]), {}, NOT_SHOWN),
        ("action items", reverse("reviews:action_item_list"), {}, SHOWN),
        ("action items, every status", reverse("reviews:action_item_list"), {"status": "all"}, SHOWN),
        ("metrics", reverse("reviews:review_metrics"), {}, NOT_SHOWN),
        ("service page", reverse("sla_registry:service_detail", args=[service.slug]), {}, NOT_SHOWN),
        ("service timeline", reverse("releases:service_timeline", args=[service.slug]), {}, SHOWN),
        ("on-call card", reverse("oncall_card", args=[service.slug]), {}, SHOWN),
        ("SLA page (its version is pinned)", sla.get_absolute_url(), {}, NOT_SHOWN),
        ("SLA versions", reverse("sla_registry:sla_versions", args=[sla.reference]), {}, NOT_SHOWN),
        ("SLA version 1", reverse("sla_registry:sla_version", args=[sla.reference, 1]), {}, NOT_SHOWN),
        ("Payments team page", reverse("sla_registry:team_detail", args=[world.payments.slug]), {}, NOT_SHOWN),
        ("Security team page", reverse("sla_registry:team_detail", args=[world.security.slug]), {}, NOT_SHOWN),
        ("executive summary", reverse("executive_summary"), {}, SHOWN),
        *(
            (
                f"executive export {table}",
                reverse("executive_export", args=[table]),
                {},
                SHOWN if table in SHOWING_EXPORTS else NOT_SHOWN,
            )
            for table in EXPORTS
        ),
        ("Payments scorecard", reverse("team_scorecard", args=[world.payments.slug]), {}, SHOWN),
        ("Security scorecard", reverse("team_scorecard", args=[world.security.slug]), {}, NOT_SHOWN),
        ("search by title", reverse("search:results"), {"q": "quokka zebrafish"}, SHOWN),
        ("search by body", reverse("search:results"), {"q": "marmalade"}, SHOWN),
        ("search by timeline", reverse("search:results"), {"q": "tapioca"}, SHOWN),
        ("search by reference", reverse("search:results"), {"q": review.reference}, SHOWN),
        ("search by action item", reverse("search:results"), {"q": "narwhal"}, SHOWN),
        ("search by request", reverse("search:results"), {"q": "okapi"}, NOT_SHOWN),
        ("all releases feed", reverse("releases:feed_all"), {}, NOT_SHOWN),
        ("governance feed", reverse("releases:feed_governance"), {}, NOT_SHOWN),
        ("service feed", reverse("releases:feed_service", args=[service.slug]), {}, NOT_SHOWN),
        ("Payments feed", reverse("releases:feed_team", args=[world.payments.slug]), {}, NOT_SHOWN),
        ("Security feed", reverse("releases:feed_team", args=[world.security.slug]), {}, NOT_SHOWN),
        ("change requests", reverse("approvals:change_request_list"), {}, SHOWN),
        ("change requests, every state", reverse("approvals:change_request_list"), {"state": ""}, SHOWN),
        ("my approvals", reverse("approvals:my_approvals"), {}, NOT_SHOWN),
        ("publication request", reverse("approvals:change_request_detail", args=[publication.reference]), {}, SHOWN),
        ("audit log", reverse("audit:event_list"), {}, SHOWN),
        ("audit log of the review", reverse("audit:event_list"), {"object": review.reference}, SHOWN),
        ("audit log of the request", reverse("audit:event_list"), {"object": publication.reference}, SHOWN),
        ("audit log as CSV", reverse("audit:event_list"), {"format": "csv"}, SHOWN),
        ("admin: reviews", "/admin/reviews/postincidentreview/", {}, NOT_SHOWN),
        ("API reviews", "/api/v1/reviews/", {}, SHOWN),
        ("API reviews of the service", "/api/v1/reviews/", {"service": service.slug}, SHOWN),
        ("API review", f"/api/v1/reviews/{review.reference}/", {}, SHOWN),
        ("API review versions", f"/api/v1/reviews/{review.reference}/versions/", {}, NOT_SHOWN),
        ("API action items", "/api/v1/action-items/", {}, SHOWN),
        ("API action item", f"/api/v1/action-items/{world.action_item.pk}/", {}, SHOWN),
        ("API search", "/api/v1/search/", {"q": "quokka"}, SHOWN),
        ("API search by action item", "/api/v1/search/", {"q": "narwhal"}, SHOWN),
        ("API change requests", "/api/v1/change-requests/", {}, SHOWN),
        ("API change request", f"/api/v1/change-requests/{publication.reference}/", {}, SHOWN),
        ("API services", "/api/v1/services/", {}, NOT_SHOWN),
        ("API service", f"/api/v1/services/{service.slug}/", {}, NOT_SHOWN),
        ("API SLA", f"/api/v1/slas/{sla.reference}/", {}, NOT_SHOWN),
        ("API SLA versions", f"/api/v1/slas/{sla.reference}/versions/", {}, NOT_SHOWN),
        ("API teams", "/api/v1/teams/", {}, NOT_SHOWN),
    ]


# Pages that name the review or its request in their address answer 404 to the outsider.
NOT_FOUND = {
    "review detail",
    "review editor",
    "publication request",
    "API review",
    "API review versions",
    "API action item",
    "API change request",
}


def content(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def found(text, world, *, echo=""):
    """The review's words and references in `text`, except those the reader typed (`echo`: the address and query)."""
    lowered, echo = text.lower(), echo.lower()
    words = [word for word in SECRET_WORDS if word in lowered and word not in echo]
    references = [world.review.reference, world.publication.reference]
    return words + [reference for reference in references if reference in text and reference.lower() not in echo]


def walk(client, user, world):
    """{name: (status, what of the review it shows, expectation)} for every path, read as `user`."""
    client.force_login(user)
    seen = {}
    for name, url, query, expectation in paths(world):
        response = client.get(url, query)
        echo = " ".join([url, *map(str, query.values())])
        seen[name] = (response.status_code, found(content(response), world, echo=echo), expectation)
    return seen


def test_an_outsider_finds_it_nowhere(client, world):
    seen = walk(client, world.outsider, world)
    assert {name: shown for name, (_, shown, _) in seen.items() if shown} == {}
    assert {name for name, (status, _, _) in seen.items() if status == 404} == NOT_FOUND
    assert {name: status for name, (status, _, _) in seen.items() if status not in (200, 403, 404)} == {}


def test_a_reader_finds_it_wherever_reviews_are_shown(client, world):
    seen = walk(client, world.member, world)
    assert [name for name, (status, shown, expectation) in seen.items() if expectation and not shown] == []
    assert [name for name, (status, _, expectation) in seen.items() if expectation and status != 200] == []


def test_the_outsider_is_told_nothing_by_email(world):
    texts = [
        f"{notification.subject}\n{notification.body}"
        for notification in Notification.objects.filter(recipient__iexact=world.outsider.email)
    ]
    texts += [f"{message.subject}\n{message.body}" for message in mail.outbox if world.outsider.email in message.to]
    assert [found(text, world) for text in texts if found(text, world)] == []
