"""Versions, time travel and diffs on the SLA and escalation-matrix pages.

Version 2 of an SLA is made the real way: a change request approved by every
affected team. The clock is frozen, so "before the change" is a known moment.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from approvals import actions as approval_actions
from approvals.models import DocumentVersion
from sla_registry import actions
from sla_registry.documents import EscalationMatrixKind
from sla_registry.models import EscalationStep, ServiceLevelAgreement
from tests.html import (
    accessibility_problems,
    body_rows,
    fragment,
    section,
    select_options,
    squeeze,
    table_row,
    text_of,
)

pytestmark = pytest.mark.django_db

TAKEN_OVER = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # the governed SLA is made (effective a month earlier)
CHANGED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # the last approval applies version 2


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Autouse, so it runs before the fixtures that write: every row gets a known time."""
    time_machine.move_to(TAKEN_OVER, tick=False)
    return time_machine


@pytest.fixture
def changed(governed_sla, submit_acknowledge, approve_all, clock):
    """The governed SLA at version 2: SEV1 acknowledged in 15 min instead of 30."""
    clock.move_to(CHANGED, tick=False)
    change_request = approve_all(governed_sla, submit_acknowledge(governed_sla, 15))
    governed_sla.change_request = change_request
    return governed_sla


@pytest.fixture
def reader_client(client, make_user):
    client.force_login(make_user("reader", first_name="Rita", last_name="Reader"))
    return client


def url(name, *args):
    return reverse(f"sla_registry:{name}", args=args)


def get(client, name, *args, status=200, **query):
    response = client.get(url(name, *args), query)
    assert response.status_code == status
    return response.content.decode()


def sev1_row(html):
    return table_row(html, ">SEV1</a>")


def notice(html):
    """The page's first notice (status or alert), whitespace collapsed."""
    return squeeze(fragment(html, '<div class="notice', "</div>"))


# The Terms tab ---------------------------------------------------------------


