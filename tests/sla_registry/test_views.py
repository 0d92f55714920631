"""The registry pages: what a reader sees, who may edit, and what an edit leaves in history."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from sla_registry import actions
from sla_registry.choices import AgreementStatus, Channel, ServiceTier, TeamKind
from sla_registry.models import (
    CustomerJourney,
    EscalationStep,
    IncidentCategory,
    Measurement,
    Objective,
    PlaybookStep,
    ResponseTarget,
    Responsibility,
    Service,
    Severity,
    Team,
)
from tests.html import accessibility_problems, table_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(make_user):
    """A signed-in person with no edit permissions."""
    return make_user("reader", first_name="Rita", last_name="Reader")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def editor(make_user):
    """A registry maintainer: may add and change teams, services, journeys and the taxonomy."""
    user = make_user("editor", first_name="Edna", last_name="Editor")
    codenames = [
        f"{verb}_{model}"
        for verb in ("add", "change")
        for model in ("team", "service", "customerjourney", "severity", "incidentcategory")
    ]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="sla_registry", codename__in=codenames)
    )
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def url(name, *args):
    return reverse(f"sla_registry:{name}", args=args)


def page(client, name, *args, **query):
    response = client.get(url(name, *args), query)
    assert response.status_code == 200
    return response.content.decode()


def target(severity, acknowledge, restore, resolve, **extra):
    return ResponseTarget(
        severity=severity,
        time_to_acknowledge=timedelta(minutes=acknowledge),
        time_to_restore=timedelta(minutes=restore),
        time_to_resolve=timedelta(minutes=resolve),
        **extra,
    )


# Signing in ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/teams/",
        "/teams/new/",
        "/teams/payments/",
        "/services/",
        "/journeys/",
        "/taxonomy/",
        "/taxonomy/severities/SEV1/edit/",
        "/slas/",
        "/slas/SLA-0001/",
        "/slas/SLA-0001/history/",
        "/escalation/",
        "/escalation/ESC-0001/",
    ],
)
def test_anonymous_people_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


# Teams -----------------------------------------------------------------------


def test_team_list_shows_kind_contact_and_counts(reader_client, make_team, make_service):
    payments = make_team("Payments", pager_handle="payments-oncall")
    make_team("Governance", is_sla_committee=True)
    make_service("Checkout", owner_team=payments)
    make_service("Refunds", owner_team=payments)

    html = page(reader_client, "team_list")

    payments_row = table_row(html, ">Payments</a>")
    assert "<td>Page: payments-oncall</td>" in payments_row
    assert "<td>2</td>" in payments_row  # services owned
    assert "SLA committee" in html
    assert "New team" not in html  # the reader may not create teams


def test_team_list_is_paginated_by_25(reader_client, make_team):
    for number in range(26):
        make_team(f"Team {number:02d}")

    first = page(reader_client, "team_list")
    second = page(reader_client, "team_list", page=2)

    assert "Page 1 of 2 (26 in all)" in first
    assert "Team 24" in first and "Team 25" not in first
    assert "Team 25" in second


def test_empty_lists_say_so(reader_client):
    assert "No teams yet." in page(reader_client, "team_list")
    assert "No services yet." in page(reader_client, "service_list")
    assert "No customer journeys yet." in page(reader_client, "journey_list")
    assert "No severities defined yet." in page(reader_client, "taxonomy")
    assert "No SLAs yet." in page(reader_client, "sla_list")
    assert "No escalation matrices yet." in page(reader_client, "matrix_list")


def test_team_detail_shows_contacts_members_and_what_the_team_is_part_of(
    reader_client, make_team, make_user, make_service, make_sla, make_matrix, severities
):
    payments = make_team(
        "Payments", pager_handle="payments-oncall", chat_channel="#payments", fallback_channel=Channel.CHAT
    )
    platform = make_team("Platform")
    make_user("alice", first_name="Alice", last_name="Approver", approver_for=[payments])
    make_user("bob", first_name="Bob", last_name="Member", teams=[payments])
    checkout = make_service("Checkout", owner_team=payments)
    make_sla("Checkout availability", service=checkout, consumer_teams=[platform])
    make_sla("Cluster capacity", service=make_service("Kubernetes", owner_team=platform), consumer_teams=[payments])
    platform_service = make_service("Ingress", owner_team=platform)
    make_matrix(
        platform_service,
        steps=[
            EscalationStep(
                severity=severities["SEV1"], level=1, wait=timedelta(minutes=10), team=platform, channel="page"
            ),
            EscalationStep(
                severity=severities["SEV1"], level=2, wait=timedelta(minutes=20), team=payments, channel="chat"
            ),
        ],
        responsibilities=[Responsibility(duty="customer_communication", team=payments)],
    )

    html = page(reader_client, "team_detail", "payments")

    assert "<h1>Payments</h1>" in html
    assert "Page: payments-oncall" in html
    assert "Chat: #payments" in html
    assert '<span class="badge badge-ok">Approver</span>' in table_row(html, "Alice Approver")
    assert "<td>Member</td>" in table_row(html, "Bob Member")
    assert "Checkout" in html
    assert "Checkout availability" in html  # provided
    assert "Cluster capacity" in html  # consumed
    assert "Notified at SEV1 level 2, by chat" in html
    assert "Communication to customers" in html
    assert url("team_history", "payments") in html


def test_team_detail_of_an_unknown_team_is_404(reader_client):
    assert reader_client.get(url("team_detail", "nobody")).status_code == 404


# Services --------------------------------------------------------------------


def test_service_list_filters_by_tier_and_team(reader_client, make_team, make_service):
    payments, platform = make_team("Payments"), make_team("Platform")
    make_service("Checkout", owner_team=payments, tier=ServiceTier.CRITICAL)
    make_service("Invoices", owner_team=payments, tier=ServiceTier.STANDARD)
    make_service("Ingress", owner_team=platform, tier=ServiceTier.CRITICAL)

    critical = page(reader_client, "service_list", tier="critical")
    of_payments = page(reader_client, "service_list", team="payments")
    both = page(reader_client, "service_list", tier="critical", team="payments")
    none = page(reader_client, "service_list", tier="standard", team="platform")

    assert ("Checkout" in critical, "Ingress" in critical, "Invoices" in critical) == (True, True, False)
    assert ("Checkout" in of_payments, "Invoices" in of_payments, "Ingress" in of_payments) == (True, True, False)
    assert ("Checkout" in both, "Invoices" in both, "Ingress" in both) == (True, False, False)
    assert "No services match these filters." in none
    assert '<label for="id_tier">' in critical and '<label for="id_team">' in critical


def test_service_list_ignores_an_unknown_filter_value(reader_client, make_service):
    make_service("Checkout")

    html = page(reader_client, "service_list", team="no-such-team", tier="bogus")

    assert "Checkout" in html


def test_service_detail_shows_dependencies_both_ways_journeys_slas_and_matrix(
    reader_client, make_service, make_journey, make_sla, make_matrix
):
    database = make_service("Ledger database")
    checkout = make_service("Checkout", dependencies=[database], description="Takes the money.")
    make_service("Storefront", dependencies=[checkout])
    make_journey("Buy a ticket", services=[checkout])
    sla = make_sla("Checkout availability", service=checkout)
    matrix = make_matrix(checkout)

    html = page(reader_client, "service_detail", "checkout")

    depends_on = html[html.index("<h2>Depends on</h2>") : html.index("<h2>Depended on by</h2>")]
    depended_on_by = html[html.index("<h2>Depended on by</h2>") : html.index("<h2>Customer journeys</h2>")]
    assert "Ledger database" in depends_on and "Storefront" not in depends_on
    assert "Storefront" in depended_on_by and "Ledger database" not in depended_on_by
    assert "Buy a ticket" in html
    assert sla.reference in html and "Checkout availability" in html
    assert matrix.get_absolute_url() in html
    assert "Takes the money." in html


def test_service_without_matrix_or_links_shows_empty_states(reader_client, make_service):
    make_service("Lonely")

    html = page(reader_client, "service_detail", "lonely")

    assert "None yet" in html
    assert "This service depends on no other service." in html
    assert "No SLA covers this service yet." in html


# Customer journeys -----------------------------------------------------------


def test_journey_list_and_detail(reader_client, make_service, make_journey):
    checkout, payments = make_service("Checkout"), make_service("Payment gateway")
    make_journey(
        "Buy a ticket",
        services=[checkout, payments],
        description="A fan picks a seat and pays.",
        business_impact="Every failed checkout is a lost sale.",
    )

    listing = page(reader_client, "journey_list")
    detail = page(reader_client, "journey_detail", "buy-a-ticket")

    row = table_row(listing, "Buy a ticket")
    assert "<td>A fan picks a seat and pays.</td>" in row and "<td>2</td>" in row
    assert "Every failed checkout is a lost sale." in detail
    assert "Checkout" in detail and "Payment gateway" in detail


# Taxonomy --------------------------------------------------------------------


def test_taxonomy_lists_severities_by_rank_with_customer_impact(reader_client, severities, make_category):
    make_category("Data integrity", description="Wrong or lost data.")

    html = page(reader_client, "taxonomy")

    assert html.index("SEV1") < html.index("SEV2") < html.index("SEV3") < html.index("SEV4")
    assert "Critical customer impact." in html
    assert 'id="severity-SEV1"' in html
    assert "Data integrity" in html and "Wrong or lost data." in html
    assert "New severity" not in html and "Edit<span" not in html  # the reader may not edit


def test_taxonomy_offers_editing_to_editors(editor_client, severities):
    html = page(editor_client, "taxonomy")

    assert url("severity_create") in html
    assert url("severity_update", "SEV1") in html
    assert url("category_create") in html


# Service level agreements ----------------------------------------------------


def test_sla_list_shows_parties_status_and_overdue_review_in_words(reader_client, make_team, make_service, make_sla):
    payments, platform = make_team("Payments"), make_team("Platform")
    make_sla(
        "Checkout availability",
        service=make_service("Checkout", owner_team=payments),
        consumer_teams=[platform],
        effective_from=timezone.now() - timedelta(days=200),
        review_cadence_days=90,
    )

    html = page(reader_client, "sla_list")

    assert "SLA-" in html and "Checkout availability" in html
    assert "Payments" in html and "Platform" in html
    assert "Active" in html
    assert "Review overdue" in html


def test_sla_list_filters(reader_client, make_team, make_service, make_sla):
    payments, platform, support = make_team("Payments"), make_team("Platform"), make_team("Support")
    checkout = make_service("Checkout", owner_team=payments)
    make_sla(
        "Overdue checkout",
        service=checkout,
        consumer_teams=[support],
        effective_from=timezone.now() - timedelta(days=200),
    )
    make_sla(
        "Fresh checkout", service=checkout, consumer_teams=[platform], effective_from=timezone.now() - timedelta(days=5)
    )
    make_sla(
        "Retired ingress",
        service=make_service("Ingress", owner_team=platform),
        consumer_teams=[support],
        status=AgreementStatus.RETIRED,
        effective_from=timezone.now() - timedelta(days=400),
    )

    def titles(**query):
        html = page(reader_client, "sla_list", **query)
        return {title for title in ("Overdue checkout", "Fresh checkout", "Retired ingress") if title in html}

    assert titles(team="platform") == {"Fresh checkout", "Retired ingress"}  # consumer of one, provider of the other
    assert titles(team="support") == {"Overdue checkout", "Retired ingress"}
    assert titles(service="checkout") == {"Overdue checkout", "Fresh checkout"}
    assert titles(status="retired") == {"Retired ingress"}
    # Retired agreements are past their date but no longer reviewed.
    assert titles(review="overdue") == {"Overdue checkout"}
    assert titles(review="overdue", team="platform") == set()
    assert "No SLAs match these filters." in page(reader_client, "sla_list", review="overdue", team="platform")


def test_sla_detail_reads_summary_first_then_terms(reader_client, make_team, make_service, make_sla, severities):
    payments, platform = make_team("Payments"), make_team("Platform")
    sla = make_sla(
        "Checkout availability",
        service=make_service("Checkout", owner_team=payments),
        consumer_teams=[platform],
        executive_summary="Checkout is **up** 99.9 % of the time.",
        business_impact="A lost sale per failed checkout.",
        technical_annex="Measured at the *load balancer*.",
        objectives=[
            Objective(
                indicator="Successful checkouts",
                target=Decimal("99.90"),
                unit="%",
                window=timedelta(days=28),
                dashboard_url="https://grafana.example.com/d/checkout",
            )
        ],
        response_targets=[
            target(severities["SEV1"], 30, 120, 1440, customer_update_interval=timedelta(minutes=30)),
            target(severities["SEV2"], 60, 480, 2880),
        ],
    )

    html = page(reader_client, "sla_detail", sla.reference)

    assert f"{sla.reference} · Checkout availability</h1>" in html
    assert "<strong>up</strong>" in html  # markdown rendered
    assert (
        html.index("Executive summary")
        < html.index("<h2>Objectives")
        < html.index("Response targets by severity")
        < html.index("<h2>Business impact")
        < html.index("<h2>Technical annex")
    )
    assert "Successful checkouts" in html and "99.9%" in html and "28 d" in html
    assert 'href="https://grafana.example.com/d/checkout"' in html
    sev1_row = table_row(html, ">SEV1</a>")
    assert "<td>any</td>" in sev1_row
    assert "<td>30 min</td>" in sev1_row and "<td>2 h</td>" in sev1_row and "<td>1 d</td>" in sev1_row
    assert "every 30 min" in sev1_row and "24×7" in sev1_row
    assert "<em>load balancer</em>" in html
    assert "Platform" in html and "Payments" in html
    assert 'aria-current="page">Terms</a>' in html
    assert url("sla_versions", sla.reference) in html and url("sla_history", sla.reference) in html
    assert "edited in the admin" not in html
    assert url("sla_propose", sla.reference) in html and url("sla_retire", sla.reference) in html


def test_sla_detail_sends_even_staff_through_a_change_request(client, make_user, make_sla):
    sla = make_sla()
    client.force_login(make_user(is_staff=True))

    html = page(client, "sla_detail", sla.reference)

    assert reverse("admin:sla_registry_servicelevelagreement_change", args=[sla.pk]) not in html
    assert "Propose a change" in html


def test_markdown_in_an_sla_is_shown_as_text_never_run(reader_client, make_sla):
    sla = make_sla(executive_summary="Hello <script>alert(1)</script>", technical_annex="<img src=x onerror=alert(1)>")

    html = page(reader_client, "sla_detail", sla.reference)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html


def test_review_becomes_overdue_when_its_date_passes(reader_client, make_sla):
    sla = make_sla(effective_from=timezone.now() - timedelta(days=85), review_cadence_days=90)
    assert "Review overdue" not in page(reader_client, "sla_detail", sla.reference)

    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        html = page(reader_client, "sla_detail", sla.reference)

    assert "Review overdue" in html


@pytest.mark.parametrize(
    "path",
    ["/slas/SLA-XYZ/", "/slas/ESC-0001/", "/slas/SLA-9999/", "/slas/SLA-99999999999999999999999/", "/slas/SLA-/"],
)
def test_bad_sla_references_are_404(reader_client, make_sla, make_matrix, path):
    make_sla()
    make_matrix()

    assert reader_client.get(path).status_code == 404
    assert reader_client.get(path + "history/").status_code == 404


def test_sla_reference_is_read_case_insensitively(reader_client, make_sla):
    sla = make_sla("Checkout availability")

    html = page(reader_client, "sla_detail", sla.reference.lower())

    assert "Checkout availability" in html


def test_sla_history_shows_who_changed_a_target_and_why(reader_client, make_user, make_sla, severities):
    sla = make_sla(
        objectives=[
            Objective(indicator="Successful requests", target=Decimal("99.9")),
            Objective(indicator="Fast pages", target=Decimal("300"), unit="ms"),
        ]
    )
    negotiator = make_user("negotiator", first_name="Nina", last_name="Negotiator")
    actions.save_sla(
        sla,
        consumer_teams=list(sla.consumer_teams.all()),
        objectives=[Objective(indicator="Successful requests", target=Decimal("99.9"))],
        response_targets=[target(severities["SEV1"], 15, 120, 1440, customer_update_interval=timedelta(minutes=30))],
        acting_user=negotiator,
        reason="Faster acknowledgement agreed at the quarterly review",
    )

    html = page(reader_client, "sla_history", sla.reference)

    latest = html[: html.index("test set-up")]  # the newest change set comes first
    assert "Nina Negotiator" in latest
    assert "Reason: Faster acknowledgement agreed at the quarterly review" in latest
    assert "Response target SEV1, any category" in latest
    assert "<del>30 min</del></td><td><ins>15 min</ins>" in latest
    assert "Objective “Fast pages”</strong> deleted" in latest
    assert 'aria-current="page">History</a>' in html


def test_history_is_paginated(reader_client, make_user, make_team, admin_actor):
    team = make_team("Payments")
    for number in range(30):
        team.description = f"Revision {number}"
        actions.save_team(team, acting_user=admin_actor, reason=f"Revision {number}")

    first = page(reader_client, "team_history", "payments")
    second = page(reader_client, "team_history", "payments", page=2)

    assert "Page 1 of 2 (31 in all)" in first
    assert "Reason: Revision 29" in first and "Reason: Revision 4<" not in first
    assert "Reason: Revision 4<" in second and "Reason: test set-up" in second


# Escalation matrices ---------------------------------------------------------


@pytest.fixture
def checkout_matrix(make_team, make_service, make_matrix, severities):
    payments, platform = make_team("Payments", pager_handle="payments-oncall"), make_team("Platform")
    checkout = make_service("Checkout", owner_team=payments)
    sev1, sev2 = severities["SEV1"], severities["SEV2"]
    return make_matrix(
        checkout,
        notes="Read the **status page** first.",
        steps=[
            # Given out of order: the page shows them by severity, then level.
            EscalationStep(severity=sev2, level=1, wait=timedelta(hours=1), team=payments, channel="chat"),
            EscalationStep(
                severity=sev1,
                level=2,
                wait=timedelta(minutes=30),
                team=platform,
                channel="phone",
                fallback_channel="chat",
                bring_workarounds=True,
            ),
            EscalationStep(
                severity=sev1,
                level=1,
                wait=timedelta(minutes=15),
                team=payments,
                contact="Payments on-call lead",
                channel="page",
            ),
        ],
        responsibilities=[
            Responsibility(duty="incident_commander", team=payments, when="From declaration"),
            Responsibility(duty="customer_communication", team=platform, when="Every 30 minutes"),
        ],
        playbook_steps=[
            PlaybookStep(title="Confirm impact", timebox_minutes=10, checkpoint_question="Is it customer-facing?"),
            PlaybookStep(title="Roll back", timebox_minutes=20, instructions="Run `deploy rollback`."),
        ],
    )


def test_matrix_list(reader_client, checkout_matrix):
    html = page(reader_client, "matrix_list")

    row = table_row(html, checkout_matrix.reference)
    assert "Checkout escalation" in row and "Checkout" in row and "Payments" in row
    assert "<td>3</td>" in row  # steps


def test_matrix_detail_has_one_table_per_severity_in_level_order(reader_client, checkout_matrix):
    html = page(reader_client, "matrix_detail", checkout_matrix.reference)

    sev1 = html[html.index('<h3 id="severity-SEV1">') : html.index('<h3 id="severity-SEV2">')]
    assert sev1.index("Level 1") < sev1.index("Level 2")
    assert "Payments</a>: Payments on-call lead" in sev1
    assert "payments-oncall" in sev1  # where the page goes
    assert "15 min" in sev1 and "30 min" in sev1
    assert "timeline, affected services, known workarounds" in sev1
    assert html.index("Incident commander") < html.index("<h2>Playbook")
    assert "Every 30 minutes" in html
    assert html.index("Confirm impact") < html.index("Roll back")
    assert "timebox 10 min" in html and "Is it customer-facing?" in html
    assert "<code>deploy rollback</code>" in html
    assert "<strong>status page</strong>" in html
    assert 'aria-current="page">Terms</a>' in html


def test_matrix_history_includes_its_steps(reader_client, checkout_matrix, severities, admin_actor):
    steps = list(checkout_matrix.steps.all())
    for step in steps:
        step.pk = None
        if (step.severity.key, step.level) == ("SEV1", 1):
            step.wait = timedelta(minutes=5)
    actions.save_escalation_matrix(
        checkout_matrix,
        steps=steps,
        responsibilities=list(checkout_matrix.responsibilities.all()),
        playbook_steps=[PlaybookStep(title="Confirm impact", timebox_minutes=10)],
        acting_user=admin_actor,
        reason="Page sooner",
    )

    html = page(reader_client, "matrix_history", checkout_matrix.reference)

    assert "Reason: Page sooner" in html
    assert "Escalation step SEV1 level 1" in html
    assert "<del>15 min</del></td><td><ins>5 min</ins>" in html
    assert "Playbook step “Roll back”</strong> deleted" in html


def test_bad_matrix_reference_is_404(reader_client, checkout_matrix):
    assert reader_client.get("/escalation/SLA-0001/").status_code == 404
    assert reader_client.get("/escalation/ESC-ABC/history/").status_code == 404


# Edit forms ------------------------------------------------------------------

TEAM_FORM = {
    "name": "Payments",
    "slug": "payments",
    "kind": "engineering",
    "description": "Moves money.",
    "chat_channel": "#payments",
    "email": "",
    "pager_handle": "payments-oncall",
    "primary_channel": "page",
    "fallback_channel": "chat",
    "reason": "New team after the checkout split",
}


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("team_create", ()),
        ("team_update", ("payments",)),
        ("service_create", ()),
        ("service_update", ("checkout",)),
        ("journey_create", ()),
        ("journey_update", ("buy-a-ticket",)),
        ("severity_create", ()),
        ("severity_update", ("SEV1",)),
        ("category_create", ()),
        ("category_update", ("availability",)),
    ],
)
def test_forms_are_forbidden_without_the_model_permission(
    reader_client, make_team, make_service, make_journey, severities, make_category, name, args
):
    checkout = make_service("Checkout", owner_team=make_team("Payments"))
    make_journey("Buy a ticket", services=[checkout])
    make_category("Availability")
    counts = [model.history.count() for model in (Team, Service, CustomerJourney, Severity, IncidentCategory)]

    assert reader_client.get(url(name, *args)).status_code == 403
    assert reader_client.post(url(name, *args), {**TEAM_FORM, "name": "Hijacked"}).status_code == 403
    assert [model.history.count() for model in (Team, Service, CustomerJourney, Severity, IncidentCategory)] == counts


def test_edit_buttons_are_shown_only_to_those_who_may_edit(reader_client, make_team):
    make_team("Payments")

    assert "Edit team" not in page(reader_client, "team_detail", "payments")
    assert "New team" not in page(reader_client, "team_list")


def test_editor_creates_a_team_and_history_names_them_and_their_reason(editor_client, editor):
    form_page = page(editor_client, "team_create")
    assert '<label for="id_reason">Reason for this change:</label>' in form_page

    response = editor_client.post(url("team_create"), TEAM_FORM, follow=True)

    team = Team.objects.get(slug="payments")
    assert response.redirect_chain == [(url("team_detail", "payments"), 302)]
    assert "Saved team “Payments”." in response.content.decode()
    created = team.history.get()
    assert (created.history_type, created.history_user, created.history_change_reason) == (
        "+",
        editor,
        "New team after the checkout split",
    )
    assert team.group.name == "team:payments"


def test_editor_edits_a_team(editor_client, editor, make_team):
    actions.add_team_member(make_team("Payments"), editor, acting_user=None, approver=True)
    form_page = page(editor_client, "team_update", "payments")
    assert 'value="Payments"' in form_page

    response = editor_client.post(
        url("team_update", "payments"), {**TEAM_FORM, "description": "Moves money safely.", "reason": "Clarify"}
    )

    assert response.status_code == 302
    team = Team.objects.get(slug="payments")
    assert team.description == "Moves money safely."
    latest = team.history.first()
    assert (latest.history_user, latest.history_change_reason) == (editor, "Clarify")


def test_invalid_team_shows_the_problem_on_the_field_and_writes_nothing(editor_client):
    teams, groups = Team.history.count(), Group.objects.count()

    response = editor_client.post(url("team_create"), {**TEAM_FORM, "pager_handle": "", "reason": ""})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["pager_handle"] == ["Required because the primary channel is page."]
    assert form.errors["reason"] == ["This field is required."]
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_pager_handle_error"><li>Required because the primary channel is page.' in html
    assert (Team.history.count(), Group.objects.count()) == (teams, groups)


def test_rejected_edit_keeps_the_page_on_the_saved_team(editor_client, editor, make_team):
    actions.add_team_member(make_team("Payments"), editor, acting_user=None, approver=True)
    make_team("Platform")

    response = editor_client.post(url("team_update", "payments"), {**TEAM_FORM, "name": "Platform"})

    assert response.status_code == 200
    assert "Team with this Name already exists." in response.content.decode()
    assert "<h1>Edit team Payments</h1>" in response.content.decode()
    assert Team.objects.get(slug="payments").name == "Payments"


def test_a_new_team_cannot_be_made_the_committee_or_leadership_on_the_form(editor_client, make_team):
    make_team("Governance", is_sla_committee=True)

    response = editor_client.post(
        url("team_create"), {**TEAM_FORM, "is_sla_committee": "on", "kind": TeamKind.LEADERSHIP, "reason": "New"}
    )

    assert response.status_code == 302
    team = Team.objects.get(slug="payments")
    assert (team.is_sla_committee, team.kind) == (False, TeamKind.ENGINEERING)
    assert list(Team.objects.filter(is_sla_committee=True).values_list("name", flat=True)) == ["Governance"]


def test_a_team_approver_cannot_take_the_committee_power_or_edit_another_team(client, make_user, make_team):
    committee = make_team("SLA Committee", is_sla_committee=True)
    payments = make_team("Payments")
    security = make_team("Security", email="security@example.com")
    client.force_login(make_user("payments.approver", approver_for=[payments]))

    made_leadership = client.post(
        url("team_update", "payments"), {**TEAM_FORM, "kind": TeamKind.LEADERSHIP, "is_sla_committee": "on"}
    )
    assert made_leadership.status_code == 302  # the contacts saved; kind and flag are not on the form
    payments.refresh_from_db()
    assert (payments.kind, payments.is_sla_committee) == (TeamKind.ENGINEERING, False)
    committee.refresh_from_db()
    assert committee.is_sla_committee

    hijack = client.post(
        url("team_update", "security"),
        {**TEAM_FORM, "name": "Security", "slug": "security", "email": "attacker@evil.example"},
    )
    assert hijack.status_code == 403
    security.refresh_from_db()
    assert security.email == "security@example.com"

    client.force_login(make_user("security.approver", approver_for=[security]))
    moved = client.post(
        url("team_update", "security"),
        {**TEAM_FORM, "name": "Security", "slug": "security", "email": "security-oncall@example.com", "reason": "Rota"},
    )
    assert moved.status_code == 302
    event = AuditEvent.objects.filter(action="team.contacts_changed", object_id=str(security.pk)).get()
    assert event.payload["changes"]["email"] == ["security@example.com", "security-oncall@example.com"]


def test_the_team_rules_are_refused_by_the_action_whoever_asks(make_team, admin_actor):
    payments = make_team("Payments")
    payments.kind = TeamKind.LEADERSHIP
    payments.is_sla_committee = True
    with pytest.raises(ValidationError) as refused:
        actions.save_team(payments, acting_user=admin_actor, reason="Power grab")
    assert set(refused.value.message_dict) == {"kind", "is_sla_committee"}
    payments.refresh_from_db()
    assert (payments.kind, payments.is_sla_committee) == (TeamKind.ENGINEERING, False)


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (ValidationError({"slug": "Taken a moment ago by another team."}), "slug"),
        (ValidationError({"group": "The team's group is in use."}), "__all__"),
        (ValidationError("The registry is read-only during the audit."), "__all__"),
    ],
)
def test_an_action_refusing_the_write_is_shown_on_the_form(editor_client, monkeypatch, error, field):
    def refuse(team, *, acting_user, reason):
        raise error

    monkeypatch.setattr(actions, "save_team", refuse)

    response = editor_client.post(url("team_create"), TEAM_FORM)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == error.messages
    assert error.messages[0].replace("'", "&#x27;") in response.content.decode()


def test_editor_creates_a_service_with_dependencies(editor_client, editor, make_team, make_service):
    payments = make_team("Payments")
    ledger = make_service("Ledger", owner_team=payments)

    response = editor_client.post(
        url("service_create"),
        {
            "name": "Checkout",
            "slug": "checkout",
            "owner_team": payments.pk,
            "tier": "critical",
            "description": "",
            "dependencies": [ledger.pk],
            "reason": "New service",
        },
    )

    assert response["Location"] == url("service_detail", "checkout")
    checkout = Service.objects.get(slug="checkout")
    assert list(checkout.dependencies.all()) == [ledger]
    assert (checkout.history.first().history_user, checkout.history.first().history_change_reason) == (
        editor,
        "New service",
    )


def test_a_service_cannot_be_chosen_as_its_own_dependency(editor_client, make_service):
    checkout = make_service("Checkout")
    ledger = make_service("Ledger")

    choices = page(editor_client, "service_update", "checkout")
    response = editor_client.post(
        url("service_update", "checkout"),
        {
            "name": "Checkout",
            "slug": "checkout",
            "owner_team": checkout.owner_team.pk,
            "tier": "critical",
            "dependencies": [checkout.pk],
            "reason": "Loop",
        },
    )

    assert f'<option value="{ledger.pk}">Ledger</option>' in choices
    assert f'<option value="{checkout.pk}">' not in choices
    assert response.status_code == 200
    assert "dependencies" in response.context["form"].errors
    assert not checkout.dependencies.exists()


def test_editor_creates_a_journey_with_its_services(editor_client, editor, make_service):
    checkout = make_service("Checkout")

    response = editor_client.post(
        url("journey_create"),
        {
            "name": "Buy a ticket",
            "slug": "buy-a-ticket",
            "description": "",
            "business_impact": "Lost sales.",
            "services": [checkout.pk],
            "reason": "Map the purchase journey",
        },
    )

    assert response["Location"] == url("journey_detail", "buy-a-ticket")
    journey = CustomerJourney.objects.get(slug="buy-a-ticket")
    assert list(journey.services.all()) == [checkout]
    assert journey.history.first().history_change_reason == "Map the purchase journey"


def test_editor_edits_a_severity_and_creates_a_category(editor_client, editor, severities):
    response = editor_client.post(
        url("severity_update", "SEV1"),
        {"key": "SEV1", "name": "Critical", "rank": 1, "customer_impact": "Checkout down.", "reason": "Sharper"},
    )
    assert response["Location"] == reverse("sla_registry:taxonomy") + "#severity-SEV1"
    severity = Severity.objects.get(key="SEV1")
    assert severity.customer_impact == "Checkout down."
    assert (severity.history.first().history_user, severity.history.first().history_change_reason) == (
        editor,
        "Sharper",
    )

    response = editor_client.post(
        url("category_create"), {"name": "Security", "slug": "security", "description": "", "reason": "Needed"}
    )
    assert response["Location"] == reverse("sla_registry:taxonomy") + "#category-security"
    assert IncidentCategory.objects.get(slug="security").history.get().history_user == editor


def test_duplicate_severity_rank_is_refused(editor_client, severities):
    response = editor_client.post(
        url("severity_create"),
        {"key": "SEV0", "name": "Apocalypse", "rank": 1, "customer_impact": "All.", "reason": "x"},
    )

    assert response.status_code == 200
    assert "rank" in response.context["form"].errors
    assert not Severity.objects.filter(key="SEV0").exists()


# Query counts ----------------------------------------------------------------
# Each page is read with 1 row and with 50: the same count proves it has no N+1.
# Every count includes the session and user lookups of the signed-in reader,
# and, on pages showing edit buttons, the reader's permissions (2 queries).


def assert_queries(client, django_assert_num_queries, path, expected):
    # Every count includes the session, the user and the navigation's "My approvals" count.
    with django_assert_num_queries(expected):
        response = client.get(path)
    assert response.status_code == 200


def test_team_list_queries(reader_client, django_assert_num_queries, make_team):
    make_team()
    assert_queries(reader_client, django_assert_num_queries, url("team_list"), 7)
    for _ in range(49):
        make_team()
    assert_queries(reader_client, django_assert_num_queries, url("team_list"), 7)


def test_team_detail_queries(
    reader_client, django_assert_num_queries, make_team, make_user, make_service, make_sla, make_matrix
):
    team, partner = make_team("Payments"), make_team("Partner")
    partner_service = make_service(owner_team=partner)

    def add_rows(count):
        for number in range(count):
            make_user(teams=[team], approver_for=[team] if number % 2 else [])
            service = make_service(owner_team=team)
            make_sla(service=service, consumer_teams=[partner], objectives=[], response_targets=[])
            make_sla(
                service=partner_service,
                provider_team=partner,
                consumer_teams=[team],
                objectives=[],
                response_targets=[],
            )
            make_matrix(service)

    add_rows(1)
    assert_queries(reader_client, django_assert_num_queries, url("team_detail", "payments"), 13)
    add_rows(49)
    assert_queries(reader_client, django_assert_num_queries, url("team_detail", "payments"), 13)


def test_service_list_queries(reader_client, django_assert_num_queries, make_team, make_service):
    team = make_team()
    previous = make_service(owner_team=team)
    assert_queries(reader_client, django_assert_num_queries, url("service_list"), 8)
    for _ in range(49):
        previous = make_service(owner_team=team, dependencies=[previous])
    assert_queries(reader_client, django_assert_num_queries, url("service_list"), 8)


def test_service_detail_queries(
    reader_client, django_assert_num_queries, make_team, make_service, make_journey, make_sla, make_matrix
):
    team = make_team()
    checkout = make_service("Checkout", owner_team=team)
    make_matrix(checkout)

    def add_rows(count):
        for _ in range(count):
            dependency = make_service(owner_team=team)
            make_service(owner_team=team, dependencies=[checkout])
            actions.save_service(
                checkout,
                dependencies=[*checkout.dependencies.all(), dependency],
                acting_user=None,
                reason="One more",
            )
            make_journey(services=[checkout])
            make_sla(service=checkout, consumer_teams=[], objectives=[], response_targets=[])

    add_rows(1)
    assert_queries(reader_client, django_assert_num_queries, url("service_detail", "checkout"), 11)
    add_rows(49)
    assert_queries(reader_client, django_assert_num_queries, url("service_detail", "checkout"), 11)


def test_journey_list_queries(reader_client, django_assert_num_queries, make_team, make_service, make_journey):
    service = make_service(owner_team=make_team())
    make_journey(services=[service])
    assert_queries(reader_client, django_assert_num_queries, url("journey_list"), 7)
    for _ in range(49):
        make_journey(services=[service])
    assert_queries(reader_client, django_assert_num_queries, url("journey_list"), 7)


def test_journey_detail_queries(reader_client, django_assert_num_queries, make_team, make_service, make_journey):
    team = make_team()
    services = [make_service(owner_team=team)]
    journey = make_journey("Buy a ticket", services=services)
    assert_queries(reader_client, django_assert_num_queries, url("journey_detail", "buy-a-ticket"), 7)
    services += [make_service(owner_team=team) for _ in range(49)]
    actions.save_journey(journey, services=services, acting_user=None, reason="All of them")
    assert_queries(reader_client, django_assert_num_queries, url("journey_detail", "buy-a-ticket"), 7)


def test_taxonomy_queries(reader_client, django_assert_num_queries, admin_actor, make_category):
    def add_rows(first, count):
        for rank in range(first, first + count):
            actions.save_severity(
                Severity(key=f"SEV{rank}", name=f"Level {rank}", rank=rank, customer_impact="Some."),
                acting_user=admin_actor,
                reason="set-up",
            )
            make_category(f"Category {rank}")

    add_rows(1, 1)
    assert_queries(reader_client, django_assert_num_queries, url("taxonomy"), 7)
    add_rows(2, 49)
    assert_queries(reader_client, django_assert_num_queries, url("taxonomy"), 7)


def test_sla_list_queries(reader_client, django_assert_num_queries, make_team, make_service, make_sla):
    provider, consumers = make_team(), [make_team(), make_team()]
    service = make_service(owner_team=provider)
    make_sla(service=service, consumer_teams=consumers)
    assert_queries(reader_client, django_assert_num_queries, url("sla_list"), 8)
    for _ in range(49):
        make_sla(service=service, consumer_teams=consumers)
    assert_queries(reader_client, django_assert_num_queries, url("sla_list"), 8)


# A document's Terms tab renders its live snapshot: the document, the snapshot (4), its
# current version, its open change requests, then the names the terms use (SLA 4, matrix 3).
# The live SLA page also reads its objectives and, in one query whatever their number, their
# measurements, to show each objective's attainment (sla_registry.attainment): 2 more; and the
# document's latest periodic reviews (sla_registry.review_cycle): 1 more.
# tests/sla_registry/test_versions.py pins the same pages with versions and open requests.


def test_sla_detail_queries(reader_client, django_assert_num_queries, make_team, make_sla, make_category, severities):
    def rows(count):
        categories = [make_category(f"Category {IncidentCategory.objects.count()}") for _ in range(count)]
        return {
            "consumer_teams": [make_team() for _ in range(count)],
            "objectives": [Objective(indicator=f"Indicator {n}", target=Decimal("99")) for n in range(count)],
            "response_targets": [target(severities["SEV1"], 10, 20, 30, category=c) for c in categories],
        }

    def measure(sla):
        end = timezone.now() - timedelta(hours=1)
        for objective in sla.objectives.all():
            Measurement.objects.create(
                sla=sla,
                indicator=objective.indicator,
                period_start=end - timedelta(days=1),
                period_end=end,
                good=9,
                total=10,
            )

    sla = make_sla(**rows(1))
    measure(sla)
    assert_queries(reader_client, django_assert_num_queries, url("sla_detail", sla.reference), 17)
    actions.save_sla(sla, **rows(50), acting_user=None, reason="Many terms")
    measure(sla)
    assert sla.response_targets.count() == 50
    assert Measurement.objects.filter(sla=sla).count() == 51
    assert_queries(reader_client, django_assert_num_queries, url("sla_detail", sla.reference), 17)


def test_matrix_list_queries(reader_client, django_assert_num_queries, make_team, make_service, make_matrix):
    team = make_team()
    make_matrix(make_service(owner_team=team))
    assert_queries(reader_client, django_assert_num_queries, url("matrix_list"), 5)
    for _ in range(49):
        make_matrix(make_service(owner_team=team))
    assert_queries(reader_client, django_assert_num_queries, url("matrix_list"), 5)


def test_matrix_detail_queries(
    reader_client, django_assert_num_queries, make_team, make_service, make_matrix, severities, admin_actor
):
    teams = [make_team() for _ in range(7)]
    matrix = make_matrix(make_service(owner_team=teams[0]))
    assert_queries(reader_client, django_assert_num_queries, url("matrix_detail", matrix.reference), 14)

    duties = [choice for choice, _ in Responsibility._meta.get_field("duty").choices]
    actions.save_escalation_matrix(
        matrix,
        steps=[
            EscalationStep(
                severity=severities[f"SEV{1 + n % 4}"],
                level=1 + n // 4,
                wait=timedelta(minutes=5),
                team=teams[n % 7],
                channel="page",
            )
            for n in range(50)
        ],
        responsibilities=[Responsibility(duty=duties[n % 8], team=teams[n // 8]) for n in range(50)],
        playbook_steps=[PlaybookStep(title=f"Step {n}", timebox_minutes=5) for n in range(50)],
        acting_user=admin_actor,
        reason="Many steps",
    )
    assert_queries(reader_client, django_assert_num_queries, url("matrix_detail", matrix.reference), 14)


# Accessibility ---------------------------------------------------------------


def test_pages_have_ordered_headings_labelled_controls_and_scoped_headers(
    editor_client, editor, checkout_matrix, make_sla, make_journey, make_user
):
    checkout = checkout_matrix.service
    sla = make_sla(service=checkout)
    make_journey("Buy a ticket", services=[checkout])
    make_user(teams=[checkout.owner_team], approver_for=[checkout.owner_team])
    actions.add_team_member(checkout.owner_team, editor, acting_user=None, approver=True)  # may edit its contacts
    pages = [
        ("team_list",),
        ("team_detail", checkout.owner_team.slug),
        ("team_history", checkout.owner_team.slug),
        ("team_create",),
        ("team_update", checkout.owner_team.slug),
        ("service_list",),
        ("service_detail", "checkout"),
        ("service_update", "checkout"),
        ("journey_list",),
        ("journey_detail", "buy-a-ticket"),
        ("journey_update", "buy-a-ticket"),
        ("taxonomy",),
        ("severity_update", "SEV1"),
        ("category_create",),
        ("sla_list",),
        ("sla_detail", sla.reference),
        ("sla_history", sla.reference),
        ("matrix_list",),
        ("matrix_detail", checkout_matrix.reference),
        ("matrix_history", checkout_matrix.reference),
    ]

    problems = {name: accessibility_problems(page(editor_client, name, *args)) for name, *args in pages}

    assert {name: found for name, found in problems.items() if found} == {}
