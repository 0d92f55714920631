from django import forms

from approvals.choices import Verdict


class DecisionForm(forms.Form):
    """Approve or reject for one of the teams the user may decide for."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None, label="Deciding for")
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect, label="Decision")
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when you reject: say what would make it acceptable.",
    )
    # The revision the page showed: a decision on a revision replaced since is refused, not recorded.
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
