"""iCalendar feeds out of the portal: releases (all, of a service, of a team) and governance dates.

Calendar programs (Outlook, Google Calendar) subscribe to a feed by URL and cannot
sign in, so a feed URL may carry a personal feed token (releases.feed_tokens: random,
expiring, revocable) that reads it as its user; the feed then shows exactly what
that user may see.
"""

from datetime import UTC, time, timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from approvals.choices import ChangeState
from approvals.models import DocumentVersion
from approvals.permissions import visible_change_requests
from releases.choices import ReleaseStatus
from releases.models import Release
from sla_registry.choices import AgreementStatus
from sla_registry.models import EscalationMatrix, ServiceLevelAgreement

PRODUCT_ID = "-//SLA Portal//Releases//EN"
# How far back a feed reaches: calendars keep what has passed, but not for ever.
FEED_HISTORY = timedelta(days=90)


# Addresses ---------------------------------------------------------------------


def feed_address(request, url_name, *, token=None, **kwargs):
    """The absolute address of a feed, with a personal feed token (releases.feed_tokens) when one is given."""
    path = reverse(url_name, kwargs=kwargs or None)
    query = f"?{urlencode({'token': token})}" if token else ""
    return request.build_absolute_uri(f"{path}{query}")


def webcal(address):
    """The same address for "subscribe" links: calendar programs open webcal:// themselves."""
    for scheme in ("https://", "http://"):
        if address.startswith(scheme):
            return "webcal://" + address[len(scheme) :]
    return address


# Building the calendar ---------------------------------------------------------


def _portal_url(path):
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _uid_host():
    return urlsplit(settings.PORTAL_BASE_URL).hostname or "sla-portal"


def new_calendar(name):
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _utc(moment):
    return moment.astimezone(UTC)


