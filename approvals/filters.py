"""The change-request list's filters: one FilterSet for the page (its form) and the API (its query parameters)."""

import django_filters

from approvals.choices import ChangeState
from approvals.models import ChangeRequest
from approvals.registry import all_kinds
from core.teams import team_model


def document_of(reference):
    """(kind key, document id) for a reference such as SLA-0003, or None."""
    for kind in all_kinds():
        document_id = kind.document_id_from_reference(reference.strip())
        if document_id is not None:
            return kind.key, document_id
    return None


class ChangeRequestFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ChangeState.choices, empty_label="Any state")
    team = django_filters.ModelChoiceFilter(
        field_name="required_approvals__team",
        to_field_name="slug",
        queryset=lambda request: team_model().objects.all(),
        distinct=True,
        empty_label="Any team",
        help_text="A team asked to approve (slug).",
    )
    document = django_filters.CharFilter(
        method="filter_document", label="Document", help_text="A document reference, e.g. SLA-0007."
    )
    author = django_filters.CharFilter(field_name="author__username", label="Author (username)")
    document_kind = django_filters.CharFilter(help_text="The kind of document, e.g. sla, escalation_matrix.")

    class Meta:
        model = ChangeRequest
        fields = ["state", "team", "document", "author", "document_kind"]

    def filter_document(self, queryset, name, value):
        found = document_of(value)
        return queryset.filter(document_kind=found[0], document_id=found[1]) if found else queryset.none()
