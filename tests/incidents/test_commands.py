"""manage.py create_integration, and one source end to end against a live server."""

import json
from datetime import timedelta
from io import StringIO
from urllib.request import Request, urlopen

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents.models import Incident, Integration
from tests.incidents.conftest import generic_payload


def test_create_integration_prints_the_url_and_secret_and_ends_with_json(db, make_team):
    make_team("Platform")
    out = StringIO()
    call_command("create_integration", "--kind", "alertmanager", "--name", "Prometheus prod", "--team", "platform",
                 stdout=out)  # fmt: skip
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    integration = Integration.objects.get()
    assert last == {
        "key": integration.key,
        "url": last["url"],
        "secret": integration.secret,
    }
    assert last["url"].endswith(f"/api/v1/integrations/{integration.key}/events/")
    assert integration.team.slug == "platform" and integration.kind == "alertmanager"
    with pytest.raises(CommandError, match="no-such-team"):
        call_command("create_integration", "--kind", "generic", "--name", "x", "--team", "no-such-team")


@pytest.mark.django_db(transaction=True)
def test_a_generic_event_over_real_http_opens_an_incident(live_server, world):
    integration = world.integrations["generic"]
    body = json.dumps(generic_payload("trigger", at=timezone.now() - timedelta(minutes=1))).encode()
    request = Request(
        live_server.url + integration.get_events_path(),
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {integration.secret}"},
        method="POST",
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 202
        reply = json.loads(response.read())
    incident = Incident.objects.get()
    assert reply["incidents"] == [incident.reference]
    assert incident.clocks.filter(kind="acknowledge").exists()