def test_detail_shows_the_current_version_and_the_change_request_that_made_it(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_detail", reference)

    assert "<td>15 min</td>" in sev1_row(html)
    assert f'href="{url("sla_version", reference, 2)}">Version 2</a>' in html
    assert "in force since" in html and "1 Oct 2026" in html
    assert f'href="{changed.change_request.get_absolute_url()}">{changed.change_request.reference}</a>' in html
    assert "Edited outside a change request" not in html
    assert 'aria-current="page">Terms</a>' in html
    assert url("sla_versions", reference) in html and url("sla_history", reference) in html


def test_detail_of_a_document_the_portal_took_over(reader_client, governed_sla):
    html = get(reader_client, "sla_detail", governed_sla.sla.reference)

    line = fragment(html, '<p class="version-line">', "</p>")
    assert ">Version 1</a>" in line
    assert "recorded when the portal took it over" in line
    assert "CR-" not in line


def test_detail_of_a_document_never_versioned_says_so(reader_client, make_sla):
    sla = make_sla()

    html = get(reader_client, "sla_detail", sla.reference)

    assert "No version recorded yet" in html


def test_detail_offers_to_propose_a_change_and_to_retire(reader_client, governed_sla, admin_actor):
    sla = governed_sla.sla

    html = get(reader_client, "sla_detail", sla.reference)

    assert f'href="{url("sla_propose", sla.reference)}">Propose a change</a>' in html
    assert f'href="{url("sla_retire", sla.reference)}">Retire</a>' in html
    assert "edited in the admin" not in html

    sla.status = "retired"
    sla.save()
    assert url("sla_retire", sla.reference) not in get(reader_client, "sla_detail", sla.reference)


def test_sla_list_offers_a_new_sla(reader_client):
    assert f'href="{url("sla_propose_new")}">New SLA</a>' in get(reader_client, "sla_list")
    assert f'href="{url("matrix_propose_new")}">New escalation matrix</a>' in get(reader_client, "matrix_list")


def test_detail_lists_the_open_change_requests(reader_client, governed_sla, submit_acknowledge):
    change_request = submit_acknowledge(governed_sla, 10, summary="Even faster SEV1")

    html = get(reader_client, "sla_detail", governed_sla.sla.reference)

    open_changes = section(html, "open-changes")
    assert f'href="{change_request.get_absolute_url()}">{change_request.reference}</a>' in open_changes
    assert "Even faster SEV1" in open_changes and "In review" in open_changes
    assert "<td>30 min</td>" in sev1_row(html)  # an open request changes nothing yet


def test_an_edit_outside_a_change_request_is_flagged(reader_client, changed):
    sla = changed.sla
    sla.title = "x"
    sla.save()  # as the admin would: no change request, no approval

    html = get(reader_client, "sla_detail", sla.reference)

    assert "Edited outside a change request since version 2: this edit has not been approved" in html
    assert f"{sla.reference} · x</h1>" in html  # the page shows what is live, and says it is unapproved
    assert url("sla_version", sla.reference, 2) in html


# ?at= ------------------------------------------------------------------------


def test_as_of_a_moment_before_the_change_shows_version_1(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_detail", reference, at="2026-10-01T08:30:00Z")

    assert "<td>30 min</td>" in sev1_row(html)
    assert notice(html).startswith(
        f'<div class="notice" role="status"> <p>As of <time datetime="2026-10-01T08:30:00+00:00">'
        f'2026-10-01 08:30 UTC</time>: <a href="{url("sla_version", reference, 1)}">version 1</a> '
        f'({reference} has changed since — <a href="{url("sla_detail", reference)}">see the current version</a>)'
    )
    assert "Open change request" not in html
    assert 'value="2026-10-01T08:30"' in html  # the date picker keeps the moment


def test_as_of_now_is_the_current_version(reader_client, changed):
    html = get(reader_client, "sla_detail", changed.sla.reference, at="2026-10-01T09:00+00:00")

    assert "<td>15 min</td>" in sev1_row(html)
    assert "version 2</a> (still the current version)" in notice(html)


def test_as_of_reads_a_date_picker_value_in_the_current_time_zone(reader_client, changed, settings):
    settings.TIME_ZONE = "Europe/Paris"  # UTC+2 in October: the change applied at 11:00 Paris time

    before = get(reader_client, "sla_detail", changed.sla.reference, at="2026-10-01T10:59")
    after = get(reader_client, "sla_detail", changed.sla.reference, at="2026-10-01T11:00")

    assert "<td>30 min</td>" in sev1_row(before) and "2026-10-01 10:59 CEST" in before
    assert "<td>15 min</td>" in sev1_row(after)


def test_as_of_before_the_first_version_says_it_was_not_in_force(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_detail", reference, at="2026-08-01")

    assert f"{reference} was not in force yet at" in html and "2026-08-01 00:00 UTC" in html
    assert ">SEV1</a>" not in html
    assert url("sla_detail", reference) in html


def test_as_of_for_a_document_never_versioned_says_its_past_is_unknown(reader_client, make_sla):
    sla = make_sla()

    html = get(reader_client, "sla_detail", sla.reference, at="2026-09-15T10:00Z")

    assert f"{sla.reference} has no recorded version yet" in html
    assert "was not in force yet" not in html


@pytest.mark.parametrize("at", ["yesterday", "2026-02-30T10:00", "2026-10-01T25:00", "9999-12-31T23:59:59-12:00"])
def test_an_unreadable_moment_says_so_and_shows_the_current_version(reader_client, changed, at):
    html = get(reader_client, "sla_detail", changed.sla.reference, at=at)

    assert "is not a date and time" in html
    assert "<td>15 min</td>" in sev1_row(html)


def test_an_empty_moment_is_the_current_version(reader_client, changed):
    html = get(reader_client, "sla_detail", changed.sla.reference, at="")

    assert "is not a date and time" not in html and "As of" not in html
    assert "<td>15 min</td>" in sev1_row(html)


# The Versions tab --------------------------------------------------------------


def test_versions_lists_every_version_newest_first_with_who_approved_it(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_versions", reference)

    assert 'aria-current="page">Versions</a>' in html
    assert html.index(">Version 2</a>") < html.index(">Version 1</a>")
    newest = html[html.index(">Version 2</a>") : html.index(">Version 1</a>")]
    assert changed.change_request.reference in newest and "Faster SEV1 acknowledgement" in newest
    assert "Checkout: checkout.approver" in newest
    assert "Payments: payments.approver" in newest
    assert "SLA Committee: sla-committee.approver" in newest
    assert "?from=1&amp;to=2" in newest
    version = DocumentVersion.objects.get(change_request=changed.change_request)
    assert f'<code title="SHA-256 {version.content_hash}">{version.content_hash[:12]}</code>' in newest
    oldest = html[html.index(">Version 1</a>") :]
    assert "Recorded when the portal took it over" in oldest


def test_versions_show_only_the_approvals_of_the_applied_revision(
    reader_client, governed_sla, propose_acknowledge, approve_all, clock
):
    change_request = propose_acknowledge(governed_sla, 20)
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    approval_actions.decide_change_request(
        change_request,
        governed_sla.provider,
        verdict="approve",
        comment="Fine",
        acting_user=governed_sla.approvers[governed_sla.provider],
    )
    change_request = approval_actions.revise_change_request(
        change_request,
        data=change_request.proposed,
        summary="Faster SEV1 acknowledgement, take 2",
        rationale="Reworded.",
        acting_user=governed_sla.author,
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    approve_all(governed_sla, change_request)

    html = get(reader_client, "sla_versions", governed_sla.sla.reference)

    assert html.count("Payments: payments.approver") == 1


def test_versions_are_paginated_by_25(reader_client, governed_sla, submit_acknowledge, approve_all):
    for minutes in range(29, 4, -1):  # 25 changes: versions 2 to 26
        approve_all(governed_sla, submit_acknowledge(governed_sla, minutes))

    first = get(reader_client, "sla_versions", governed_sla.sla.reference)
    second = get(reader_client, "sla_versions", governed_sla.sla.reference, page=2)

    assert "Page 1 of 2 (26 in all)" in first
    assert ">Version 26</a>" in first and ">Version 2</a>" in first and ">Version 1</a>" not in first
    assert ">Version 1</a>" in second


# One version -----------------------------------------------------------------


def test_a_version_renders_as_it_was(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_version", reference, 1)

    assert "<td>30 min</td>" in sev1_row(html)
    text = notice(html)
    assert f"You are reading version 1 of {reference}, in force from" in text
    assert "1 Sep 2026 08:00 UTC</time> to" in text and "1 Oct 2026 09:00 UTC</time>; the current version is 2" in text
    assert f'<a href="{url("sla_detail", reference)}">Read the current version</a>' in text
    assert "Recorded when the portal took it over" in html
    assert "Executive summary" in html and "Technical annex" in html


def test_the_latest_version_says_it_is_current(reader_client, changed):
    html = get(reader_client, "sla_version", changed.sla.reference, 2)

    assert "<td>15 min</td>" in sev1_row(html)
    assert "it is the current version" in notice(html)
    assert changed.change_request.reference in html
    assert "?from=1&amp;to=2" in html


@pytest.mark.parametrize("number", ["0", "3", "99999999999999999999999"])
def test_an_unknown_version_is_404(reader_client, changed, number):
    response = reader_client.get(f"{url('sla_versions', changed.sla.reference)}{number}/")

    assert response.status_code == 404


# Compare -----------------------------------------------------------------------


def test_compare_reads_the_change_in_words_and_field_by_field(reader_client, changed):
    reference = changed.sla.reference

    html = get(reader_client, "sla_compare", reference, **{"from": 1, "to": 2})

    assert "<li>SEV1 time to acknowledge: 30 min → 15 min</li>" in html
    assert (
        '<tr><th scope="row"><code>response_targets[SEV1].time_to_acknowledge_minutes</code></th>'
        "<td><del>30</del></td><td><ins>15</ins></td></tr>"
    ) in html
    assert '<th scope="col">Version 1</th><th scope="col">Version 2</th>' in html
    assert '<option value="1" selected>' in select_options(html, "compare-from")
    assert '<option value="2" selected>' in select_options(html, "compare-to")
    assert 'href="?from=2&amp;to=1">Swap' in html


def test_compare_backwards_shows_the_change_back(reader_client, changed):
    html = get(reader_client, "sla_compare", changed.sla.reference, **{"from": 2, "to": 1})

    assert "<li>SEV1 time to acknowledge: 15 min → 30 min</li>" in html
    assert "<td><del>15</del></td><td><ins>30</ins></td>" in html
    assert "Read backwards" in html


def test_compare_without_a_choice_shows_the_latest_change(reader_client, changed):
    html = get(reader_client, "sla_compare", changed.sla.reference)

    assert "Showing the latest change" in html
    assert "SEV1 time to acknowledge: 30 min → 15 min" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "abc", "to": "2"}, "“abc” is not a version number."),
        ({"from": "-1", "to": "2"}, "“-1” is not a version number."),
        ({"from": "²", "to": "2"}, "“²” is not a version number."),
        ({"from": "1", "to": "9"}, "has no version 9; it has versions 1 to 2."),
        ({"to": "2"}, "Choose the version to compare from."),
        ({"from": "1", "to": ""}, "Choose the version to compare to."),
        ({"from": "2", "to": "2"}, "Both sides are version 2: there is nothing to compare."),
        ({"from": "99999999999999999999999", "to": "1"}, "has no version 99999999999999999999999"),
    ],
)
def test_compare_with_bad_numbers_says_what_is_wrong(reader_client, changed, query, message):
    html = get(reader_client, "sla_compare", changed.sla.reference, **query)

    assert message in html
    assert '<ul class="changes">' not in html


def test_compare_with_a_single_version_says_there_is_nothing_yet(reader_client, governed_sla):
    html = get(reader_client, "sla_compare", governed_sla.sla.reference, **{"from": 1, "to": 2})

    assert "has only one version so far: nothing to compare yet." in html


# History -------------------------------------------------------------------------


def test_history_flags_what_was_not_made_through_a_change_request(reader_client, changed, clock):
    clock.move_to(CHANGED + timedelta(hours=1), tick=False)
    sla = ServiceLevelAgreement.objects.get(pk=changed.sla.pk)
    sla.title = "Renamed in the admin"
    sla.save()  # as the admin does: no reason, no change request

    html = get(reader_client, "sla_history", sla.reference)

    change_sets = html.split('<li class="change-set">')[1:]
    admin_edit, approved = change_sets[0], change_sets[1]
    assert "unreviewed: not made through a change request" in admin_edit
    assert "unreviewed" not in approved
    cr = changed.change_request
    assert f'Reason: <a href="{cr.get_absolute_url()}">{cr.reference}</a>: Faster SEV1 acknowledgement' in approved
    assert "unreviewed: not made through a change request" in change_sets[-1]  # the "test set-up" writes
    assert 'aria-current="page">History</a>' in html


def test_a_version_naming_a_team_that_was_renamed_since_still_reads(reader_client, changed, admin_actor):
    checkout = changed.consumer
    checkout.slug = "checkout-team"
    actions.save_team(checkout, acting_user=admin_actor, reason="New slug")

    html = get(reader_client, "sla_version", changed.sla.reference, 1)

    consumers = fragment(html, "<dt>Consumers</dt>", "</dd>")
    assert "checkout" in consumers and "<a" not in consumers  # the slug it had, as text
    assert '<a href="/teams/payments/">Payments</a>' in html


def test_version_pages_have_ordered_headings_labelled_controls_and_scoped_headers(reader_client, changed):
    sla = ServiceLevelAgreement.objects.get(pk=changed.sla.pk)
    sla.title = "Edited in the admin"
    sla.save()
    reference = sla.reference
    pages = {
        "detail": get(reader_client, "sla_detail", reference),
        "as of": get(reader_client, "sla_detail", reference, at="2026-10-01T08:30Z"),
        "before": get(reader_client, "sla_detail", reference, at="2026-01-01T08:30Z"),
        "bad at": get(reader_client, "sla_detail", reference, at="nonsense"),
        "versions": get(reader_client, "sla_versions", reference),
        "version": get(reader_client, "sla_version", reference, 1),
        "compare": get(reader_client, "sla_compare", reference, **{"from": 2, "to": 1}),
        "bad compare": get(reader_client, "sla_compare", reference, **{"from": "x", "to": 1}),
        "history": get(reader_client, "sla_history", reference),
    }

    problems = {name: accessibility_problems(html) for name, html in pages.items()}

    assert {name: found for name, found in problems.items() if found} == {}


# Escalation matrices -----------------------------------------------------------


@pytest.fixture
def versioned_matrix(make_team, make_service, make_matrix, make_user, admin_actor, severities, clock):
    """A matrix taken over at version 1, then changed through a change request to version 2."""
    payments = make_team("Payments", pager_handle="payments-oncall")
    make_team("SLA Committee", is_sla_committee=True)
    matrix = make_matrix(make_service("Checkout", owner_team=payments))
    approval_actions.record_baseline_version(matrix, acting_user=admin_actor)
    kind = EscalationMatrixKind()
    current = kind.snapshot(matrix)
    steps = [{**step, "wait_minutes": 5} for step in current["steps"]]
    author = make_user("payments.engineer", teams=[payments])
    clock.move_to(CHANGED, tick=False)
    change_request = approval_actions.propose_change(
        "escalation_matrix",
        matrix,
        data={**current, "steps": steps},
        summary="Escalate SEV1 sooner",
        rationale="Fifteen minutes is too long.",
        acting_user=author,
    )
    change_request = approval_actions.submit_change_request(change_request, acting_user=author)
    for required in change_request.required_approvals.select_related("team"):
        approver = make_user(f"{required.team.slug}.approver", approver_for=[required.team])
        change_request = approval_actions.decide_change_request(
            change_request, required.team, verdict="approve", acting_user=approver
        )
    matrix.change_request = change_request
    return matrix


def test_matrix_pages_show_versions_as_of_and_compare(reader_client, versioned_matrix):
    reference = versioned_matrix.reference

    detail = get(reader_client, "matrix_detail", reference)
    as_of = get(reader_client, "matrix_detail", reference, at="2026-10-01T08:30Z")
    versions = get(reader_client, "matrix_versions", reference)
    first = get(reader_client, "matrix_version", reference, 1)
    compare = get(reader_client, "matrix_compare", reference, **{"from": 1, "to": 2})
    back = get(reader_client, "matrix_compare", reference, **{"from": 2, "to": 1})

    def wait(html):
        """The first row of the SEV1 steps."""
        return fragment(html, "<tbody>", "</tr>", after='<h3 id="severity-SEV1">')

    assert "<td>5 min</td>" in wait(detail) and ">Version 2</a>" in detail
    assert versioned_matrix.change_request.reference in detail
    assert "<td>15 min</td>" in wait(as_of) and "version 1</a>" in as_of
    assert "payments-oncall" in wait(first) and "<td>15 min</td>" in wait(first)
    assert "Payments: payments.approver" in versions and "SLA Committee: sla-committee.approver" in versions
    assert "Level 1 of SEV1 wait before escalating: 15 min → 5 min" in compare
    assert "<code>steps[SEV1, 1].wait_minutes</code>" in compare
    assert "Level 1 of SEV1 wait before escalating: 5 min → 15 min" in back
    assert "Incident commander" in first and "Confirm impact" in first


def test_matrix_edit_outside_a_change_request_is_flagged(reader_client, versioned_matrix):
    EscalationStep.objects.filter(matrix=versioned_matrix).update(wait=timedelta(minutes=1))

    html = get(reader_client, "matrix_detail", versioned_matrix.reference)

    assert "Edited outside a change request since version 2" in html


# Signing in ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/slas/SLA-0001/versions/",
        "/slas/SLA-0001/versions/1/",
        "/slas/SLA-0001/compare/?from=1&to=2",
        "/slas/SLA-0001/?at=2026-10-01T09:00",
        "/escalation/ESC-0001/versions/",
        "/escalation/ESC-0001/versions/1/",
        "/escalation/ESC-0001/compare/",
    ],
)
def test_anonymous_people_are_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next=")


