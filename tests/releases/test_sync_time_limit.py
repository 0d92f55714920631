"""One calendar's sync (fetch, parse, expansion, store) stops at CALENDAR_SYNC_TIME_LIMIT and writes nothing."""

import socket
import threading
import time
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from releases.choices import SyncSource
from releases.importing import import_calendar, sync_calendar
from releases.models import CalendarSync, Release
from releases.tasks import sync_due_calendars_task

pytestmark = pytest.mark.django_db

# Expanding this many daily series over the default window (200 days back, 365 ahead: ~565 occurrences each,
# under every cap) takes seconds: far past a limit of a fraction of a second.
SERIES = 30


def daily_series_calendar(count=SERIES):
    """A valid calendar of `count` daily events begun 300 days ago, with no end: slow to expand, on any date."""
    start = (timezone.now() - timedelta(days=300)).strftime("%Y%m%dT0900%%02dZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    for number in range(count):
        lines += [
            "BEGIN:VEVENT",
            f"UID:daily-{number}@example.com",
            f"DTSTART:{start % number}",
            "DURATION:PT30M",
            "RRULE:FREQ=DAILY",
            f"SUMMARY:Daily rollout {number}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def one_release_calendar():
    moment = (timezone.now() + timedelta(days=10)).strftime("%Y%m%dT100000Z")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:kept@example.com\r\n"
        f"DTSTART:{moment}\r\nDURATION:PT1H\r\nSUMMARY:Checkout 2026.12.1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def stored(calendar):
    return sorted(
        Release.objects.filter(calendar=calendar).values_list("uid", "recurrence_id", "title", "status", "fingerprint")
    )


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """Serve bytes over HTTP on 127.0.0.1: serve(name, data) gives the URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def publish(name, data):
        (tmp_path / name).write_bytes(data)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield publish
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    settings.RELEASES_FEEDS_MAY_BE_INTERNAL = True


@pytest.fixture
def feed_calendar(make_calendar, make_team, serve):
    calendar = make_calendar("Rollouts", team=make_team(time_zone="UTC"), feed_url=serve("rollouts.ics", b""))
    sync = import_calendar(calendar, one_release_calendar(), source=SyncSource.UPLOAD)
    assert sync.added == 1
    calendar.refresh_from_db()
    return calendar


def test_a_feed_sync_in_the_worker_that_outruns_the_time_limit_stops_naming_it_and_keeps_the_releases(
    feed_calendar, serve, settings
):
    settings.CALENDAR_SYNC_TIME_LIMIT = 0.2
    feed_calendar.feed_url = serve("rollouts.ics", daily_series_calendar())
    feed_calendar.last_synced_at = timezone.now() - 2 * feed_calendar.sync_interval  # due
    feed_calendar.save(update_fields=["feed_url", "last_synced_at"])
    before = stored(feed_calendar)

    clock = time.monotonic()
    outcome = sync_due_calendars_task.call()  # what the worker runs
    elapsed = time.monotonic() - clock

    [result] = outcome
    assert result["calendar"] == "Rollouts"
    assert "time limit of 0.2 s" in result["error"] and "(CALENDAR_SYNC_TIME_LIMIT)" in result["error"]
    assert "while expanding recurring events" in result["error"]
    assert elapsed < 3, "stopped at the limit, not after expanding every occurrence"
    assert stored(feed_calendar) == before, "the calendar's releases untouched"
    sync = CalendarSync.objects.filter(calendar=feed_calendar).latest()
    assert sync.error == result["error"] and (sync.added, sync.updated, sync.cancelled) == (0, 0, 0)
    feed_calendar.refresh_from_db()
    assert feed_calendar.last_error == result["error"]


def test_an_uploaded_file_is_held_to_the_same_limit(feed_calendar, settings):
    settings.CALENDAR_SYNC_TIME_LIMIT = 0.2
    before = stored(feed_calendar)
    sync = import_calendar(feed_calendar, daily_series_calendar(), source=SyncSource.UPLOAD)
    assert "time limit of 0.2 s" in sync.error
    assert stored(feed_calendar) == before


def test_the_fetch_gets_only_what_is_left_of_the_limit(make_calendar, make_team, settings):
    """A feed that never answers is given up at the sync's limit, not after the fetch's own 15 s."""
    settings.CALENDAR_SYNC_TIME_LIMIT = 0.5
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        calendar = make_calendar(
            "Silent", team=make_team(), feed_url=f"http://127.0.0.1:{listener.getsockname()[1]}/feed.ics"
        )
        clock = time.monotonic()
        sync = sync_calendar(calendar)
        elapsed = time.monotonic() - clock
    assert "while fetching the feed" in sync.error and "time limit of 0.5 s" in sync.error
    assert elapsed < 5
    assert not Release.objects.filter(calendar=calendar).exists()


def test_within_the_limit_the_sync_stores_the_feed(feed_calendar, serve):
    """The control: the same path with the default limit (60 s) imports what the feed holds."""
    feed_calendar.feed_url = serve("rollouts.ics", daily_series_calendar(count=1))
    feed_calendar.save(update_fields=["feed_url"])
    sync = sync_calendar(feed_calendar)
    assert sync.error == ""
    assert sync.added > 500 and sync.cancelled == 1  # the daily occurrences; the one release gone from the feed
