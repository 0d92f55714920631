from django import forms

from notifications.models import WEBHOOK_EVENTS


class WebhookSubscriptionForm(forms.Form):
    """A new webhook: where to send, which events, for which team (or every team's)."""

    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="The receiver's address. Events are POSTed to it as signed JSON.",
    )
    events = forms.MultipleChoiceField(
        choices=WEBHOOK_EVENTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to receive every event, including those added later.",
    )
    team = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, teams, may_be_global, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        field.queryset = teams
        field.required = not may_be_global
        field.empty_label = "Global: every team's events" if may_be_global else None
        field.help_text = "A team's webhook hears the events its team is told about." + (
            " A global one hears every event." if may_be_global else ""
        )
