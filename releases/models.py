"""Release calendars, their releases (and freeze windows, maintenance), and changes made effective with a release.

Also the personal feed links calendar programs read the portal's feeds with (FeedToken), uploads
imported in the background (CalendarImport), and who is on call in a team as its on-call schedule feed
says (OnCallSchedule, OnCallShift: releases.oncall_schedules reads them).
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from releases.choices import ImportState, ReleaseKind, ReleaseRisk, ReleaseStatus, RuleField, SyncSource
from sla_registry.validators import validate_slug_not_reserved


class Calendar(models.Model):
    """A team's release calendar: an uploaded .ics file, or a feed URL the portal syncs on a schedule."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_slug_not_reserved])
    team = models.ForeignKey("sla_registry.Team", on_delete=models.PROTECT, related_name="calendars")
    default_services = models.ManyToManyField(
        "sla_registry.Service",
        related_name="+",
        blank=True,
        help_text="Every imported event concerns these services, as well as those the rules assign.",
    )
    feed_url = models.CharField(
        "feed URL",
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["https", "http", "webcal"])],
        help_text="An https:// or webcal:// iCalendar feed. Empty: upload files.",
    )
    sync_interval = models.DurationField(default=timedelta(hours=1), help_text="How often the feed is fetched.")
    history_days = models.PositiveIntegerField(
        default=200, help_text="Recurring events are expanded this many days into the past…"
    )
    horizon_days = models.PositiveIntegerField(default=365, help_text="…and this many days into the future.")
    last_synced_at = models.DateTimeField(null=True, blank=True, help_text="The last import that succeeded.")
    last_error = models.TextField(blank=True, help_text="What went wrong with the last import, if it failed.")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(
        m2m_fields=[default_services], excluded_fields=["last_synced_at", "last_error"], bases=[ChangeRequestStamp]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("releases:calendar_detail", kwargs={"slug": self.slug})

    @property
    def is_feed(self):
        return bool(self.feed_url)

    def is_due_for_sync(self, now=None):
        if not self.is_feed:
            return False
        now = now or timezone.now()
        return self.last_synced_at is None or bool(self.last_error) or self.last_synced_at + self.sync_interval <= now


class ServiceRule(models.Model):
    """A team's rule that assigns a service to imported events, e.g. summary contains "checkout"."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="rules")
    field = models.CharField(max_length=16, choices=RuleField, default=RuleField.SUMMARY)
    value = models.CharField(max_length=100, help_text="Matched without regard to case.")
    service = models.ForeignKey("sla_registry.Service", on_delete=models.CASCADE, related_name="+")

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["calendar", "field", "value"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "field", "value", "service"], name="service_rule_unique"),
            models.CheckConstraint(condition=~Q(value=""), name="service_rule_value_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_field_display()} “{self.value}” → {self.service}"


class CalendarSync(models.Model):
    """One import of a calendar: when, from where, what changed, or why it failed (nothing was written then)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="syncs")
    source = models.CharField(max_length=16, choices=SyncSource)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True, help_text="The first changes: action, title, start.")
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.calendar} sync {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def succeeded(self):
        return not self.error


class ReleaseQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(status=ReleaseStatus.SCHEDULED)

    def overlapping(self, start, end):
        """Releases that are under way at some moment between start and end."""
        return self.filter(starts_at__lte=end, ends_at__gte=start)

    def for_services(self, services):
        return self.filter(services__in=services).distinct()

    def freeze_windows(self):
        return self.filter(kind=ReleaseKind.FREEZE)


class Release(models.Model):
    """A release, freeze window or maintenance, imported from a calendar or entered by hand.

    An imported one is keyed on (calendar, UID, RECURRENCE-ID), so re-importing
    updates it instead of adding it again; an event that is cancelled, or gone
    from the feed, is kept and marked cancelled.
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="releases", null=True, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=ReleaseKind, default=ReleaseKind.RELEASE, db_index=True)
    risk = models.CharField(max_length=16, choices=ReleaseRisk, default=ReleaseRisk.LOW)
    status = models.CharField(max_length=16, choices=ReleaseStatus, default=ReleaseStatus.SCHEDULED, db_index=True)
    services = models.ManyToManyField("sla_registry.Service", related_name="releases", blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    location = models.CharField(max_length=200, blank=True)
    categories = models.CharField(max_length=200, blank=True, help_text="The event's CATEGORIES, comma-separated.")
    uid = models.CharField("calendar UID", max_length=255, blank=True)
    recurrence_id = models.CharField(
        "RECURRENCE-ID", max_length=40, blank=True, help_text="Which occurrence of a recurring event, in UTC."
    )
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Hash of the imported event's content.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReleaseQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[services], excluded_fields=["fingerprint"], bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["kind", "status", "starts_at"], name="release_kind_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")),
                name="release_ends_after_it_starts",
                violation_error_message="A release cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["calendar", "uid", "recurrence_id"],
                condition=~Q(uid=""),
                name="release_unique_calendar_event",
            ),
            models.CheckConstraint(
                condition=Q(uid="") | Q(calendar__isnull=False), name="release_uid_only_from_a_calendar"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("releases:release_detail", kwargs={"pk": self.pk})

    @property
    def is_cancelled(self):
        return self.status == ReleaseStatus.CANCELLED

    @property
    def is_imported(self):
        return bool(self.uid)

    @property
    def label(self):
        """How a change request names it: “release 2026.12.1 (3 Dec)”."""
        return (
            f"{self.get_kind_display().lower()} {self.title} ({date_format(timezone.localtime(self.starts_at), 'j M')})"
        )


class ReleaseChange(models.Model):
    """A change request made effective with a release: it applies when the release starts."""

    change_request = models.OneToOneField(
        "approvals.ChangeRequest", on_delete=models.CASCADE, related_name="release_link"
    )
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="change_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["release__starts_at", "pk"]

    def __str__(self):
        return f"{self.change_request.reference} with {self.release}"


class CalendarImport(models.Model):
    """An uploaded .ics file too large to import during the request, imported by the worker with progress.

    The file's bytes are kept in the row (so they survive a restart and reach a worker on another machine)
    until the import ends, then emptied. A finished import is never run again.
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField(help_text="The file's size in bytes.")
    content = models.BinaryField(editable=False, help_text="The file, until it is imported; emptied after.")
    state = models.CharField(max_length=16, choices=ImportState, default=ImportState.QUEUED, db_index=True)
    events_read = models.PositiveIntegerField(default=0)
    events_total = models.PositiveIntegerField(default=0, help_text="The file's events, once it is parsed.")
    message = models.TextField(blank=True, help_text="What it is doing, or how it ended.")
    attempts = models.PositiveSmallIntegerField(default=0)
    sync = models.OneToOneField(
        CalendarSync, on_delete=models.SET_NULL, null=True, blank=True, related_name="background_import"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(events_read__lte=F("events_total")), name="calendar_import_reads_at_most_its_events"
            ),
        ]

    def __str__(self):
        return f"{self.file_name} into {self.calendar}"

    @property
    def is_finished(self):
        return self.state in (ImportState.DONE, ImportState.FAILED)

    @property
    def percent(self):
        """How far it has got, 0–100; 100 only once done."""
        if self.state == ImportState.DONE:
            return 100
        if not self.events_total:
            return 0
        return min(99, self.events_read * 100 // self.events_total)

    @property
    def summary(self):
        """One line for the page and its progress poll."""
        if self.state == ImportState.QUEUED:
            return f"Queued: {self.file_name} waits for the background worker."
        if self.state == ImportState.RUNNING:
            counted = (
                f"{self.events_read:,} of {self.events_total:,} events read ({self.percent} %)"
                if self.events_total
                else "reading the file"
            )
            return f"Running: {counted}. {self.message}".strip()
        return self.message

    def progress(self):
        """What the calendar page polls for (releases.views.calendars.import_progress)."""
        return {
            "id": self.pk,
            "state": self.state,
            "state_label": self.get_state_display(),
            "events_read": self.events_read,
            "events_total": self.events_total,
            "percent": self.percent,
            "finished": self.is_finished,
            "summary": self.summary,
            "message": self.message,
        }


class FeedToken(models.Model):
    """A personal feed link: lets a calendar program read the portal's feeds as its user, without signing in.

    The token is random (`slaf_` and 43 characters) and shown once, when it is made; the portal keeps
    only its SHA-256 and its first characters. It expires, can be revoked, ends when its user's password
    changes (a fingerprint of the password hash is kept and compared on use) or the user is deactivated.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens")
    label = models.CharField(max_length=100, help_text="Where it is used, e.g. “Outlook on my laptop”.")
    key = models.CharField(max_length=12, help_text="The token's first characters, to tell links apart.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    password_fingerprint = models.CharField(max_length=64, help_text="HMAC of the user's password hash at creation.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute (releases.feeds.feed_reader_of), not on every read of a feed.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="feed_token_expires_after_it_is_made"
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.key}…)"

    def is_expired(self, now=None):
        return self.expires_at <= (now or timezone.now())


class OnCallSchedule(models.Model):
    """What the portal last read of a team's on-call schedule (Team.oncall_schedule_url): when, and whether the
    last read failed. Its shifts are who was and will be on call (releases.oncall_schedules)."""

    team = models.OneToOneField("sla_registry.Team", on_delete=models.CASCADE, related_name="oncall_schedule")
    feed_url = models.CharField(
        "feed URL", max_length=500, blank=True, help_text="Where the shifts were read from; empty: from a file."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True, help_text="The last read, whatever its outcome.")
    last_synced_at = models.DateTimeField(null=True, blank=True, help_text="The last read that succeeded.")
    last_error = models.TextField(blank=True, help_text="Why the last read failed; empty when it succeeded.")

    class Meta:
        ordering = ["team__name"]

    def __str__(self):
        return f"On-call schedule of {self.team}"


class OnCallShift(models.Model):
    """Someone on call for a team from `starts_at` until `ends_at`, as its schedule feed said."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="shifts")
    person = models.CharField(max_length=200, help_text="As the schedule names them.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["schedule", "starts_at", "person"]
        indexes = [models.Index(fields=["schedule", "ends_at", "starts_at"], name="oncall_shift_schedule_end")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="oncall_shift_ends_after_it_starts"),
        ]

    def __str__(self):
        return f"{self.person}, {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"
