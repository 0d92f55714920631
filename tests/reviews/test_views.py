"""The review pages: list, review, editor, action items, metrics, and who sees what."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import ChangeRequest
from core.moments import quarter_of
from reviews.choices import ActionStatus, DrillKind, ReviewStatus, TimelineKind
from reviews.models import ActionItem, PostIncidentReview, TimelineEntry
from tests.html import squeeze, table_row

pytestmark = pytest.mark.django_db

# governed_sla's SEV1 target: acknowledge within 30 min. Acknowledged 37 min after detection: breached by 7 min.
BREACHING = {"detect": 5, "acknowledge": 42, "restore": 90, "resolve": 240}
MEETING = {"detect": 5, "acknowledge": 20, "restore": 90, "resolve": 240}


def url(name, *args):
    return reverse(f"reviews:{name}", args=args)


@pytest.fixture
def reader(governed_sla, make_user):
    return make_user("reader", teams=[governed_sla.provider])


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def author_client(client, governed_sla):
    client.force_login(governed_sla.author)
    return client


@pytest.fixture
def review(governed_sla, make_review):
    """A breaching SEV1 draft on Payments API, written by the payments engineer."""
    return make_review(
        [governed_sla.sla.service],
        acting_user=governed_sla.author,
        summary="Checkout **failed** for 20 minutes.",
        customer_impact="Customers could not pay.",
        root_causes="A bad config push.",
        links="https://grafana.example.com/d/checkout\nnot a link <script>",
        timeline=[TimelineEntry(at=timezone.now() - timedelta(days=2), entry="Errors spike", kind="trigger")],
        action_items=[
            ActionItem(title="Add a canary", owner_team=governed_sla.provider, due_date=timezone.localdate()),
        ],
        **BREACHING,
    )


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def editor_data(service, severity, started_at, *, offsets=BREACHING, timeline=(), action_items=(), **fields):
    """A POST of the review editor: the review's fields, then the two formsets (two blank rows each)."""
    data = {
        "title": "Checkout outage",
        "severity": severity.pk,
        "category": "",
        "services": [service.pk],
        "drill_kind": "",
        "started_at": local(started_at),
        "summary": "Payments failed.",
        "links": "",
    }
    for name, minutes in zip(
        ("detected_at", "acknowledged_at", "restored_at", "resolved_at"), offsets.values(), strict=True
    ):
        data[name] = local(started_at + timedelta(minutes=minutes)) if minutes is not None else ""
    data.update(fields)
    for prefix, rows in (("timeline", list(timeline)), ("action_items", list(action_items))):
        rows = [*rows, {}, {}]
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0})
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


# Reading -------------------------------------------------------------------------


