"""The import_ics and sync_calendars commands, feeds fetched from a real local HTTP server, and the sync task."""

import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.log import events_for
from releases.actions import save_calendar
from releases.choices import ReleaseStatus, SyncSource
from releases.importing import FeedError, fetch_feed, sync_calendar, sync_due_calendars
from releases.models import CalendarSync, Release
from releases.tasks import SYNC_EVERY, sync_due_calendars_task

pytestmark = pytest.mark.django_db

CALENDARS = Path(__file__).parent / "calendars"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW):
        yield


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    """These tests serve their feeds on 127.0.0.1, which production refuses."""
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = True


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def feed_server():
    """The fixture calendars served over HTTP on 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(CALENDARS)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def dead_port():
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port():
    """A port that accepts connections but never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def checkout_calendar(make_calendar, make_team):
    return make_calendar("Checkout releases", slug="checkout-releases", team=make_team(time_zone="Europe/Berlin"))


def run_command(*argv):
    """Run a command as `manage.py` would: (exit code, standard output, error message)."""
    out = StringIO()
    try:
        call_command(*argv, stdout=out)
    except CommandError as error:  # manage.py prints it and exits with its return code
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), ""


# import_ics ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["checkout-releases", "Checkout releases"])
def test_import_ics_imports_a_file_into_the_calendar_named_by_name_or_slug(checkout_calendar, name):
    out = StringIO()
    path = CALENDARS / "exchange.ics"

    call_command("import_ics", str(path), calendar=name, stdout=out)

    assert re.fullmatch(
        rf"Imported {re.escape(str(path))} into Checkout releases in \d+\.\d s: "
        r"4 added, 0 updated, 0 cancelled, 0 unchanged\.\n",
        out.getvalue(),
    )
    assert Release.objects.filter(calendar=checkout_calendar).count() == 4
    assert checkout_calendar.syncs.get().source == SyncSource.COMMAND


def test_import_ics_reports_updates_on_a_second_file(checkout_calendar):
    run_command("import_ics", str(CALENDARS / "exchange.ics"), "--calendar", "checkout-releases")

    code, out, _ = run_command("import_ics", str(CALENDARS / "exchange_updated.ics"), "--calendar", "checkout-releases")

    assert code == 0
    assert out.endswith(": 1 added, 2 updated, 2 cancelled, 0 unchanged.\n")


def test_import_ics_with_an_unknown_calendar_lists_the_known_ones(checkout_calendar, make_calendar):
    make_calendar("Platform train")

    code, _, error = run_command("import_ics", str(CALENDARS / "exchange.ics"), "--calendar", "payments")

    assert code == 1
    assert error == "No calendar is called “payments”. Known calendars: Checkout releases, Platform train."
    assert not Release.objects.exists()


def test_import_ics_of_a_malformed_file_says_why_and_exits_non_zero(checkout_calendar):
    run_command("import_ics", str(CALENDARS / "exchange.ics"), "--calendar", "checkout-releases")

    code, out, error = run_command(
        "import_ics", str(CALENDARS / "malformed_dtstart.ics"), "--calendar", "checkout-releases"
    )

    assert (code, out) == (1, "")
    assert 'malformed_dtstart.ics into Checkout releases; nothing was changed. Event "Checkout 2026.12.1"' in error
    assert error.endswith('DTSTART "2026-13-45" is not a valid date-time.')
    assert Release.objects.get(title="Checkout 2026.12.1").starts_at == datetime(2026, 12, 8, 9, tzinfo=UTC)


def test_import_ics_of_a_missing_file_says_so(checkout_calendar):
    with pytest.raises(CommandError, match=r"Could not read .*nowhere\.ics: No such file or directory\."):
        call_command("import_ics", str(CALENDARS / "nowhere.ics"), calendar="checkout-releases")
    assert not CalendarSync.objects.exists()


# Feeds over HTTP -----------------------------------------------------------------------


