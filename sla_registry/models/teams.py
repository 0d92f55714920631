from datetime import time
from urllib.parse import urlsplit

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.history import ChangeRequestStamp
from sla_registry.choices import Channel, TeamKind
from sla_registry.validators import validate_slug_not_reserved, validate_time_zone, validate_working_days


class Team(models.Model):
    """A group of people that provides or consumes services and approves changes for itself.

    Members are the users of the team's auth Group; approvers hold the
    `approve_for_team` object permission on the team (django-guardian).
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_slug_not_reserved])
    kind = models.CharField(max_length=32, choices=TeamKind, default=TeamKind.ENGINEERING)
    description = models.TextField(blank=True)
    is_sla_committee = models.BooleanField(
        "SLA committee",
        default=False,
        help_text="The committee approves every change to an SLA or escalation matrix. Only one team can be it.",
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="team", editable=False)
    chat_channel = models.CharField(max_length=100, blank=True, help_text="For example #payments-oncall.")
    email = models.EmailField(blank=True)
    pager_handle = models.CharField(max_length=100, blank=True, help_text="The paging tool's schedule or handle.")
    primary_channel = models.CharField(max_length=16, choices=Channel, default=Channel.PAGE)
    fallback_channel = models.CharField(
        max_length=16, choices=Channel, blank=True, help_text="Used when the primary channel does not answer."
    )
    oncall_schedule_url = models.CharField(
        "on-call schedule feed",
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["https", "http", "webcal"])],
        help_text=(
            "The iCalendar feed of who is on call (PagerDuty, Opsgenie and Grafana OnCall publish one): "
            "https:// or webcal://. The on-call cards show who is on call from it."
        ),
    )
    # Working hours: business-hours response targets count only this time.
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name, e.g. Europe/London."
    )
    working_days = models.CharField(
        max_length=20,
        default="1,2,3,4,5",
        validators=[validate_working_days],
        help_text="ISO weekday numbers, Monday = 1: “1,2,3,4,5” is Monday to Friday.",
    )
    working_day_starts = models.TimeField(default=time(9, 0))
    working_day_ends = models.TimeField(default=time(17, 30))

    history = HistoricalRecords(bases=[ChangeRequestStamp])

    class Meta:
        ordering = ["name"]
        permissions = [("approve_for_team", "Can approve change requests for this team")]
        constraints = [
            models.CheckConstraint(
                condition=Q(working_day_starts__lt=F("working_day_ends")),
                name="team_working_day_ends_after_it_starts",
                violation_error_message="The working day must end after it starts.",
            ),
            models.UniqueConstraint(
                fields=["is_sla_committee"],
                condition=Q(is_sla_committee=True),
                name="team_single_sla_committee",
                violation_error_message="Another team is already the SLA committee.",
            ),
            models.CheckConstraint(
                condition=~Q(fallback_channel=F("primary_channel")),
                name="team_fallback_differs_from_primary",
                violation_error_message="The fallback channel must differ from the primary channel.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sla_registry:team_detail", kwargs={"slug": self.slug})

    # The contact field each channel needs to be reachable.
    CONTACT_FIELD_FOR_CHANNEL = {
        Channel.PAGE: "pager_handle",
        Channel.PHONE: "pager_handle",
        Channel.CHAT: "chat_channel",
        Channel.EMAIL: "email",
    }

    def clean(self):
        errors = {}
        for channel_field in ("primary_channel", "fallback_channel"):
            channel = getattr(self, channel_field)
            if not channel:
                continue
            contact_field = self.CONTACT_FIELD_FOR_CHANNEL[channel]
            if not getattr(self, contact_field):
                label = self._meta.get_field(channel_field).verbose_name
                errors.setdefault(contact_field, []).append(
                    f"Required because the {label} is {Channel(channel).label.lower()}."
                )
        if errors:
            raise ValidationError(errors)

    def contact_for(self, channel):
        """The address to reach this team on `channel` (a handle, a chat channel or an email)."""
        return getattr(self, self.CONTACT_FIELD_FOR_CHANNEL[channel]) if channel else ""

    @property
    def working_week(self):
        """This team's working hours, for counting business time (sla_registry.working_hours)."""
        from sla_registry.working_hours import WorkingWeek

        return WorkingWeek.of_team(self)

    @property
    def primary_contact(self):
        return self.contact_for(self.primary_channel)

    @property
    def fallback_contact(self):
        return self.contact_for(self.fallback_channel)

    @property
    def oncall_schedule_host(self):
        """Where the on-call schedule is published, without the rest of its address (which often holds a
        private token)."""
        return (urlsplit(self.oncall_schedule_url).hostname or "") if self.oncall_schedule_url else ""