def test_pages_need_a_signed_in_user(client, review):
    for path in (url("review_list"), url("review_detail", review.reference), url("action_item_list")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_review_reads_like_a_postmortem(reader_client, review, governed_sla):
    response = reader_client.get(url("review_detail", review.reference))

    html = squeeze(response)
    assert response.status_code == 200
    assert "SEV1 acknowledge target 30 min, took 37 min: breached by 7 min" in html
    assert f"measured against {governed_sla.sla.reference} v1, effective " in html
    assert "Checkout <strong>failed</strong> for 20 minutes." in html
    # Summary and impact first, then the figures, the timeline, the analysis and the action items.
    positions = [
        html.index(heading)
        for heading in (">Summary<", ">Customer impact<", ">Metrics and SLA breaches<", ">Timeline<", ">Analysis<")
    ]
    assert positions == sorted(positions)
    assert html.index(">Analysis<") < html.index(">Action items<")
    assert "Add a canary" in html and "Errors spike" in html
    assert "Releases around the start</dt>" in html and "None: no release, maintenance or freeze window" in html
    # Links: a web address is a link, anything else stays escaped text.
    assert '<a href="https://grafana.example.com/d/checkout"' in html
    assert "not a link &lt;script&gt;" in html
    assert "Time to acknowledge</dt><dd>37 min" in html


def test_the_list_shows_each_reviews_metrics_and_breaches(reader_client, review, governed_sla, make_review):
    make_review(
        [governed_sla.sla.service],
        title="Game day",
        is_drill=True,
        drill_kind=DrillKind.TABLETOP,
        **BREACHING,
    )

    html = squeeze(reader_client.get(url("review_list")))

    row = table_row(html, f"{review.reference}</a>")
    assert "37 min" in row and "1 h 30 min" in row
    assert "1 missed" in row  # response targets missed
    drill_row = table_row(html, "Game day")
    assert "DRILL" in drill_row and "drill, not counted" in drill_row


def test_an_empty_list_says_so(reader_client):
    assert "No post-incident reviews yet" in reader_client.get(url("review_list")).content.decode()


def test_the_list_filters_by_breach_severity_and_quarter(reader_client, governed_sla, make_review):
    service = governed_sla.sla.service
    breached = make_review([service], title="Breached one", **BREACHING)
    met = make_review([service], title="Met one", **MEETING)
    minor = make_review([service], title="Minor one", severity="SEV3", **MEETING)
    old = make_review([service], title="Old one", started_at=timezone.now() - timedelta(days=200), **MEETING)

    def titles(**query):
        response = reader_client.get(url("review_list"), query)
        assert response.status_code == 200
        return {review.title for review in response.context["reviews"]}

    assert titles(breached="yes") == {breached.title}
    assert titles(breached="no") == {met.title, minor.title, old.title}
    assert titles(severity="SEV3") == {minor.title}
    assert titles(quarter=quarter_of(breached.started_at)) == {breached.title, met.title, minor.title}
    assert titles(quarter=quarter_of(old.started_at)) == {old.title}
    assert titles(team=governed_sla.provider.slug, status=ReviewStatus.DRAFT, service=service.slug) == {
        breached.title,
        met.title,
        minor.title,
        old.title,
    }
    # A mistyped filter is shown as such, not a 500.
    response = reader_client.get(url("review_list"), {"quarter": "Q5-2026"})
    assert response.status_code == 200
    assert "Write a quarter as 2026-Q4." in response.content.decode()


# The editor ----------------------------------------------------------------------


def test_the_editor_saves_a_draft_with_timeline_and_action_items(author_client, governed_sla, severities):
    started = timezone.now() - timedelta(hours=6)
    data = editor_data(
        governed_sla.sla.service,
        severities["SEV1"],
        started,
        timeline=[{"at": local(started), "entry": "Errors spike", "kind": TimelineKind.TRIGGER}],
        action_items=[
            {
                "title": "Add a canary",
                "kind": "prevent",
                "owner_team": governed_sla.provider.pk,
                "priority": "high",
                "status": "open",
                "due_date": "2026-12-31",
            }
        ],
    )

    response = author_client.post(url("review_create"), data)

    review = PostIncidentReview.objects.get()
    assert response.status_code == 302
    assert response.url == url("review_detail", review.reference)
    assert review.status == ReviewStatus.DRAFT
    assert list(review.authors.all()) == [governed_sla.author]
    assert [entry.entry for entry in review.timeline.all()] == ["Errors spike"]
    (item,) = review.action_items.all()
    assert (item.title, item.owner_team, item.priority) == ("Add a canary", governed_sla.provider, "high")
    assert review.pinned_versions.count() == 1
    page = squeeze(author_client.get(response.url))
    assert "breached by 7 min" in page


def test_times_out_of_order_are_shown_at_the_field_and_nothing_is_saved(author_client, governed_sla, severities):
    data = editor_data(
        governed_sla.sla.service,
        severities["SEV1"],
        timezone.now() - timedelta(hours=6),
        offsets={"detect": 30, "acknowledge": 10, "restore": 90, "resolve": 240},
        timeline=[{"entry": "No time given", "kind": "note"}],
    )

    response = author_client.post(url("review_create"), data)

    assert response.status_code == 200
    editor = response.context["editor"]
    assert editor.form.errors["acknowledged_at"][0].startswith("Cannot be before detected")
    assert list(editor.form.errors) == ["acknowledged_at"]
    assert "at" in editor.formsets["timeline"].forms[0].errors
    assert "Nothing was saved" in response.content.decode()
    assert not PostIncidentReview.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_a_review_needs_a_service(author_client, governed_sla, severities):
    data = editor_data(governed_sla.sla.service, severities["SEV1"], timezone.now() - timedelta(hours=6))
    del data["services"]

    response = author_client.post(url("review_create"), data)

    assert response.status_code == 200
    assert "services" in response.context["editor"].form.errors
    assert not PostIncidentReview.objects.exists()


def test_recalculate_fills_in_the_breach_panel_without_saving(author_client, governed_sla, severities):
    data = editor_data(governed_sla.sla.service, severities["SEV1"], timezone.now() - timedelta(hours=6))

    response = author_client.post(url("review_create"), {**data, "recalculate": "1"})

    html = squeeze(response)
    assert response.status_code == 200
    assert "SEV1 acknowledge target 30 min, took 37 min: breached by 7 min" in html
    assert f"measured against {governed_sla.sla.reference} v1" in html
    assert "Nothing is saved yet" in html
    assert not PostIncidentReview.objects.exists()


def test_the_new_review_editor_explains_the_panel(author_client):
    response = author_client.get(url("review_create"))
    assert response.status_code == 200
    assert "then Recalculate figures" in response.content.decode()


def test_an_author_edits_the_draft_in_place(author_client, review, governed_sla, severities):
    data = editor_data(
        governed_sla.sla.service, severities["SEV1"], review.started_at, offsets=MEETING, title="Renamed"
    )

    response = author_client.post(url("review_update", review.reference), data)

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.title == "Renamed"
    # The blank extra rows are ignored and the rows not sent are gone: the draft has what the editor showed.
    assert not review.timeline.exists()


def test_only_an_author_edits_a_draft(reader_client, review):
    response = reader_client.get(url("review_update", review.reference))
    assert response.status_code == 302
    assert response.url == url("review_detail", review.reference)


def test_publishing_makes_a_change_request_and_reopening_needs_it_ended(author_client, review):
    response = author_client.post(
        url("review_publish", review.reference), {"summary": "Publish it", "rationale": "Reviewed by the team."}
    )

    change_request = ChangeRequest.objects.get(document_kind="review", document_id=review.pk)
    assert response.status_code == 302
    assert response.url == change_request.get_absolute_url()
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW
    page = squeeze(author_client.get(url("review_detail", review.reference)))
    assert change_request.reference in page

    # Still in review: reopening is refused with the reason, nothing changes.
    author_client.post(url("review_reopen", review.reference))
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW


def test_publishing_needs_a_rationale(author_client, review):
    response = author_client.post(url("review_publish", review.reference), {"summary": "Publish it"})
    assert response.status_code == 200
    assert "rationale" in response.context["publish_form"].errors
    assert not ChangeRequest.objects.filter(document_kind="review").exists()


def test_a_published_review_is_amended_through_a_change_request(
    author_client, review, governed_sla, severities, approve_all
):
    author_client.post(url("review_publish", review.reference), {"summary": "Publish", "rationale": "Ready."})
    publication = ChangeRequest.objects.get(document_kind="review", document_id=review.pk)
    approve_all(governed_sla, publication, teams=[governed_sla.provider, governed_sla.committee])
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED

    data = editor_data(
        governed_sla.sla.service,
        severities["SEV1"],
        review.started_at,
        title="Amended title",
        **{"change-summary": "Fix the title", "change-rationale": "It was wrong."},
    )
    response = author_client.post(url("review_update", review.reference), data)

    amendment = ChangeRequest.objects.filter(document_kind="review", document_id=review.pk).exclude(pk=publication.pk)
    assert response.status_code == 302, response.context and response.context["editor"].form.errors
    assert response.url == amendment.get().get_absolute_url()
    review.refresh_from_db()
    assert review.title != "Amended title"


# Action items ----------------------------------------------------------------------


def test_open_action_items_come_overdue_first(reader_client, governed_sla, make_review):
    today = timezone.localdate()
    make_review(
        [governed_sla.sla.service],
        action_items=[
            ActionItem(title="Later", owner_team=governed_sla.provider, due_date=today + timedelta(days=9)),
            ActionItem(title="Overdue", owner_team=governed_sla.provider, due_date=today - timedelta(days=3)),
            ActionItem(title="Undated", owner_team=governed_sla.consumer),
            ActionItem(title="Finished", owner_team=governed_sla.provider, status=ActionStatus.DONE),
        ],
    )

    response = reader_client.get(url("action_item_list"))
    assert [item.title for item in response.context["items"]] == ["Overdue", "Later", "Undated"]
    assert "Overdue</span>" in response.content.decode()

    response = reader_client.get(url("action_item_list"), {"team": governed_sla.consumer.slug})
    assert [item.title for item in response.context["items"]] == ["Undated"]


def test_an_action_item_is_done_with_a_note_and_not_without(reader_client, review):
    item = review.action_items.get()

    refused = reader_client.post(url("action_item_done", item.pk), {"note": "  "}, follow=True)
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    assert "Say what was done" in refused.content.decode()

    done = reader_client.post(url("action_item_done", item.pk), {"note": "Canary in place"}, follow=True)
    item.refresh_from_db()
    assert (item.status, item.completion_note) == (ActionStatus.DONE, "Canary in place")
    assert "is done" in done.content.decode()
    assert item not in done.context["items"]


def test_another_team_cannot_close_an_action_item(client, governed_sla, make_user, make_review):
    """The attack: a Payments engineer closed Platform's action item, silencing its reminders."""
    review = make_review(
        [governed_sla.sla.service],
        action_items=[ActionItem(title="Add a canary", owner_team=governed_sla.consumer)],
    )
    item = review.action_items.get()
    client.force_login(make_user("payments.outsider", teams=[governed_sla.provider]))

    listed = client.get(url("action_item_list"))
    assert f'action="{url("action_item_done", item.pk)}"' not in listed.content.decode()
    assert f"{governed_sla.consumer.name} closes it" in listed.content.decode()
    assert client.post(url("action_item_done", item.pk), {"note": "Nothing to do"}).status_code == 403
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN

    committee_member = make_user("committee.member", teams=[governed_sla.committee])
    client.force_login(committee_member)
    client.post(url("action_item_done", item.pk), {"note": "Agreed with Checkout: canary in place"})
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE


# Metrics ---------------------------------------------------------------------------


def test_metrics_give_median_p90_and_breaches_without_drills(reader_client, governed_sla, make_review):
    service = governed_sla.sla.service
    make_review([service], status="published", **BREACHING)  # acknowledged in 37 min
    make_review([service], status="published", **MEETING)  # acknowledged in 15 min
    make_review(
        [service], is_drill=True, drill_kind=DrillKind.LIVE, detect=5, acknowledge=500, restore=600, resolve=700
    )

    response = reader_client.get(url("review_metrics"))

    assert response.status_code == 200
    assert len(response.context["incidents"].counted) == 2
    assert response.context["incidents"].targets_missed == 1
    (service_row,) = response.context["tables"][0][1]
    assert service_row.incidents == 2 and service_row.breaches == 1
    acknowledge = {label: (median, p90) for label, median, p90 in service_row.figures}["Time to acknowledge"]
    assert acknowledge[0] == timedelta(minutes=26)  # median of 15 and 37
    assert timedelta(minutes=26) < acknowledge[1] <= timedelta(minutes=37)
    (team_row,) = response.context["tables"][1][1]
    assert (team_row.name, team_row.incidents, team_row.breaches) == ("Payments", 2, 1)


def test_metrics_of_another_quarter(reader_client, governed_sla, make_review):
    make_review([governed_sla.sla.service], **BREACHING)
    previous = quarter_of(timezone.now() - timedelta(days=120))
    response = reader_client.get(url("review_metrics"), {"quarter": previous})
    assert response.context["quarter"] == previous
    assert response.context["incidents"].counted == []


# Restricted reviews -----------------------------------------------------------------


@pytest.fixture
def restricted(governed_sla, make_review):
    return make_review(
        [governed_sla.sla.service],
        title="Credential leak",
        is_restricted=True,
        restricted_to=[governed_sla.provider],
        action_items=[ActionItem(title="Rotate keys", owner_team=governed_sla.provider)],
        **BREACHING,
    )


def test_a_restricted_review_is_invisible_to_other_teams(client, restricted, governed_sla, make_user):
    outsider = make_user("outsider", teams=[governed_sla.consumer])
    client.force_login(outsider)

    assert client.get(url("review_detail", restricted.reference)).status_code == 404
    assert client.get(url("review_update", restricted.reference)).status_code == 404
    assert "Credential leak" not in client.get(url("review_list")).content.decode()
    assert "Rotate keys" not in client.get(url("action_item_list")).content.decode()
    assert client.get(url("review_metrics")).context["incidents"].awaiting == []
    item = restricted.action_items.get()
    assert client.post(url("action_item_done", item.pk), {"note": "Done"}).status_code == 404


def test_a_restricted_review_is_visible_to_its_team(reader_client, restricted):
    assert reader_client.get(url("review_detail", restricted.reference)).status_code == 200
    assert "Credential leak" in reader_client.get(url("review_list")).content.decode()
    assert "Rotate keys" in reader_client.get(url("action_item_list")).content.decode()
    assert reader_client.get(url("review_metrics")).context["incidents"].awaiting == [restricted]  # a draft


def test_a_reference_that_is_not_a_review_is_a_404(reader_client):
    assert reader_client.get(url("review_detail", "SLA-0001")).status_code == 404
    assert reader_client.get(url("review_detail", "PIR-9999")).status_code == 404


# Query counts -----------------------------------------------------------------------
# Each page is read with one row and with many: the same count proves it has no N+1.
# Every count includes the session, the user and the navigation's "My approvals" count.


def assert_queries(client, django_assert_num_queries, path, expected):
    with django_assert_num_queries(expected):
        response = client.get(path)
    assert response.status_code == 200
    return response


def add_reviews(make_review, governed_sla, count):
    for number in range(count):
        make_review(
            [governed_sla.sla.service],
            is_drill=number % 3 == 2,
            drill_kind=DrillKind.TABLETOP if number % 3 == 2 else "",
            action_items=[
                ActionItem(
                    title=f"Item {number}",
                    owner_team=governed_sla.provider,
                    due_date=timezone.localdate() - timedelta(days=number - 3),
                )
            ],
            **BREACHING,
        )


LIST_QUERIES = 13  # +1: the quarter select offers the quarters with published incidents
DETAIL_QUERIES = 14  # +1: the releases around the start (insights.templatetags.insights)
ACTION_ITEM_QUERIES = 6
METRICS_QUERIES = 8  # +1: the quarter picker offers the quarters with published incidents


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("review_list", LIST_QUERIES),
        ("action_item_list", ACTION_ITEM_QUERIES),
        ("review_metrics", METRICS_QUERIES),
    ],
)
def test_list_page_queries(reader_client, django_assert_num_queries, make_review, governed_sla, name, expected):
    add_reviews(make_review, governed_sla, 1)
    assert_queries(reader_client, django_assert_num_queries, url(name), expected)
    add_reviews(make_review, governed_sla, 20)
    response = assert_queries(reader_client, django_assert_num_queries, url(name), expected)
    assert "Item 19" in response.content.decode() or name != "action_item_list"