@pytest.mark.parametrize("name", ["sla_versions", "sla_compare"])
def test_bad_references_are_404(reader_client, changed, name):
    assert reader_client.get(url(name, "SLA-9999")).status_code == 404
    assert reader_client.get(url(name, "ESC-0001")).status_code == 404


# Query counts ------------------------------------------------------------------------
# Each page is read for a document with 2 versions and again after 30 more changes:
# the same count proves it has no N+1. Every count includes the reader's session and
# user (2 queries). An SLA's terms cost 4 lookups (teams, services, severities,
# categories), a matrix's 3; the live terms cost 4 more for the snapshot itself.


def assert_queries(client, django_assert_num_queries, path, expected, **query):
    with django_assert_num_queries(expected):
        response = client.get(path, query)
    assert response.status_code == 200


def test_version_page_query_counts(
    reader_client, django_assert_num_queries, changed, submit_acknowledge, approve_all, make_team
):
    reference = changed.sla.reference
    # Besides what each line names: the session, the user and the navigation's approvals count.
    pages = [
        # document, live snapshot (4), current version, open requests, periodic reviews, terms (4),
        # objectives and their measurements (attainment)
        (url("sla_detail", reference), 17, {}),
        # document, version in force, latest version, terms (4)
        (url("sla_detail", reference), 10, {"at": "2026-10-01T08:30Z"}),
        # document, count, page of versions, their approvals
        (url("sla_versions", reference), 7, {}),
        # document, the version and the next, the latest number, terms (4)
        (url("sla_version", reference, 1), 10, {}),
        # document, the version numbers, the two snapshots (the describe names nothing here)
        (url("sla_compare", reference), 6, {"from": 1, "to": 2}),
    ]
    for path, expected, query in pages:
        assert_queries(reader_client, django_assert_num_queries, path, expected, **query)

    for minutes in [30, *range(29, 15, -1), *range(14, 0, -1)]:  # 29 more versions, each a real change
        approve_all(changed, submit_acknowledge(changed, minutes))
    submit_acknowledge(changed, 12)  # and one open request
    for path, expected, query in pages:
        assert_queries(reader_client, django_assert_num_queries, path, expected, **query)


