"""The on-call card: one page answering "who do I call for this service, how, and what applies".

`build_card` reads everything for one service, one severity and one moment
("as of", now by default) in a fixed number of queries, however many steps,
agreements, releases or reviews there are:

  1  the escalation matrix, with the version in force and the latest version number
  1  the SLAs of the service, each with the same
  1  the versions in force (their snapshots)
  3  the teams, services and categories the matrix and the SLAs name (one snapshot_directory); as of a
     past moment the teams come from their history, with their contact changes since, in the same one
  1  the severities, for the selector and the directory
  2  releases and freeze windows around the moment, and the services they concern
  1  the last three reviews, 1 the open action items (both as visible_reviews allows, its SQL compiled
     once per user)
  1  the on-call schedules of the teams the steps page, each with who was on call at the moment (a join on
     the shifts that cover it)

The terms always come from the versions in force at the moment, never from the
live rows: what the card shows is what the affected teams approved, and the
card as of last Tuesday is the card as it was last Tuesday. A document with no
version then is left out, with a note saying why. So are the teams: as of a past
moment, their names and how they are reached (pager handle, chat channel, email,
channels) are those their history holds for that moment, and the card says which
contact of a paged team changed since, by whom and when. The card for now reads
today's rows.

Who is reachable, not only where to page: each step names the team, the role or person the matrix gives,
who the team's on-call schedule has on call at the moment (releases.oncall_schedules reads the feeds the
teams publish; as of a past moment, who was on call then), and every contact of the team as a link: the
pager handle as a `tel:` link when it is written as a phone number (the team has no other phone; a handle
stays text), the chat channel through settings.CHAT_URL_TEMPLATE (text when it is empty), the email as
`mailto:`. How fresh each schedule is, and why a feed failed, is said under the steps.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from approvals.models import DocumentVersion
from core.markdown import render_markdown
from releases.choices import ReleaseKind
from releases.models import OnCallSchedule, Release
from releases.oncall_schedules import STALE_AFTER
from reviews.choices import OPEN_ACTION_STATUSES
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import visible_reviews_condition
from sla_registry.choices import AgreementStatus, Channel
from sla_registry.models import EscalationMatrix, Service, ServiceLevelAgreement, Severity
from sla_registry.presentation import present_matrix, present_sla, snapshot_directory

DEFAULT_SEVERITY = "SEV1"
# What changed recently, and what is about to: the releases an engineer should suspect or wait for.
RELEASES_BEFORE = timedelta(hours=72)
RELEASES_AFTER = timedelta(hours=24)
RECENT_REVIEWS = 3
MOST_ACTION_ITEMS = 15
# The levels the first screen holds; the rest follow the targets and the playbook's first step.
FIRST_SCREEN_LEVELS = 3


@dataclass
class VersionUsed:
    """Which version of a governed document the card read, and whether it has changed since."""

    reference: str
    title: str
    document_url: str
    number: int
    url: str
    effective_at: datetime
    latest_number: int

    @property
    def changed_since(self):
        return self.latest_number != self.number


@dataclass(frozen=True)
class Contact:
    """One way to reach a team: how ("Page", "Chat"…), the address, and a link to it when there is one."""

    how: str
    address: str
    href: str = ""


@dataclass(frozen=True)
class OnCallPerson:
    """Someone a team's schedule has on call at the card's moment, for this shift."""

    person: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class TeamSchedule:
    """What the card knows of who is on call in a team at its moment, and how fresh that is.

    `state`: "read" (read within STALE_AFTER, or given as a file), "stale" (the feed's last read is older, and
    before the moment), "failed" (the last read failed: the people are those last known, if any) or "unread"
    (the team publishes a feed the portal has not read yet).
    """

    team: object  # presentation.Link
    state: str
    source: str = ""  # where the schedule is read from: the feed's host, or "" for a file
    people: list = field(default_factory=list)  # OnCallPerson, by start
    last_synced_at: datetime | None = None
    last_attempt_at: datetime | None = None
    error: str = ""
    age: timedelta | None = None  # of the last successful read, now

    @property
    def known(self):
        """Whether the schedule was ever read, so that nobody on it means nobody on call."""
        return self.last_synced_at is not None

    @property
    def read_just_now(self):
        return self.age is not None and self.age < timedelta(minutes=1)


@dataclass
class CardStep:
    """An escalation step, when it is reached if nobody answers the levels before it, and how to reach it."""

    step: object  # sla_registry.presentation.PresentedStep
    reached_after: timedelta
    reach: Contact | None = None  # the step's channel, at the team's address for it
    fallback: Contact | None = None
    other_contacts: list = field(default_factory=list)  # the team's other contacts (Contact)
    schedule: TeamSchedule | None = None


@dataclass
class CardAgreement:
    """One SLA of the service as in force: who provides it to whom, and its targets for the chosen severity."""

    version: VersionUsed
    provider: object  # presentation.Link
    consumers: list
    targets: list  # presentation.PresentedTarget, of the chosen severity only


@dataclass
class CardRelease:
    """A release, maintenance or freeze window, and which of the concerned services it touches."""

    release: Release
    services: list  # this service first, then its dependencies; each with `is_dependency`
    of_this_service: bool


@dataclass
class OnCallCard:
    service: Service
    at: datetime
    is_now: bool
    severity: Severity | None
    requested_severity: str  # what was asked for; differs from severity.key when it was unknown
    severities: list
    matrix_version: VersionUsed | None = None
    matrix_terms: object = None  # presentation.MatrixTerms, from the version in force
    matrix_note: str = ""
    playbook: list = field(default_factory=list)  # (presented step, its instructions as safe HTML), in order
    steps: list = field(default_factory=list)  # CardStep, of the chosen severity, in order
    agreements: list = field(default_factory=list)
    agreement_notes: list = field(default_factory=list)
    releases: list = field(default_factory=list)
    freezes: list = field(default_factory=list)
    releases_from: datetime | None = None
    releases_to: datetime | None = None
    recent_reviews: list = field(default_factory=list)
    action_items: list = field(default_factory=list)
    more_action_items: bool = False
    schedules: list = field(default_factory=list)  # TeamSchedule of the paged teams, in the order of the steps

    @property
    def first_steps(self):
        return self.steps[:FIRST_SCREEN_LEVELS]

    @property
    def further_steps(self):
        return self.steps[FIRST_SCREEN_LEVELS:]

    @property
    def last_level(self):
        return self.steps[-1].step.level if self.steps else None

    @property
    def schedules_read(self):
        """The schedules with nothing to warn about, those read from one source in the same minute together:
        [(team names, the first of their schedules), …]."""
        groups = {}
        for schedule in self.schedules:
            if schedule.state == "read":
                minute = schedule.last_synced_at.replace(second=0, microsecond=0)
                groups.setdefault((schedule.source, minute), []).append(schedule)
        return [([schedule.team.name for schedule in group], group[0]) for group in groups.values()]

    @property
    def schedule_trouble(self):
        return any(schedule.state != "read" for schedule in self.schedules)

    @property
    def severity_key(self):
        return self.severity.key if self.severity else self.requested_severity

    @property
    def severity_unknown(self):
        return self.severity is None or self.severity.key != self.requested_severity

    @property
    def versions_used(self):
        used = [self.matrix_version] if self.matrix_version else []
        return used + [agreement.version for agreement in self.agreements]


def build_card(service, *, severity_key=DEFAULT_SEVERITY, at=None, user):
    """The on-call card of `service` for one severity, as it applied at `at` (now when None), as `user` may see it."""
    is_now = at is None
    at = timezone.now() if is_now else at
    severities = list(Severity.objects.all())
    by_key = {severity.key: severity for severity in severities}
    severity = by_key.get(severity_key) or by_key.get(DEFAULT_SEVERITY) or (severities[0] if severities else None)
    card = OnCallCard(
        service=service,
        at=at,
        is_now=is_now,
        severity=severity,
        requested_severity=severity_key,
        severities=severities,
    )
    chosen = card.severity_key

    matrix = (
        EscalationMatrix.objects.filter(service=service)
        .annotate(**_version_annotations("escalation_matrix", at))
        .only("pk", "title")
        .first()
    )
    agreements = list(
        ServiceLevelAgreement.objects.filter(service=service)
        .annotate(**_version_annotations("sla", at))
        .only("pk", "title")
        .order_by("pk")
    )
    wanted = [document.version_in_force_id for document in [matrix, *agreements] if document]
    versions = {version.pk: version for version in DocumentVersion.objects.filter(pk__in=[pk for pk in wanted if pk])}

    # One directory for every name the matrix and the SLAs use (the severities are loaded already).
    directory = snapshot_directory(
        *(version.snapshot for version in versions.values()), severities=severities, at=None if is_now else at
    )
    moment = _moment_text(at)
    if matrix is None:
        card.matrix_note = f"{service.name} has no escalation matrix."
    elif matrix.version_in_force_id is None:
        card.matrix_note = _absence(matrix, moment)
    else:
        version = versions[matrix.version_in_force_id]
        card.matrix_version = _version_used(matrix, version, "sla_registry:matrix")
        status = version.snapshot.get("status")
        if status != AgreementStatus.ACTIVE:
            card.matrix_note = (
                f"{matrix.reference} was {_status_label(status)} at {moment}: no escalation path was in force."
            )
        else:
            card.matrix_terms = present_matrix(version.snapshot, directory=directory)
            card.playbook = [(step, _instructions_html(step.instructions)) for step in card.matrix_terms.playbook]
            card.steps = _steps_of(card.matrix_terms, chosen)
            if not card.steps:
                card.matrix_note = f"{matrix.reference} had no {chosen} escalation steps at {moment}."

    in_force = []
    for agreement in agreements:
        if agreement.version_in_force_id is None:
            card.agreement_notes.append(_absence(agreement, moment))
            continue
        version = versions[agreement.version_in_force_id]
        status = version.snapshot.get("status")
        if status != AgreementStatus.ACTIVE:
            title = version.snapshot.get("title", agreement.title)
            card.agreement_notes.append(f"{agreement.reference} {title} was {_status_label(status)} at {moment}.")
            continue
        in_force.append((_version_used(agreement, version, "sla_registry:sla"), version.snapshot))
    card.agreements = _present_agreements(in_force, chosen, directory)

    _add_contacts(card)
    _add_releases(card, service)
    _add_reviews(card, service, user)
    return card


# Versions ------------------------------------------------------------------------


def _version_annotations(kind_key, at):
    versions = DocumentVersion.objects.filter(document_kind=kind_key, document_id=OuterRef("pk"))
    return {
        "version_in_force_id": Subquery(
            versions.filter(effective_at__lte=at).order_by("-effective_at", "-number").values("pk")[:1]
        ),
        "latest_version_number": Subquery(versions.order_by("-number").values("number")[:1]),
    }


def _version_used(document, version, url_prefix):
    return VersionUsed(
        reference=document.reference,
        title=version.snapshot.get("title", document.title),
        document_url=document.get_absolute_url(),
        number=version.number,
        url=reverse(f"{url_prefix}_version", kwargs={"reference": document.reference, "number": version.number}),
        effective_at=version.effective_at,
        latest_number=document.latest_version_number,
    )


@lru_cache(maxsize=256)
def _instructions_html(text):
    """A playbook step's markdown as HTML, rendered once per text and process (the same for every card that
    shows it, and a few milliseconds a card otherwise)."""
    # Safe to mark: markdown-it escapes raw HTML and nh3 cleans what it produced (as the markdown filter does).
    return mark_safe(render_markdown(text)) if text else ""


def _absence(document, moment):
    if document.latest_version_number is None:
        return f"{document.reference} {document.title} has no recorded version yet, so its terms are not known."
    return f"{document.reference} {document.title} was not in force yet at {moment}."


def _status_label(status):
    return AgreementStatus(status).label.lower() if status in AgreementStatus.values else str(status)


def _moment_text(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


# Terms ---------------------------------------------------------------------------


def _steps_of(terms, severity_key):
    for group in terms.steps_by_severity:
        if group.severity.key == severity_key:
            steps, reached_after = [], timedelta(0)
            for step in group.steps:
                steps.append(CardStep(step, reached_after))
                reached_after += step.wait or timedelta(0)
            return steps
    return []


def _present_agreements(in_force, severity_key, directory):
    """The SLAs in force, each with its targets of `severity_key`, named through the card's one directory."""
    agreements = []
    for version, snapshot in in_force:
        terms = present_sla(snapshot, directory=directory)
        agreements.append(
            CardAgreement(
                version=version,
                provider=terms.provider_team,
                consumers=terms.consumer_teams,
                targets=[target for target in terms.response_targets if target.severity.key == severity_key],
            )
        )
    return agreements


