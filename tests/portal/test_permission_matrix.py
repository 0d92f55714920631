"""Every URL in the URLconf, requested by every kind of user, answers what the EXPECTED table says.

The URL list is read from the URLconf itself (`get_resolver()`), so a new URL
without a row in EXPECTED fails the test: decide who may open it, then add it.
The admin's own pages (`admin:*`) are left to Django's admin, which lets in
active staff only; the matrix keeps its index as the proof that it is wired up.
"""

from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from approvals import actions as approval_actions
from approvals.choices import ChangeKind, ChangeState
from incidents import actions as incident_actions
from notifications.actions import create_subscription
from reviews.choices import ActionStatus
from reviews.models import ActionItem
from sla_registry.choices import TeamKind

STAFF_PERMISSIONS = [
    f"{verb}_{model}"
    for verb in ("add", "change")
    for model in ("team", "service", "customerjourney", "severity", "incidentcategory")
]

ROLES = ("anonymous", "engineer", "approver", "other_approver", "committee", "leadership", "staff", "superuser")

# Common answers, one status per role in ROLES order.
OPEN = (200,) * 8  # needs no login
READ = (302, 200, 200, 200, 200, 200, 200, 200)  # every signed-in user reads it
TEAM_MEMBERS = (302, 200, 200, 200, 200, 200, 403, 200)  # releases and calendars belong to a team: members make them
POST_ONLY = (302, 405, 405, 405, 405, 405, 405, 405)  # a form's target: GET is not allowed
REGISTRY_KEEPERS = (302, 403, 403, 403, 403, 403, 200, 200)  # registry edits: model permissions (staff)
STAFF_ONLY = (302, 302, 302, 302, 302, 302, 200, 200)  # the admin site sends non-staff to its own login
TEAM_SPEAKS = (302, 403, 200, 403, 200, 403, 403, 200)  # a team's contacts: its approvers, the committee, superusers
PAYMENTS_MANAGES = (302, 403, 200, 403, 403, 403, 403, 200)  # Payments' releases and calendar: its members, the admin
FEED = (403, 200, 200, 200, 200, 200, 200, 200)  # calendar programs cannot log in: 403 without a session or token
AUTHOR_ONLY = (302, 302, 302, 302, 302, 302, 302, 302)  # a draft's editor: everyone but its author is sent back to it
OVERSIGHT = (302, 403, 403, 403, 200, 200, 200, 200)  # the audit log: committee, leadership, staff (filtered)
HIDDEN = (302, 404, 200, 404, 200, 200, 404, 200)  # the restricted review: only Payments, committee, leadership
HIDDEN_AUTHOR_ONLY = (
    302,
    404,
    302,
    404,
    302,
    302,
    404,
    302,
)  # its editor: hidden from outsiders, author-only otherwise
# The REST API answers for itself: 401 without credentials, never a redirect to the login page.
API_READ = (401, 200, 200, 200, 200, 200, 200, 200)
API_POST_ONLY = (401, 405, 405, 405, 405, 405, 405, 405)  # a transition: GET is not allowed
API_NEEDS_PARAMETERS = (401, 400, 400, 400, 400, 400, 400, 400)  # a diff without ?from=&to=
API_HIDDEN = (401, 404, 200, 404, 200, 200, 404, 200)  # the restricted review
API_HIDDEN_NEEDS_PARAMETERS = (401, 404, 400, 404, 400, 400, 404, 400)
API_NOT_FOUND = (401, 404, 404, 404, 404, 404, 404, 404)  # a version the draft review does not have yet

