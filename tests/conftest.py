"""Shared fixtures. Every make_* fixture writes through the real actions, so tests
exercise the same write path as the pages, the admin and the commands."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from approvals import actions as approval_actions
from sla_registry import actions
from sla_registry.choices import AgreementStatus, Channel, ServiceTier, TeamKind
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    EscalationStep,
    IncidentCategory,
    Objective,
    PlaybookStep,
    ResponseTarget,
    Responsibility,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)

_sequence = count(1)


def _flushed_with_delete(item):
    """Whether pytest-django empties the database after this test with Django's flush, as DELETE statements.

    Transactional tests (django_db(transaction=True), transactional_db, live_server) are flushed; on SQLite
    that is one DELETE per table, which the audit log's append-only trigger refuses. PostgreSQL truncates,
    which row triggers do not see.
    """
    marker = item.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction", False)) or bool(
        {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )
    if not transactional:
        return False
    from django.db import connection

    return connection.vendor == "sqlite"


_DB_BLOCKER = pytest.StashKey()


@pytest.fixture(scope="session", autouse=True)
def _remember_db_blocker(request, django_db_blocker):
    """Keep pytest-django's blocker where the teardown hook below finds it (no fixture lookups during teardown)."""
    request.config.stash[_DB_BLOCKER] = django_db_blocker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Run a transactional test's teardown (and so its flush) through the audit log's maintenance path.

    The flag is up only between the end of the test and the end of its teardown, and comes down even when
    the teardown fails, so every test body, and the application it drives, meets the real triggers.
    """
    if not _flushed_with_delete(item):
        return (yield)
    from audit.maintenance import erasing

    with item.config.stash[_DB_BLOCKER].unblock(), erasing("test suite flush"):
        return (yield)


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests run with production settings but without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users need no brute-force resistance; PBKDF2 would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_actor(db):
    """The user recorded as making set-up writes."""
    return get_user_model().objects.create_superuser("fixture-admin", "admin@example.com", "unused-password-1")


@pytest.fixture
def make_user(db):
    def make(username=None, *, teams=(), approver_for=(), password="demo-password-1", **extra):
        username = username or f"user{next(_sequence)}"
        user = get_user_model().objects.create_user(username, f"{username}@example.com", password, **extra)
        for team in teams:
            actions.add_team_member(team, user, acting_user=None)
        for team in approver_for:
            actions.add_team_member(team, user, acting_user=None, approver=True)
        return user

    return make


@pytest.fixture
def make_team(admin_actor):
    def make(name=None, **fields):
        name = name or f"Team {next(_sequence)}"
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        fields.setdefault("kind", TeamKind.ENGINEERING)
        fields.setdefault("pager_handle", f"{fields['slug']}-oncall")
        fields.setdefault("chat_channel", f"#{fields['slug']}")
        fields.setdefault("email", f"{fields['slug']}@example.com")
        fields.setdefault("fallback_channel", Channel.CHAT)
        return actions.save_team(Team(name=name, **fields), acting_user=admin_actor, reason="test set-up")

    return make


@pytest.fixture
def make_service(admin_actor, make_team):
    def make(name=None, *, owner_team=None, dependencies=(), **fields):
        name = name or f"Service {next(_sequence)}"
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        fields.setdefault("tier", ServiceTier.CRITICAL)
        service = Service(name=name, owner_team=owner_team or make_team(), **fields)
        return actions.save_service(
            service, dependencies=list(dependencies), acting_user=admin_actor, reason="test set-up"
        )

    return make


@pytest.fixture
def make_journey(admin_actor):
    def make(name=None, *, services=(), **fields):
        name = name or f"Journey {next(_sequence)}"
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        journey = CustomerJourney(name=name, **fields)
        return actions.save_journey(journey, services=list(services), acting_user=admin_actor, reason="test set-up")

    return make


@pytest.fixture
def severities(admin_actor):
    """SEV1-SEV4, keyed by their label."""
    names = ["Critical", "Major", "Minor", "Low"]
    return {
        f"SEV{rank}": actions.save_severity(
            Severity(key=f"SEV{rank}", name=name, rank=rank, customer_impact=f"{name} customer impact."),
            acting_user=admin_actor,
            reason="test set-up",
        )
        for rank, name in enumerate(names, start=1)
    }


@pytest.fixture
def make_category(admin_actor):
    def make(name="Availability", **fields):
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        return actions.save_category(IncidentCategory(name=name, **fields), acting_user=admin_actor, reason="set-up")

    return make


def default_objectives():
    """The objectives make_sla gives an SLA when a test names none."""
    return [Objective(indicator="Successful requests", target=Decimal("99.9"), unit="%")]


def default_response_targets(severities):
    """The response targets make_sla gives an SLA when a test names none: SEV1 only."""
    return [
        ResponseTarget(
            severity=severities["SEV1"],
            time_to_acknowledge=timedelta(minutes=30),
            time_to_restore=timedelta(hours=2),
            time_to_resolve=timedelta(days=1),
            customer_update_interval=timedelta(minutes=30),
        )
    ]


@pytest.fixture
def make_sla(admin_actor, make_service, make_team, severities):
    def make(
        title=None,
        *,
        service=None,
        provider_team=None,
        consumer_teams=None,
        objectives=None,
        response_targets=None,
        acting_user=None,
        reason="test set-up",
        **fields,
    ):
        provider_team = provider_team or (service.owner_team if service else make_team())
        service = service or make_service(owner_team=provider_team)
        consumer_teams = [make_team()] if consumer_teams is None else list(consumer_teams)
        fields.setdefault("status", AgreementStatus.ACTIVE)
        fields.setdefault("effective_from", timezone.now() - timedelta(days=30))
        if objectives is None:
            objectives = default_objectives()
        if response_targets is None:
            response_targets = default_response_targets(severities)
        sla = ServiceLevelAgreement(
            title=title or f"{service.name} SLA", service=service, provider_team=provider_team, **fields
        )
        return actions.save_sla(
            sla,
            consumer_teams=consumer_teams,
            objectives=objectives,
            response_targets=response_targets,
            acting_user=acting_user or admin_actor,
            reason=reason,
        )

    return make


@pytest.fixture
def make_matrix(admin_actor, make_service, severities):
    def make(service=None, *, steps=None, responsibilities=None, playbook_steps=None, **fields):
        service = service or make_service()
        owner = fields.pop("owner_team", service.owner_team)
        fields.setdefault("status", AgreementStatus.ACTIVE)
        fields.setdefault("effective_from", timezone.now() - timedelta(days=30))
        if steps is None:
            steps = [
                EscalationStep(
                    severity=severities["SEV1"], level=1, wait=timedelta(minutes=15), team=owner, channel=Channel.PAGE
                )
            ]
        if responsibilities is None:
            responsibilities = [Responsibility(duty="incident_commander", team=owner, when="From declaration")]
        if playbook_steps is None:
            playbook_steps = [
                PlaybookStep(title="Confirm impact", timebox_minutes=10, checkpoint_question="Is it customer-facing?")
            ]
        matrix = EscalationMatrix(title=f"{service.name} escalation", service=service, owner_team=owner, **fields)
        return actions.save_escalation_matrix(
            matrix,
            steps=steps,
            responsibilities=responsibilities,
            playbook_steps=playbook_steps,
            acting_user=admin_actor,
            reason="test set-up",
        )

    return make


# Change governance ---------------------------------------------------------


@dataclass
class GovernedSla:
    """An SLA (version 1) with a provider, a consumer, the committee and their people."""

    sla: object
    provider: object
    consumer: object
    committee: object
    author: object
    approvers: dict  # team -> user allowed to approve for it


@pytest.fixture
def governed_sla(make_team, make_user, make_sla, make_service, admin_actor):
    provider = make_team("Payments")
    consumer = make_team("Checkout")
    committee = make_team("SLA Committee", is_sla_committee=True)
    service = make_service("Payments API", owner_team=provider)
    sla = make_sla("Payments for Checkout", service=service, provider_team=provider, consumer_teams=[consumer])
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)
    author = make_user("payments.engineer", teams=[provider])
    approvers = {
        team: make_user(f"{team.slug}.approver", approver_for=[team]) for team in (provider, consumer, committee)
    }
    return GovernedSla(sla, provider, consumer, committee, author, approvers)


def with_acknowledge(snapshot, minutes, severity="SEV1"):
    """A copy of an SLA snapshot with one severity's time to acknowledge changed."""
    targets = [
        {**target, "time_to_acknowledge_minutes": minutes} if target["severity"] == severity else target
        for target in snapshot["response_targets"]
    ]
    return {**snapshot, "response_targets": targets}


