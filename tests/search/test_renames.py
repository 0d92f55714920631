"""A renamed team or service is found under its new name everywhere it is named, as soon as the rename commits."""

import pytest

from reviews.models import ActionItem
from search.backends import search
from search.registry import flush_pending
from sla_registry import actions

pytestmark = pytest.mark.django_db


def kinds_found(text, user):
    flush_pending()  # what the page does first: apply this transaction's marks
    found = search(text, user=user)
    return {hit.document.kind for hit in found.hits}


def test_renaming_a_team_and_a_service_reindexes_the_documents_that_name_them(
    make_sla, make_matrix, make_review, admin_actor
):
    sla = make_sla(title="Payments for Checkout")
    make_matrix(sla.service)
    make_review([sla.service], action_items=[ActionItem(title="Add a canary", owner_team=sla.provider_team)])

    team = sla.provider_team
    team.name = "Quetzal Treasury"
    actions.save_team(team, acting_user=admin_actor, reason="Renamed")
    assert {"team", "sla", "service", "escalation_matrix", "action_item", "review"} <= kinds_found(
        "Quetzal", admin_actor
    )

    service = sla.service
    service.name = "Zanzibar Ledger"
    actions.save_service(service, acting_user=admin_actor, reason="Renamed")
    assert {"service", "sla", "escalation_matrix", "review"} <= kinds_found("Zanzibar", admin_actor)
    # An action item shows its review's services beside its text (labels), renamed with them.
    from search.models import SearchDocument

    item = SearchDocument.objects.get(kind="action_item")
    assert item.service_names == ["Zanzibar Ledger"]