def test_matrix_version_page_query_counts(reader_client, django_assert_num_queries, versioned_matrix):
    reference = versioned_matrix.reference
    # the live page also lists the periodic reviews (one query) and the paged teams' contact changes (one)
    assert_queries(reader_client, django_assert_num_queries, url("matrix_detail", reference), 15)
    assert_queries(reader_client, django_assert_num_queries, url("matrix_detail", reference), 9, at="2026-10-01T08:30Z")
    assert_queries(reader_client, django_assert_num_queries, url("matrix_versions", reference), 7)
    assert_queries(reader_client, django_assert_num_queries, url("matrix_version", reference, 1), 9)
    assert_queries(
        reader_client, django_assert_num_queries, url("matrix_compare", reference), 6, **{"from": 1, "to": 2}
    )


def test_a_matrix_says_when_a_paged_team_changed_its_contacts_after_approval(
    reader_client, versioned_matrix, admin_actor, clock
):
    from sla_registry import actions
    from sla_registry.models import Team

    page = reader_client.get(url("matrix_detail", versioned_matrix.reference)).content.decode()
    assert "Contacts changed since version" not in page
    clock.shift(timedelta(hours=1))
    payments = Team.objects.get(slug="payments")
    payments.pager_handle = "payments-new-rota"
    actions.save_team(payments, acting_user=admin_actor, reason="New rota")

    page = reader_client.get(url("matrix_detail", versioned_matrix.reference)).content.decode()
    assert "Contacts changed since version 2 was approved" in page
    assert "Payments: pager handle payments-oncall → payments-new-rota" in page


