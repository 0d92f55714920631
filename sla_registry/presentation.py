"""Governed documents as people read them.

A snapshot (the JSON of sla_registry.documents: slugs, severity keys, durations in
minutes) is what every page shows, whether it is the live document, a version
or the version in force at some moment, so all three read the same way. The
presenters here turn a snapshot into names, links and durations for the terms
templates (sla_terms.html, matrix_terms.html), looking up what the snapshot names
with a fixed number of queries however long the document is: SLA four (teams,
services, severities, categories), escalation matrix three.

Read with today's rows, a slug that no longer exists (a team renamed or removed
since the version was written) is shown as the slug itself, without a link: a
version stays readable for ever.

Teams as of a moment: a page that shows a past moment (the on-call card as of T,
an old version of a matrix, a review's pinned escalation) passes `at`, and the
teams it names are read from their history as they were then: name, contacts and
channels (teams_as_of, one query instead of the live one, so the counts above
hold). A team is found by the slug it had at that moment and linked to its page
today (by its slug today). A team first recorded after the moment (a document
effective from before the portal knew the team, as a version 1 taken over with
an earlier effective date) is shown as first recorded rather than left out, and
listed with that date so the page says so; a team with no history row at all (it
was never written through the actions) reads as a slug that no longer exists.
The same query brings the history after the moment, so the page also says which
contact changed since, who changed it and when.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from sla_registry.actions import TEAM_CONTACT_FIELDS
from sla_registry.choices import AgreementStatus, Channel, Coverage, Duty
from sla_registry.models import IncidentCategory, Service, Severity, Team


@dataclass(frozen=True)
class Link:
    """Something the snapshot names: its name, and where to read about it (None when it is gone)."""

    name: str
    url: str | None = None
    obj: object = None

    def __str__(self):
        return self.name

    @property
    def html(self):
        """The name as a link where there is somewhere to go, else as text (escaped either way)."""
        return format_html('<a href="{}">{}</a>', self.url, self.name) if self.url else format_html("{}", self.name)


def _minutes(value):
    return None if value is None else timedelta(minutes=value)


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value or ""


def _by_slug(queryset, key="slug"):
    return {getattr(row, key): row for row in queryset}


# Team contacts through time ------------------------------------------------------


def _contact_changes(before, row):
    """What changed in how a team is reached between two of its history rows: "pager handle a → b", …"""
    return [
        f"{Team._meta.get_field(name).verbose_name} {getattr(before, name) or '—'} → {getattr(row, name) or '—'}"
        for name in TEAM_CONTACT_FIELDS
        if getattr(before, name) != getattr(row, name)
    ]


@dataclass
class TeamsAsOf:
    """The teams a page names, as their history holds them at `moment`, and how their contacts changed after it."""

    moment: datetime
    teams: dict = field(default_factory=dict)  # the slug then → a Team with the fields of its row in force then
    urls: dict = field(default_factory=dict)  # the slug then → the team's page now (None once it is removed)
    first_recorded: dict = field(default_factory=dict)  # the slug then → when a team unknown at `moment` appeared
    changes: list = field(default_factory=list)  # (slug then, "Payments: pager handle a → b", user, when)

    def link(self, slug):
        team = self.teams.get(slug)
        return Link(str(team), self.urls.get(slug), team) if team else Link(slug or "")

    def contacts_changed(self, slugs=None):
        """(change, user, when) after the moment, oldest first, of these teams (all when None)."""
        return [(text, user, when) for slug, text, user, when in self.changes if slugs is None or slug in slugs]

    def recorded_after(self, slugs=None):
        """(team name, when first recorded) of the teams of `slugs` the history does not know at the moment."""
        return sorted(
            (str(self.teams[slug]), when)
            for slug, when in self.first_recorded.items()
            if slugs is None or slug in slugs
        )


def teams_as_of(team_slugs, moment):
    """The teams that held these slugs at `moment`, as they were then, with their contact changes since: one query
    (none for no slug).

    For each team that held one of the slugs, its history row in force at `moment` and every row after it
    (usually none or a few: teams rarely change how they are reached). A team with no row at `moment` (created
    after it) stands for a slug nobody held then, as its first row, and is listed in `first_recorded`; a team
    removed by `moment` is not there.
    """
    named = TeamsAsOf(moment)
    team_slugs = set(team_slugs) - {None, ""}
    if not team_slugs:
        return named
    history = Team.history.all()
    in_force = (
        history.filter(id=OuterRef("id"), history_date__lte=moment)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = (
        history.filter(id__in=history.filter(slug__in=sorted(team_slugs)).values("id"))
        .filter(Q(history_date__gt=moment) | Q(history_id=Subquery(in_force)))
        .annotate(slug_now=Subquery(Team.objects.filter(pk=OuterRef("id")).values("slug")[:1]))
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    then, later = {}, defaultdict(list)
    for row in rows:
        if row.history_date <= moment:
            then[row.id] = row
        else:
            later[row.id].append(row)
    # Teams known at the moment first: a team created after it only stands for a slug none of them held.
    for team_id in sorted(then.keys() | later.keys(), key=lambda team_id: (team_id not in then, team_id)):
        state, after = then.get(team_id), later[team_id]
        recorded_late = state is None
        if recorded_late:
            state, after = after[0], after[1:]
        if state.history_type == "-" or state.slug not in team_slugs or state.slug in named.teams:
            continue
        named.teams[state.slug] = state.instance
        named.urls[state.slug] = (
            reverse("sla_registry:team_detail", kwargs={"slug": state.slug_now}) if state.slug_now else None
        )
        if recorded_late:
            named.first_recorded[state.slug] = state.history_date
        before = state
        for row in after:
            fields = _contact_changes(before, row)
            if fields:
                named.changes.append(
                    (state.slug, f"{row.name}: {', '.join(fields)}", row.history_user, row.history_date)
                )
            before = row
    named.changes.sort(key=lambda change: change[3])
    return named


def contacts_changed_since(team_slugs, moment):
    """Contact changes of the teams that now hold these slugs after `moment`: ("Payments: pager handle a → b",
    user, when), oldest first.

    A matrix pages teams through their contacts, which teams edit themselves: the version the affected teams
    approved named the contacts of its day. One query for the history after `moment` (usually empty); only
    when there is some, one more for each team's row in force at `moment`. (A page that shows the moment
    itself reads the same from its Directory: teams_as_of.)
    """
    if moment is None or not team_slugs:
        return []
    teams = Team.history.filter(id__in=Team.objects.filter(slug__in=team_slugs).values("pk"))
    after = list(
        teams.filter(history_date__gt=moment)
        .order_by("id", "history_date", "history_id")
        .select_related("history_user")
    )
    if not after:
        return []
    previous = {}
    for row in teams.filter(id__in={row.id for row in after}, history_date__lte=moment).order_by(
        "id", "-history_date", "-history_id"
    ):
        previous.setdefault(row.id, row)
    changes = []
    for row in after:
        before = previous.get(row.id)
        previous[row.id] = row
        if before is None:
            continue
        fields = _contact_changes(before, row)
        if fields:
            changes.append((f"{row.name}: {', '.join(fields)}", row.history_user, row.history_date))
    return sorted(changes, key=lambda change: change[2])


# Names -----------------------------------------------------------------------------


class Directory:
    """The registry rows a snapshot names, each model read in one query.

    With `at`, the teams are those of that moment, read from their history (teams_as_of): the same one query.
    """

    def __init__(self, *, team_slugs, service_slugs, with_categories=False, severities=None, at=None):
        self.teams_then = teams_as_of(team_slugs, at) if at is not None else None
        if self.teams_then is None:
            self.teams = _by_slug(Team.objects.filter(slug__in=sorted(team_slugs)))
        else:
            self.teams = self.teams_then.teams
        self.services = _by_slug(
            Service.objects.filter(slug__in=sorted(service_slugs)).select_related("escalation_matrix")
        )
        self.severities = _by_slug(Severity.objects.all() if severities is None else severities, key="key")
        self.categories = _by_slug(IncidentCategory.objects.all()) if with_categories else {}

    @property
    def at(self):
        """The moment the teams are read at; None for today's rows."""
        return self.teams_then.moment if self.teams_then else None

    @staticmethod
    def _link(rows, slug):
        row = rows.get(slug)
        return Link(str(row), row.get_absolute_url(), row) if row else Link(slug or "")

    def team(self, slug):
        return self.teams_then.link(slug) if self.teams_then else self._link(self.teams, slug)

    def contacts_changed(self, slugs=None):
        """How these teams' contacts changed after the moment read (nothing for today's rows)."""
        return self.teams_then.contacts_changed(slugs) if self.teams_then else []

    def recorded_after(self, slugs=None):
        """Teams shown as first recorded, the history knowing nothing of them at the moment read."""
        return self.teams_then.recorded_after(slugs) if self.teams_then else []

    def service(self, slug):
        return self._link(self.services, slug)

    def severity(self, key):
        severity = self.severities.get(key)
        if severity is None:
            return PresentedSeverity(key, "", None)
        return PresentedSeverity(key, severity.name, severity.get_absolute_url())

    def category(self, slug):
        return self._link(self.categories, slug) if slug else None


