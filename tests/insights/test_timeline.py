"""The service timeline: what it gathers, what it hides, which incidents may follow from a release."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import actions as approval_actions
from insights.timeline import (
    DEFAULT_AHEAD,
    DEFAULT_PAST,
    Lane,
    TimelineRangeForm,
    describe_gap,
    gather_timeline,
    possibly_related,
)
from releases.choices import ReleaseKind, ReleaseStatus
from releases.models import Release
from reviews.models import PostIncidentReview

pytestmark = pytest.mark.django_db


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def timeline_url(slug="checkout", **params):
    return reverse("releases:service_timeline", kwargs={"slug": slug})


@pytest.fixture
def reader(make_user):
    return make_user("timeline.reader")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def checkout(make_team, make_service):
    payments = make_service("Payments API", owner_team=make_team("Payments"))
    return make_service("Checkout", owner_team=make_team("Checkout Team"), dependencies=[payments])


@pytest.fixture
def payments(checkout):
    return checkout.dependencies.get()


# Gathering -------------------------------------------------------------------


def test_the_timeline_gathers_releases_freezes_incidents_and_versions(
    reader, checkout, payments, make_service, make_release, make_review, make_sla, admin_actor
):
    own = make_release("Checkout 2026.12.1", services=[checkout], starts_at=ago(days=10))
    dependency = make_release("Payments 4.2", services=[payments], starts_at=ago(days=9))
    freeze = make_release(
        "Peak freeze", services=[checkout], starts_at=ago(days=40), lasts=timedelta(days=7), kind=ReleaseKind.FREEZE
    )
    cancelled = make_release("Checkout 2026.11.9", services=[checkout], starts_at=ago(days=20))
    cancelled.status = ReleaseStatus.CANCELLED
    from releases.actions import save_release

    save_release(cancelled, acting_user=admin_actor, reason="cancelled")
    make_release("Search 1.0", services=[make_service("Search")], starts_at=ago(days=10))
    make_release("Checkout long ago", services=[checkout], starts_at=ago(days=400))
    incident = make_review([checkout], started_at=ago(days=8), title="Checkout timeouts")
    drill = make_review(
        [checkout], started_at=ago(days=30), title="Failover rehearsal", is_drill=True, drill_kind="tabletop"
    )
    make_review([payments], started_at=ago(days=8), title="Payments only")
    sla = make_sla("Checkout for Storefront", service=checkout, effective_from=ago(days=50))
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)

    now = timezone.now()
    timeline = gather_timeline(checkout, reader, now - timedelta(days=180), now + timedelta(days=30))
    by_title = {entry.title: entry for entry in timeline.entries}

    assert set(by_title) == {
        own.title,
        dependency.title,
        freeze.title,
        cancelled.title,
        f"{incident.reference} Checkout timeouts",
        f"{drill.reference} Failover rehearsal",
        f"{sla.reference} version 1",
    }
    assert [entry.starts_at for entry in timeline.entries] == sorted(entry.starts_at for entry in timeline.entries)
    assert by_title[own.title].lane == Lane.RELEASES and not by_title[own.title].is_dependency
    assert by_title[dependency.title].is_dependency
    assert "dependency: Payments API" in by_title[dependency.title].detail
    assert by_title[freeze.title].lane == Lane.FREEZES
    assert by_title[freeze.title].ends_at == freeze.ends_at
    assert by_title[cancelled.title].is_cancelled
    assert by_title[f"{incident.reference} Checkout timeouts"].kind == "incident"
    assert by_title[f"{drill.reference} Failover rehearsal"].kind == "drill"
    version = by_title[f"{sla.reference} version 1"]
    assert version.lane == Lane.VERSIONS
    assert version.url == reverse("sla_registry:sla_version", kwargs={"reference": sla.reference, "number": 1})
    assert [dependency_service.name for dependency_service in timeline.dependencies] == ["Payments API"]


def test_the_page_shows_every_entry_in_the_drawing_and_the_table(
    reader_client, checkout, payments, make_release, make_review, make_matrix, admin_actor
):
    own = make_release("Checkout 2026.12.1", services=[checkout], starts_at=ago(days=10))
    make_release("Payments 4.2", services=[payments], starts_at=ago(days=9))
    incident = make_review([checkout], started_at=ago(days=8), title="Checkout timeouts")
    matrix = make_matrix(checkout, effective_from=ago(days=60))
    approval_actions.record_baseline_version(matrix, acting_user=admin_actor)

    response = reader_client.get(timeline_url())
    assert response.status_code == 200
    html = response.content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="group"' in svg
    assert re.search(
        r'aria-label="Timeline of Checkout from [^"]*: Releases 2; Freeze windows 0; Incidents 1; SLA / escalation 1\.',
        svg,
    )
    assert f'<a href="{own.get_absolute_url()}"' in svg
    assert f"<title>Release: {own.title}" in svg
    assert f"<title>Incident: {incident.reference} Checkout timeouts" in svg
    assert f"<title>Escalation matrix version: {matrix.reference} version 1" in svg
    assert 'class="tl-mark tl-release tl-dependency"' in svg
    main = html[html.index("<main") : html.index("</main>")]
    assert "style=" not in main, "no inline styles: the stylesheet draws it"
    assert "<script" not in main, "drawn on the server, no JavaScript"

    table = re.search(r'<table class="timeline-table">.*?</table>', html, re.S).group(0)
    assert own.title in table and "Payments 4.2" in table and "dependency" in table
    assert f"{incident.reference} Checkout timeouts" in table
    assert f"{matrix.reference} version 1" in table
    assert table.index("Payments 4.2") < table.index("Checkout timeouts"), "in time order"


def test_a_restricted_review_shows_only_to_those_who_may_see_it(client, checkout, make_team, make_user, make_review):
    security = make_team("Security")
    make_review(
        [checkout],
        started_at=ago(days=3),
        title="Card data exposure",
        is_restricted=True,
        restricted_to=[security, checkout.owner_team],
    )
    outsider = make_user("outsider", teams=[make_team("Elsewhere")])
    analyst = make_user("analyst", teams=[security])

    client.force_login(outsider)
    html = client.get(timeline_url()).content.decode()
    assert "Card data exposure" not in html
    assert "Nothing happened to Checkout" in html

    client.force_login(analyst)
    assert "Card data exposure" in client.get(timeline_url()).content.decode()


def test_an_unknown_service_is_404(reader_client):
    assert reader_client.get(timeline_url("nowhere")).status_code == 404


def test_the_service_page_links_to_its_timeline_and_subscription(reader_client, checkout):
    html = reader_client.get(checkout.get_absolute_url()).content.decode()
    assert f'href="{timeline_url()}"' in html
    assert f'href="{timeline_url()}#subscribe"' in html


def test_the_timeline_offers_a_personal_subscription(reader_client, reader, checkout, make_release):
    """The page carries no token: it sends the reader to their feed links, where a link for this feed is made."""
    make_release("Checkout 2026.12.1", services=[checkout])
    html = reader_client.get(timeline_url()).content.decode()
    assert 'value="http://testserver/releases/services/checkout.ics"' in html, "the address, without a token"
    assert "token=" not in html
    links_page = reverse("releases:feed_links") + "?service=checkout"
    assert f'href="{links_page}"' in html

    made = reader_client.post(reverse("releases:feed_links"), {"label": "Outlook", "service": "checkout"})
    address = r'value="(http://testserver/releases/services/checkout\.ics\?token=(slaf_[^"]+))"'
    token = re.search(address, made.content.decode())
    assert token, "the service's feed address with the new link's token, shown once"
    reader_client.logout()
    feed = reader_client.get(token.group(1).replace("http://testserver", ""))
    assert feed.status_code == 200 and b"Checkout 2026.12.1" in feed.content


# The range -------------------------------------------------------------------


def test_the_range_narrows_what_is_shown(reader_client, checkout, make_release):
    make_release("December release", services=[checkout], starts_at=datetime(2026, 12, 3, 10, tzinfo=UTC))
    make_release("January release", services=[checkout], starts_at=datetime(2027, 1, 15, 10, tzinfo=UTC))
    html = reader_client.get(timeline_url(), {"from": "2026-12-01", "to": "2026-12-31"}).content.decode()
    assert "December release" in html and "January release" not in html
    assert "from 1 Dec 2026 to 31 Dec 2026" in html
    assert ">Dec<" in html or ">Dec 2026<" in html or ">7 Dec<" in html, "ticks along the axis"


def test_the_date_boxes_hold_the_range_as_the_browsers_date_input_takes_it(reader_client, checkout):
    html = reader_client.get(timeline_url()).content.decode()
    today = timezone.localdate()
    boxes = dict(re.findall(r'<input type="date" name="(from|to)" value="([^"]*)"', html))
    assert boxes["from"] == (today - DEFAULT_PAST).isoformat()
    assert boxes["to"] == (today + DEFAULT_AHEAD).isoformat()


def test_the_last_day_of_the_range_is_included(reader_client, checkout, make_release):
    make_release("Late on the last day", services=[checkout], starts_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    html = reader_client.get(timeline_url(), {"from": "2026-12-01", "to": "2026-12-31"}).content.decode()
    assert "Late on the last day" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "Enter a valid date."),
        ({"from": "2026-02-30"}, "Enter a valid date."),
        ({"from": "2026-12-31", "to": "2026-12-01"}, "is after “to”"),
        ({"from": "0001-01-01", "to": "2026-12-01"}, "Choose a date between 1970 and 2100."),
        ({"from": "2000-01-01", "to": "2026-12-01"}, "at most five years"),
    ],
)
def test_bad_dates_show_an_error_and_the_default_range(reader_client, checkout, make_release, params, message):
    make_release("Recent release", services=[checkout], starts_at=ago(days=5))
    response = reader_client.get(timeline_url(), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html.replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert 'class="form-errors"' in html
    assert "Recent release" in html, "the default range is shown meanwhile"


def test_one_end_of_the_range_is_enough():
    form = TimelineRangeForm({"from": "2026-01-01"})
    start, end = form.chosen_range()
    assert start == datetime(2026, 1, 1, tzinfo=UTC)
    assert end - start == timedelta(days=210)
    form = TimelineRangeForm({"to": "2026-06-30"})
    start, end = form.chosen_range()
    assert end == datetime(2026, 7, 1, tzinfo=UTC)
    assert end - start == timedelta(days=210)


# Possibly related --------------------------------------------------------------

RELEASED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def release(pk=1, title="Checkout 2026.12.1", starts_at=RELEASED, **fields):
    return Release(pk=pk, title=title, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), **fields)


def incident(after, pk=1, **fields):
    return PostIncidentReview(pk=pk, title="Checkout errors", started_at=RELEASED + after, **fields)


def test_an_incident_3_h_20_min_after_a_release_is_possibly_related():
    related = possibly_related([release()], [incident(timedelta(hours=3, minutes=20))])
    assert [item.description for item in related] == ["3 h 20 min after Checkout 2026.12.1"]
    assert related[0].gap == timedelta(hours=3, minutes=20)


@pytest.mark.parametrize(
    ("after", "related"),
    [
        (timedelta(0), True),
        (timedelta(hours=23), True),
        (timedelta(hours=24), True),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(hours=25), False),
        (-timedelta(minutes=1), False),
        (-timedelta(hours=2), False),
    ],
)
def test_the_24_hour_boundary(after, related):
    assert bool(possibly_related([release()], [incident(after)])) is related


def test_freeze_windows_cancelled_releases_and_drills_are_not_related():
    after = timedelta(hours=1)
    assert possibly_related([release(kind=ReleaseKind.FREEZE)], [incident(after)]) == []
    assert possibly_related([release(status=ReleaseStatus.CANCELLED)], [incident(after)]) == []
    assert possibly_related([release()], [incident(after, is_drill=True, drill_kind="tabletop")]) == []
    assert possibly_related([release(kind=ReleaseKind.MAINTENANCE)], [incident(after)]) != []


def test_an_incident_after_two_releases_lists_the_nearest_first():
    earlier = release(pk=1, title="Payments 4.2", starts_at=RELEASED - timedelta(hours=5))
    later = release(pk=2, title="Checkout 2026.12.1")
    related = possibly_related([earlier, later], [incident(timedelta(minutes=45))], dependency_release_ids={1})
    assert [item.description for item in related] == [
        "45 min after Checkout 2026.12.1",
        "5 h 45 min after Payments 4.2",
    ]
    assert [item.is_dependency for item in related] == [False, True]


def test_gaps_read_as_people_say_them():
    assert describe_gap(timedelta(seconds=20)) == "less than a minute"
    assert describe_gap(timedelta(hours=2)) == "2 h"
    assert describe_gap(timedelta(days=1, minutes=5)) == "1 d 5 min"


def test_the_page_lists_incidents_after_own_and_dependency_releases(
    reader_client, checkout, payments, make_release, make_review
):
    released = ago(days=6).replace(second=0, microsecond=0)
    make_release("Payments 4.2", services=[payments], starts_at=released)
    make_review([checkout], started_at=released + timedelta(hours=3, minutes=20), title="Card declines")
    make_review([checkout], started_at=released + timedelta(hours=25), title="Unrelated slowness")
    make_review([checkout], started_at=released - timedelta(hours=1), title="Before the deploy")

    timeline = reader_client.get(timeline_url()).context["timeline"]
    assert [(item.incident.title, item.description, item.is_dependency) for item in timeline.related] == [
        ("Card declines", "3 h 20 min after Payments 4.2", True)
    ]
    html = reader_client.get(timeline_url()).content.decode()
    related = html[html.index('id="related"') : html.index('id="subscribe"')]
    assert "Card declines</a> started 3 h 20 min after Payments 4.2" in related
    assert "of a dependency" in related
    assert "Unrelated slowness" not in related and "Before the deploy" not in related


def test_a_release_just_before_the_range_still_relates_to_an_incident_early_in_it(
    reader, checkout, make_release, make_review
):
    make_release("Checkout late deploy", services=[checkout], starts_at=datetime(2026, 11, 30, 22, tzinfo=UTC))
    make_review([checkout], started_at=datetime(2026, 12, 1, 2, tzinfo=UTC), title="Night errors")
    timeline = gather_timeline(checkout, reader, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    assert [entry.title for entry in timeline.entries if entry.lane == Lane.RELEASES] == []
    assert [item.description for item in timeline.related] == ["4 h after Checkout late deploy"]


def test_a_scheduled_change_request_shows_with_what_it_is_effective_with(
    client, governed_sla, propose_acknowledge, approve_all, make_release
):
    from releases.scheduling import make_effective_with_release

    service = governed_sla.sla.service
    release_moment = timezone.now() + timedelta(days=3)
    upcoming = make_release("Payments 5.0", services=[service], starts_at=release_moment)
    change_request = propose_acknowledge(governed_sla, 15)
    make_effective_with_release(change_request, upcoming, acting_user=governed_sla.author)
    change_request = approval_actions.submit_change_request(change_request, acting_user=governed_sla.author)
    approve_all(governed_sla, change_request)

    client.force_login(governed_sla.author)
    html = client.get(timeline_url(service.slug)).content.decode()
    assert f"{change_request.reference} takes effect: Faster SEV1 acknowledgement" in html
    assert "effective with release Payments 5.0" in html
    assert f"{governed_sla.sla.reference} version 1" in html


# Query counts ----------------------------------------------------------------
# Session, user and the navigation's approvals count (3); the service; then the
# timeline's reads: dependencies, releases and their services, incidents, SLAs,
# the matrix, versions, scheduled change requests.


def test_timeline_queries_do_not_grow_with_releases_and_incidents(
    reader_client, django_assert_num_queries, checkout, payments, make_release, make_review, make_sla, admin_actor
):
    sla = make_sla(service=checkout, effective_from=ago(days=100))
    approval_actions.record_baseline_version(sla, acting_user=admin_actor)

    days_back = iter(range(1, 100))

    def add(count):
        for number in range(count):
            moment = ago(days=next(days_back))
            make_release(services=[checkout] if number % 2 else [payments], starts_at=moment)
            make_review([checkout], started_at=moment + timedelta(hours=2), title=f"Incident {number}")

    add(1)
    with django_assert_num_queries(12):
        response = reader_client.get(timeline_url())
    assert len(response.context["timeline"].related) == 1
    add(25)
    with django_assert_num_queries(12):
        response = reader_client.get(timeline_url())
    assert len(response.context["timeline"].related) == 26
