"""The incident pages: list with filters and empty state, the live incident, declaring, buttons, the inbox."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import actions
from incidents.choices import IncidentStatus
from incidents.models import Incident, UnroutedEvent
from tests.incidents.conftest import alert, alertmanager_payload, post_event

pytestmark = pytest.mark.django_db

# Session, user, the navigation's approvals count and role, then the page's own reads (pinned below).
LIST_QUERIES = 11
# One more than before notices: the incident's notices (with their teams and clocks) in one prefetch.
DETAIL_QUERIES = 10


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def open_incidents(world, count, **fields):
    return [
        actions.open_incident(
            title=f"Incident {number}",
            services=[world.service],
            severity=world.severities["SEV1"],
            started_at=timezone.now() - timedelta(minutes=number),
            acting_user=world.member,
            **fields,
        )
        for number in range(count)
    ]


def test_the_list_shows_an_empty_state_and_a_declare_button_for_team_members(world):
    page = client_for(world.member).get(reverse("incidents:incident_list")).content.decode()
    assert "No incidents." in page
    assert "Declare an incident" in page
    page = client_for(world.outsider).get(reverse("incidents:incident_list") + "?severity=SEV2").content.decode()
    assert "No incidents match these filters." in page


def test_the_list_filters_by_status_and_severity(world):
    first, second = open_incidents(world, 2)
    actions.act_on_incident(second, "resolve", acting_user=world.member)
    client = client_for(world.member)
    page = client.get(reverse("incidents:incident_list") + "?status=open").content.decode()
    assert first.reference in page and second.reference not in page
    page = client.get(reverse("incidents:incident_list") + "?status=resolved&severity=SEV1").content.decode()
    assert second.reference in page and first.reference not in page


def test_the_detail_page_shows_status_clocks_with_time_left_and_the_timeline(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    (incident,) = open_incidents(world, 1)
    time_machine.shift(timedelta(minutes=1))
    page = client_for(world.member).get(incident.get_absolute_url()).content.decode()
    assert "Triggered" in page and "SLA clocks" in page
    assert "14 min left" in page  # acknowledge within 15 min, a minute after the start
    assert "Acknowledge" in page and "Timeline" in page


def test_buttons_are_for_the_owning_team_and_the_action_is_recorded(world):
    (incident,) = open_incidents(world, 1)
    outsider_page = client_for(world.outsider).get(incident.get_absolute_url()).content.decode()
    assert 'action="/incidents/' not in outsider_page
    acknowledge = reverse("incidents:incident_act", args=[incident.reference, "acknowledge"])
    assert client_for(world.outsider).post(acknowledge).status_code == 403
    response = client_for(world.member).post(acknowledge)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_declaring_by_the_form_opens_an_incident(world):
    response = client_for(world.member).post(
        reverse("incidents:incident_declare"),
        {"title": "Refunds stuck", "services": [world.service.slug], "severity": "SEV2"},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert incident.declared_by == world.member and incident.clocks.exists()


def test_a_restricted_incident_is_hidden_from_outsiders(world):
    (incident,) = open_incidents(world, 1, is_restricted=True)
    assert client_for(world.outsider).get(incident.get_absolute_url()).status_code == 404
    assert incident.reference not in client_for(world.outsider).get(reverse("incidents:incident_list")).content.decode()
    assert client_for(world.member).get(incident.get_absolute_url()).status_code == 200


def test_the_committee_routes_an_unrouted_event_from_its_page(world, make_user, make_team):
    start = timezone.now() - timedelta(minutes=20)
    post_event(world.integrations["alertmanager"], alertmanager_payload([alert("x1", starts_at=start, service="")]))
    unrouted = UnroutedEvent.objects.get()
    committee = client_for(make_user("chair", teams=[make_team("SLA Committee", is_sla_committee=True)]))
    assert "Payments down" in committee.get(reverse("incidents:unrouted_list")).content.decode()
    assert client_for(world.member).get(reverse("incidents:unrouted_list")).status_code == 403
    response = committee.post(
        reverse("incidents:unrouted_route", args=[unrouted.pk]), {"service": world.service.slug, "severity": "SEV1"}
    )
    incident = Incident.objects.get()
    assert response["Location"] == incident.get_absolute_url()
    assert incident.started_at == start


def test_list_page_queries_do_not_grow_with_incidents(world, django_assert_num_queries):
    client = client_for(world.member)
    open_incidents(world, 1)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("incidents:incident_list")).status_code == 200
    open_incidents(world, 49)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("incidents:incident_list"))
    assert "1 breached" in response.content.decode()  # those started over 15 min ago missed acknowledgement
    assert len(response.context["page_obj"].object_list) == 25


def test_detail_page_queries_do_not_grow_with_incidents_or_events(world, django_assert_num_queries):
    client = client_for(world.member)
    (incident,) = open_incidents(world, 1)
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(incident.get_absolute_url()).status_code == 200
    many = open_incidents(world, 49)
    for other in many[:10]:
        actions.act_on_incident(other, "acknowledge", acting_user=world.member)
    busy = many[0]
    actions.act_on_incident(busy, "resolve", acting_user=world.member)
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(busy.get_absolute_url()).status_code == 200