def test_breach_filter_queries(reader_client, django_assert_num_queries, make_review, governed_sla):
    add_reviews(make_review, governed_sla, 1)
    path = url("review_list") + "?breached=yes"
    first = assert_queries(reader_client, django_assert_num_queries, path, LIST_QUERIES - 1)
    add_reviews(make_review, governed_sla, 20)
    many = assert_queries(reader_client, django_assert_num_queries, path, LIST_QUERIES - 1)
    assert len(many.context["reviews"]) > len(first.context["reviews"])


def test_detail_queries(reader_client, django_assert_num_queries, make_review, governed_sla):
    def review_with(count):
        return make_review(
            [governed_sla.sla.service],
            timeline=[TimelineEntry(at=timezone.now() - timedelta(days=2), entry=f"Entry {n}") for n in range(count)],
            action_items=[ActionItem(title=f"Item {n}", owner_team=governed_sla.provider) for n in range(count)],
            **BREACHING,
        )

    for count in (1, 20):
        review = review_with(count)
        response = assert_queries(
            reader_client, django_assert_num_queries, url("review_detail", review.reference), DETAIL_QUERIES
        )
        assert f"Item {count - 1}" in response.content.decode()


def test_the_draft_editor_shows_the_saved_rows_and_figures(author_client, review):
    response = author_client.get(url("review_update", review.reference))

    html = squeeze(response)
    assert response.status_code == 200
    assert "Errors spike</textarea>" in html
    assert 'value="Add a canary"' in html
    assert "breached by 7 min" in html
    assert html.count('name="timeline-TOTAL_FORMS" value="3"') == 1  # one saved row and two blank ones


