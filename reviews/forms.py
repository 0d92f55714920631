"""Forms of the review pages.

The editor is a ModelForm for the review's own fields plus two formsets of plain
rows (timeline, action items) that become unsaved model instances; the view hands
all of them to reviews.actions.save_review (or propose_amendment), which judges
them and names any problem by field ("acknowledged_at", "timeline[1].at").
Filter forms validate the query string, so a stale filter is ignored, not a 500.
"""

from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.functional import cached_property

from core.forms import DayInput, QuarterField
from core.moments import Quarter, quarter_of, quarters_offered
from reviews.choices import ActionKind, ActionStatus, Priority, ReviewStatus, TimelineKind
from reviews.counting import quarters_with_incidents
from reviews.models import INCIDENT_TIMES, ActionItem, PostIncidentReview, TimelineEntry
from sla_registry.models import CustomerJourney, IncidentCategory, Service, Severity, Team

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MARKDOWN_FIELDS = (
    "summary",
    "customer_impact",
    "trigger",
    "root_causes",
    "contributing_factors",
    "detection",
    "resolution",
    "went_well",
    "went_wrong",
    "got_lucky",
)


def _same_minute(first, second):
    return first.replace(second=0, microsecond=0) == second.replace(second=0, microsecond=0)


def _lf(value):
    """Browsers send CRLF line ends; stored text keeps LF, so an untouched text stays unchanged."""
    return value.replace("\r\n", "\n") if value else value


class ReviewForm(forms.ModelForm):
    """The review's own fields. Times are entered in the viewer's time zone, to the minute."""

    class Meta:
        model = PostIncidentReview
        fields = [
            "title",
            "severity",
            "category",
            "services",
            "journeys",
            "is_drill",
            "drill_kind",
            "is_restricted",
            "restricted_to",
            *INCIDENT_TIMES,
            "customers_affected",
            "support_contacts",
            *MARKDOWN_FIELDS,
            "links",
        ]
        labels = {
            "services": "Affected services",
            "journeys": "Affected customer journeys",
            "restricted_to": "Teams that may see it",
            "is_drill": "This was a drill",
            "is_restricted": "Restricted (security incident)",
        }
        help_texts = {
            "restricted_to": "Besides the SLA committee and leadership, who always can.",
            "started_at": "In your time zone. It is measured against the agreements in force at this moment.",
        }
        widgets = {
            **dict.fromkeys(INCIDENT_TIMES, DATETIME_LOCAL),
            **{name: forms.Textarea(attrs={"rows": 4}) for name in (*MARKDOWN_FIELDS, "links")},
            "services": forms.CheckboxSelectMultiple,
            "journeys": forms.CheckboxSelectMultiple,
            "restricted_to": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].queryset = Severity.objects.all()
        self.fields["severity"].label_from_instance = lambda severity: f"{severity.key} {severity.name}"
        self.fields["category"].queryset = IncidentCategory.objects.all()
        self.fields["category"].empty_label = "Not categorised"
        self.fields["services"].queryset = Service.objects.order_by("name")
        self.fields["journeys"].queryset = CustomerJourney.objects.order_by("name")
        self.fields["restricted_to"].queryset = Team.objects.order_by("name")
        self.fields["drill_kind"].help_text = "Only for a drill."
        for name in MARKDOWN_FIELDS:
            self.fields[name].help_text = self.fields[name].help_text or "Markdown."
        self.fields["links"].help_text = "One link per line: dashboards, chat threads, tickets."

    def _clean_time(self, name):
        value = self.cleaned_data.get(name)
        # The browser shows times to the minute: an untouched time keeps its seconds.
        initial = getattr(self.instance, name, None) if self.instance.pk else None
        if isinstance(value, datetime) and isinstance(initial, datetime) and _same_minute(initial, value):
            return initial
        return value

    def clean(self):
        cleaned = super().clean()
        for name in INCIDENT_TIMES:
            if name in cleaned:
                cleaned[name] = self._clean_time(name)
        for name in (*MARKDOWN_FIELDS, "links"):
            if name in cleaned:
                cleaned[name] = _lf(cleaned[name])
        if not cleaned.get("is_restricted"):
            cleaned["restricted_to"] = Team.objects.none()
        return cleaned

    def _post_clean(self):
        # The editor hands the instance to save_review, which validates the whole review
        # and names its errors; the form only parses field types.
        from django.forms.models import construct_instance

        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)

    def choices(self):
        """The many-to-many choices in the form save_review takes."""
        return {
            "services": list(self.cleaned_data.get("services") or []),
            "journeys": list(self.cleaned_data.get("journeys") or []),
            "restricted_to": list(self.cleaned_data.get("restricted_to") or []),
        }


class RowForm(forms.Form):
    """One table row of a formset. A row left blank (or cleared) is ignored."""

    model = None

    def is_blank(self):
        data = getattr(self, "cleaned_data", {})
        return all(
            data.get(name) in field.empty_values or data.get(name) == field.initial
            for name, field in self.fields.items()
            if name != "DELETE"
        )

    @classmethod
    def initial_from(cls, instance):
        return {name: getattr(instance, name) for name in cls.base_fields}


