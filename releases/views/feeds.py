"""The iCalendar feeds: read with a signed-in session, or by a calendar program with a personal feed link.

The site requires signing in (LoginRequiredMiddleware), but a calendar program
cannot sign in and must not be sent to the login page: these views are exempt
and answer a plain-text 403 saying why when neither a session nor a valid token
is given (releases.feed_tokens: an old, unknown, revoked or expired link, a
changed password, a deactivated account).
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.urls import reverse

from releases import feed_tokens, feeds
from sla_registry.models import Service, Team

NO_ACCESS = (
    "This calendar feed needs you to be signed in to the SLA Portal, or a valid personal token in its address "
    "(?token=…). Make a feed link at {links_page} and subscribe to that address.\n"
)


def _refused(text):
    return HttpResponseForbidden(text, content_type="text/plain; charset=utf-8")


def feed_reader(view):
    """Resolve who reads the feed (the session's user, else the token's) and pass them on as `reader`."""

    @login_not_required
    @wraps(view)
    def wrapper(request, **kwargs):
        if request.user.is_authenticated:
            return view(request, reader=request.user, **kwargs)
        links_page = request.build_absolute_uri(reverse("releases:feed_links"))
        token = request.GET.get("token", "").strip()
        if not token:
            return _refused(NO_ACCESS.format(links_page=links_page))
        try:
            reader = feed_tokens.feed_reader_of(token, links_page=links_page)
        except feed_tokens.FeedTokenRefused as refusal:
            return _refused(str(refusal))
        return view(request, reader=reader, **kwargs)

    return wrapper


def calendar_response(calendar, filename):
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # Personal: what a feed shows depends on who reads it.
    response["Cache-Control"] = "private, max-age=300"
    return response


@feed_reader
def all_releases_feed(request, *, reader):
    calendar = feeds.release_calendar("SLA Portal releases", feeds.releases_since())
    return calendar_response(calendar, "releases.ics")


@feed_reader
def service_feed(request, slug, *, reader):
    """The service's releases and those of the services it depends on."""
    service = get_object_or_404(Service, slug=slug)
    services = Service.objects.filter(Q(pk=service.pk) | Q(dependents=service))
    calendar = feeds.release_calendar(f"{service.name} releases", feeds.releases_of_services(services))
    return calendar_response(calendar, f"{service.slug}-releases.ics")


@feed_reader
def team_feed(request, slug, *, reader):
    """Releases of the team's calendars and of the services it owns."""
    team = get_object_or_404(Team, slug=slug)
    calendar = feeds.release_calendar(f"{team.name} releases", feeds.releases_of_team(team))
    return calendar_response(calendar, f"{team.slug}-releases.ics")


@feed_reader
def governance_feed(request, *, reader):
    return calendar_response(feeds.governance_calendar(reader), "governance.ics")
