"""Governed documents as people read them.

A snapshot (the JSON of sla_registry.documents: slugs, severity keys, durations in
minutes) is what every page shows, whether it is the live document, a version
or the version in force at some moment, so all three read the same way. The
presenters here turn a snapshot into names, links and durations for the terms
templates (sla_terms.html, matrix_terms.html), looking up what the snapshot names
with a fixed number of queries however long the document is: SLA four (teams,
services, severities, categories), escalation matrix three.

A slug that no longer exists (a team renamed or removed since the version was
written) is shown as the slug itself, without a link: a version stays readable
for ever.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

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


class Directory:
    """The registry rows a snapshot names, each model read in one query."""

    def __init__(self, *, team_slugs, service_slugs, with_categories=False, severities=None):
        self.teams = _by_slug(Team.objects.filter(slug__in=sorted(team_slugs)))
        self.services = _by_slug(
            Service.objects.filter(slug__in=sorted(service_slugs)).select_related("escalation_matrix")
        )
        self.severities = _by_slug(Severity.objects.all() if severities is None else severities, key="key")
        self.categories = _by_slug(IncidentCategory.objects.all()) if with_categories else {}

    @staticmethod
    def _link(rows, slug):
        row = rows.get(slug)
        return Link(str(row), row.get_absolute_url(), row) if row else Link(slug or "")

    def team(self, slug):
        return self._link(self.teams, slug)

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


def snapshot_directory(*snapshots, severities=None):
    """One Directory for every name the snapshots (SLAs, matrices, mixed) use: three or four queries however
    many there are, three when the caller already holds the severities."""
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
    )


def present_sla(snapshot, *, directory=None):
    """The terms of an SLA snapshot, ready for sla_terms.html (four queries, none with a shared `directory`)."""
    directory = directory or snapshot_directory(snapshot)
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


def _address(team, channel):
    """Where a responder reaches the team on `channel` today (a contact detail, not part of the document)."""
    return team.obj.contact_for(channel) if team.obj is not None and channel in Channel.values else ""


def _information_to_bring(step):
    wanted = [
        ("bring_timeline", "timeline"),
        ("bring_affected_services", "affected services"),
        ("bring_workarounds", "known workarounds"),
    ]
    return [label for flag, label in wanted if step.get(flag)]


def present_matrix(snapshot, *, directory=None):
    """The terms of an escalation-matrix snapshot, ready for matrix_terms.html (three queries, none with a
    shared `directory`)."""
    steps = snapshot.get("steps", [])
    responsibilities = snapshot.get("responsibilities", [])
    if directory is None:
        named_teams = {snapshot.get("owner_team")} | {item["team"] for item in (*steps, *responsibilities)}
        directory = Directory(team_slugs=named_teams - {None}, service_slugs={snapshot.get("service")} - {None})
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
    )


# One way in ------------------------------------------------------------------

PRESENTERS = {"sla": present_sla, "escalation_matrix": present_matrix}
TERMS_TEMPLATES = {"sla": "sla_registry/sla_terms.html", "escalation_matrix": "sla_registry/matrix_terms.html"}


def present(kind, snapshot):
    """The terms of any governed snapshot of this app, for the template TERMS_TEMPLATES names."""
    return PRESENTERS[kind.key](snapshot)