class TimelineEntryForm(RowForm):
    at = forms.DateTimeField(required=False, widget=DATETIME_LOCAL, label="When")
    entry = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="What happened")
    kind = forms.ChoiceField(required=False, choices=TimelineKind.choices, initial=TimelineKind.NOTE)

    def to_instance(self):
        data = self.cleaned_data
        at = data.get("at")
        initial = self.initial.get("at")
        if isinstance(at, datetime) and isinstance(initial, datetime) and _same_minute(initial, at):
            at = initial
        return TimelineEntry(at=at, entry=_lf(data.get("entry") or ""), kind=data.get("kind") or TimelineKind.NOTE)


class ActionItemForm(RowForm):
    title = forms.CharField(required=False, max_length=200)
    kind = forms.ChoiceField(required=False, choices=ActionKind.choices, initial=ActionKind.PREVENT)
    owner_team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner team")
    assignee = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    due_date = forms.DateField(required=False, widget=DayInput(), label="Due")
    priority = forms.ChoiceField(required=False, choices=Priority.choices, initial=Priority.MEDIUM)
    status = forms.ChoiceField(required=False, choices=ActionStatus.choices, initial=ActionStatus.OPEN)
    link = forms.URLField(required=False, assume_scheme="https", label="Ticket link")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = people
        self.fields["owner_team"].choices = [("", "Choose…"), *people.team_choices]
        self.fields["assignee"].choices = [("", "Nobody yet"), *people.user_choices]

    @classmethod
    def initial_from(cls, item):
        return {
            **{name: getattr(item, name) for name in ("title", "kind", "due_date", "priority", "status", "link")},
            "owner_team": item.owner_team_id,
            "assignee": item.assignee_id,
        }

    def to_instance(self):
        data = self.cleaned_data
        item = ActionItem(
            title=data.get("title") or "",
            kind=data.get("kind") or ActionKind.PREVENT,
            due_date=data.get("due_date"),
            priority=data.get("priority") or Priority.MEDIUM,
            status=data.get("status") or ActionStatus.OPEN,
            link=data.get("link") or "",
        )
        item.owner_team = self.people.teams.get(data.get("owner_team"))
        item.assignee = self.people.users.get(data.get("assignee"))
        return item


class People:
    """Teams and users offered in the action-item rows, each read once per page."""

    @cached_property
    def teams(self):
        return {team.pk: team for team in Team.objects.order_by("name")}

    @cached_property
    def users(self):
        return {user.pk: user for user in get_user_model().objects.filter(is_active=True).order_by("username")}

    @property
    def team_choices(self):
        return [(pk, team.name) for pk, team in self.teams.items()]

    @property
    def user_choices(self):
        return [(pk, user.get_full_name() or user.username) for pk, user in self.users.items()]


TimelineFormSet = forms.formset_factory(TimelineEntryForm, extra=2, can_delete=True)
ActionItemFormSet = forms.formset_factory(ActionItemForm, extra=2, can_delete=True)


class ChangeForm(forms.Form):
    """What a governed change of a review says about itself: publication or amendment."""

    summary = forms.CharField(max_length=200, help_text="One line, e.g. “Publish the checkout outage review”.")
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why it is ready, or why it changes. Required."
    )

    def clean_rationale(self):
        return _lf(self.cleaned_data["rationale"])


class ActionItemDoneForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What was done",
        error_messages={"required": "Say what was done, so the review's readers can check it."},
    )


# Filters -----------------------------------------------------------------------


class ReviewFilterForm(forms.Form):
    YES, NO = "yes", "no"
    INCIDENTS, DRILLS = "incidents", "drills"

    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", required=False, empty_label="Any service"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any team",
        label="Team (owns an affected service)",
    )
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.all(), to_field_name="key", required=False, empty_label="Any severity"
    )
    category = forms.ModelChoiceField(
        queryset=IncidentCategory.objects.all(), to_field_name="slug", required=False, empty_label="Any category"
    )
    quarter = QuarterField(compact=True, empty_label="Any quarter")
    breached = forms.ChoiceField(
        choices=[("", "Either"), (YES, "Breached an SLA"), (NO, "No breach")], required=False, label="Breached"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *ReviewStatus.choices], required=False)
    kind = forms.ChoiceField(
        choices=[("", "Incidents and drills"), (INCIDENTS, "Incidents only"), (DRILLS, "Drills only")],
        required=False,
        label="Drills",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].offer(lambda: offered_quarters(user, self))


def offered_quarters(user, form):
    """The quarters a review page's select offers: those with published incidents `user` may see (one query,
    when the select is drawn), the current one and the one chosen."""
    chosen = form.cleaned_data.get("quarter") if form.is_bound and form.is_valid() else None
    if user is None:
        return quarters_offered((), chosen)
    return quarters_with_incidents(user, chosen)


class ActionItemFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any team",
        label="Owner team",
    )


class MetricsForm(forms.Form):
    """The metrics page's quarter: any quarter ("2026-Q4" or "2026Q4"), the current one by default."""

    quarter = QuarterField(compact=True)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["quarter"].offer(lambda: self.offered_quarters)

    @property
    def chosen_quarter(self):
        """ "2026-Q4": the quarter asked for, or the current one."""
        if self.is_valid() and self.cleaned_data.get("quarter"):
            return self.cleaned_data["quarter"]
        return quarter_of(timezone.now())

    @cached_property
    def shown_quarter(self):
        return Quarter.of(self.chosen_quarter)

    @cached_property
    def offered_quarters(self):
        """For the quarter picker: the quarters with published incidents the reader may see (one query)."""
        if self.user is None:
            return quarters_offered((), self.shown_quarter)
        return quarters_with_incidents(self.user, self.shown_quarter)
