from django import forms

from audit.permissions import referenced_object
from core.forms import DayInput


class AuditFilterForm(forms.Form):
    """What the audit page narrows the log to; every field optional."""

    object = forms.CharField(
        required=False,
        max_length=64,
        help_text="A reference (CR-0012, SLA-0003, ESC-0002, PIR-0007) or app_label.model:id",
    )
    user = forms.CharField(required=False, max_length=150, help_text="Username of the actor")
    action = forms.CharField(required=False, max_length=64, help_text="Exact or a prefix: change_request.")
    since = forms.DateField(required=False, label="From", widget=DayInput())
    until = forms.DateField(required=False, label="Until", widget=DayInput())

    def clean_object(self):
        text = self.cleaned_data["object"].strip()
        if not text:
            return None
        target = referenced_object(text)
        if target is None:
            raise forms.ValidationError(f"“{text}” names no object: use a reference such as CR-0012 or SLA-0003.")
        return target

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end of the range is before its start.")
        return data