# url name -> expected status per role. The dataset: the "Payments API" service
# of the Payments team, its SLA (SLA-…) and escalation matrix at version 1, a draft
# change request of each by a Payments engineer, a review restricted to Payments,
# a Payments release calendar and a hand-entered release. `engineer` is a plain
# member of Checkout (a consumer of the SLA), `approver` approves for Payments,
# `other_approver` for Checkout, `staff` keeps the registry and belongs to no team,
# `committee` approves for the SLA committee, `leadership` is in a leadership team.
EXPECTED = {
    "home": READ,
    "healthz": OPEN,
    "favicon": (301,) * 8,  # to the static icon
    "login": OPEN,
    "logout": POST_ONLY,
    "password_change": READ,
    "password_change_done": READ,
    "password_reset": OPEN,
    "password_reset_done": OPEN,
    "password_reset_confirm": OPEN,
    "password_reset_complete": OPEN,
    "admin:index": STAFF_ONLY,
    "search:results": READ,
    "search:suggest": READ,
    "audit:event_list": OVERSIGHT,
    "approvals:change_request_list": READ,
    "approvals:my_requests": READ,
    "approvals:my_approvals": READ,
    "approvals:change_request_detail": READ,
    "approvals:submit": POST_ONLY,
    "approvals:decide": POST_ONLY,
    "approvals:withdraw": POST_ONLY,
    "approvals:acknowledge_emergency_grant": POST_ONLY,
    "approvals:rebase": POST_ONLY,
    "reviews:review_list": READ,
    "reviews:review_create": READ,
    "reviews:review_metrics": READ,
    "reviews:review_detail": HIDDEN,
    "reviews:review_update": HIDDEN_AUTHOR_ONLY,
    "reviews:review_publish": POST_ONLY,
    "reviews:review_reopen": POST_ONLY,
    "reviews:action_item_list": READ,
    "incidents:incident_list": READ,
    "incidents:incident_declare": TEAM_MEMBERS,  # any member of a team declares
    "incidents:unrouted_list": (302, 403, 403, 403, 200, 403, 403, 200),  # the committee's inbox
    "incidents:unrouted_route": POST_ONLY,
    "incidents:incident_detail": HIDDEN,  # the restricted incident: Payments, committee, leadership
    "incidents:incident_act": POST_ONLY,
    "reviews:action_item_done": POST_ONLY,
    "releases:release_list": READ,
    "releases:release_create": TEAM_MEMBERS,
    "releases:release_detail": READ,
    "releases:release_update": PAYMENTS_MANAGES,
    "releases:release_link_change": POST_ONLY,
    "releases:calendar_list": READ,
    "releases:calendar_create": TEAM_MEMBERS,
    "releases:calendar_detail": READ,
    "releases:calendar_update": PAYMENTS_MANAGES,
    "releases:calendar_upload": POST_ONLY,
    "releases:calendar_sync": POST_ONLY,
    "releases:calendar_rules": PAYMENTS_MANAGES,
    "releases:calendar_import_progress": (302,) + (404,) * 7,  # the dataset has no background import
    "releases:feed_all": FEED,
    "releases:feed_governance": FEED,
    "releases:feed_service": FEED,
    "releases:feed_team": FEED,
    "releases:feed_links": READ,  # everyone's own feed links
    "releases:feed_link_revoke": POST_ONLY,
    "releases:feed_link_rotate": POST_ONLY,
    "releases:service_timeline": READ,
    "executive_summary": READ,
    "executive_export": READ,
    "oncall_card": READ,
    "team_scorecard": READ,
    "sla_registry:team_list": READ,
    "sla_registry:team_create": REGISTRY_KEEPERS,
    "sla_registry:team_detail": READ,
    "sla_registry:team_update": TEAM_SPEAKS,
    "sla_registry:team_history": READ,
    "sla_registry:service_list": READ,
    "sla_registry:service_create": REGISTRY_KEEPERS,
    "sla_registry:service_detail": READ,
    "sla_registry:service_update": REGISTRY_KEEPERS,
    "sla_registry:service_history": READ,
    "sla_registry:journey_list": READ,
    "sla_registry:journey_create": REGISTRY_KEEPERS,
    "sla_registry:journey_detail": READ,
    "sla_registry:journey_update": REGISTRY_KEEPERS,
    "sla_registry:journey_history": READ,
    "sla_registry:taxonomy": READ,
    "sla_registry:access_policy": READ,
    "sla_registry:access_policy_propose": READ,  # anyone may propose; the committee decides
    "sla_registry:review_due": READ,
    "sla_registry:periodic_review": POST_ONLY,
    "sla_registry:severity_create": REGISTRY_KEEPERS,
    "sla_registry:severity_update": REGISTRY_KEEPERS,
    "sla_registry:category_create": REGISTRY_KEEPERS,
    "sla_registry:category_update": REGISTRY_KEEPERS,
    "sla_registry:sla_list": READ,
    "sla_registry:sla_propose_new": READ,
    "sla_registry:sla_revise": AUTHOR_ONLY,
    "sla_registry:sla_propose": READ,
    "sla_registry:sla_retire": READ,
    "sla_registry:sla_detail": READ,
    "sla_registry:sla_history": READ,
    "sla_registry:sla_versions": READ,
    "sla_registry:sla_version": READ,
    "sla_registry:sla_compare": READ,
    "sla_registry:matrix_list": READ,
    "sla_registry:matrix_propose_new": READ,
    "sla_registry:matrix_revise": AUTHOR_ONLY,
    "sla_registry:matrix_propose": READ,
    "sla_registry:matrix_retire": READ,
    "sla_registry:matrix_detail": READ,
    "sla_registry:matrix_history": READ,
    "sla_registry:matrix_versions": READ,
    "sla_registry:matrix_version": READ,
    "sla_registry:matrix_compare": READ,
    # Approvers manage their team's webhooks (Checkout's too); staff and the committee also the global ones.
    "notifications:webhook_list": (302, 403, 200, 200, 200, 403, 200, 200),
    "notifications:webhook_create": (302, 403, 200, 200, 200, 403, 200, 200),
    "notifications:webhook_detail": (302, 404, 200, 404, 404, 404, 404, 200),
    "notifications:webhook_test": POST_ONLY,
    "notifications:webhook_deactivate": POST_ONLY,
    "notifications:webhook_rotate_secret": POST_ONLY,
    "notifications:delivery_retry": POST_ONLY,
    "profile": READ,
    "revoke_token": POST_ONLY,
    "api:api-root": API_READ,
    "api:schema": OPEN,
    "api:docs": OPEN,
    "api:search": API_READ,
    "api:team-list": API_READ,
    "api:team-detail": API_READ,
    "api:service-list": API_READ,
    "api:service-detail": API_READ,
    "api:journey-list": API_READ,
    "api:journey-detail": API_READ,
    "api:severity-list": API_READ,
    "api:severity-detail": API_READ,
    "api:category-list": API_READ,
    "api:category-detail": API_READ,
    "api:sla-list": API_READ,
    "api:sla-detail": API_READ,
    "api:sla-versions": API_READ,
    "api:sla-version": API_READ,
    "api:sla-diff": API_NEEDS_PARAMETERS,
    "api:sla-measurements": API_POST_ONLY,
    "api:sla-openslo": API_READ,
    "api:escalation-matrix-list": API_READ,
    "api:escalation-matrix-detail": API_READ,
    "api:escalation-matrix-versions": API_READ,
    "api:escalation-matrix-version": API_READ,
    "api:escalation-matrix-diff": API_NEEDS_PARAMETERS,
    "api:escalation-matrix-pagerduty": API_READ,
    "api:change-request-list": API_READ,
    "api:change-request-detail": API_READ,
    "api:change-request-revise": API_POST_ONLY,
    "api:change-request-submit": API_POST_ONLY,
    "api:change-request-approve": API_POST_ONLY,
    "api:change-request-reject": API_POST_ONLY,
    "api:change-request-withdraw": API_POST_ONLY,
    "api:change-request-rebase": API_POST_ONLY,
    "api:review-list": API_READ,
    "api:review-detail": API_HIDDEN,
    "api:review-versions": API_HIDDEN,
    "api:review-version": API_NOT_FOUND,
    "api:review-diff": API_HIDDEN_NEEDS_PARAMETERS,
    "api:action-item-list": API_READ,
    "api:action-item-detail": API_HIDDEN,
    "api:incident-list": API_READ,
    "api:incident-detail": API_HIDDEN,  # the restricted incident: Payments, committee, leadership
    "api:incident-acknowledge": API_POST_ONLY,
    "api:incident-restore": API_POST_ONLY,
    "api:incident-resolve": API_POST_ONLY,
    "api:incident-reopen": API_POST_ONLY,
    "api:integration-events": (405,) * 8,  # senders POST with the integration's secret, nobody GETs
    "api:calendar-list": API_READ,
    "api:calendar-detail": API_READ,
    "api:release-list": API_READ,
    "api:release-detail": API_READ,
}