# Who is reachable ----------------------------------------------------------------

CHANNEL_BY_LABEL = {choice.label: choice.value for choice in Channel}
# A pager handle written as a phone number: an optional +, then digits with the usual separators.
PHONE_NUMBER = re.compile(r"\+?[0-9][0-9 ().\-/]*[0-9]")
PHONE_DIGITS = range(7, 16)  # E.164 numbers have at most 15 digits
# A feed's address in an error message: the card names its host only (the rest often holds a private token).
FEED_ADDRESS = re.compile(r"\b(?:https?|webcal)://([^/\s:?#]+)\S*?(?=:\s|\s|$)")
UNSAFE_LINK_SCHEMES = {"javascript", "data", "vbscript"}
# The team's contacts, in the order the card lists those a step's channels leave out.
CONTACT_FIELDS = ("pager_handle", "chat_channel", "email")


def _phone_href(number):
    """A `tel:` link for a pager handle written as a phone number; "" for a handle (not a number)."""
    number = number.strip()
    digits = re.sub(r"\D", "", number)
    if not PHONE_NUMBER.fullmatch(number) or len(digits) not in PHONE_DIGITS:
        return ""
    return f"tel:{'+' if number.startswith('+') else ''}{digits}"


def _chat_href(chat_channel):
    """The chat deep link of a channel through settings.CHAT_URL_TEMPLATE; "" without one."""
    template = getattr(settings, "CHAT_URL_TEMPLATE", "") or ""
    name = chat_channel.strip().lstrip("#")
    if "{channel}" not in template or not name or urlsplit(template).scheme.lower() in UNSAFE_LINK_SCHEMES:
        return ""
    return template.replace("{channel}", quote(name, safe=""))


