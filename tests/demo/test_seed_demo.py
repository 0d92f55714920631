import re
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from approvals.choices import ChangeState
from approvals.models import ChangeRequest, DocumentVersion
from approvals.permissions import approvals_waiting_for
from demo import registry_data as demo_data
from demo import registry_seeding as demo_seeding
from sla_registry.choices import ServiceTier
from sla_registry.models import (
    CustomerJourney,
    EscalationMatrix,
    IncidentCategory,
    ResponseTarget,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)

pytestmark = pytest.mark.django_db

APPROVE = "sla_registry.approve_for_team"


def seed(*args, **options):
    """Run seed_demo and return what it printed."""
    out = StringIO()
    call_command("seed_demo", *args, force=True, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def history_row_count():
    return sum(
        model.objects.count()
        for model in apps.get_app_config("sla_registry").get_models()
        if "Historical" in model.__name__
    )


def registry_row_counts():
    models = [Team, Service, CustomerJourney, Severity, IncidentCategory, ServiceLevelAgreement, EscalationMatrix]
    return {model.__name__: model.objects.count() for model in models} | {"users": get_user_model().objects.count()}


def test_seeds_a_whole_organisation():
    seed()

    assert Team.objects.count() >= 8
    assert list(Team.objects.filter(is_sla_committee=True).values_list("kind", flat=True)) == ["governance"]
    assert Team.objects.filter(kind="leadership", name="Executive Leadership").exists()
    for team in Team.objects.all():
        assert team.chat_channel and team.email and team.pager_handle, team
        assert team.fallback_channel and team.fallback_channel != team.primary_channel, team

    assert Service.objects.count() >= 12
    assert set(Service.objects.values_list("tier", flat=True)) == set(ServiceTier.values)
    checkout = Service.objects.get(slug="checkout-api")
    assert {"payments-gateway", "identity-service", "inventory-service"} <= set(
        checkout.dependencies.values_list("slug", flat=True)
    )
    for service in Service.objects.filter(tier=ServiceTier.CRITICAL).exclude(owner_team__slug="platform"):
        assert service.dependencies.filter(slug="kubernetes-platform").exists(), service

    assert CustomerJourney.objects.count() >= 4
    assert all(journey.business_impact and journey.services.exists() for journey in CustomerJourney.objects.all())
    assert list(Severity.objects.values_list("key", "rank", "name")) == [
        ("SEV1", 1, "Critical"),
        ("SEV2", 2, "Major"),
        ("SEV3", 3, "Minor"),
        ("SEV4", 4, "Low"),
    ]
    assert {"availability", "performance", "data-integrity", "security", "third-party", "capacity"} <= set(
        IncidentCategory.objects.values_list("slug", flat=True)
    )


def test_slas_have_objectives_targets_and_real_consumers():
    seed()

    slas = ServiceLevelAgreement.objects.prefetch_related("consumer_teams", "objectives", "response_targets")
    assert len(slas) >= 8
    for sla in slas:
        consumers = list(sla.consumer_teams.all())
        assert 1 <= len(consumers) <= 3 and sla.provider_team not in consumers, sla
        assert sla.status == "active" and sla.executive_summary and "|" in sla.technical_annex, sla
        assert sla.objectives.exists(), sla
        assert {target.severity.key for target in sla.response_targets.all()} == {"SEV1", "SEV2", "SEV3", "SEV4"}
    overdue = [sla for sla in slas if sla.is_review_overdue]
    assert 1 <= len(overdue) <= 2

    # The product brief's example: Payments answers a SEV1 from Checkout within 15 minutes, restores within 2 hours.
    payments = ServiceLevelAgreement.objects.get(service__slug="payments-gateway", consumer_teams__slug="checkout")
    sev1 = payments.response_targets.get(severity__key="SEV1", category=None)
    assert (sev1.time_to_acknowledge.total_seconds(), sev1.time_to_restore.total_seconds()) == (15 * 60, 2 * 3600)


def test_every_critical_service_has_an_escalation_matrix():
    seed()

    for service in Service.objects.filter(tier=ServiceTier.CRITICAL):
        matrix = EscalationMatrix.objects.get(service=service)
        assert matrix.owner_team == service.owner_team
        for severity in ("SEV1", "SEV2"):
            steps = list(matrix.steps.filter(severity__key=severity).order_by("level"))
            assert [step.level for step in steps] == list(range(1, len(steps) + 1)), (service, severity)
            assert len(steps) >= 3
            assert (steps[0].team, steps[0].channel) == (service.owner_team, "page")
        duties = {(item.duty, item.team.slug) for item in matrix.responsibilities.all()}
        assert ("customer_communication", "customer-support") in duties
        assert ("executive_communication", "executive-leadership") in duties
        assert 4 <= matrix.playbook_steps.count() <= 6


def test_demo_logins_can_approve_for_their_team_only():
    seed()
    # Guardian keeps its own AnonymousUser; the demo's users are the rest.
    users = {user.username: user for user in get_user_model().objects.exclude(username="AnonymousUser")}
    payments, checkout = Team.objects.get(slug="payments"), Team.objects.get(slug="checkout")
    committee = Team.objects.get(is_sla_committee=True)

    for team in Team.objects.all():
        members = set(team.group.user_set.values_list("username", flat=True))
        assert any(users[name].has_perm(APPROVE, team) for name in members), f"{team} has no approver"
        assert any(not users[name].has_perm(APPROVE, team) for name in members), f"{team} has only approvers"

    approver, engineer = users["payments.approver"], users["payments.engineer"]
    assert approver.has_perm(APPROVE, payments) and not approver.has_perm(APPROVE, checkout)
    assert approver.is_staff and approver.has_perm("sla_registry.change_service")
    assert not engineer.has_perm(APPROVE, payments)
    assert not engineer.is_staff and not engineer.has_perm("sla_registry.change_service")
    assert users["committee.chair"].has_perm(APPROVE, committee) and users["committee.chair"].is_staff
    assert users["exec.cto"].groups.filter(team__slug="executive-leadership").exists()
    assert users["admin"].is_superuser
    # One hash of the demo password is shared by every demo login.
    assert len({user.password for user in users.values()}) == 1
    assert users["payments.engineer"].check_password(demo_data.DEMO_PASSWORD)
    assert all(user.first_name and user.last_name for user in users.values())


def test_every_write_is_recorded_against_the_admin_with_a_reason():
    seed()

    admin = get_user_model().objects.get(username="admin")
    for model in (Team, Service, ServiceLevelAgreement, EscalationMatrix):
        # Besides change requests, the committee's periodic reviews write (demo.review_cycle).
        rows = model.history.filter(history_change_request="").exclude(history_change_reason__startswith="Reviewed, ")
        assert rows.exists()
        assert set(rows.values_list("history_user", "history_change_reason")) == {(admin.pk, "Demo data")}
    # The one demo change that went all the way was written by its last approver, naming the request.
    chair = get_user_model().objects.get(username="committee.chair")
    applied = ResponseTarget.history.exclude(history_change_request="")
    change_request = ChangeRequest.objects.get(document_kind="sla", state=ChangeState.APPLIED)
    assert set(applied.values_list("history_user", "history_change_request", "history_change_reason")) == {
        (chair.pk, change_request.reference, "Acknowledge a search SEV1 within 20 minutes")
    }


def test_demo_change_requests_show_every_stage_of_the_lifecycle():
    seed()
    # The SLA changes; the demo reviews' publication requests are tested with the reviews.
    states = dict(ChangeRequest.objects.exclude(document_kind="review").values_list("summary", "state"))
    assert states == {
        # The teams' approvers are set by the access policy's change request, like any rule change.
        "Team approvers for the demo organisation": ChangeState.APPLIED,
        "Acknowledge a search SEV1 within 20 minutes": ChangeState.APPLIED,
        "Faster SEV1 acknowledgement for refunds": ChangeState.IN_REVIEW,
        "Restore a SEV2 notification outage within 3 hours": ChangeState.DRAFT,
    }
    chair = get_user_model().objects.get(username="committee.chair")
    assert [required.change_request.summary for required in approvals_waiting_for(chair)] == [
        "Faster SEV1 acknowledgement for refunds"
    ]
    payments = Team.objects.get(slug="payments")
    assert (
        get_user_model().objects.get(username="payments.approver").has_perm("sla_registry.approve_for_team", payments)
    )
    assert DocumentVersion.objects.filter(document_kind="access_policy").count() == 2
    search = ServiceLevelAgreement.objects.get(title="Search API for the shop front")
    assert DocumentVersion.objects.filter(document_kind="sla", document_id=search.pk).count() == 2


def test_second_run_writes_nothing():
    seed()
    counts, history_rows = registry_row_counts(), history_row_count()

    output = seed()

    assert registry_row_counts() == counts
    assert history_row_count() == history_rows
    assert "Demo data already present; nothing changed." in output


def test_a_changed_demo_object_is_put_back():
    seed()
    admin = get_user_model().objects.get(username="admin")
    service = Service.objects.get(slug="search-api")
    service.description = "Edited during a demo."
    demo_seeding.actions.save_service(service, acting_user=admin, reason="Demo edit")

    output = seed()

    service.refresh_from_db()
    assert service.description == next(spec.description for spec in demo_data.SERVICES if spec.slug == "search-api")
    assert "21 services (0 new, 1 updated)" in output


def test_output_and_demo_logins_command_name_the_logins():
    output = seed()

    assert "Seeded demo organisation: 12 teams (12 new)" in output
    assert "Demo password: demo-password" in output
    for username in ("admin", "payments.engineer", "payments.approver", "committee.chair", "exec.cto"):
        assert username in output

    listed = StringIO()
    call_command("demo_logins", stdout=listed)
    assert demo_seeding.login_table(demo_seeding.demo_logins()) in listed.getvalue()
    assert demo_seeding.login_table(demo_seeding.demo_logins()) in output
    assert re.search(r"^payments\.approver +Payments +approver$", listed.getvalue(), re.MULTILINE)


def test_size_adds_synthetic_rows_once():
    seed()
    counts = registry_row_counts()

    seed(size=2)
    seed(size=2)

    assert Team.objects.filter(name__startswith="Synthetic Team").count() == 10
    assert Service.objects.filter(name="Synthetic Service 0010").exists()
    after = registry_row_counts()
    for model in ("Team", "Service", "ServiceLevelAgreement"):
        assert after[model] == counts[model] + 10
    synthetic_critical = Service.objects.filter(name__startswith="Synthetic", tier=ServiceTier.CRITICAL)
    assert synthetic_critical.exists()
    assert all(hasattr(service, "escalation_matrix") for service in synthetic_critical)


def test_refuses_to_seed_known_passwords_when_debug_is_off():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()


def test_a_failure_leaves_nothing_behind(monkeypatch):
    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_seeding.DemoSeeder, "seed_users", broken)
    with pytest.raises(RuntimeError):
        seed()

    assert not Team.objects.exists() and not get_user_model().objects.filter(username="admin").exists()
