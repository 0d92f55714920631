"""Forms of the registry pages.

Edit forms are ModelForms whose extra `reason` field becomes the change reason
in history; the views hand the cleaned instance to the matching action rather
than calling `form.save()`. Filter forms validate the query string of list pages,
so a stale or mistyped filter is ignored instead of failing.
"""

from django import forms

from sla_registry.choices import AgreementStatus, Channel, ServiceTier
from sla_registry.models import CustomerJourney, IncidentCategory, Service, Severity, Team


class RegistryForm(forms.ModelForm):
    """A registry edit form: the model's fields, then why the change is made."""

    reason = forms.CharField(
        label="Reason for this change",
        max_length=300,
        help_text="Recorded in the history next to your name.",
    )


class TeamForm(RegistryForm):
    class Meta:
        model = Team
        fields = [
            "name",
            "slug",
            "kind",
            "description",
            "is_sla_committee",
            "chat_channel",
            "email",
            "pager_handle",
            "primary_channel",
            "fallback_channel",
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