@dataclass(frozen=True)
class PresentedSeverity:
    key: str
    name: str
    url: str | None


# Service level agreements ----------------------------------------------------


@dataclass
class PresentedObjective:
    indicator: str
    target_display: str
    window: timedelta | None
    dashboard_url: str


@dataclass
class PresentedTarget:
    severity: PresentedSeverity
    category: Link | None
    time_to_acknowledge: timedelta | None
    time_to_restore: timedelta | None
    time_to_resolve: timedelta | None
    customer_update_interval: timedelta | None
    coverage: str


@dataclass
class SlaTerms:
    title: str
    status: str
    status_label: str
    service: Link
    escalation_matrix: object  # the service's live matrix, or None
    provider_team: Link
    consumer_teams: list
    effective_from: object
    review_cadence_days: int
    executive_summary: str
    technical_annex: str
    business_impact: str
    objectives: list = field(default_factory=list)
    response_targets: list = field(default_factory=list)


def _target_display(target, unit):
    return f"{target}{'' if unit == '%' else ' '}{unit}" if target not in (None, "") else ""


def snapshot_directory(*snapshots, severities=None, at=None):
    """One Directory for every name the snapshots (SLAs, matrices, mixed) use: three or four queries however
    many there are, three when the caller already holds the severities. With `at`, the teams as they were then."""
    team_slugs, service_slugs = set(), set()
    for snapshot in snapshots:
        children = (*snapshot.get("steps", []), *snapshot.get("responsibilities", []))
        team_slugs |= {snapshot.get("owner_team"), snapshot.get("provider_team"), *snapshot.get("consumer_teams", [])}
        team_slugs |= {child.get("team") for child in children}
        service_slugs.add(snapshot.get("service"))
    return Directory(
        team_slugs=team_slugs - {None},
        service_slugs=service_slugs - {None},
        with_categories=True,
        severities=severities,
        at=at,
    )


