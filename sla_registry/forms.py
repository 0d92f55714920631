"""Forms of the registry pages.

Edit forms are ModelForms whose extra `reason` field becomes the change reason
in history; the views hand the cleaned instance to the matching action rather
than calling `form.save()`. Filter forms validate the query string of list pages,
so a stale or mistyped filter is ignored instead of failing.
"""

from datetime import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from core.formatting import iso_moment
from core.forms import DurationField
from sla_registry.choices import AgreementStatus, Channel, Coverage, Duty, ServiceTier, TeamKind
from sla_registry.models import CustomerJourney, IncidentCategory, Service, Severity, Team


class RegistryForm(forms.ModelForm):
    """A registry edit form: the model's fields, then why the change is made."""

    reason = forms.CharField(
        label="Reason for this change",
        max_length=300,
        help_text="Recorded in the history next to your name.",
    )


class TeamForm(RegistryForm):
    """A team's name and contacts. Its kind and committee flag are not here: they decide who approves."""

    class Meta:
        model = Team
        fields = [
            "name",
            "slug",
            "description",
            "chat_channel",
            "email",
            "pager_handle",
            "primary_channel",
            "fallback_channel",
            "oncall_schedule_url",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fallback_channel"].choices = [("", "None"), *Channel.choices]


class ServiceForm(RegistryForm):
    class Meta:
        model = Service
        fields = ["name", "slug", "owner_team", "tier", "description", "dependencies"]
        labels = {"dependencies": "Depends on"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["dependencies"].queryset = Service.objects.exclude(pk=self.instance.pk)


class JourneyForm(RegistryForm):
    class Meta:
        model = CustomerJourney
        fields = ["name", "slug", "description", "business_impact", "services"]
        labels = {"services": "Services it crosses"}


class SeverityForm(RegistryForm):
    class Meta:
        model = Severity
        fields = ["key", "name", "rank", "customer_impact"]


class CategoryForm(RegistryForm):
    class Meta:
        model = IncidentCategory
        fields = ["name", "slug", "description"]


class TeamChoiceField(forms.ModelChoiceField):
    """Teams are chosen by slug so filtered URLs stay readable (?team=payments)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Team.objects.all(), to_field_name="slug", required=False, **kwargs)


class ServiceFilterForm(forms.Form):
    tier = forms.ChoiceField(choices=[("", "Any tier"), *ServiceTier.choices], required=False)
    team = TeamChoiceField(label="Owner team", empty_label="Any team")


class AgreementFilterForm(forms.Form):
    REVIEW_OVERDUE = "overdue"

    team = TeamChoiceField(label="Team (provider or consumer)", empty_label="Any team")
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), to_field_name="slug", required=False, empty_label="Any service"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *AgreementStatus.choices], required=False)
    review = forms.ChoiceField(
        choices=[("", "Any review date"), (REVIEW_OVERDUE, "Review overdue")], required=False, label="Review"
    )


# Proposal editors --------------------------------------------------------------
#
# The editors of governed documents (views/proposals.py) edit the JSON document
# the adapters read (sla_registry/documents.py), not model instances: plain Forms
# whose field names are the document's keys, one form for the top level and one
# formset per child list. They check field types only; the adapter's validate()
# judges the document, and the editor shows its errors on these forms.


class Vocabulary:
    """Registry rows offered as choices, by natural key (slug, SEV1); each read once per page."""

    @cached_property
    def teams(self):
        return list(Team.objects.values_list("slug", "name"))

    @cached_property
    def services(self):
        return list(Service.objects.values_list("slug", "name"))

    @cached_property
    def severities(self):
        return [(key, f"{key} {name}") for key, name in Severity.objects.values_list("key", "name")]

    @cached_property
    def categories(self):
        return list(IncidentCategory.objects.values_list("slug", "name"))


class NaturalKeyChoiceField(forms.TypedChoiceField):
    """One registry row chosen by its natural key; the choices come from a Vocabulary."""

    def __init__(self, vocabulary, *, blank_label=None, **kwargs):
        self.vocabulary, self.blank_label = vocabulary, blank_label
        super().__init__(coerce=str, **kwargs)

    def choices_from(self, vocabulary):
        blank = [("", self.blank_label)] if self.blank_label else []
        self.choices = [*blank, *getattr(vocabulary, self.vocabulary)]


class NaturalKeyMultipleChoiceField(forms.MultipleChoiceField):
    def __init__(self, vocabulary, **kwargs):
        self.vocabulary = vocabulary
        super().__init__(**kwargs)

    def choices_from(self, vocabulary):
        self.choices = getattr(vocabulary, self.vocabulary)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time picked in the browser, read in the current time zone (empty: none)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class MarkdownField(forms.CharField):
    """Markdown text. Browsers send CRLF line ends; the document keeps LF, so an untouched text stays unchanged."""

    widget = forms.Textarea(attrs={"rows": 5})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if value else value


def _same_minute(first, second):
    return first.replace(second=0, microsecond=0) == second.replace(second=0, microsecond=0)


class DocumentForm(forms.Form):
    """A form whose fields are named like the keys of a governed document (or of one item of a child list)."""

    def __init__(self, *args, vocabulary, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if hasattr(field, "choices_from"):
                field.choices_from(vocabulary)

    @classmethod
    def initial_from(cls, values):
        """The form's initial values from the document's (times parsed from their ISO text)."""
        initial = {name: values[name] for name in cls.base_fields if name in values}
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.DateTimeField) and isinstance(initial.get(name), str):
                initial[name] = parse_datetime(initial[name])
        return initial

    def to_document(self):
        """The cleaned values in the document's format: decimals as text, times as ISO text in UTC."""
        return {name: self._document_value(name, self.cleaned_data.get(name)) for name in self.base_fields}

    def _document_value(self, name, value):
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, datetime):
            # The browser shows times to the minute: an untouched time keeps its seconds.
            initial = self.initial.get(name)
            if isinstance(initial, datetime) and _same_minute(initial, value):
                value = initial
            return iso_moment(value, utc=True)
        if isinstance(value, list):
            return sorted(value)
        return value


class DocumentItemForm(DocumentForm):
    """One item of a child list, one table row. Every cell is optional: the adapter says what a row lacks.

    A row whose cells are all empty or at their defaults is blank and left out of
    the document, whether it is one of the extra rows or an existing row cleared.
    """

    def is_blank(self):
        return all(
            self.cleaned_data.get(name) in field.empty_values or self.cleaned_data.get(name) == field.initial
            for name, field in self.base_fields.items()
        )


class GovernedDocumentForm(DocumentForm):
    """What an SLA and an escalation matrix share."""

    title = forms.CharField(max_length=200)
    service = NaturalKeyChoiceField("services", blank_label="Choose a service")
    status = forms.ChoiceField(choices=AgreementStatus.choices, initial=AgreementStatus.ACTIVE)
    effective_from = LocalDateTimeField(help_text="When these terms started to apply. Optional.")
    review_cadence_days = DurationField(
        unit="days", label="Review cadence", initial=90, help_text="How often the SLA committee reviews it, e.g. 90d."
    )


class AgreementDocumentForm(GovernedDocumentForm):
    provider_team = NaturalKeyChoiceField("teams", blank_label="Choose a team", label="Provider team")
    consumer_teams = NaturalKeyMultipleChoiceField(
        "teams", required=False, widget=forms.CheckboxSelectMultiple, label="Consumer teams"
    )
    executive_summary = MarkdownField(help_text="Markdown. What leadership needs to know, first.")
    technical_annex = MarkdownField(help_text="Markdown. Measurement details, exclusions, contacts.")
    business_impact = MarkdownField(help_text="Markdown. What breaking these terms costs the business.")

    field_order = ["title", "service", "provider_team", "consumer_teams"]


class ObjectiveForm(DocumentItemForm):
    indicator = forms.CharField(required=False, max_length=200)
    target = forms.DecimalField(required=False)
    unit = forms.CharField(required=False, max_length=20, initial="%")
    window_days = DurationField(unit="days", required=False, initial=28, label="Window", help_text="")
    dashboard_url = forms.CharField(required=False, widget=forms.URLInput, label="Dashboard URL")


class ResponseTargetForm(DocumentItemForm):
    severity = NaturalKeyChoiceField("severities", blank_label="Choose…", required=False)
    category = NaturalKeyChoiceField("categories", blank_label="Any category", required=False, empty_value=None)
    time_to_acknowledge_minutes = DurationField(required=False, label="Acknowledge within", help_text="")
    time_to_restore_minutes = DurationField(required=False, label="Restore within", help_text="")
    time_to_resolve_minutes = DurationField(required=False, label="Resolve within", help_text="")
    customer_update_interval_minutes = DurationField(required=False, label="Customer update every", help_text="")
    coverage = forms.ChoiceField(required=False, choices=Coverage.choices, initial=Coverage.ALWAYS)


class MatrixDocumentForm(GovernedDocumentForm):
    owner_team = NaturalKeyChoiceField("teams", blank_label="Choose a team", label="Owner team")
    notes = MarkdownField(help_text="Markdown. Anything responders should read first.")

    field_order = ["title", "service", "owner_team"]


class EscalationStepForm(DocumentItemForm):
    severity = NaturalKeyChoiceField("severities", blank_label="Choose…", required=False)
    level = forms.IntegerField(required=False)
    wait_minutes = DurationField(required=False, label="Wait before escalating", help_text="")
    team = NaturalKeyChoiceField("teams", blank_label="Choose…", required=False)
    contact = forms.CharField(required=False, max_length=100)
    channel = forms.ChoiceField(required=False, choices=Channel.choices, initial=Channel.PAGE)
    fallback_channel = forms.ChoiceField(required=False, choices=[("", "None"), *Channel.choices])
    bring_timeline = forms.BooleanField(required=False, initial=True, label="Brings the timeline")
    bring_affected_services = forms.BooleanField(required=False, initial=True, label="Brings affected services")
    bring_workarounds = forms.BooleanField(required=False, label="Brings known workarounds")


class ResponsibilityForm(DocumentItemForm):
    duty = forms.ChoiceField(required=False, choices=[("", "Choose…"), *Duty.choices])
    team = NaturalKeyChoiceField("teams", blank_label="Choose…", required=False)
    when = forms.CharField(required=False, max_length=200)


class PlaybookStepForm(DocumentItemForm):
    title = forms.CharField(required=False, max_length=200)
    instructions = MarkdownField(widget=forms.Textarea(attrs={"rows": 2}), label="Instructions (markdown)")
    timebox_minutes = DurationField(required=False, label="Timebox", help_text="")
    checkpoint_question = forms.CharField(required=False, max_length=300)


def _child_rows(form):
    """A formset of document items: the current rows, two blank ones, a Delete box on each current row."""
    return forms.formset_factory(form, extra=2, can_delete=True, can_delete_extra=False)


ObjectiveFormSet = _child_rows(ObjectiveForm)
ResponseTargetFormSet = _child_rows(ResponseTargetForm)
EscalationStepFormSet = _child_rows(EscalationStepForm)
ResponsibilityFormSet = _child_rows(ResponsibilityForm)
PlaybookStepFormSet = _child_rows(PlaybookStepForm)


class ChangeForm(forms.Form):
    """Why and when: what every change request carries besides the document."""

    summary = forms.CharField(
        max_length=200, help_text="One line, as approvers see it in their list: “Faster SEV1 acknowledgement”."
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown. Why this change is needed: approvers decide on it.",
    )
    effective_at = LocalDateTimeField(label="Takes effect at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_at"].help_text = (
            f"Your time zone ({timezone.get_current_timezone_name()}). "
            "Leave it empty to apply it as soon as every team approves."
        )

    def clean_rationale(self):
        return self.cleaned_data["rationale"].replace("\r\n", "\n")


def _usernames(text):
    return sorted({name.strip() for name in text.replace(",", "\n").splitlines() if name.strip()})


class TeamRulesForm(forms.Form):
    """One team's rules in a proposal to the access policy (sla_registry.access)."""

    team = forms.SlugField(help_text="The team's slug, e.g. payments.")
    kind = forms.ChoiceField(choices=TeamKind.choices)
    is_sla_committee = forms.BooleanField(
        label="SLA committee", required=False, help_text="Moving the flag here takes it from the current committee."
    )
    approvers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Usernames, one per line: who may approve change requests for this team.",
    )
    members = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="For the committee and leadership teams only: their members, one username per line.",
    )
    summary = forms.CharField(max_length=200)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def clean_team(self):
        slug = self.cleaned_data["team"]
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise ValidationError(f"No team “{slug}”.")
        return team

    def team_rules(self):
        """The team's entry for the policy document (validated again, with the rest, by its adapter)."""
        data = self.cleaned_data
        return {
            "team": data["team"].slug,
            "kind": data["kind"],
            "is_sla_committee": data["is_sla_committee"],
            "approvers": _usernames(data["approvers"]),
            "members": _usernames(data["members"]),
        }
