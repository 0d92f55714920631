import pytest

from notifications import actions
from tests.notifications.receivers import Receiver


@pytest.fixture(autouse=True)
def webhooks_may_call_loopback(settings):
    """The test receivers listen on 127.0.0.1, which production refuses (WEBHOOKS_MAY_BE_INTERNAL off)."""
    settings.WEBHOOKS_MAY_BE_INTERNAL = True


@pytest.fixture
def receiver():
    """A running HTTP receiver on a loopback port; stopped after the test."""
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def subscribe(admin_actor):
    """Create a webhook subscription through the real action (as a superuser unless told otherwise)."""

    def make(url, *, team=None, events=(), acting_user=None):
        return actions.create_subscription(team, url=url, events=list(events), acting_user=acting_user or admin_actor)

    return make