def test_sync_calendar_fetches_the_feed_and_imports_it(checkout_calendar, feed_server, admin_actor):
    checkout_calendar.feed_url = f"{feed_server}/exchange.ics"

    sync = sync_calendar(checkout_calendar, acting_user=admin_actor, now=NOW)

    assert (sync.error, sync.source, sync.added) == ("", SyncSource.FEED, 4)
    assert Release.objects.get(title="Checkout 2026.12.1").starts_at == datetime(2026, 12, 8, 9, tzinfo=UTC)
    checkout_calendar.refresh_from_db()
    assert checkout_calendar.last_synced_at == NOW


def test_a_feed_that_cannot_be_reached_keeps_the_data_and_records_the_error(
    checkout_calendar, feed_server, dead_port, admin_actor
):
    checkout_calendar.feed_url = f"{feed_server}/exchange.ics"
    save_calendar(checkout_calendar, acting_user=admin_actor, reason="test set-up")
    sync_calendar(checkout_calendar, now=NOW)
    checkout_calendar.feed_url = f"http://127.0.0.1:{dead_port}/exchange.ics"
    save_calendar(checkout_calendar, acting_user=admin_actor, reason="the feed moved")

    sync = sync_calendar(checkout_calendar, now=NOW + timedelta(hours=2))

    assert sync.error == f"Could not fetch http://127.0.0.1:{dead_port}/exchange.ics: connection refused."
    assert sync.source == SyncSource.FEED
    assert CalendarSync.objects.get(pk=sync.pk).error == sync.error
    assert set(Release.objects.values_list("status", flat=True)) == {ReleaseStatus.SCHEDULED}
    assert Release.objects.count() == 4
    checkout_calendar.refresh_from_db()
    assert (checkout_calendar.last_error, checkout_calendar.last_synced_at) == (sync.error, NOW)
    assert checkout_calendar.is_due_for_sync(NOW + timedelta(hours=2))  # a failed calendar is retried


def test_fetch_feed_names_the_http_status(feed_server):
    with pytest.raises(FeedError) as error:
        fetch_feed(f"{feed_server}/missing.ics")
    assert (
        str(error.value) == f"Could not fetch {feed_server}/missing.ics: the server answered HTTP 404 File not found."
    )


def test_fetch_feed_gives_up_after_its_timeout(silent_port):
    with pytest.raises(FeedError) as error:
        fetch_feed(f"http://127.0.0.1:{silent_port}/feed.ics", timeout=0.3)
    assert str(error.value) == f"Could not fetch http://127.0.0.1:{silent_port}/feed.ics: timed out after 0.3 s."


def test_fetch_feed_refuses_a_feed_over_the_size_limit(feed_server):
    assert fetch_feed(f"{feed_server}/floating.ics").startswith(b"BEGIN:VCALENDAR\r\n")
    with pytest.raises(FeedError, match=r"the feed is larger than 100 bytes\.$"):
        fetch_feed(f"{feed_server}/floating.ics", max_bytes=100)


def test_fetch_feed_reads_webcal_as_https_and_refuses_other_schemes(feed_server):
    port = feed_server.rsplit(":", 1)[1]
    # The local server speaks plain HTTP, so the TLS handshake fails: proof the request went out over https.
    with pytest.raises(FeedError, match=rf"^Could not fetch https://127\.0\.0\.1:{port}/exchange\.ics: "):
        fetch_feed(f"webcal://127.0.0.1:{port}/exchange.ics", timeout=5)
    with pytest.raises(FeedError, match="only http://, https:// and webcal:// feeds can be synced"):
        fetch_feed("file:///etc/passwd")


def test_sync_due_calendars_syncs_only_the_feeds_that_are_due(make_calendar, make_team, feed_server):
    team = make_team()
    due = make_calendar("Due", team=team, feed_url=f"{feed_server}/google_calendar.ics")
    fresh = make_calendar("Fresh", team=team, feed_url=f"{feed_server}/exchange.ics")
    make_calendar("Uploads only", team=team)
    sync_calendar(fresh, now=NOW - timedelta(minutes=10))

    syncs = sync_due_calendars(now=NOW)

    assert [(sync.calendar, sync.error, sync.added) for sync in syncs] == [(due, "", 4)]