ROTA_CHANGED = CHANGED + timedelta(hours=1)  # Payments' new pager rota, an hour after version 2 took effect


@pytest.fixture
def new_rota(versioned_matrix, admin_actor, clock):
    """An hour after version 2 took effect, Payments (paged at every level) moves to a new pager rota."""
    from sla_registry.models import Team

    clock.move_to(ROTA_CHANGED, tick=False)
    payments = Team.objects.get(slug="payments")
    payments.pager_handle = "payments-new-rota"
    actions.save_team(payments, acting_user=admin_actor, reason="New rota")
    return versioned_matrix


def paged_addresses(html):
    """The address each escalation step shows, in order."""
    return [
        row.split(" Page ")[1].split(" ")[0]
        for row in body_rows(fragment(html, "<h2>Escalation steps", "<h2>Responsibilities"))
    ]


def test_an_old_matrix_version_reaches_teams_by_the_contacts_of_its_time_and_says_what_changed_since(
    reader_client, new_rota
):
    html = get(reader_client, "matrix_version", new_rota.reference, 2)

    assert set(paged_addresses(html)) == {"payments-oncall"}
    changed = text_of(fragment(html, '<div class="notice notice-warn contacts-changed"', "</div>"))
    assert changed.startswith("Contacts changed since 1 Oct 2026 09:00 UTC")
    assert "Payments: pager handle payments-oncall → payments-new-rota (fixture-admin, 1 Oct 2026 10:00 UTC)" in changed


