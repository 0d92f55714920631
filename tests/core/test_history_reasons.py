"""A history row names the change request that wrote it in a field of its own, not inside its reason."""

import importlib

import pytest
from django.apps import apps

from core.history import Reason, stamp

pytestmark = pytest.mark.django_db

split = importlib.import_module("sla_registry.migrations.0007_split_change_request_reasons")


def test_a_reason_with_a_change_request_is_stored_in_two_fields(make_team, admin_actor):
    team = make_team("Payments")
    team.description = "Moves money"
    stamp(team, admin_actor, Reason("Describe the team", "CR-0042"))
    team.save()
    row = team.history.first()
    assert (row.history_change_request, row.history_change_reason) == ("CR-0042", "Describe the team")

    team.description = "Moves money safely"
    stamp(team, admin_actor, "Plain words")  # a later write without a change request names none
    team.save()
    row = team.history.first()
    assert (row.history_change_request, row.history_change_reason) == ("", "Plain words")


def test_the_migration_moves_old_formatted_references_out_of_the_reason(make_team):
    team = make_team("Payments")
    history = team.history.model
    history.objects.filter(pk=team.history.first().pk).update(
        history_change_reason="CR-0007: Faster SEV1 acknowledgement", history_change_request=""
    )
    untouched = history.objects.create(
        **{
            field.attname: getattr(team.history.first(), field.attname)
            for field in history._meta.concrete_fields
            if field.attname not in {"history_id"}
        },
    )
    history.objects.filter(pk=untouched.pk).update(history_change_reason="CRM import", history_change_request="")

    split.split_reasons(apps, None)

    moved = history.objects.get(pk=team.history.order_by("history_id").first().pk)
    assert (moved.history_change_request, moved.history_change_reason) == ("CR-0007", "Faster SEV1 acknowledgement")
    untouched.refresh_from_db()
    assert (untouched.history_change_request, untouched.history_change_reason) == ("", "CRM import")