# sync_calendars ----------------------------------------------------------------------


def test_sync_calendars_reports_each_calendar_and_fails_if_one_failed(make_calendar, make_team, feed_server, dead_port):
    team = make_team(time_zone="Europe/Berlin")
    make_calendar("Checkout releases", team=team, feed_url=f"{feed_server}/exchange.ics")
    make_calendar("Broken feed", team=team, feed_url=f"http://127.0.0.1:{dead_port}/gone.ics")
    make_calendar("Uploads only", team=team)
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("sync_calendars", stdout=out)

    assert out.getvalue().splitlines() == [
        f"  Broken feed: failed: Could not fetch http://127.0.0.1:{dead_port}/gone.ics: connection refused.",
        "  Checkout releases: 4 added, 0 updated, 0 cancelled, 0 unchanged",
    ]
    assert re.fullmatch(
        r"Synced 2 feed calendars in \d+\.\d s: 1 failed \(Broken feed\); their releases were kept\.", str(error.value)
    )
    assert Release.objects.count() == 4


def test_sync_calendars_exits_zero_when_every_feed_synced(make_calendar, make_team, feed_server):
    make_calendar(team=make_team(), feed_url=f"{feed_server}/release_train.ics")

    code, out, _ = run_command("sync_calendars")

    assert code == 0
    last_line = out.splitlines()[-1]
    assert re.fullmatch(r"Synced 1 feed calendar in \d+\.\d s: all succeeded\.", last_line)


def test_sync_calendars_due_skips_the_calendars_synced_recently(make_calendar, make_team, feed_server):
    calendar = make_calendar(team=make_team(), feed_url=f"{feed_server}/release_train.ics")
    sync_calendar(calendar, now=NOW - timedelta(minutes=5))
    out = StringIO()

    call_command("sync_calendars", "--due", stdout=out)

    assert out.getvalue() == "No feed calendar is due for a sync.\n"
    assert calendar.syncs.count() == 1


# The background task -------------------------------------------------------------------


def test_the_sync_task_syncs_due_calendars_and_queues_its_next_run_once(make_calendar, make_team, feed_server):
    make_calendar("Train", team=make_team(), feed_url=f"{feed_server}/release_train.ics")

    result = sync_due_calendars_task.call()
    sync_due_calendars_task.call()  # the next run is already queued: not queued twice

    assert result == [{"calendar": "Train", "error": ""}]
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=sync_due_calendars_task.module_path
    ).get()
    assert NOW + SYNC_EVERY <= waiting.run_after <= NOW + SYNC_EVERY + timedelta(minutes=1)


def test_sync_calendars_schedule_queues_the_background_sync(make_calendar, make_team):
    out = StringIO()

    call_command("sync_calendars", "--schedule", stdout=out)

    assert out.getvalue().splitlines() == [
        "Queued the background sync for 2026-11-29 12:15 UTC.",
        "No calendar has a feed URL.",
    ]
    assert DBTaskResult.objects.filter(task_path=sync_due_calendars_task.module_path).count() == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.0.0.8", "[::1]"])
def test_fetch_feed_refuses_internal_addresses_in_production(settings, host):
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = False
    with pytest.raises(
        FeedError, match="which the portal does not call; the portal only syncs feeds published outside"
    ):
        fetch_feed(f"http://{host}/calendar.ics")


@pytest.mark.parametrize("url", ["http://[::ffff:127.0.0.1]/cal.ics", "http://localhost/cal.ics"])
def test_a_feed_steering_the_sync_inside_is_refused_and_audited(checkout_calendar, admin_actor, settings, url):
    checkout_calendar.feed_url = url
    save_calendar(checkout_calendar, acting_user=admin_actor, reason="test set-up")
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = False

    sync = sync_calendar(checkout_calendar, now=NOW)

    assert "127.0.0.1 is a loopback address" in sync.error
    (refused,) = events_for(checkout_calendar).filter(action="outbound.refused")
    assert refused.payload == {"url": url, "reason": refused.payload["reason"]}
    assert "127.0.0.1 is a loopback address" in refused.payload["reason"]