@pytest.fixture
def propose_acknowledge():
    """Propose a new SEV1 time to acknowledge on the governed SLA."""

    def propose(governed, minutes, *, author=None, effective_at=None, summary="Faster SEV1 acknowledgement"):
        current = ServiceLevelAgreementKind().snapshot(governed.sla)
        return approval_actions.propose_change(
            "sla",
            governed.sla,
            data=with_acknowledge(current, minutes),
            summary=summary,
            rationale="Checkout loses orders while nobody acknowledges.",
            effective_at=effective_at,
            acting_user=author or governed.author,
        )

    return propose


@pytest.fixture
def submit_acknowledge(propose_acknowledge):
    """Propose a new SEV1 time to acknowledge and submit it for approval."""

    def submit(governed, minutes, **options):
        change_request = propose_acknowledge(governed, minutes, **options)
        return approval_actions.submit_change_request(change_request, acting_user=change_request.author)

    return submit


@pytest.fixture
def approve_all():
    def approve(governed, change_request, teams=None):
        for team in teams or (governed.provider, governed.consumer, governed.committee):
            change_request = approval_actions.decide_change_request(
                change_request, team, verdict="approve", comment="OK", acting_user=governed.approvers[team]
            )
        return change_request

    return approve


# Post-incident reviews -------------------------------------------------------