def test_the_live_matrix_reaches_teams_by_their_new_contacts(reader_client, new_rota):
    html = get(reader_client, "matrix_detail", new_rota.reference)

    assert set(paged_addresses(html)) == {"payments-new-rota"}
    assert "Contacts changed since version 2 was approved" in html


def test_a_matrix_as_of_a_moment_reaches_teams_as_they_were_then(reader_client, new_rota):
    before = get(reader_client, "matrix_detail", new_rota.reference, at="2026-10-01T09:30Z")
    after = get(reader_client, "matrix_detail", new_rota.reference, at="2026-10-01T10:30Z")

    assert set(paged_addresses(before)) == {"payments-oncall"}
    assert "Contacts changed since 1 Oct 2026 09:30 UTC" in text_of(before)
    assert set(paged_addresses(after)) == {"payments-new-rota"}
    assert "Contacts changed since" not in after


def test_a_version_in_force_before_the_team_was_recorded_shows_its_first_contacts_and_says_so(reader_client, new_rota):
    # Version 1 is effective from the matrix's effective_from, a month before the portal recorded Payments.
    html = get(reader_client, "matrix_version", new_rota.reference, 1)

    assert set(paged_addresses(html)) == {"payments-oncall"}
    recorded = text_of(fragment(html, '<p class="muted contacts-recorded-after">', "</p>"))
    assert recorded == (
        "Payments: no record of its contacts at that moment; shown as first recorded (1 Oct 2026 08:00 UTC)."
    )
    assert "Payments: pager handle payments-oncall → payments-new-rota" in text_of(html)


def test_matrix_pages_of_a_past_moment_read_contacts_and_changes_in_the_same_query_counts(
    reader_client, django_assert_num_queries, new_rota
):
    # As test_matrix_version_page_query_counts: the teams of the moment, their changes since and their links
    # today are one query, the one that read today's teams.
    reference = new_rota.reference
    assert_queries(reader_client, django_assert_num_queries, url("matrix_version", reference, 2), 9)
    assert_queries(reader_client, django_assert_num_queries, url("matrix_detail", reference), 9, at="2026-10-01T09:30Z")
