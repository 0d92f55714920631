"""The main menu by role: each reader's daily pages first, every page for everyone under More, no query."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.navigation import LINKS
from sla_registry.choices import TeamKind
from tests.html import fragment

pytestmark = pytest.mark.django_db


LINK = re.compile(r'<a href="([^"]+)"[^>]*>(.*?)</a>', re.S)


def _links(html):
    return [(re.sub(r"<[^>]+>|\s+", " ", label).strip(), href) for href, label in LINK.findall(html)]


def menu(client):
    """(first links, links under More) as (label, href) pairs, read from the home page's main navigation."""
    html = client.get(reverse("home")).content.decode()
    nav = fragment(html, '<nav aria-label="Main">', "</nav>")
    first, _, more = nav.partition('<li class="menu-more">')
    return _links(first), _links(more)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_each_role_sees_its_daily_pages_first(make_user, make_team):
    payments = make_team("Payments")
    leaders = make_team("Leadership", kind=TeamKind.LEADERSHIP)

    engineer_first, _ = menu(logged_in(make_user(teams=[payments])))
    approver_first, _ = menu(logged_in(make_user(teams=[payments], approver_for=[payments])))
    executive_first, _ = menu(logged_in(make_user(teams=[leaders])))

    assert [label for label, _ in engineer_first][:2] == ["Services", "Escalation"]
    assert approver_first[0][0] == "My approvals"
    assert [label for label, _ in executive_first][:2] == ["Executive summary", "Teams and scorecards"]


def test_everyone_reaches_every_page_from_the_one_menu(make_user, make_team):
    every_page = {reverse(url_name) for _label, url_name, _markers in LINKS.values()}
    for user in (make_user(), make_user(teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)])):
        first, more = menu(logged_in(user))
        assert every_page <= {href for _label, href in first + more}


def queries_of_home(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


def test_the_menu_costs_no_query_once_signed_in(make_user, make_team):
    client = logged_in(make_user(teams=[make_team("Leadership", kind=TeamKind.LEADERSHIP)]))
    # The role was kept in the session at sign-in.
    assert client.session["navigation_role"] == "executive"
    known = queries_of_home(client)

    # A session from before (no role in it) works the role out once and keeps it.
    session = client.session
    del session["navigation_role"]
    session.save()
    assert queries_of_home(client) > known  # the role's query, and the session written again
    assert client.session["navigation_role"] == "executive"
    assert queries_of_home(client) == known