def _email_href(email):
    return f"mailto:{quote(email.strip(), safe='@+')}"


LINKS_BY_FIELD = {"pager_handle": _phone_href, "chat_channel": _chat_href, "email": _email_href}


def _contact(team, channel):
    """How `team` (as the card's moment knows it) is reached on `channel`: None without an address for it."""
    if team is None or channel not in Channel.values:
        return None
    contact_field = team.CONTACT_FIELD_FOR_CHANNEL[channel]
    address = (getattr(team, contact_field) or "").strip()
    if not address:
        return None
    return Contact(Channel(channel).label, address, LINKS_BY_FIELD[contact_field](address))


def _other_contacts(team, *channels):
    """The team's contacts that none of `channels` uses: a pager handle, a chat channel, an email."""
    if team is None:
        return []
    used = {team.CONTACT_FIELD_FOR_CHANNEL[channel] for channel in channels if channel in Channel.values}
    contacts = []
    for contact_field in CONTACT_FIELDS:
        address = (getattr(team, contact_field) or "").strip()
        if contact_field in used or not address:
            continue
        href = LINKS_BY_FIELD[contact_field](address)
        how = {"pager_handle": "Phone" if href else "Pager", "chat_channel": "Chat", "email": "Email"}[contact_field]
        contacts.append(Contact(how, address, href))
    return contacts


