"""Uploads above CALENDAR_BACKGROUND_IMPORT_BYTES: stored, imported by the worker with progress, safe to run twice."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from releases.choices import ImportState
from releases.models import CalendarImport, CalendarSync, Release
from releases.tasks import import_upload_task

# The worker runs in this process and closes its database connections between tasks (on PostgreSQL for real),
# which would end a test wrapped in a transaction: these tests commit, and the database is flushed after each.
pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 40


def release_calendar(count=EVENTS, *, broken=False):
    """A valid calendar of `count` releases in the coming days (dates from now: any day will do)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    for number in range(count):
        start = (timezone.now() + timedelta(days=number + 1)).strftime("%Y%m%dT100000Z")
        if broken and number == count - 1:
            start = "2026-13-45"
        lines += [
            "BEGIN:VEVENT",
            f"UID:release-{number}@example.com",
            f"DTSTART:{start}",
            "DURATION:PT1H",
            f"SUMMARY:Checkout 2026.{number}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def payments(make_team):
    return make_team("Payments")


@pytest.fixture
def calendar(make_calendar, payments):
    return make_calendar("Payments releases", team=payments)


@pytest.fixture
def member_client(client, make_user, payments):
    client.force_login(make_user("payments.engineer", teams=[payments]))
    return client


@pytest.fixture
def small_threshold(settings):
    settings.CALENDAR_BACKGROUND_IMPORT_BYTES = 1024
    return settings


def upload(client, calendar, data, name="releases.ics", **extra):
    return client.post(
        reverse("releases:calendar_upload", args=[calendar.slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/calendar")},
        **extra,
    )


def progress(client, upload):
    response = client.get(reverse("releases:calendar_import_progress", args=[upload.calendar.slug, upload.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_a_large_upload_returns_at_once_and_the_worker_imports_it_with_progress(
    member_client, calendar, small_threshold, django_capture_on_commit_callbacks
):
    data = release_calendar()
    assert len(data) > 1024
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(member_client, calendar, data)
    assert response.status_code == 302

    page = member_client.get(calendar.get_absolute_url()).content.decode()
    assert f"releases.ics ({len(data) / 1024:.1f}\xa0KB) is importing in the background" in page
    assert not Release.objects.filter(calendar=calendar).exists(), "nothing imported during the request"
    queued = CalendarImport.objects.get(calendar=calendar)
    assert (queued.state, bytes(queued.content), queued.size) == (ImportState.QUEUED, data, len(data))
    assert "Queued: releases.ics waits for the background worker." in page
    assert 'data-import-progress="/releases/calendars/payments-releases/imports/' in page
    assert "js/calendar-import-progress.js" in page
    assert progress(member_client, queued) | {"summary": ""} == {
        "id": queued.pk,
        "state": "queued",
        "state_label": "Queued",
        "events_read": 0,
        "events_total": 0,
        "percent": 0,
        "finished": False,
        "summary": "",
        "message": "",
    }
    task = DBTaskResult.objects.get(task_path=import_upload_task.module_path)
    assert task.status == TaskResultStatus.READY and task.args_kwargs["args"] == [queued.pk]

    run_worker()

    done = CalendarImport.objects.get(pk=queued.pk)
    assert done.state == ImportState.DONE
    assert (done.events_read, done.events_total, done.percent) == (EVENTS, EVENTS, 100)
    assert done.message == f"Imported releases.ics: {EVENTS} added, 0 updated, 0 cancelled, 0 unchanged."
    assert bytes(done.content) == b"", "the stored file is emptied once imported"
    assert done.sync == CalendarSync.objects.get(calendar=calendar) and done.sync.added == EVENTS
    assert Release.objects.filter(calendar=calendar).count() == EVENTS
    answer = progress(member_client, done)
    assert (answer["state"], answer["finished"], answer["percent"]) == ("done", True, 100)
    assert answer["summary"] == done.message
    assert done.message in member_client.get(calendar.get_absolute_url()).content.decode()
    assert DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.SUCCESSFUL


def test_running_a_finished_import_again_does_nothing(
    member_client, calendar, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(member_client, calendar, release_calendar())
    queued = CalendarImport.objects.get()
    assert import_upload_task.call(queued.pk)["state"] == "done"
    releases = list(Release.objects.filter(calendar=calendar).values_list("pk", "updated_at"))

    assert import_upload_task.call(queued.pk) is None
    assert CalendarSync.objects.filter(calendar=calendar).count() == 1, "no second import"
    assert list(Release.objects.filter(calendar=calendar).values_list("pk", "updated_at")) == releases
    again = CalendarImport.objects.get()
    assert (again.state, again.attempts) == (ImportState.DONE, 1)


def test_an_import_running_in_another_worker_is_left_to_it_and_looked_at_again_later(
    member_client, calendar, small_threshold, django_capture_on_commit_callbacks
):
    upload(member_client, calendar, release_calendar())
    started = timezone.now()
    CalendarImport.objects.update(state=ImportState.RUNNING, started_at=started, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_upload_task.call(CalendarImport.objects.get().pk) is None
    assert not Release.objects.filter(calendar=calendar).exists()
    assert CalendarImport.objects.get().attempts == 1
    # One more run once the running one counts as abandoned (twice the time limit, and a minute): it then
    # finds the import done, or takes it over.
    # (The upload queued its own run, to run at once, when it committed: the look again is the scheduled one.)
    later = DBTaskResult.objects.get(
        task_path=import_upload_task.module_path,
        status=TaskResultStatus.READY,
        run_after__lt=started + timedelta(days=1),
    )
    assert later.run_after == started + timedelta(seconds=2 * small_threshold.CALENDAR_SYNC_TIME_LIMIT + 60)


def test_an_import_whose_worker_died_is_run_again(member_client, calendar, small_threshold):
    upload(member_client, calendar, release_calendar())
    long_ago = timezone.now() - timedelta(hours=1)
    CalendarImport.objects.update(state=ImportState.RUNNING, started_at=long_ago, attempts=1)
    assert import_upload_task.call(CalendarImport.objects.get().pk)["state"] == "done"
    assert CalendarImport.objects.get().attempts == 2
    assert Release.objects.filter(calendar=calendar).count() == EVENTS


def test_a_large_upload_that_cannot_be_read_ends_failed_with_the_reason_and_stores_nothing(
    member_client, calendar, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(member_client, calendar, release_calendar(broken=True), name="broken.ics")
    run_worker()

    failed = CalendarImport.objects.get()
    assert failed.state == ImportState.FAILED
    assert failed.message.startswith("Nothing was changed. ")
    assert f'Event "Checkout 2026.{EVENTS - 1}"' in failed.message and 'DTSTART "2026-13-45"' in failed.message
    assert bytes(failed.content) == b""
    assert not Release.objects.filter(calendar=calendar).exists()
    assert failed.sync.error and failed.sync.error in failed.message
    answer = progress(member_client, failed)
    assert (answer["state"], answer["finished"]) == ("failed", True)
    assert answer["summary"] == failed.message
    page = member_client.get(calendar.get_absolute_url()).content.decode()
    assert "Failed" in page and "DTSTART" in page


def test_an_upload_below_the_threshold_is_still_imported_during_the_request(member_client, calendar, settings):
    settings.CALENDAR_BACKGROUND_IMPORT_BYTES = 2 * 1024 * 1024
    response = upload(member_client, calendar, release_calendar(), follow=True)
    assert f"{EVENTS} added" in response.content.decode()
    assert Release.objects.filter(calendar=calendar).count() == EVENTS
    assert not CalendarImport.objects.exists()


def test_only_members_upload_and_anyone_signed_in_follows_the_progress(
    client, member_client, calendar, small_threshold, make_user
):
    upload(member_client, calendar, release_calendar())
    queued = CalendarImport.objects.get()
    reader = make_user("reader")
    client.force_login(reader)
    assert upload(client, calendar, release_calendar()).status_code == 403
    assert CalendarImport.objects.count() == 1
    assert progress(client, queued)["state"] == "queued"
    other = reverse("releases:calendar_import_progress", args=["another-calendar", queued.pk])
    assert client.get(other).status_code == 404


def test_a_running_import_shows_how_far_it_has_got(member_client, calendar, small_threshold):
    upload(member_client, calendar, release_calendar())
    running = CalendarImport.objects.get()
    CalendarImport.objects.update(
        state=ImportState.RUNNING, started_at=timezone.now(), events_read=10, events_total=40, message="Reading."
    )
    answer = progress(member_client, running)
    assert (answer["state"], answer["percent"], answer["finished"]) == ("running", 25, False)
    assert answer["summary"] == "Running: 10 of 40 events read (25 %). Reading."
    page = member_client.get(calendar.get_absolute_url()).content.decode()
    assert 'value="25"' in page and 'data-state="running"' in page and answer["summary"] in page