@pytest.fixture
def make_review(admin_actor, severities):
    """A draft review through reviews.actions.save_review; times are offsets in minutes from `started_at`."""
    from reviews import actions as review_actions
    from reviews.models import PostIncidentReview

    def make(
        services,
        *,
        started_at=None,
        detect=5,
        acknowledge=20,
        restore=90,
        resolve=240,
        severity="SEV1",
        acting_user=None,
        timeline=(),
        action_items=(),
        restricted_to=(),
        **fields,
    ):
        started_at = started_at or timezone.now() - timedelta(days=2)

        def after(minutes):
            return None if minutes is None else started_at + timedelta(minutes=minutes)

        fields.setdefault("title", "Checkout errors after a payments deploy")
        review = PostIncidentReview(
            severity=severities[severity],
            started_at=started_at,
            detected_at=after(detect),
            acknowledged_at=after(acknowledge),
            restored_at=after(restore),
            resolved_at=after(resolve),
            **fields,
        )
        return review_actions.save_review(
            review,
            services=list(services),
            restricted_to=list(restricted_to),
            timeline=list(timeline),
            action_items=list(action_items),
            acting_user=acting_user or admin_actor,
            reason="test set-up",
        )

    return make


@pytest.fixture
def make_calendar(admin_actor, make_team):
    from releases.actions import save_calendar
    from releases.models import Calendar

    def make(name=None, *, team=None, default_services=(), **fields):
        name = name or f"Calendar {next(_sequence)}"
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        calendar = Calendar(name=name, team=team or make_team(), **fields)
        return save_calendar(
            calendar, default_services=list(default_services), acting_user=admin_actor, reason="test set-up"
        )

    return make


@pytest.fixture
def make_release(admin_actor):
    """A release entered by hand: starts in `starts_in` from now and lasts `lasts`."""
    from releases.actions import save_release
    from releases.choices import ReleaseKind
    from releases.models import Release

    def make(
        title=None, *, services=(), starts_at=None, starts_in=timedelta(days=2), lasts=timedelta(hours=1), **fields
    ):
        starts_at = starts_at or timezone.now() + starts_in
        fields.setdefault("kind", ReleaseKind.RELEASE)
        release = Release(
            title=title or f"2026.{next(_sequence)}", starts_at=starts_at, ends_at=starts_at + lasts, **fields
        )
        return save_release(release, services=list(services), acting_user=admin_actor, reason="test set-up")

    return make