# How to fill the kwargs of each URL that has any, from the dataset.
URL_KWARGS = {
    "approvals:change_request_detail": lambda d: {"reference": d.sla_change.reference},
    "approvals:submit": lambda d: {"reference": d.sla_change.reference},
    "approvals:decide": lambda d: {"reference": d.sla_change.reference},
    "approvals:withdraw": lambda d: {"reference": d.sla_change.reference},
    "approvals:acknowledge_emergency_grant": lambda d: {"pk": 1},  # POST only: GET never reaches the grant
    "approvals:rebase": lambda d: {"reference": d.sla_change.reference},
    "reviews:review_detail": lambda d: {"reference": d.review.reference},
    "reviews:review_update": lambda d: {"reference": d.review.reference},
    "reviews:review_publish": lambda d: {"reference": d.review.reference},
    "reviews:review_reopen": lambda d: {"reference": d.review.reference},
    "reviews:action_item_done": lambda d: {"pk": d.action_item.pk},
    "releases:release_detail": lambda d: {"pk": d.release.pk},
    "releases:release_update": lambda d: {"pk": d.release.pk},
    "releases:release_link_change": lambda d: {"pk": d.release.pk},
    "releases:calendar_detail": lambda d: {"slug": d.calendar.slug},
    "releases:calendar_update": lambda d: {"slug": d.calendar.slug},
    "releases:calendar_upload": lambda d: {"slug": d.calendar.slug},
    "releases:calendar_sync": lambda d: {"slug": d.calendar.slug},
    "releases:calendar_rules": lambda d: {"slug": d.calendar.slug},
    "releases:calendar_import_progress": lambda d: {"slug": d.calendar.slug, "pk": 1},
    "releases:feed_link_revoke": lambda d: {"pk": 1},  # POST only; a POST finds only the poster's own links
    "releases:feed_link_rotate": lambda d: {"pk": 1},
    "releases:feed_service": lambda d: {"slug": d.service.slug},
    "releases:feed_team": lambda d: {"slug": d.provider.slug},
    "releases:service_timeline": lambda d: {"slug": d.service.slug},
    "executive_export": lambda d: {"table": "breaches"},
    "oncall_card": lambda d: {"slug": d.service.slug},
    "team_scorecard": lambda d: {"slug": d.provider.slug},
    "password_reset_confirm": lambda d: {"uidb64": "MQ", "token": "set-password"},
    "sla_registry:team_detail": lambda d: {"slug": d.provider.slug},
    "sla_registry:team_update": lambda d: {"slug": d.provider.slug},
    "sla_registry:team_history": lambda d: {"slug": d.provider.slug},
    "sla_registry:service_detail": lambda d: {"slug": d.service.slug},
    "sla_registry:service_update": lambda d: {"slug": d.service.slug},
    "sla_registry:service_history": lambda d: {"slug": d.service.slug},
    "sla_registry:journey_detail": lambda d: {"slug": d.journey.slug},
    "sla_registry:journey_update": lambda d: {"slug": d.journey.slug},
    "sla_registry:journey_history": lambda d: {"slug": d.journey.slug},
    "sla_registry:periodic_review": lambda d: {"kind": "sla", "reference": d.sla.reference},
    "sla_registry:severity_update": lambda d: {"key": "SEV1"},
    "sla_registry:category_update": lambda d: {"slug": d.category.slug},
    "sla_registry:sla_revise": lambda d: {"change_reference": d.sla_change.reference},
    "sla_registry:sla_propose": lambda d: {"reference": d.sla.reference},
    "sla_registry:sla_retire": lambda d: {"reference": d.sla.reference},
    "sla_registry:sla_detail": lambda d: {"reference": d.sla.reference},
    "sla_registry:sla_history": lambda d: {"reference": d.sla.reference},
    "sla_registry:sla_versions": lambda d: {"reference": d.sla.reference},
    "sla_registry:sla_version": lambda d: {"reference": d.sla.reference, "number": 1},
    "sla_registry:sla_compare": lambda d: {"reference": d.sla.reference},
    "sla_registry:matrix_revise": lambda d: {"change_reference": d.matrix_change.reference},
    "sla_registry:matrix_propose": lambda d: {"reference": d.matrix.reference},
    "sla_registry:matrix_retire": lambda d: {"reference": d.matrix.reference},
    "sla_registry:matrix_detail": lambda d: {"reference": d.matrix.reference},
    "sla_registry:matrix_history": lambda d: {"reference": d.matrix.reference},
    "sla_registry:matrix_versions": lambda d: {"reference": d.matrix.reference},
    "sla_registry:matrix_version": lambda d: {"reference": d.matrix.reference, "number": 1},
    "sla_registry:matrix_compare": lambda d: {"reference": d.matrix.reference},
    "revoke_token": lambda d: {"token_key": "slap_000"},
    "notifications:webhook_detail": lambda d: {"pk": d.webhook.pk},
    "notifications:webhook_test": lambda d: {"pk": d.webhook.pk},
    "notifications:webhook_deactivate": lambda d: {"pk": d.webhook.pk},
    "notifications:webhook_rotate_secret": lambda d: {"pk": d.webhook.pk},
    "notifications:delivery_retry": lambda d: {"pk": d.webhook.pk, "delivery_pk": 1},
    "api:team-detail": lambda d: {"slug": d.provider.slug},
    "api:service-detail": lambda d: {"slug": d.service.slug},
    "api:journey-detail": lambda d: {"slug": d.journey.slug},
    "api:severity-detail": lambda d: {"key": "SEV1"},
    "api:category-detail": lambda d: {"slug": d.category.slug},
    "api:sla-detail": lambda d: {"reference": d.sla.reference},
    "api:sla-versions": lambda d: {"reference": d.sla.reference},
    "api:sla-version": lambda d: {"reference": d.sla.reference, "number": "1"},
    "api:sla-diff": lambda d: {"reference": d.sla.reference},
    "api:sla-measurements": lambda d: {"reference": d.sla.reference},
    "api:sla-openslo": lambda d: {"reference": d.sla.reference},
    "api:escalation-matrix-detail": lambda d: {"reference": d.matrix.reference},
    "api:escalation-matrix-versions": lambda d: {"reference": d.matrix.reference},
    "api:escalation-matrix-version": lambda d: {"reference": d.matrix.reference, "number": "1"},
    "api:escalation-matrix-diff": lambda d: {"reference": d.matrix.reference},
    "api:escalation-matrix-pagerduty": lambda d: {"reference": d.matrix.reference},
    "api:change-request-detail": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-revise": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-submit": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-approve": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-reject": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-withdraw": lambda d: {"reference": d.sla_change.reference},
    "api:change-request-rebase": lambda d: {"reference": d.sla_change.reference},
    "api:review-detail": lambda d: {"reference": d.review.reference},
    "api:review-versions": lambda d: {"reference": d.review.reference},
    "api:review-version": lambda d: {"reference": d.review.reference, "number": "1"},
    "api:review-diff": lambda d: {"reference": d.review.reference},
    "api:action-item-detail": lambda d: {"pk": d.action_item.pk},
    "api:calendar-detail": lambda d: {"slug": d.calendar.slug},
    "api:incident-detail": lambda d: {"reference": d.incident.reference},
    "api:incident-acknowledge": lambda d: {"reference": d.incident.reference},
    "api:incident-restore": lambda d: {"reference": d.incident.reference},
    "api:incident-resolve": lambda d: {"reference": d.incident.reference},
    "api:incident-reopen": lambda d: {"reference": d.incident.reference},
    "api:integration-events": lambda d: {"key": d.integration.key},
    "incidents:incident_detail": lambda d: {"reference": d.incident.reference},
    "incidents:incident_act": lambda d: {"reference": d.incident.reference, "action": "acknowledge"},
    "incidents:unrouted_route": lambda d: {"pk": 1},
    "api:release-detail": lambda d: {"pk": d.release.pk},
}