def present_sla(snapshot, *, directory=None, at=None):
    """The terms of an SLA snapshot, ready for sla_terms.html (four queries, none with a shared `directory`);
    with `at`, its teams as they were then."""
    directory = directory or snapshot_directory(snapshot, at=at)
    service = directory.service(snapshot.get("service"))
    consumers = sorted((directory.team(slug) for slug in snapshot.get("consumer_teams", [])), key=str)
    return SlaTerms(
        title=snapshot.get("title", ""),
        status=snapshot.get("status", ""),
        status_label=_label(AgreementStatus, snapshot.get("status")),
        service=service,
        escalation_matrix=getattr(service.obj, "escalation_matrix", None) if service.obj else None,
        provider_team=directory.team(snapshot.get("provider_team")),
        consumer_teams=consumers,
        effective_from=parse_datetime(snapshot["effective_from"]) if snapshot.get("effective_from") else None,
        review_cadence_days=snapshot.get("review_cadence_days"),
        executive_summary=snapshot.get("executive_summary", ""),
        technical_annex=snapshot.get("technical_annex", ""),
        business_impact=snapshot.get("business_impact", ""),
        objectives=[
            PresentedObjective(
                indicator=objective["indicator"],
                target_display=_target_display(objective.get("target"), objective.get("unit", "")),
                window=timedelta(days=objective["window_days"]) if objective.get("window_days") else None,
                dashboard_url=objective.get("dashboard_url", ""),
            )
            for objective in snapshot.get("objectives", [])
        ],
        response_targets=[
            PresentedTarget(
                severity=directory.severity(target["severity"]),
                category=directory.category(target.get("category")),
                time_to_acknowledge=_minutes(target.get("time_to_acknowledge_minutes")),
                time_to_restore=_minutes(target.get("time_to_restore_minutes")),
                time_to_resolve=_minutes(target.get("time_to_resolve_minutes")),
                customer_update_interval=_minutes(target.get("customer_update_interval_minutes")),
                coverage=_label(Coverage, target.get("coverage")),
            )
            for target in snapshot.get("response_targets", [])
        ],
    )


# Escalation matrices ---------------------------------------------------------


@dataclass
class PresentedStep:
    level: int
    team: Link
    contact: str
    channel: str
    address: str
    wait: timedelta | None
    fallback_channel: str
    fallback_address: str
    information_to_bring: list


@dataclass
class SeveritySteps:
    severity: PresentedSeverity
    steps: list


@dataclass
class PresentedResponsibility:
    duty: str
    duty_label: str
    team: Link
    when: str


@dataclass
class PresentedPlaybookStep:
    title: str
    instructions: str
    timebox_minutes: int
    checkpoint_question: str