def _add_contacts(card):
    """Each step's ways to reach its team, and who the team's schedule has on call at the card's moment."""
    for item in card.steps:
        team = item.step.team.obj
        channel = CHANNEL_BY_LABEL.get(item.step.channel)
        fallback = CHANNEL_BY_LABEL.get(item.step.fallback_channel)
        item.reach = _contact(team, channel)
        item.fallback = _contact(team, fallback)
        item.other_contacts = _other_contacts(team, channel, fallback)
    _add_schedules(card)


def _add_schedules(card):
    """Who is on call in each paged team at the moment, from the schedules read of their feeds: one query."""
    teams = {}
    for item in card.steps:
        if item.step.team.obj is not None:
            teams.setdefault(item.step.team.obj.pk, item.step.team)
    if not teams:
        return
    at = card.at
    rows = (
        OnCallSchedule.objects.filter(team_id__in=sorted(teams))
        .annotate(on_call=FilteredRelation("shifts", condition=Q(shifts__starts_at__lte=at, shifts__ends_at__gt=at)))
        .values(
            "team_id",
            "feed_url",
            "last_attempt_at",
            "last_synced_at",
            "last_error",
            "on_call__person",
            "on_call__starts_at",
            "on_call__ends_at",
        )
        .order_by("team_id", "on_call__starts_at", "on_call__person")
    )
    read = {}
    for row in rows:
        read.setdefault(row["team_id"], (row, []))
        if row["on_call__person"] is not None:
            read[row["team_id"]][1].append(
                OnCallPerson(row["on_call__person"], row["on_call__starts_at"], row["on_call__ends_at"])
            )
    now = timezone.now()
    schedules = {}
    for team_id, link in teams.items():
        row, people = read.get(team_id, (None, []))
        schedule = _team_schedule(link, row, people, at=at, is_now=card.is_now, now=now)
        if schedule is not None:
            schedules[team_id] = schedule
    for item in card.steps:
        if item.step.team.obj is not None:
            item.schedule = schedules.get(item.step.team.obj.pk)
    card.schedules = list(schedules.values())