def day_zone(release):
    """The time zone an all-day release's days are counted in: its calendar team's, else the portal's.

    The importer stores an all-day event from midnight of its first day in that zone.
    """
    if release.calendar_id:
        try:
            return ZoneInfo(release.calendar.team.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def all_day_dates(starts_at, ends_at, zone=UTC):
    """The first day and the exclusive last day (iCalendar's DTEND) of an all-day release.

    Its end is either midnight after its last day (the exclusive end, as iCalendar
    has it) or a moment during its last day, counted in `zone`.
    """
    first = starts_at.astimezone(zone).date()
    end = ends_at.astimezone(zone)
    after_last = end.date() if end.time() == time(0) else end.date() + timedelta(days=1)
    return first, max(after_last, first + timedelta(days=1))


def release_uid(release):
    """Stable across syncs: the imported event's UID (and its occurrence), or the portal's own."""
    if release.uid:
        return f"{release.uid}-{release.recurrence_id}" if release.recurrence_id else release.uid
    return f"release-{release.pk}@{_uid_host()}"


def release_event(release):
    event = Event()
    event.add("uid", release_uid(release))
    event.add("dtstamp", _utc(release.updated_at))
    event.add("last-modified", _utc(release.updated_at))
    if release.all_day:
        first, after_last = all_day_dates(release.starts_at, release.ends_at, day_zone(release))
        event.add("dtstart", first)
        event.add("dtend", after_last)
    else:
        event.add("dtstart", _utc(release.starts_at))
        if release.ends_at > release.starts_at:
            event.add("dtend", _utc(release.ends_at))
    event.add("summary", release.title)
    url = _portal_url(release.get_absolute_url())
    services = ", ".join(service.name for service in release.services.all())
    lines = [
        release.description.strip(),
        f"{release.get_kind_display()} · {release.get_risk_display()} risk",
        f"Services: {services}" if services else "",
        f"In the SLA Portal: {url}",
    ]
    event.add("description", "\n\n".join(line for line in lines if line))
    if release.location:
        event.add("location", release.location)
    event.add("categories", [release.get_kind_display(), f"{release.get_risk_display()} risk"])
    event.add("status", "CANCELLED" if release.status == ReleaseStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("url", url)
    return event


def releases_since(moment=None):
    """Releases a feed shows: those still under way FEED_HISTORY ago or later, services loaded."""
    moment = moment or timezone.now()
    return (
        Release.objects.filter(ends_at__gte=moment - FEED_HISTORY)
        .select_related("calendar__team")
        .prefetch_related("services")
        .order_by("starts_at", "pk")
    )


def releases_of_services(services):
    """Releases concerning any of the services (a queryset of them)."""
    return releases_since().filter(pk__in=Release.objects.filter(services__in=services).values("pk"))


def releases_of_team(team):
    """Releases of the team's calendars and of the services it owns."""
    owned = Release.objects.filter(services__owner_team=team).values("pk")
    return releases_since().filter(Q(calendar__team=team) | Q(pk__in=owned))


def release_calendar(name, releases):
    calendar = new_calendar(name)
    for release in releases:
        calendar.add_component(release_event(release))
    return calendar


# Governance ------------------------------------------------------------------


def _current_version(kind_key, moment):
    """A subquery: the number and effective time of the version of a document in force at `moment`."""
    versions = DocumentVersion.objects.filter(
        document_kind=kind_key, document_id=OuterRef("pk"), effective_at__lte=moment
    ).order_by("-effective_at", "-number")
    return Subquery(versions.values("number")[:1]), Subquery(versions.values("effective_at")[:1])


def review_due_dates(now=None):
    """Active SLAs and escalation matrices with the date their next review is due, soonest first.

    The due date is the document's own next_review_due (last review, or start, plus
    its cadence): the same date the SLA list's "review overdue" filter uses.
    Returns [(document, kind_key, current version number or None, due datetime)].
    """
    now = now or timezone.now()
    dues = []
    for model, kind_key in ((ServiceLevelAgreement, "sla"), (EscalationMatrix, "escalation_matrix")):
        number, _effective_at = _current_version(kind_key, now)
        documents = model.objects.filter(
            status=AgreementStatus.ACTIVE, next_review_due__gte=now - FEED_HISTORY
        ).annotate(current_number=number)
        dues.extend((document, kind_key, document.current_number, document.next_review_due) for document in documents)
    return sorted(dues, key=lambda row: (row[3], row[1], row[0].pk))


def review_due_event(document, kind_key, version_number, due):
    event = Event()
    day = _utc(due).date()
    event.add("uid", f"review-due-{kind_key.replace('_', '-')}-{document.pk}@{_uid_host()}")
    event.add("dtstamp", _utc(document.updated_at))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", f"Review due: {document.reference} {document.title}")
    url = _portal_url(document.get_absolute_url())
    version = f"Version {version_number}" if version_number else "The current terms"
    event.add(
        "description",
        f"{version} of {document.reference} is due for its review "
        f"(every {document.review_cadence_days} days).\n\nIn the SLA Portal: {url}",
    )
    label = "SLA" if kind_key == "sla" else "Escalation matrix"
    event.add("categories", ["Review due", label])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("url", url)
    return event


def scheduled_change_requests(user, now=None):
    """Approved change requests waiting for their effective time, that `user` may see."""
    now = now or timezone.now()
    return (
        visible_change_requests(user)
        .filter(state=ChangeState.APPROVED, effective_at__isnull=False, effective_at__gte=now - FEED_HISTORY)
        .order_by("effective_at", "pk")
    )


def change_request_event(change_request):
    event = Event()
    event.add("uid", f"change-request-{change_request.pk}@{_uid_host()}")
    event.add("dtstamp", _utc(change_request.updated_at))
    event.add("dtstart", _utc(change_request.effective_at))
    event.add("summary", f"{change_request.reference} takes effect: {change_request.summary}")
    url = _portal_url(change_request.get_absolute_url())
    kind = change_request.governed_kind
    lines = [
        f"{kind.label} {kind.reference_of(change_request.document_id)}",
        change_request.effective_with[:1].upper() + change_request.effective_with[1:],
        f"In the SLA Portal: {url}",
    ]
    event.add("description", "\n\n".join(line for line in lines if line))
    event.add("categories", ["Change takes effect", kind.label])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("url", url)
    return event


def governance_calendar(user, now=None):
    """Review due dates of SLAs and escalation matrices, and the scheduled changes `user` may see."""
    calendar = new_calendar("SLA Portal governance")
    for document, kind_key, version_number, due in review_due_dates(now):
        calendar.add_component(review_due_event(document, kind_key, version_number, due))
    for change_request in scheduled_change_requests(user, now):
        calendar.add_component(change_request_event(change_request))
    return calendar
