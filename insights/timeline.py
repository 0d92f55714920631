"""The per-service timeline: releases, freeze windows, incidents and agreement versions on one axis.

`gather_timeline` reads everything for one service and time range in a fixed
number of queries; `possibly_related` pairs incidents with the releases shortly
before them (a pure function); `timeline_drawing` lays the entries out for the
server-side SVG.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from approvals.choices import ChangeState
from approvals.models import DocumentVersion
from approvals.permissions import visible_change_requests
from core.forms import DayInput
from releases.choices import ReleaseKind, ReleaseStatus
from releases.models import Release
from reviews.permissions import visible_reviews
from sla_registry.models import EscalationMatrix

DEFAULT_PAST = timedelta(days=180)
DEFAULT_AHEAD = timedelta(days=30)
# An incident that starts this soon after a release started may have been caused by it.
RELATED_WINDOW = timedelta(hours=24)
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100
LONGEST_RANGE = timedelta(days=5 * 366)


# The range ---------------------------------------------------------------------


class TimelineRangeForm(forms.Form):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included, in the viewer's time zone.

    Either may be left out: it then lies the default span away from the other, or
    at its default when both are.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the fields are added here rather than declared.
        self.fields["from"] = forms.DateField(label="From", required=False, widget=DayInput())
        self.fields["to"] = forms.DateField(label="To", required=False, widget=DayInput())

    def _check_year(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise forms.ValidationError(f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")
        return day

    def clean_from(self):
        return self._check_year("from")

    def clean_to(self):
        return self._check_year("to")

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("from"), cleaned.get("to")
        if first and last:
            if first > last:
                raise forms.ValidationError(
                    f"“From” ({first:%Y-%m-%d}) is after “to” ({last:%Y-%m-%d}): choose a start on or before the end."
                )
            if last - first > LONGEST_RANGE:
                raise forms.ValidationError("Choose a range of at most five years.")
        return cleaned

    def chosen_range(self, now=None):
        """(start, end) as aware datetimes: the chosen days, or the default range when the form is invalid."""
        now = now or timezone.now()
        default_start, default_end = now - DEFAULT_PAST, now + DEFAULT_AHEAD
        if not self.is_bound or not self.is_valid():
            return default_start, default_end
        first, last = self.cleaned_data.get("from"), self.cleaned_data.get("to")
        if first is None and last is None:
            return default_start, default_end
        span = DEFAULT_PAST + DEFAULT_AHEAD
        start = _start_of_day(first) if first else _start_of_day(last) + timedelta(days=1) - span
        end = _start_of_day(last) + timedelta(days=1) if last else start + span
        return start, end


def _start_of_day(day):
    return timezone.make_aware(datetime.combine(day, time(0)))


# The entries -------------------------------------------------------------------


class Lane:
    RELEASES = "releases"
    FREEZES = "freezes"
    INCIDENTS = "incidents"
    VERSIONS = "versions"


LANES = (
    (Lane.RELEASES, "Releases"),
    (Lane.FREEZES, "Freeze windows"),
    (Lane.INCIDENTS, "Incidents"),
    (Lane.VERSIONS, "SLA / escalation"),
)


@dataclass
class TimelineEntry:
    """One thing on the timeline. `ends_at` is None for a moment (an incident start, a version)."""

    kind: str  # release, maintenance, freeze, incident, drill, version, change
    kind_label: str
    lane: str
    starts_at: datetime
    ends_at: datetime | None
    title: str
    url: str
    detail: str = ""
    all_day: bool = False
    is_dependency: bool = False
    is_cancelled: bool = False

    @property
    def last_day(self):
        """For an all-day entry: the day it ends on (an end at midnight UTC is exclusive, as in iCalendar)."""
        if self.ends_at is None:
            return self.starts_at
        end = self.ends_at.astimezone(UTC)
        if end.time() == time(0) and self.ends_at > self.starts_at:
            return self.ends_at - timedelta(days=1)
        return self.ends_at

    @property
    def css_class(self):
        classes = [f"tl-{self.kind}"]
        if self.is_dependency:
            classes.append("tl-dependency")
        if self.is_cancelled:
            classes.append("tl-cancelled")
        return " ".join(classes)


@dataclass
class RelatedIncident:
    """An incident that started soon after a release: perhaps caused by it."""

    incident: object
    release: object
    gap: timedelta
    is_dependency: bool

    @property
    def description(self):
        return f"{describe_gap(self.gap)} after {self.release.title}"


@dataclass
class Timeline:
    service: object
    start: datetime
    end: datetime
    entries: list = field(default_factory=list)
    related: list = field(default_factory=list)
    dependencies: list = field(default_factory=list)

    def count(self, lane):
        return sum(1 for entry in self.entries if entry.lane == lane)


def describe_gap(gap):
    """ "3 h 20 min", "1 d 2 h", "less than a minute"."""
    minutes = int(gap.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part)


def could_cause_incidents(release):
    """Releases and maintenance that happened: freeze windows and cancelled releases change nothing."""
    return release.kind in (ReleaseKind.RELEASE, ReleaseKind.MAINTENANCE) and release.status != ReleaseStatus.CANCELLED


def possibly_related(releases, incidents, *, dependency_release_ids=frozenset(), window=RELATED_WINDOW):
    """Incidents that started within `window` after a release started, with the gap, in time order.

    `releases` and `incidents` are any objects with the fields of Release and
    PostIncidentReview (kind, status, starts_at; started_at, is_drill); drills are
    rehearsals, not incidents, and are left out. An incident after several releases
    is listed once for each, nearest release first.
    """
    candidates = [release for release in releases if could_cause_incidents(release)]
    related = []
    for incident in incidents:
        if incident.is_drill:
            continue
        for release in candidates:
            gap = incident.started_at - release.starts_at
            if timedelta(0) <= gap <= window:
                related.append(RelatedIncident(incident, release, gap, release.pk in dependency_release_ids))
    return sorted(related, key=lambda item: (item.incident.started_at, item.gap, item.release.pk))


def _release_entry(release, *, is_dependency, dependency_names):
    kind_label = release.get_kind_display()
    details = [f"{release.get_risk_display()} risk"]
    if is_dependency:
        details.append(f"dependency: {', '.join(dependency_names)}")
    if release.is_cancelled:
        details.append("cancelled")
    return TimelineEntry(
        kind=release.kind,
        kind_label=kind_label,
        lane=Lane.FREEZES if release.kind == ReleaseKind.FREEZE else Lane.RELEASES,
        starts_at=release.starts_at,
        ends_at=release.ends_at,
        title=release.title,
        url=release.get_absolute_url(),
        detail=" · ".join(details),
        all_day=release.all_day,
        is_dependency=is_dependency,
        is_cancelled=release.is_cancelled,
    )


def _incident_entry(review):
    return TimelineEntry(
        kind="drill" if review.is_drill else "incident",
        kind_label=f"Drill ({review.get_drill_kind_display().lower()})" if review.is_drill else "Incident",
        lane=Lane.INCIDENTS,
        starts_at=review.started_at,
        ends_at=None,
        title=f"{review.reference} {review.title}",
        url=review.get_absolute_url(),
        detail=f"{review.severity.key} · {review.get_status_display().lower()}",
    )


def _version_entry(version, document):
    is_sla = version.document_kind == "sla"
    url_name = "sla_registry:sla_version" if is_sla else "sla_registry:matrix_version"
    detail = document.title
    if version.change_request_id:
        detail += f" · {version.change_request.reference}: {version.change_request.summary}"
    return TimelineEntry(
        kind="version",
        kind_label="SLA version" if is_sla else "Escalation matrix version",
        lane=Lane.VERSIONS,
        starts_at=version.effective_at,
        ends_at=None,
        title=f"{document.reference} version {version.number}",
        url=reverse(url_name, kwargs={"reference": document.reference, "number": version.number}),
        detail=detail,
    )


def _change_entry(change_request, document):
    detail = document.title
    if change_request.effective_with:
        detail += f" · {change_request.effective_with}"
    return TimelineEntry(
        kind="change",
        kind_label="Scheduled change",
        lane=Lane.VERSIONS,
        starts_at=change_request.effective_at,
        ends_at=None,
        title=f"{change_request.reference} takes effect: {change_request.summary}",
        url=change_request.get_absolute_url(),
        detail=detail,
    )


def gather_timeline(service, user, start, end):
    """Everything on `service`'s timeline between start and end that `user` may see, in time order.

    Eight queries however much there is: dependencies, releases (+ their services),
    incidents, SLAs, the escalation matrix, versions, scheduled change requests.
    """
    timeline = Timeline(service, start, end)
    timeline.dependencies = list(service.dependencies.all())
    dependency_ids = {dependency.pk for dependency in timeline.dependencies}
    concerned_ids = dependency_ids | {service.pk}

    # Releases from a day before the range, so an incident early in it still finds its release.
    releases = list(
        Release.objects.filter(
            pk__in=Release.objects.filter(services__in=concerned_ids).values("pk"),
            starts_at__lte=end,
            ends_at__gte=start - RELATED_WINDOW,
        )
        .prefetch_related("services")
        .order_by("starts_at", "pk")
    )
    dependency_release_ids = set()
    for release in releases:
        services = release.services.all()
        if not any(concerned.pk == service.pk for concerned in services):
            dependency_release_ids.add(release.pk)
        if release.ends_at >= start:
            is_dependency = release.pk in dependency_release_ids
            names = [concerned.name for concerned in services if concerned.pk in dependency_ids]
            timeline.entries.append(_release_entry(release, is_dependency=is_dependency, dependency_names=names))

    incidents = list(
        visible_reviews(user)
        .filter(services=service, started_at__gte=start, started_at__lte=end)
        .select_related("severity")
        .order_by("started_at", "pk")
    )
    timeline.entries.extend(_incident_entry(review) for review in incidents)
    timeline.related = possibly_related(releases, incidents, dependency_release_ids=dependency_release_ids)

    documents = {("sla", sla.pk): sla for sla in service.slas.all()}
    documents.update(
        {("escalation_matrix", matrix.pk): matrix for matrix in EscalationMatrix.objects.filter(service=service)}
    )
    if documents:
        of_documents = Q()
        for kind_key in ("sla", "escalation_matrix"):
            ids = [pk for kind, pk in documents if kind == kind_key]
            if ids:
                of_documents |= Q(document_kind=kind_key, document_id__in=ids)
        versions = (
            DocumentVersion.objects.filter(of_documents, effective_at__gte=start, effective_at__lte=end)
            .select_related("change_request")
            .defer("snapshot", "change_request__proposed")
        )
        for version in versions:
            timeline.entries.append(_version_entry(version, documents[(version.document_kind, version.document_id)]))
        scheduled = visible_change_requests(user).filter(
            of_documents, state=ChangeState.APPROVED, effective_at__gte=start, effective_at__lte=end
        )
        for change_request in scheduled.defer("proposed"):
            document = documents[(change_request.document_kind, change_request.document_id)]
            timeline.entries.append(_change_entry(change_request, document))

    timeline.entries.sort(key=lambda entry: (entry.starts_at, entry.lane, entry.title))
    return timeline


# The drawing -------------------------------------------------------------------

WIDTH = 1000
GUTTER = 150  # lane labels
RIGHT = 10
AXIS = 28  # tick labels above the lanes
LANE_HEIGHT = 44
MIN_MARK_WIDTH = 4.0


def _ticks(start, end):
    """(moment, label) at month starts, or weeks/days for a short range, in the current time zone."""
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    span = end - start
    ticks = []
    if span > timedelta(days=62):
        year, month = local_start.year, local_start.month
        while True:
            moment = timezone.make_aware(datetime(year, month, 1))
            if moment > local_end:
                break
            if moment >= local_start:
                label = date_format(moment, "M Y" if month == 1 or not ticks else "M")
                ticks.append((moment, label))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return ticks
    step = timedelta(days=7) if span > timedelta(days=14) else timedelta(days=1)
    day = local_start.date()
    if step.days == 7:
        day += timedelta(days=(7 - day.weekday()) % 7)  # Mondays
    while True:
        moment = _start_of_day(day)
        if moment > local_end:
            break
        if moment >= local_start:
            ticks.append((moment, date_format(moment, "j M")))
        day += step
    return ticks


def _number(value):
    return f"{value:.1f}"


def timeline_drawing(timeline, now=None):
    """Positions for the SVG: lanes, ticks and one mark per entry; every number pre-formatted."""
    now = now or timezone.now()
    plot_width = WIDTH - GUTTER - RIGHT
    total = (timeline.end - timeline.start).total_seconds() or 1.0

    def x_of(moment):
        ratio = (moment - timeline.start).total_seconds() / total
        return GUTTER + plot_width * min(max(ratio, 0.0), 1.0)

    lanes = []
    lane_top = {}
    for index, (key, label) in enumerate(LANES):
        top = AXIS + index * LANE_HEIGHT
        lane_top[key] = top
        lanes.append(
            {
                "key": key,
                "label": label,
                "y": _number(top),
                "label_y": _number(top + LANE_HEIGHT / 2 + 5),
                "height": _number(LANE_HEIGHT),
                "count": timeline.count(key),
            }
        )
    height = AXIS + len(LANES) * LANE_HEIGHT + 6

    marks = []
    for entry in timeline.entries:
        top = lane_top[entry.lane]
        middle = top + LANE_HEIGHT / 2
        x = x_of(entry.starts_at)
        mark = {"entry": entry, "shape": "rect"}
        if entry.ends_at is not None:
            end_x = x_of(entry.ends_at)
            width = max(end_x - x, MIN_MARK_WIDTH)
            inset = 6 if entry.lane == Lane.FREEZES else 10
            mark.update(
                x=_number(x), y=_number(top + inset), width=_number(width), height=_number(LANE_HEIGHT - 2 * inset)
            )
        elif entry.lane == Lane.INCIDENTS:
            mark.update(shape="circle", cx=_number(x), cy=_number(middle), r="7")
        else:
            size = 8
            points = [(x, middle - size), (x + size, middle), (x, middle + size), (x - size, middle)]
            mark.update(shape="polygon", points=" ".join(f"{_number(px)},{_number(py)}" for px, py in points))
        marks.append(mark)

    ticks = [
        {"x": _number(x_of(moment)), "label": label, "top": _number(AXIS - 4), "bottom": _number(height - 6)}
        for moment, label in _ticks(timeline.start, timeline.end)
    ]
    now_x = _number(x_of(now)) if timeline.start <= now <= timeline.end else None
    return {
        "width": WIDTH,
        "height": height,
        "gutter": GUTTER,
        "plot_right": WIDTH - RIGHT,
        "axis_y": _number(AXIS),
        "bottom_y": _number(height - 6),
        "lanes": lanes,
        "marks": marks,
        "ticks": ticks,
        "now_x": now_x,
        "label_y": "16",
    }