def _team_schedule(link, row, people, *, at, is_now, now):
    """What the card says of a team's schedule, or None when the team has none to say anything about.

    For now, the team's feed as it is today decides: none published (or no longer), nothing; published but
    not read yet (or its address changed since the last read), "unread". As of a past moment, whatever the
    portal recorded then is shown, the team's feed being what it was.
    """
    url = link.obj.oncall_schedule_url
    if row is None or (is_now and row["feed_url"] != url):
        return TeamSchedule(link, "unread", source=_host(url)) if url else None
    if row["last_error"]:
        state = "failed"
    elif row["last_synced_at"] is None:
        return TeamSchedule(link, "unread", source=_host(row["feed_url"])) if url else None
    else:
        # A feed's last read can fall behind the moment (a schedule given as a file, the demo's, is what it is);
        # a moment before the last read was read after it.
        fell_behind = row["feed_url"] and now - row["last_synced_at"] > STALE_AFTER and at > row["last_synced_at"]
        state = "stale" if fell_behind else "read"
    return TeamSchedule(
        link,
        state,
        source=_host(row["feed_url"]),
        people=people,
        last_synced_at=row["last_synced_at"],
        last_attempt_at=row["last_attempt_at"],
        error=FEED_ADDRESS.sub(r"\1", row["last_error"]),
        age=now - row["last_synced_at"] if row["last_synced_at"] else None,
    )


def _host(url):
    return (urlsplit(url).hostname or "") if url else ""


# Releases ------------------------------------------------------------------------


def _add_releases(card, service):
    """Releases and maintenance of the service and its dependencies around the moment, and freeze windows then."""
    at = card.at
    card.releases_from, card.releases_to = at - RELEASES_BEFORE, at + RELEASES_AFTER
    dependencies = Service.dependencies.through.objects.filter(from_service=service).values("to_service")
    concerned = Q(pk=service.pk) | Q(pk__in=dependencies)
    nearby = Q(
        kind__in=[ReleaseKind.RELEASE, ReleaseKind.MAINTENANCE],
        starts_at__lte=card.releases_to,
        ends_at__gte=card.releases_from,
    )
    freeze = Q(kind=ReleaseKind.FREEZE, starts_at__lte=at, ends_at__gte=at)
    concerns = Release.services.through.objects.filter(
        Q(service=service.pk) | Q(service__in=dependencies), release=OuterRef("pk")
    )
    is_dependency = Case(When(pk=service.pk, then=Value(False)), default=Value(True), output_field=BooleanField())
    # Only the columns the card shows: the rest (descriptions, calendar data) would be read and turned into
    # Python values for nothing.
    releases = (
        Release.objects.scheduled()
        .filter(nearby | freeze, Exists(concerns))
        .only("pk", "title", "kind", "risk", "starts_at", "ends_at")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.filter(concerned)
                .annotate(is_dependency=is_dependency)
                .only("pk", "name")
                .order_by("is_dependency", "name"),
                to_attr="concerned_services",
            )
        )
        .order_by("starts_at", "pk")
    )
    for release in releases:
        entry = CardRelease(
            release=release,
            services=release.concerned_services,
            of_this_service=any(not concerned.is_dependency for concerned in release.concerned_services),
        )
        (card.freezes if release.kind == ReleaseKind.FREEZE else card.releases).append(entry)


# Reviews -------------------------------------------------------------------------


def _add_reviews(card, service, user):
    """The last reviews of incidents of the service before the moment, and the follow-up work still open."""
    card.recent_reviews = list(
        PostIncidentReview.objects.filter(visible_reviews_condition(user), services=service)
        .filter(is_drill=False, started_at__lt=card.at)
        .select_related("severity")
        .only("pk", "title", "status", "started_at", "severity__key")
        .order_by("-started_at", "-pk")[:RECENT_REVIEWS]
    )
    today = timezone.localdate()
    # A join on the review's services: the same rows as `review IN (visible reviews of the service)`, with one
    # subquery less to build and to plan.
    items = list(
        ActionItem.objects.filter(
            visible_reviews_condition(user, "review__"), review__services=service, status__in=OPEN_ACTION_STATUSES
        )
        .select_related("review", "owner_team", "assignee")
        .only(
            "pk",
            "title",
            "due_date",
            "status",
            "review__id",
            "owner_team__name",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
        )
        .annotate(
            overdue_first=Case(When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("overdue_first", F("due_date").asc(nulls_last=True), "pk")[: MOST_ACTION_ITEMS + 1]
    )
    for item in items:
        item.is_overdue = item.due_date is not None and item.due_date < today
    card.action_items, card.more_action_items = items[:MOST_ACTION_ITEMS], len(items) > MOST_ACTION_ITEMS
