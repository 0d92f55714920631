"""Teams and services from a Backstage catalog: the plan, applying it, and the import_backstage command."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.formats import backstage
from sla_registry.models import Service, Team

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "formats"
CATALOG = (FIXTURES / "catalog-info.yaml").read_text(encoding="utf-8")
INVALID = (FIXTURES / "catalog-invalid.yaml").read_text(encoding="utf-8")


def registry_state():
    """Every team and service with what the import sets, to show that nothing moved."""
    return (
        sorted(Team.objects.values_list("slug", "name", "description", "email")),
        sorted(Service.objects.values_list("slug", "name", "description", "owner_team__slug")),
        sorted(Service.dependencies.through.objects.values_list("from_service__slug", "to_service__slug")),
    )


def planned(plan):
    return (
        [(team.slug, team.name, team.action) for team in plan.teams],
        [
            (service.slug, service.name, service.owner, service.action, service.dependencies)
            for service in plan.services
        ],
    )


def test_the_plan_says_what_would_be_created_with_owners_and_writes_nothing(db):
    plan = backstage.read_catalog(CATALOG)

    assert plan.errors == []
    assert planned(plan) == (
        [("payments", "Payments", "create"), ("ledger-team", "Ledger", "create")],
        [
            ("payments-platform", "Payments platform", "payments", "create", []),
            ("payments-api", "Payments API", "payments", "create", ["payments-platform", "ledger"]),
            ("ledger", "Ledger", "ledger-team", "create", []),
        ],
    )
    assert plan.services[1].changes == [
        "new service “Payments API” owned by payments",
        "depends on payments-platform",
        "depends on ledger",
    ]
    assert plan.skipped == ["document 6 (API payments): API entities are not imported"]
    assert plan.notes == [
        "document 4 (Component payments-api): spec.dependsOn[1]: resource:payments-db skipped: "
        "the portal records dependencies on services"
    ]
    assert registry_state() == ([], [], [])


def test_applying_the_plan_writes_teams_services_owners_and_dependencies(make_user):
    importer = make_user("platform.admin")

    applied = backstage.apply_plan(backstage.read_catalog(CATALOG), acting_user=importer)

    assert [team.slug for team in applied.created_teams] == ["payments", "ledger-team"]
    assert [service.slug for service in applied.created_services] == ["payments-platform", "payments-api", "ledger"]
    payments = Team.objects.get(slug="payments")
    assert (payments.name, payments.description, payments.email) == (
        "Payments",
        "Card payments, end to end.",
        "payments@example.com",
    )
    assert payments.primary_channel == Channel.EMAIL  # the only way the file says it can be reached
    api = Service.objects.get(slug="payments-api")
    assert (api.name, api.description, api.owner_team) == (
        "Payments API",
        "Authorises and captures card payments.",
        payments,
    )
    assert sorted(api.dependencies.values_list("slug", flat=True)) == ["ledger", "payments-platform"]
    assert Service.objects.get(slug="ledger").owner_team.slug == "ledger-team"
    # Written through the actions: the history names who imported and why.
    latest = api.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (importer, "Backstage catalog import")


def test_a_second_run_plans_nothing_and_writes_nothing(make_user):
    importer = make_user("platform.admin")
    backstage.apply_plan(backstage.read_catalog(CATALOG), acting_user=importer)
    before = registry_state()
    history_rows = Team.history.count() + Service.history.count()

    plan = backstage.read_catalog(CATALOG)
    applied = backstage.apply_plan(plan, acting_user=importer)

    assert plan.changes == []
    assert {team.action for team in plan.teams} | {service.action for service in plan.services} == {"unchanged"}
    assert applied.total == 0
    assert registry_state() == before
    assert Team.history.count() + Service.history.count() == history_rows


def test_an_update_shows_each_change_and_keeps_what_the_file_does_not_give(make_team, make_service, make_user):
    platform = make_team("Platform")
    ledger_team = make_team("Ledger", slug="ledger-team", description="Double-entry bookkeeping.")
    queue = make_service("Queue", owner_team=platform)
    make_service("Ledger", owner_team=platform, description="Kept as it is.", dependencies=[queue])

    plan = backstage.read_catalog(CATALOG)

    ledger = next(service for service in plan.services if service.slug == "ledger")
    assert (ledger.action, ledger.changes) == ("update", ["owner: platform → ledger-team"])
    team = next(team for team in plan.teams if team.slug == "ledger-team")
    assert (team.action, team.changes) == ("update", ["email: ledger-team@example.com → ledger@example.com"])

    backstage.apply_plan(plan, acting_user=make_user())

    ledger_team.refresh_from_db()
    assert (ledger_team.name, ledger_team.description) == ("Ledger", "Double-entry bookkeeping.")
    service = Service.objects.get(slug="ledger")
    assert (service.owner_team, service.description) == (ledger_team, "Kept as it is.")
    # The file names no dependency of the ledger; the one recorded in the portal stays.
    assert list(service.dependencies.values_list("slug", flat=True)) == ["queue"]


def test_an_owner_may_be_a_team_of_the_portal(make_team):
    make_team("Search")
    text = CATALOG.replace("owner: group:ledger-team", "owner: group:default/search")

    plan = backstage.read_catalog(text)

    assert plan.errors == []
    assert next(service.owner for service in plan.services if service.slug == "ledger") == "search"


def test_an_invalid_file_names_each_error_by_document_and_writes_nothing(make_user):
    plan = backstage.read_catalog(INVALID)

    assert plan.errors == [
        "document 3 (Group): metadata.name: required",
        "document 2 (Component search-api): spec.owner: 'group:default/discovery' is no Group in this file "
        "and no team in the portal",
        "document 4 (Component indexer): spec.dependsOn[0]: 'component:crawler' is in neither this file nor the portal",
    ]
    with pytest.raises(backstage.CatalogError):
        backstage.apply_plan(plan, acting_user=make_user())
    assert registry_state() == ([], [], [])  # not even the valid Group


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("kind: Group\nmetadata:\n  name: [unclosed\n", "YAML syntax error at line 4, column 1"),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            "document 1 (ConfigMap x): apiVersion: 'v1' is not a Backstage catalog version",
        ),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: api\nspec:\n  owner: user:jane\n",
            "document 1 (Component api): spec.owner: 'user:jane': the portal's services are owned by teams",
        ),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: sre\nspec:\n  type: team\n",
            "document 1 (Group sre): spec.profile.email: required for a team the portal does not have yet",
        ),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web.frontend\n",
            "document 1 (Component web.frontend): metadata.name: 'web.frontend' cannot be a portal slug",
        ),
    ],
)
def test_problems_are_reported_in_the_plan_not_raised(db, text, error):
    plan = backstage.read_catalog(text)
    assert any(message.startswith(error) for message in plan.errors), plan.errors
    assert not plan.is_valid


def test_a_name_another_row_holds_is_an_error(make_team):
    make_team("Payments", slug="payments-team")
    plan = backstage.read_catalog(CATALOG.replace("title: Ledger\n", "title: Payments API\n"))
    assert plan.errors == [
        "document 1 (Group payments): name: Team with this Name already exists.",
        "document 5 (Component ledger): the name “Payments API” is also given to the service payments-api",
    ]


def test_applying_is_all_or_nothing(make_user, admin_actor):
    plan = backstage.read_catalog(CATALOG)
    # Between planning and applying, someone takes the name the second team needs.
    actions.save_team(
        Team(name="Ledger", slug="ledgers", email="l@example.com", primary_channel=Channel.EMAIL),
        acting_user=admin_actor,
        reason="test set-up",
    )

    with pytest.raises(ValidationError):
        backstage.apply_plan(plan, acting_user=make_user())

    assert not Team.objects.filter(slug="payments").exists()
    assert Service.objects.count() == 0


# The command -----------------------------------------------------------------------


def test_the_command_shows_the_proposal_and_changes_nothing_without_apply(db, capsys):
    call_command("import_backstage", str(FIXTURES / "catalog-info.yaml"))

    out = capsys.readouterr().out.splitlines()
    assert "Would create team payments “Payments” (document 1 (Group payments))" in out
    assert (
        "Would create service payments-api “Payments API”, owned by payments (document 4 (Component payments-api))"
    ) in out
    assert "  depends on ledger" in out
    assert "Skipped document 6 (API payments): API entities are not imported" in out
    assert out[-1] == (
        "Would write 2 teams and 3 services (0 unchanged). Nothing was changed; "
        "run again with --apply --user USERNAME to write it."
    )
    assert registry_state() == ([], [], [])


def test_the_command_applies_then_finds_nothing_to_change(make_user, capsys):
    make_user("platform.admin")
    path = str(FIXTURES / "catalog-info.yaml")

    call_command("import_backstage", path, "--apply", "--user", "platform.admin")
    out = capsys.readouterr().out.splitlines()
    assert "Create team ledger-team “Ledger” (document 2 (Group ledger-team))" in out
    assert out[-1] == (
        f"Wrote 2 teams and 3 services from {path}: 2 teams created, 0 updated; 3 services created, 0 updated "
        "(0 unchanged)."
    )
    assert Service.objects.count() == 3

    call_command("import_backstage", path, "--apply", "--user", "platform.admin")
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Nothing to change: the portal already matches {path} (5 entities)."
    )


def test_the_command_refuses_an_invalid_file_and_apply_without_a_user(make_user, capsys):
    make_user("platform.admin")
    with pytest.raises(CommandError, match="--apply needs --user USERNAME"):
        call_command("import_backstage", str(FIXTURES / "catalog-info.yaml"), "--apply")

    path = str(FIXTURES / "catalog-invalid.yaml")
    with pytest.raises(CommandError) as caught:
        call_command("import_backstage", path, "--apply", "--user", "platform.admin")
    assert str(caught.value) == f"3 problems in {path}; nothing was written. Fix them and run again."
    assert "document 3 (Group): metadata.name: required" in capsys.readouterr().err.splitlines()
    assert registry_state() == ([], [], [])