def test_recalculate_lists_the_escalation_that_should_have_fired(
    author_client, governed_sla, severities, make_matrix, admin_actor
):
    from approvals.actions import record_baseline_version

    matrix = make_matrix(governed_sla.sla.service, effective_from=timezone.now() - timedelta(days=30))
    record_baseline_version(matrix, acting_user=admin_actor)
    started = timezone.now() - timedelta(hours=6)
    data = editor_data(governed_sla.sla.service, severities["SEV1"], started, recalculate="1")

    response = author_client.post(url("review_create"), data)

    figures = response.context["figures"]
    ((service, version, steps),) = figures.matrices
    assert (service, version.number) == (governed_sla.sla.service, 1)
    assert [(step.level, step.team) for step in steps] == [(1, governed_sla.provider.slug)]
    assert "Escalation that should have fired" in response.content.decode()
    assert not PostIncidentReview.objects.exists()


def test_a_reviews_pinned_escalation_reaches_teams_by_their_contacts_when_it_started(
    reader_client, governed_sla, make_matrix, make_review, admin_actor, time_machine, django_assert_num_queries
):
    from approvals.actions import record_baseline_version
    from sla_registry.actions import save_team
    from sla_registry.models import Team

    recorded = timezone.now()  # Payments and its contacts are on record from here
    matrix = make_matrix(governed_sla.sla.service, effective_from=recorded - timedelta(days=30))  # pages Payments
    record_baseline_version(matrix, acting_user=admin_actor)
    started = recorded + timedelta(hours=6)
    time_machine.move_to(recorded + timedelta(days=1), tick=False)
    review = make_review([governed_sla.sla.service], started_at=started, **BREACHING)
    payments = Team.objects.get(pk=governed_sla.provider.pk)
    payments.pager_handle, payments.name = "payments-new-rota", "Payments Core"
    save_team(payments, acting_user=admin_actor, reason="New rota")

    # The review's page reads the teams as of its start in one more query than a review with no escalation pinned.
    with django_assert_num_queries(DETAIL_QUERIES + 1):
        response = reader_client.get(url("review_detail", review.reference))

    html = squeeze(response)
    row = table_row(html, '<th scope="row">1</th>')
    assert f'<a href="{payments.get_absolute_url()}">Payments</a>' in row  # its name then, linked to its page now
    assert '<td class="escalation-address">payments-oncall</td>' in row
    assert "payments-new-rota" not in row
    start = timezone.localtime(started)
    assert f'Contacts changed since <time datetime="{start.isoformat()}">{start.day} {start:%b %Y %H:%M}' in html
    assert (
        "Payments Core: pager handle payments-oncall → payments-new-rota <small>(fixture-admin, <time datetime=" in html
    )


def test_the_list_keeps_drills_apart(reader_client, governed_sla, make_review):
    make_review([governed_sla.sla.service], title="Real", **MEETING)
    make_review([governed_sla.sla.service], title="Rehearsal", is_drill=True, drill_kind=DrillKind.LIVE, **MEETING)

    def titles(kind):
        return {review.title for review in reader_client.get(url("review_list"), {"kind": kind}).context["reviews"]}

    assert titles("incidents") == {"Real"}
    assert titles("drills") == {"Rehearsal"}
