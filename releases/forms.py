"""Forms of the release pages. Like the registry's, edit forms end with the reason for the change."""

from datetime import timedelta

from django import forms
from django.forms import inlineformset_factory

from releases.choices import ReleaseKind, ReleaseRisk, ReleaseStatus
from releases.models import Calendar, Release, ServiceRule
from releases.permissions import manageable_teams, schedulable_services
from sla_registry.forms import LocalDateTimeField, RegistryForm, TeamChoiceField
from sla_registry.models import Service

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class CalendarForm(RegistryForm):
    sync_interval = forms.DurationField(
        initial=timedelta(hours=1),
        help_text="How often the feed is fetched, as HH:MM:SS (at least 5 minutes).",
    )

    class Meta:
        model = Calendar
        fields = [
            "name",
            "slug",
            "team",
            "feed_url",
            "default_services",
            "sync_interval",
            "history_days",
            "horizon_days",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = manageable_teams(user)
        self.fields["default_services"].widget.attrs["size"] = 8

    def clean_sync_interval(self):
        interval = self.cleaned_data["sync_interval"]
        if interval < timedelta(minutes=5):
            raise forms.ValidationError("Sync at most every 5 minutes: feeds are fetched from other services.")
        return interval

    def clean_horizon_days(self):
        days = self.cleaned_data["horizon_days"]
        if not 1 <= days <= 3 * 366:
            raise forms.ValidationError("Look between 1 day and 3 years ahead.")
        return days


class CalendarUploadForm(forms.Form):
    file = forms.FileField(label="iCalendar file (.ics)", help_text="An export from Google Calendar, Outlook or CI.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is {upload.size // 1024 // 1024} MB; the limit is 20 MB.")
        return upload


class ServiceRuleForm(forms.ModelForm):
    class Meta:
        model = ServiceRule
        fields = ["field", "value", "service"]


ServiceRuleFormSet = inlineformset_factory(
    Calendar, ServiceRule, form=ServiceRuleForm, extra=2, can_delete=True, max_num=50, validate_max=True
)


class ReleaseForm(RegistryForm):
    starts_at = LocalDateTimeField(label="Starts", required=True)
    ends_at = LocalDateTimeField(label="Ends", required=True)

    class Meta:
        model = Release
        fields = ["title", "kind", "risk", "status", "services", "starts_at", "ends_at", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = schedulable_services(user)
        self.fields["services"].required = True
        self.fields["services"].widget.attrs["size"] = 8

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", "A release cannot end before it starts.")
        return cleaned


class ReleaseFilterForm(forms.Form):
    UPCOMING, PAST, ALL = "upcoming", "past", "all"

    when = forms.ChoiceField(
        choices=[(UPCOMING, "Upcoming and under way"), (PAST, "Past"), (ALL, "All")], required=False, label="When"
    )
    kind = forms.ChoiceField(choices=[("", "Any kind"), *ReleaseKind.choices], required=False)
    risk = forms.ChoiceField(choices=[("", "Any risk"), *ReleaseRisk.choices], required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), to_field_name="slug", required=False, empty_label="Any service"
    )
    team = TeamChoiceField(label="Team", empty_label="Any team")
    calendar = forms.ModelChoiceField(
        queryset=Calendar.objects.all(), to_field_name="slug", required=False, empty_label="Any calendar"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *ReleaseStatus.choices], required=False)


class LinkChangeRequestForm(forms.Form):
    """The author picks one of their open change requests to take effect with this release."""

    change_request = forms.ChoiceField(label="Your change request")

    def __init__(self, *args, change_requests, **kwargs):
        super().__init__(*args, **kwargs)
        self.change_requests = {change_request.reference: change_request for change_request in change_requests}
        self.fields["change_request"].choices = [
            (reference, f"{reference} {change_request.summary}")
            for reference, change_request in self.change_requests.items()
        ]

    def clean_change_request(self):
        return self.change_requests[self.cleaned_data["change_request"]]