# The admin's own pages are Django's (staff only, tested by Django); only the index is in the matrix.
SKIPPED_NAMESPACES = {"admin"}
KEPT_FROM_SKIPPED = {"admin:index"}


def url_names(resolver=None, namespace=""):
    """Every named URL pattern as "namespace:name" (unnamed ones as "<unnamed …>", so they fail loudly)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or f'<unnamed {pattern.pattern}>'}"


def matrix_url_names():
    names = []
    for name in url_names():
        if name.split(":", 1)[0] in SKIPPED_NAMESPACES and name not in KEPT_FROM_SKIPPED:
            continue
        if name not in names:
            names.append(name)
    return names


@dataclass
class Dataset:
    provider: object
    service: object
    journey: object
    category: object
    sla: object
    matrix: object
    sla_change: object
    matrix_change: object
    review: object
    action_item: object
    calendar: object
    release: object
    webhook: object  # a Payments webhook, managed by Payments' approvers
    incident: object  # a restricted (security) incident on the Payments API, declared by the Payments engineer
    integration: object  # a generic incident integration of Payments
    author: object  # the Payments engineer who wrote the change requests and the review
    users: dict  # role -> user (None for anonymous)


@pytest.fixture
def dataset(
    governed_sla, propose_acknowledge, make_matrix, make_journey, make_category, make_team, make_user,
    make_review, make_calendar, make_release, admin_actor,
):  # fmt: skip
    governed = governed_sla
    service = governed.sla.service
    matrix = make_matrix(service)
    approval_actions.record_baseline_version(matrix, acting_user=admin_actor)
    sla_change = propose_acknowledge(governed, 10)
    matrix_change = approval_actions.propose_change(
        "escalation_matrix",
        matrix,
        change_kind=ChangeKind.RETIRE,
        summary="Retire the Payments escalation",
        rationale="Folded into the platform matrix.",
        acting_user=governed.author,
    )
    review = make_review(
        [service],
        title="Leaked card-processing credentials",
        is_restricted=True,
        restricted_to=[governed.provider],
        action_items=[ActionItem(title="Rotate the keys", owner_team=governed.provider)],
        acting_user=governed.author,
    )
    release = make_release("Payments 4.2", services=[service], starts_in=timedelta(days=1))
    calendar = make_calendar("Payments releases", team=governed.provider)
    leadership = make_team("Leadership", kind=TeamKind.LEADERSHIP)
    # Staff keeps the registry without belonging to a team: the admin site and the registry's model permissions.
    staff = make_user("portal.staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="sla_registry", codename__in=STAFF_PERMISSIONS)
    )
    users = {
        "anonymous": None,
        "engineer": make_user("checkout.member", teams=[governed.consumer]),
        "approver": governed.approvers[governed.provider],
        "other_approver": governed.approvers[governed.consumer],
        "committee": governed.approvers[governed.committee],
        "leadership": make_user("leadership.member", teams=[leadership]),
        "staff": staff,
        "superuser": admin_actor,
    }
    admin_actor.is_staff = True
    admin_actor.save(update_fields=["is_staff"])
    return Dataset(
        provider=governed.provider,
        service=service,
        journey=make_journey("Pay for an order", services=[service]),
        category=make_category(),
        sla=governed.sla,
        matrix=matrix,
        sla_change=sla_change,
        matrix_change=matrix_change,
        review=review,
        action_item=review.action_items.get(),
        calendar=calendar,
        release=release,
        webhook=create_subscription(
            governed.provider,
            url="https://hooks.example.com/payments",
            acting_user=governed.approvers[governed.provider],
        ),
        incident=incident_actions.open_incident(
            title="Card data exposed",
            services=[service],
            severity=governed.sla.response_targets.first().severity,
            started_at=timezone.now() - timedelta(minutes=5),
            is_restricted=True,
            acting_user=governed.author,
        ),
        integration=incident_actions.create_integration(
            kind="generic", name="Payments monitoring", team=governed.provider, acting_user=admin_actor
        ),
        author=governed.author,
        users=users,
    )


def build_url(name, data):
    fill = URL_KWARGS.get(name)
    return reverse(name, kwargs=fill(data) if fill else None)


def clients(data):
    """One logged-in test client per role."""
    result = {}
    for role in ROLES:
        client = Client()
        if data.users[role] is not None:
            client.force_login(data.users[role])
        result[role] = client
    return result


def missing_expectations(expected):
    return [f"add an expected answer for {name} to EXPECTED" for name in matrix_url_names() if name not in expected]


def test_a_url_without_an_expected_answer_fails_the_matrix():
    assert missing_expectations(EXPECTED) == []
    without_home = {name: answer for name, answer in EXPECTED.items() if name != "home"}
    assert missing_expectations(without_home) == ["add an expected answer for home to EXPECTED"]
    stale = sorted(set(EXPECTED) - set(matrix_url_names()))
    assert not stale, f"EXPECTED names URLs that no longer exist: {stale}"


def _has_parameters(name):
    """reverse() without kwargs fails exactly when the route has parameters."""
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def test_every_url_with_parameters_has_a_way_to_fill_them():
    need = [name for name in matrix_url_names() if name not in URL_KWARGS and _has_parameters(name)]
    assert not need, f"add a URL_KWARGS entry for {need}"


class PostForms(HTMLParser):
    """Each <form method="post"> of a page, with whether it carries a non-empty csrfmiddlewaretoken."""

    def __init__(self):
        super().__init__()
        self.forms = []  # [action, has_token]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append([attrs.get("action") or "(this page)", False])
        elif tag == "input" and attrs.get("name") == "csrfmiddlewaretoken" and self.forms and attrs.get("value"):
            self.forms[-1][1] = True


@pytest.mark.django_db
def test_permission_matrix(dataset):
    """Every URL as every role answers as EXPECTED; and every POST form on the pages served carries a CSRF token.

    One pass (one dataset, one request per URL and role) keeps it fast.
    """
    missing = missing_expectations(EXPECTED)
    assert not missing, "\n".join(missing)
    by_role = clients(dataset)
    wrong, forms, untokened = [], 0, []
    for name in matrix_url_names():
        url = build_url(name, dataset)
        answers = []
        for role in ROLES:
            response = by_role[role].get(url)
            answers.append(response.status_code)
            if role == "anonymous" and response.status_code == 302:
                login = reverse("admin:login") if name.startswith("admin:") else reverse("login")
                assert urlsplit(response["Location"]).path == login, f"{url} sends anonymous elsewhere"
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                parser = PostForms()
                parser.feed(response.content.decode())
                forms += len(parser.forms)
                untokened += [f"{role} {url}: form to {action}" for action, token in parser.forms if not token]
        if tuple(answers) != EXPECTED[name]:
            wrong.append(f"{name} {url}: expected {EXPECTED[name]}, got {tuple(answers)}")
    assert not wrong, "answers differ from EXPECTED:\n" + "\n".join(wrong)
    assert not untokened, "POST forms without a CSRF token:\n" + "\n".join(untokened)
    # Log out, approve, propose, withdraw, upload...: the pages are full of POST forms.
    assert forms > 100


@pytest.mark.django_db
def test_the_author_opens_the_editors_everyone_else_is_sent_back_from(dataset):
    """The AUTHOR_ONLY rows above: the 302s are a refusal, not a broken page."""
    author = Client()
    author.force_login(dataset.author)
    superuser = clients(dataset)["superuser"]
    for name in ("sla_registry:sla_revise", "sla_registry:matrix_revise", "reviews:review_update"):
        url = build_url(name, dataset)
        assert author.get(url).status_code == 200, url
        refused = superuser.get(url, follow=True)
        assert refused.status_code == 200
        assert refused.redirect_chain and refused.redirect_chain[-1][0] != url


@pytest.mark.django_db
def test_a_post_without_a_csrf_token_is_refused(dataset):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dataset.author)
    change = dataset.sla_change
    targets = [
        reverse("logout"),
        reverse("approvals:withdraw", kwargs={"reference": change.reference}),
        reverse("reviews:action_item_done", kwargs={"pk": dataset.action_item.pk}),
        reverse("releases:release_link_change", kwargs={"pk": dataset.release.pk}),
    ]
    for url in targets:
        response = client.post(url, {"comment": "no token"})
        assert response.status_code == 403, url
        assert b"CSRF verification failed" in response.content
    # Nothing happened: still logged in, the request still a draft, the action item still open.
    assert client.get(reverse("home")).status_code == 200
    change.refresh_from_db()
    assert change.state == ChangeState.DRAFT
    dataset.action_item.refresh_from_db()
    assert dataset.action_item.status == ActionStatus.OPEN

    # The same log-out with the token the page set goes through.
    client.get(reverse("home"))
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


# Writes: the same routes POSTed by every role --------------------------------------------------------

# Routes a POST may reach without signing in: signing in itself, and what answers GET only.
# (The favicon redirects any method to the static icon: it writes nothing.)
OPEN_TO_ANONYMOUS_POSTS = {"login", "healthz", "favicon", "password_reset", "password_reset_confirm"}
REFUSED = {302, 401, 403, 404, 405}


@pytest.mark.django_db
def test_no_role_writes_where_it_may_not_read_and_no_write_fails_with_a_server_error(dataset):
    """Every route POSTed (empty body) by every role, each in a savepoint rolled back after it.

    Derived from EXPECTED, so it cannot drift from it: a role refused on GET (401, 403, 404) is refused on
    POST too; anonymous writes nothing; and no POST answers 5xx, whatever the route and role.
    """
    from django.db import transaction

    by_role = clients(dataset)
    problems, answered = [], 0
    for name in matrix_url_names():
        if name == "logout":  # would end the session the next requests use; tested on its own above
            continue
        url = build_url(name, dataset)
        for role, read_answer in zip(ROLES, EXPECTED[name], strict=True):
            with transaction.atomic():
                status = by_role[role].post(url, {}).status_code
                transaction.set_rollback(True)
            answered += status not in REFUSED
            if status >= 500:
                problems.append(f"{role} POST {url}: {status}")
            elif read_answer in {401, 403, 404} and status not in REFUSED:
                problems.append(f"{role} POST {url}: {status}, though reading it answers {read_answer}")
            elif role == "anonymous" and name not in OPEN_TO_ANONYMOUS_POSTS and status not in REFUSED:
                problems.append(f"anonymous POST {url}: {status}")
    assert not problems, "\n".join(problems)
    assert answered > 100  # the forms answered (mostly 200/400 with their errors): the walk reached the views
