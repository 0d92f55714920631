"""Status transitions by hand: each valid one, each refused one, and who may take them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import InvalidTransition, NotAllowed
from incidents import actions
from incidents.choices import IncidentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(world):
    return actions.open_incident(
        title="Checkout errors", services=[world.service], severity=world.severities["SEV1"],
        started_at=timezone.now() - timedelta(minutes=5), acting_user=world.member,
    )  # fmt: skip


def test_opening_is_audited_and_its_reference_reads_like_the_others(incident):
    assert incident.reference == f"INC-{incident.pk:04d}"
    assert AuditEvent.objects.filter(action="incident.opened", object_id=str(incident.pk)).exists()


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["acknowledge"], IncidentStatus.ACKNOWLEDGED),
        (["acknowledge", "restore"], IncidentStatus.RESTORED),
        (["restore"], IncidentStatus.RESTORED),
        (["acknowledge", "restore", "resolve"], IncidentStatus.RESOLVED),
        (["resolve"], IncidentStatus.RESOLVED),
        (["resolve", "reopen"], IncidentStatus.TRIGGERED),
        (["restore", "reopen"], IncidentStatus.TRIGGERED),
    ],
)
def test_valid_transitions(world, incident, path, final):
    for name in path:
        incident = actions.act_on_incident(incident, name, acting_user=world.member)
    assert incident.status == final


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["acknowledge"], "acknowledge"),
        (["resolve"], "acknowledge"),
        (["resolve"], "resolve"),
        (["restore"], "restore"),
        ([], "reopen"),
        (["acknowledge"], "reopen"),
    ],
)
def test_invalid_transitions_are_refused(world, incident, path, refused):
    for name in path:
        incident = actions.act_on_incident(incident, name, acting_user=world.member)
    with pytest.raises(InvalidTransition):
        actions.act_on_incident(incident, refused, acting_user=world.member)


def test_only_owning_teams_the_committee_and_superusers_act(world, incident, make_user, make_team, admin_actor):
    with pytest.raises(NotAllowed):
        actions.act_on_incident(incident, "acknowledge", acting_user=world.outsider)
    committee = make_user("committee.person", teams=[make_team("SLA Committee", is_sla_committee=True)])
    assert actions.act_on_incident(incident, "acknowledge", acting_user=committee).status == "acknowledged"
    assert actions.act_on_incident(incident, "resolve", acting_user=admin_actor).status == "resolved"


def test_declaring_needs_a_team_and_a_service(world, make_user):
    loner = make_user("no.team")
    with pytest.raises(NotAllowed):
        actions.open_incident(
            title="x", services=[world.service], severity=world.severities["SEV1"], started_at=timezone.now(),
            acting_user=loner,
        )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        actions.open_incident(
            title="x", services=[], severity=world.severities["SEV1"], started_at=timezone.now(),
            acting_user=world.member,
        )  # fmt: skip
    assert "services" in error.value.message_dict