@dataclass
class MatrixTerms:
    title: str
    status: str
    status_label: str
    service: Link
    owner_team: Link
    effective_from: object
    review_cadence_days: int
    notes: str
    steps_by_severity: list = field(default_factory=list)
    responsibilities: list = field(default_factory=list)
    playbook: list = field(default_factory=list)
    # With teams read as of a moment: that moment, how the paged teams' contacts changed since and which of
    # them the history only knows from later.
    contacts_as_of: datetime | None = None
    contacts_changed: list = field(default_factory=list)
    contacts_recorded_after: list = field(default_factory=list)


def _address(team, channel):
    """Where a responder reaches the team on `channel` (a contact detail, not part of the document): today, or at
    the moment the directory reads."""
    return team.obj.contact_for(channel) if team.obj is not None and channel in Channel.values else ""


def _information_to_bring(step):
    wanted = [
        ("bring_timeline", "timeline"),
        ("bring_affected_services", "affected services"),
        ("bring_workarounds", "known workarounds"),
    ]
    return [label for flag, label in wanted if step.get(flag)]


def present_matrix(snapshot, *, directory=None, at=None):
    """The terms of an escalation-matrix snapshot, ready for matrix_terms.html (three queries, none with a
    shared `directory`); with `at`, the teams and their contacts as they were then, and what changed since."""
    steps = snapshot.get("steps", [])
    responsibilities = snapshot.get("responsibilities", [])
    if directory is None:
        named_teams = {snapshot.get("owner_team")} | {item["team"] for item in (*steps, *responsibilities)}
        directory = Directory(team_slugs=named_teams - {None}, service_slugs={snapshot.get("service")} - {None}, at=at)
    paged = {step["team"] for step in steps}
    # The snapshot lists steps by severity rank, then level: group them in that order.
    groups = []
    for step in steps:
        if not groups or groups[-1].severity.key != step["severity"]:
            groups.append(SeveritySteps(directory.severity(step["severity"]), []))
        team = directory.team(step["team"])
        fallback = step.get("fallback_channel") or ""
        groups[-1].steps.append(
            PresentedStep(
                level=step["level"],
                team=team,
                contact=step.get("contact", ""),
                channel=_label(Channel, step.get("channel")),
                address=_address(team, step.get("channel")),
                wait=_minutes(step.get("wait_minutes")),
                fallback_channel=_label(Channel, fallback) if fallback else "",
                fallback_address=_address(team, fallback) if fallback else "",
                information_to_bring=_information_to_bring(step),
            )
        )
    # Duties in the order an incident needs them (detection first), not alphabetically.
    duty_order = {duty: position for position, duty in enumerate(Duty.values)}
    presented_duties = sorted(
        (
            PresentedResponsibility(
                item["duty"], _label(Duty, item["duty"]), directory.team(item["team"]), item.get("when", "")
            )
            for item in responsibilities
        ),
        key=lambda item: (duty_order.get(item.duty, len(duty_order)), item.team.name),
    )
    return MatrixTerms(
        title=snapshot.get("title", ""),
        status=snapshot.get("status", ""),
        status_label=_label(AgreementStatus, snapshot.get("status")),
        service=directory.service(snapshot.get("service")),
        owner_team=directory.team(snapshot.get("owner_team")),
        effective_from=parse_datetime(snapshot["effective_from"]) if snapshot.get("effective_from") else None,
        review_cadence_days=snapshot.get("review_cadence_days"),
        notes=snapshot.get("notes", ""),
        steps_by_severity=groups,
        responsibilities=presented_duties,
        playbook=[
            PresentedPlaybookStep(
                title=step.get("title", ""),
                instructions=step.get("instructions", ""),
                timebox_minutes=step.get("timebox_minutes"),
                checkpoint_question=step.get("checkpoint_question", ""),
            )
            for step in snapshot.get("playbook", [])
        ],
        contacts_as_of=directory.at,
        contacts_changed=directory.contacts_changed(paged),
        contacts_recorded_after=directory.recorded_after(paged),
    )


# One way in ------------------------------------------------------------------

PRESENTERS = {"sla": present_sla, "escalation_matrix": present_matrix}
TERMS_TEMPLATES = {"sla": "sla_registry/sla_terms.html", "escalation_matrix": "sla_registry/matrix_terms.html"}


def present(kind, snapshot, *, at=None):
    """The terms of any governed snapshot of this app, for the template TERMS_TEMPLATES names; with `at`, the
    teams it names as they were then."""
    return PRESENTERS[kind.key](snapshot, at=at)
