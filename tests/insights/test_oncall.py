"""The on-call card: who to page for a service at a severity, how, with what targets, and what changed lately.

The clock is frozen at NOW, so "72 hours ago" and "before the change" are known moments.
Agreements are read from their versions, so every fixture records one (as the
portal does when it takes a document over); version 2 is made the real way, by a
change request every affected team approves.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from approvals import actions as approval_actions
from insights.oncall import build_card
from releases.choices import ReleaseKind, ReleaseStatus
from reviews.models import ActionItem
from sla_registry import actions
from sla_registry.choices import Channel, Coverage, TeamKind
from sla_registry.documents import EscalationMatrixKind
from sla_registry.models import EscalationStep, Objective, PlaybookStep, ResponseTarget, Responsibility
from tests.html import accessibility_problems, body_rows, fragment, section, table_row, text_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
CHANGED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Autouse, so it runs before the fixtures that write: every row gets a known time."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def card_url(slug, **query):
    return reverse("oncall_card", kwargs={"slug": slug}), query


def get(client, slug, status=200, **query):
    path, query = card_url(slug, **query)
    response = client.get(path, query)
    assert response.status_code == status
    return response.content.decode()


def record_versions(*documents, admin_actor):
    for document in documents:
        approval_actions.record_baseline_version(document, acting_user=admin_actor)


def step(severity, level, minutes, team, channel, **fields):
    return EscalationStep(
        severity=severity, level=level, wait=timedelta(minutes=minutes), team=team, channel=channel, **fields
    )


def target(severity, acknowledge, restore, resolve, **fields):
    return ResponseTarget(
        severity=severity,
        time_to_acknowledge=timedelta(minutes=acknowledge),
        time_to_restore=timedelta(minutes=restore),
        time_to_resolve=timedelta(minutes=resolve),
        **fields,
    )


@pytest.fixture
def reader_client(client, make_user):
    client.force_login(make_user("reader"))
    return client


@pytest.fixture
def checkout(make_team, make_service, make_sla, make_matrix, make_release, make_review, severities, admin_actor):
    """Checkout, which depends on the Payments Gateway, with everything an on-call card shows."""
    payments = make_team("Payments", pager_handle="payments-pager", chat_channel="#payments-incidents")
    platform = make_team("Platform", pager_handle="platform-pager", email="plat@example.com")
    comms = make_team("Customer Care", kind=TeamKind.CUSTOMER_SUPPORT)
    merchants = make_team("Merchants")
    gateway = make_service("Payments Gateway", owner_team=platform)
    make_service("Search", owner_team=platform)
    service = make_service("Checkout", owner_team=payments, dependencies=[gateway])
    sev1, sev2 = severities["SEV1"], severities["SEV2"]
    matrix = make_matrix(
        service,
        steps=[
            step(sev1, 1, 15, payments, Channel.PAGE, contact="Checkout on-call", fallback_channel=Channel.CHAT),
            step(sev1, 2, 10, platform, Channel.PHONE, contact="Platform lead", fallback_channel=Channel.EMAIL),
            step(sev1, 3, 30, comms, Channel.CHAT, bring_workarounds=True),
            step(sev2, 1, 60, payments, Channel.CHAT, contact="Checkout day team"),
        ],
        responsibilities=[
            Responsibility(duty="incident_commander", team=payments, when="From declaration"),
            Responsibility(duty="customer_communication", team=comms, when="Every 30 minutes"),
            Responsibility(duty="executive_communication", team=platform, when="Within the first hour"),
        ],
        playbook_steps=[
            PlaybookStep(title="Confirm impact", timebox_minutes=10, checkpoint_question="Are orders failing?"),
            PlaybookStep(title="Roll back the last deploy", timebox_minutes=20, checkpoint_question="Did errors drop?"),
        ],
    )
    sla = make_sla(
        "Checkout for merchants",
        service=service,
        provider_team=payments,
        consumer_teams=[merchants, comms],
        objectives=[Objective(indicator="Orders accepted", target=Decimal("99.9"), unit="%")],
        response_targets=[
            target(sev1, 5, 60, 240, customer_update_interval=timedelta(minutes=30)),
            target(sev2, 30, 240, 1440, coverage=Coverage.BUSINESS_HOURS),
        ],
    )
    record_versions(matrix, sla, admin_actor=admin_actor)

    make_release("Gateway 2026.40", services=[gateway], starts_at=NOW - timedelta(hours=10))
    make_release("Checkout 2026.41", services=[service], starts_at=NOW + timedelta(hours=12), risk="high")
    make_release("Checkout 2026.37", services=[service], starts_at=NOW - timedelta(days=4))
    make_release("Checkout 2026.43", services=[service], starts_at=NOW + timedelta(hours=30))
    make_release(
        "Checkout hotfix", services=[service], starts_at=NOW - timedelta(hours=2), status=ReleaseStatus.CANCELLED
    )
    make_release("Search 2026.40", services=[make_service("Unrelated")], starts_at=NOW - timedelta(hours=1))
    make_release(
        "Quarter-end freeze",
        services=[service, gateway],
        kind=ReleaseKind.FREEZE,
        starts_at=NOW - timedelta(days=1),
        lasts=timedelta(days=3),
    )
    make_release(
        "Old freeze",
        services=[service],
        kind=ReleaseKind.FREEZE,
        starts_at=NOW - timedelta(days=20),
        lasts=timedelta(days=2),
    )

    for days, title in [(20, "Oldest outage"), (10, "Card declines"), (5, "Slow basket"), (1, "Payment timeouts")]:
        make_review([service], started_at=NOW - timedelta(days=days), title=title)
    make_review(
        [service],
        started_at=NOW - timedelta(days=3),
        title="Lost orders",
        action_items=[
            ActionItem(title="Alert on basket errors", owner_team=payments, due_date=NOW.date() - timedelta(days=2)),
            ActionItem(title="Add a canary", owner_team=platform, status="in_progress"),
            ActionItem(title="Write the runbook", owner_team=payments, status="done"),
        ],
    )
    make_review(
        [service],
        started_at=NOW - timedelta(hours=3),
        title="Tabletop: gateway down",
        is_drill=True,
        drill_kind="tabletop",
    )
    make_review([gateway], started_at=NOW - timedelta(hours=5), title="Gateway only")
    make_review([service], started_at=NOW + timedelta(hours=1), title="After the moment")
    return service


# The card's content ----------------------------------------------------------------


def test_escalation_steps_of_sev1_in_order_with_waits_channels_and_fallbacks(reader_client, checkout):
    html = get(reader_client, "checkout")

    # Each level: when it is reached and how long to wait for an answer; who (the team, the role the matrix
    # names); its channel and fallback at the team's addresses, then the team's other contacts; what to bring.
    assert body_rows(section(html, "escalation")) == [
        "Level 1 at once wait 15 min Payments: Checkout on-call Page payments-pager "
        "Fallback: Chat #payments-incidents Also: Email payments@example.com timeline, affected services",
        "Level 2 after 15 min wait 10 min Platform: Platform lead Phone platform-pager "
        "Fallback: Email plat@example.com Also: Chat #platform timeline, affected services",
        "Level 3 after 25 min wait 30 min Customer Care Chat #customer-care "
        "Also: Pager customer-care-oncall · Email customer-care@example.com "
        "timeline, affected services, known workarounds",
    ]
    assert f'href="{checkout.owner_team.get_absolute_url()}">Payments</a>' in section(html, "escalation")
    assert html.index('id="escalation"') < html.index('id="targets"') < html.index('id="responsibilities"')


def test_contacts_are_links_an_engineer_can_follow(reader_client, checkout, admin_actor, settings):
    settings.CHAT_URL_TEMPLATE = "https://slack.com/app_redirect?channel={channel}"
    change_contacts("platform", admin_actor, pager_handle="+44 20 7946 0958")

    escalation = section(get(reader_client, "checkout"), "escalation")

    # The phone channel reaches Platform through its pager handle, written as a number: a tel: link.
    assert '<a class="oncall-address" href="tel:+442079460958">+44 20 7946 0958</a>' in escalation
    assert '<a class="oncall-address" href="mailto:plat@example.com">plat@example.com</a>' in escalation
    assert (
        '<a class="oncall-address" href="https://slack.com/app_redirect?channel=payments-incidents">'
        "#payments-incidents</a>"
    ) in escalation
    # A pager handle that is not a number stays text: the card makes up no phone number.
    assert '<span class="oncall-address">payments-pager</span>' in escalation
    assert 'href="tel:' not in table_row(escalation, "Level 1")


def test_without_a_chat_address_the_channel_is_text(reader_client, checkout, settings):
    settings.CHAT_URL_TEMPLATE = ""

    escalation = section(get(reader_client, "checkout"), "escalation")

    assert '<span class="oncall-address">#payments-incidents</span>' in escalation
    assert "slack.com" not in escalation


def test_targets_responsibilities_and_playbook(reader_client, checkout):
    html = get(reader_client, "checkout")

    targets = section(html, "targets")
    sla = checkout.slas.get()
    assert f'<a href="{sla.get_absolute_url()}">{sla.reference}</a> Checkout for merchants' in targets
    assert body_rows(targets) == ["any 5 min 1 h 4 h every 30 min 24×7"]
    assert "Payments provides it to Customer Care, Merchants" in text_of(targets)
    assert f'href="{sla.consumer_teams.get(name="Merchants").get_absolute_url()}">Merchants</a>' in targets
    assert body_rows(section(html, "responsibilities")) == [
        "Incident commander Payments From declaration",
        "Communication to customers Customer Care Every 30 minutes",
        "Communication to executives Platform Within the first hour",
    ]
    first_step = text_of(section(html, "first-step"))
    assert "Confirm impact (timebox 10 min) Checkpoint: Are orders failing?" in first_step
    assert "Then 1 more step: the playbook below." in first_step
    playbook = text_of(section(html, "playbook"))
    assert "Roll back the last deploy (timebox 20 min) Checkpoint: Did errors drop?" in playbook
    assert "Confirm impact" not in playbook


def test_the_first_screen_holds_levels_one_to_three_the_targets_and_the_first_step(reader_client, checkout):
    html = get(reader_client, "checkout")

    first_screen = ["escalation", "targets", "first-step"]
    below = ["responsibilities", "playbook", "releases", "action-items", "reviews", "card-source"]
    places = [html.index(f'id="{anchor}"') for anchor in first_screen + below]
    assert places == sorted(places)
    # Nothing the engineer reads first waits behind the versions the card was read from.
    assert html.index("<dt>Based on</dt>") > html.index('id="reviews"')


def test_one_severity_control_of_links_that_keep_the_moment(reader_client, checkout):
    html = get(reader_client, "checkout", at="2026-10-01T07:30")

    # One control chooses the severity: links, so it works without JavaScript and from the keyboard.
    assert "<select" not in html
    severities = fragment(html, '<nav class="oncall-severities" aria-label="Severities">', "</nav>")
    assert [text_of(link) for link in re.findall(r"<a .*?</a>", severities)] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert re.search(r'<a href="\?at=2026-10-01T07%3A30&amp;severity=SEV2"[^>]*>SEV2</a>', severities)
    assert severities.count('aria-current="page"') == 1
    # The moment's form carries the chosen severity along, without a control of its own.
    form = fragment(html, '<form method="get" class="oncall-controls"', "</form>")
    assert '<input type="hidden" name="severity" value="SEV1">' in form
    assert html.count('name="severity"') == 1


def test_recent_releases_of_the_service_and_its_dependencies_and_the_freeze_in_force(reader_client, checkout):
    releases = section(get(reader_client, "checkout"), "releases")

    assert body_rows(releases) == [
        "Wed 30 Sep 22:00 Gateway 2026.40 Release Low Payments Gateway dependency",
        "Thu 1 Oct 20:00 upcoming Checkout 2026.41 Release High Checkout",
    ]
    assert "Checkout 2026.37" not in releases  # four days ago
    assert "Checkout 2026.43" not in releases  # 30 hours ahead
    assert "Checkout hotfix" not in releases  # cancelled
    assert "Search 2026.40" not in releases and "Old freeze" not in releases
    assert "Freeze window in force: Quarter-end freeze" in text_of(releases)
    assert "Checkout, Payments Gateway (dependency)" in text_of(releases)


def test_open_action_items_and_the_last_three_reviews_newest_first(reader_client, checkout):
    html = get(reader_client, "checkout")

    items = body_rows(section(html, "action-items"))
    assert [item.split(" ")[0:3] for item in items] == [["Alert", "on", "basket"], ["Add", "a", "canary"]]
    assert "overdue" in items[0] and "In progress" in items[1]
    assert "Write the runbook" not in html
    reviews = text_of(section(html, "reviews"))
    titles = ["Payment timeouts", "Lost orders", "Slow basket"]
    assert [reviews.index(title) for title in titles] == sorted(reviews.index(title) for title in titles)
    for left_out in ["Card declines", "Oldest outage", "Tabletop", "Gateway only", "After the moment"]:
        assert left_out not in reviews


def test_sev2_shows_sev2_steps_and_targets(reader_client, checkout):
    html = get(reader_client, "checkout", severity="SEV2")

    assert body_rows(section(html, "escalation")) == [
        "Level 1 at once wait 1 h Payments: Checkout day team Chat #payments-incidents "
        "Also: Pager payments-pager · Email payments@example.com timeline, affected services"
    ]
    assert body_rows(section(html, "targets")) == ["any 30 min 4 h 1 d — Business hours"]
    assert '<input type="hidden" name="severity" value="SEV2">' in html
    assert re.search(r'href="\?severity=SEV2" aria-current="page"[^>]*>SEV2</a>', html)


def test_a_severity_without_steps_says_so(reader_client, checkout):
    html = get(reader_client, "checkout", severity="SEV3")

    assert "had no SEV3 escalation steps" in section(html, "escalation")
    assert "sets no SEV3 target" in section(html, "targets")


def test_the_card_names_the_versions_it_read(reader_client, checkout):
    html = get(reader_client, "checkout")

    matrix, sla = checkout.escalation_matrix, checkout.slas.get()
    based_on = text_of(fragment(html, "<dt>Based on</dt>", "</dd>"))
    assert f"{matrix.reference} version 1, in force since 1 Sep 2026 08:00" in based_on
    assert f"{sla.reference} version 1" in based_on
    assert reverse("sla_registry:matrix_version", args=[matrix.reference, 1]) in html
    assert reverse("sla_registry:sla_version", args=[sla.reference, 1]) in html
    assert "(now)" in html


def test_the_service_page_links_the_card(reader_client, checkout):
    html = reader_client.get(reverse("sla_registry:service_detail", args=["checkout"])).content.decode()

    assert f'href="{reverse("oncall_card", args=["checkout"])}">On-call card</a>' in html


def test_the_card_is_accessible_and_has_no_inline_script_or_style(reader_client, checkout):
    html = get(reader_client, "checkout")

    assert accessibility_problems(html) == []
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert 'method="get"' in html and 'name="severity"' in html and 'type="datetime-local"' in html


# Empty states ----------------------------------------------------------------------


def test_a_service_with_nothing_says_so_in_every_section(reader_client, make_service, severities):
    make_service("Bare")

    html = get(reader_client, "bare")

    assert "Bare has no escalation matrix." in section(html, "escalation")
    assert "No SLA covers Bare." in section(html, "targets")
    assert "No escalation matrix in force at 1 Oct 2026 08:00 UTC" in section(html, "responsibilities")
    assert "No release or maintenance of Bare" in section(html, "releases")
    assert "No freeze window in force" in section(html, "releases")
    assert "No open action item" in section(html, "action-items")
    assert "No incident of Bare was reviewed" in section(html, "reviews")


def test_documents_never_versioned_are_left_out_with_a_note(reader_client, make_service, make_matrix, make_sla):
    service = make_service("Fresh")
    matrix, sla = make_matrix(service), make_sla(service=service)

    html = get(reader_client, "fresh")

    assert f"{matrix.reference} Fresh escalation has no recorded version yet" in section(html, "escalation")
    assert f"{sla.reference} Fresh SLA has no recorded version yet" in section(html, "targets")
    assert body_rows(section(html, "escalation")) == []


def test_a_retired_agreement_is_not_in_force(reader_client, make_service, make_sla, admin_actor):
    service = make_service("Legacy")
    sla = make_sla("Legacy terms", service=service, status="retired")
    record_versions(sla, admin_actor=admin_actor)

    targets = section(get(reader_client, "legacy"), "targets")

    assert f"{sla.reference} Legacy terms was retired at 2026-10-01 08:00 UTC." in targets
    assert "No SLA of Legacy was in force" in targets
    assert body_rows(targets) == []


# As of a moment --------------------------------------------------------------------


def change_matrix_wait(matrix, minutes, make_user):
    """Version 2 of the matrix, through a change request every required team approves."""
    kind = EscalationMatrixKind()
    current = kind.snapshot(matrix)
    author = make_user(teams=[matrix.owner_team])
    change_request = approval_actions.propose_change(
        "escalation_matrix",
        matrix,
        data={**current, "steps": [{**item, "wait_minutes": minutes} for item in current["steps"]]},
        summary="Escalate sooner",
        rationale="Too slow.",
        acting_user=author,
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=author)
    for required in change_request.required_approvals.select_related("team"):
        approver = make_user(approver_for=[required.team])
        change_request = approval_actions.decide_change_request(
            change_request, required.team, verdict="approve", acting_user=approver
        )
    return change_request


@pytest.fixture
def changed(governed_sla, submit_acknowledge, approve_all, make_matrix, make_user, admin_actor, clock):
    """Payments API at version 2 of its SLA (SEV1 acknowledged in 15 min, not 30) and of its matrix (5 min waits)."""
    matrix = make_matrix(governed_sla.sla.service)
    record_versions(matrix, admin_actor=admin_actor)
    clock.move_to(CHANGED, tick=False)
    approve_all(governed_sla, submit_acknowledge(governed_sla, 15))
    change_matrix_wait(matrix, 5, make_user)
    return governed_sla


def sev1_targets(html):
    return body_rows(section(html, "targets"))


def sev1_wait(html):
    return body_rows(section(html, "escalation"))[0]


def test_as_of_before_a_change_shows_the_old_terms_and_after_it_the_new(reader_client, changed):
    before = get(reader_client, "payments-api", at="2026-10-01T08:30")
    after = get(reader_client, "payments-api", at="2026-10-01T09:30")
    now = get(reader_client, "payments-api")

    assert sev1_targets(before) == ["any 30 min 2 h 1 d every 30 min 24×7"]
    assert " 15 min " in sev1_wait(before)
    assert "version 1" in text_of(before) and "(now at version 2)" in before
    assert 'value="2026-10-01T08:30"' in before
    for html in (after, now):
        assert sev1_targets(html) == ["any 15 min 2 h 1 d every 30 min 24×7"]
        assert " 5 min " in sev1_wait(html)
        assert "(now at version" not in html


def test_as_of_reads_the_picker_in_the_current_time_zone(reader_client, changed, settings):
    settings.TIME_ZONE = "Europe/Paris"  # UTC+2 in October: the change applied at 11:00 Paris time

    assert sev1_targets(get(reader_client, "payments-api", at="2026-10-01T10:59"))[0].startswith("any 30 min")
    assert sev1_targets(get(reader_client, "payments-api", at="2026-10-01T11:00"))[0].startswith("any 15 min")


def test_as_of_before_the_first_version_says_it_was_not_in_force(reader_client, changed):
    html = get(reader_client, "payments-api", at="2026-08-01T00:00")

    assert "was not in force yet at 2026-08-01 00:00 UTC" in section(html, "escalation")
    assert "No SLA of Payments API was in force" in section(html, "targets")
    assert "was not in force yet" in section(html, "targets")


def test_build_card_needs_no_request(changed, make_user):
    card = build_card(changed.sla.service, severity_key="SEV1", at=NOW + timedelta(minutes=30), user=make_user())

    assert card.agreements[0].targets[0].time_to_acknowledge == timedelta(minutes=30)
    assert card.steps[0].step.wait == timedelta(minutes=15)
    assert [version.number for version in card.versions_used] == [1, 1]


# Contacts as of a moment -----------------------------------------------------------
# The card for a past moment reaches each team as its history holds it then, not as its live row says today.

CONTACTS_CHANGED = NOW + timedelta(hours=1)  # after the card's moment, NOW + 30 min


def change_contacts(slug, admin_actor, **contacts):
    from sla_registry.models import Team

    team = Team.objects.get(slug=slug)
    for name, value in contacts.items():
        setattr(team, name, value)
    return actions.save_team(team, acting_user=admin_actor, reason="New rota")


@pytest.fixture
def new_contacts(checkout, admin_actor, clock):
    """An hour after NOW, Payments moves to a new pager rota and Platform to a new address (through save_team)."""
    clock.move_to(CONTACTS_CHANGED, tick=False)
    change_contacts("payments", admin_actor, pager_handle="payments-rota-2")
    change_contacts("platform", admin_actor, email="platform-oncall@example.com")
    return checkout


def test_the_card_as_of_before_a_contact_change_reaches_teams_as_they_were_and_says_what_changed_since(
    reader_client, new_contacts
):
    html = get(reader_client, "checkout", at="2026-10-01T08:30")

    escalation = section(html, "escalation")
    assert body_rows(escalation)[:2] == [
        "Level 1 at once wait 15 min Payments: Checkout on-call Page payments-pager "
        "Fallback: Chat #payments-incidents Also: Email payments@example.com timeline, affected services",
        "Level 2 after 15 min wait 10 min Platform: Platform lead Phone platform-pager "
        "Fallback: Email plat@example.com Also: Chat #platform timeline, affected services",
    ]
    assert "payments-rota-2" not in body_rows(escalation)[0]
    notice = text_of(fragment(escalation, '<div class="notice', "</div>"))
    assert notice.startswith("Contacts changed since 1 Oct 2026 08:30 UTC")
    assert "Payments: pager handle payments-pager → payments-rota-2 (fixture-admin, 1 Oct 2026 09:00 UTC)" in notice
    assert "Platform: email plat@example.com → platform-oncall@example.com (fixture-admin, 1 Oct 2026 09:00 UTC)" in (
        notice
    )


def test_the_card_now_reaches_teams_by_their_new_contacts_and_has_nothing_to_warn_about(reader_client, new_contacts):
    for html in (get(reader_client, "checkout"), get(reader_client, "checkout", at="2026-10-01T09:30")):
        rows = body_rows(section(html, "escalation"))
        assert "Page payments-rota-2 Fallback" in rows[0]
        assert "Email platform-oncall@example.com" in rows[1]
        assert "Contacts changed since" not in html


def test_the_card_as_of_a_renamed_team_shows_the_name_it_had_then(reader_client, new_contacts, admin_actor, clock):
    clock.move_to(CONTACTS_CHANGED + timedelta(hours=1), tick=False)
    change_contacts("payments", admin_actor, name="Payments Core")

    before = section(get(reader_client, "checkout", at="2026-10-01T08:30"), "escalation")
    now = section(get(reader_client, "checkout"), "escalation")

    assert body_rows(before)[0].startswith("Level 1 at once wait 15 min Payments: Checkout on-call")
    assert f'href="{new_contacts.owner_team.get_absolute_url()}">Payments</a>' in before
    assert body_rows(now)[0].startswith("Level 1 at once wait 15 min Payments Core: Checkout on-call")


def test_the_card_as_of_before_a_team_was_recorded_shows_its_first_contacts_and_says_so(reader_client, new_contacts):
    # Version 1 of the matrix is effective from 30 days before NOW, when the portal had no record of the teams.
    html = get(reader_client, "checkout", at="2026-09-15T12:00")

    escalation = section(html, "escalation")
    assert "Page payments-pager" in body_rows(escalation)[0]
    assert "Payments: pager handle payments-pager → payments-rota-2" in text_of(escalation)
    recorded = text_of(fragment(escalation, '<p class="muted contacts-recorded-after">', "</p>"))
    assert recorded.startswith("Customer Care, Payments, Platform: no record of their contacts at that moment")
    assert "shown as first recorded (1 Oct 2026 08:00 UTC" in recorded


def test_the_card_as_of_a_moment_reads_contacts_in_as_many_queries_as_now(
    reader_client, new_contacts, django_assert_num_queries
):
    # The teams of that moment, their contact changes since and today's links come in the one query that reads
    # today's teams for the card of now.
    with django_assert_num_queries(QUERIES):
        html = get(reader_client, "checkout", severity="SEV1", at="2026-10-01T08:30")
    assert "Contacts changed since" in html


# Visibility ------------------------------------------------------------------------


def test_a_restricted_review_shows_only_to_those_allowed(client, make_team, make_service, make_review, make_user):
    security = make_team("Security")
    service = make_service("Vault", owner_team=make_team("Keys"))
    make_review(
        [service],
        title="Leaked signing key",
        is_restricted=True,
        restricted_to=[security],
        action_items=[ActionItem(title="Rotate every key", owner_team=security)],
    )

    client.force_login(make_user("plain"))
    hidden = get(client, "vault")
    client.force_login(make_user("analyst", teams=[security]))
    shown = get(client, "vault")

    assert "Leaked signing key" not in hidden and "Rotate every key" not in hidden
    assert "Leaked signing key" in section(shown, "reviews") and "Rotate every key" in section(shown, "action-items")


# Bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("at", ["yesterday", "2026-02-30T10:00", "2026-10-01T25:00", "0001-01-01T00:00", "9999-12-31"])
def test_an_unreadable_moment_says_so_and_shows_now(reader_client, checkout, at):
    html = get(reader_client, "checkout", at=at)

    assert "is not a date and time between 1970 and 2100: showing the card as it applies now." in html
    assert "(now)" in html and "Gateway 2026.40" in html


def test_an_unknown_severity_says_so_and_shows_sev1(reader_client, checkout):
    html = get(reader_client, "checkout", severity="<b>SEV9</b>")

    assert "There is no severity “&lt;b&gt;SEV9&lt;/b&gt;”: showing SEV1." in html
    assert len(body_rows(section(html, "escalation"))) == 3


def test_an_unknown_service_is_not_found(reader_client):
    get(reader_client, "no-such-service", status=404)


def test_the_card_needs_a_signed_in_user(client, checkout):
    path, _ = card_url("checkout")
    assert client.get(path).status_code == 302


# Queries ---------------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_the_data(
    reader_client,
    django_assert_num_queries,
    checkout,
    make_team,
    make_service,
    make_sla,
    make_release,
    make_review,
    severities,
    admin_actor,
):
    def card_queries(expected):
        with django_assert_num_queries(expected):
            html = get(reader_client, "checkout", severity="SEV1")
        return html

    card_queries(QUERIES)

    matrix = checkout.escalation_matrix
    teams = [make_team() for _ in range(8)]
    many_steps = [
        step(severity, level, 5, teams[level - 1], Channel.PAGE)
        for severity in severities.values()
        for level in range(1, 9)
    ]
    actions.save_escalation_matrix(
        matrix,
        steps=many_steps,
        responsibilities=[Responsibility(duty="incident_commander", team=team) for team in teams],
        playbook_steps=[PlaybookStep(title=f"Step {n}", timebox_minutes=5) for n in range(1, 15)],
        acting_user=admin_actor,
        reason="More of everything",
    )
    record_versions(matrix, admin_actor=admin_actor)
    for number in range(6):
        sla = make_sla(
            f"SLA {number}",
            service=checkout,
            consumer_teams=teams[:number],
            response_targets=[target(severities["SEV1"], 5 + number, 60, 240), target(severities["SEV2"], 30, 60, 240)],
        )
        record_versions(sla, admin_actor=admin_actor)
    dependencies = [make_service(owner_team=teams[0]) for _ in range(5)]
    actions.save_service(
        checkout, dependencies=[*checkout.dependencies.all(), *dependencies], acting_user=None, reason="More"
    )
    for number in range(20):
        make_release(services=[dependencies[number % 5], checkout], starts_at=NOW - timedelta(hours=number))
    for number in range(10):
        make_review(
            [checkout],
            started_at=NOW - timedelta(hours=number + 1),
            action_items=[ActionItem(title=f"Fix {number}", owner_team=teams[number % 8])],
        )

    html = card_queries(QUERIES)

    # Levels 1 to 3 first; the five others after the targets and the playbook's first step.
    assert len(body_rows(section(html, "escalation"))) == 3
    assert len(body_rows(section(html, "further-levels"))) == 5
    assert len(re.findall(r"<h3><a href=\"/slas/", section(html, "targets"))) == 7
    assert len(body_rows(section(html, "releases"))) == 2 + 20


# Session, user and the navigation's approval count; then the service and the card (see insights.oncall).
# 16 since the card says who is on call: one query reads the paged teams' schedules with the shifts at the moment.
QUERIES = 16
