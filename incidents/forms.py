from datetime import timedelta

from django import forms
from django.utils import timezone

from incidents.choices import IncidentStatus
from sla_registry.models import IncidentCategory, Service, Severity


class IncidentFilterForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", required=False, empty_label="Any service"
    )
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.all(), to_field_name="key", required=False, empty_label="Any severity"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), ("open", "Open"), *IncidentStatus.choices], required=False)
    kind = forms.ChoiceField(
        choices=[("", "Incidents and drills"), ("incidents", "Incidents only"), ("drills", "Drills only")],
        required=False,
        label="Drills",
    )


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=200)
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.order_by("name"), to_field_name="slug")
    severity = forms.ModelChoiceField(queryset=Severity.objects.all(), to_field_name="key")
    category = forms.ModelChoiceField(
        queryset=IncidentCategory.objects.all(), to_field_name="slug", required=False, empty_label="None"
    )
    started_at = forms.DateTimeField(
        required=False, label="Started (UTC, YYYY-MM-DD HH:MM)", help_text="Now when left empty."
    )
    is_drill = forms.BooleanField(required=False, label="This is a drill")
    is_restricted = forms.BooleanField(required=False, label="Restricted (security incident)")

    def clean_started_at(self):
        moment = self.cleaned_data.get("started_at")
        if moment and moment > timezone.now() + timedelta(days=1):
            raise forms.ValidationError("The start cannot be more than a day in the future.")
        return moment


class RouteForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.order_by("name"), to_field_name="slug")
    severity = forms.ModelChoiceField(queryset=Severity.objects.all(), to_field_name="key")
