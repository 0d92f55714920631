"""Notices: what an incident's clocks say at 50 %, 80 % of their targets and at breach, and who hears it.

Who: the escalation tier reached at the threshold's moment, from the pinned matrix version's steps for the
incident's severity (level 1 at once, level 2 once level 1's wait has passed, and so on), counted only up to
the acknowledgement: acknowledging stops escalation to the next levels. A breach also goes to the SLA's
consumer teams and the SLA committee. A service whose pinned matrix has no step for the severity falls back
to the SLA's provider team. A clock that has stopped (met) has no more notices.

How: through the step's channel (email: the team's address through the outbox; page, phone, chat: the team's
signed webhook receivers, which relay to its pager or chat) and, when that fails (an error, a timeout, no
receiver, no address), through the step's fallback channel. Every attempt and its outcome is an event on the
incident's timeline.

When: the moments are computed from the clock, never from when the worker runs, so a notice is the same row
(unique per incident, clock, threshold and team) however often and however late it is looked for. A notice
sent more than LATE_AFTER after it fell due (the worker was down) is marked late, with the delay.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.templatetags.portal import duration as format_duration
from incidents.actions import add_event
from incidents.choices import ClockState, EventKind, IncidentSource, NoticeStatus, NoticeThreshold
from incidents.clocks import add_working_time
from incidents.models import OPEN_STATUSES, Clock, IncidentPinnedVersion, Notice
from notifications.outbox import notify
from notifications.webhooks import send_to_team_receivers
from sla_registry.choices import Channel
from sla_registry.models import Team
from sla_registry.working_hours import WorkingWeek

logger = logging.getLogger(__name__)

NOTICE_EVENT = "incident.notice"
THRESHOLDS = ((NoticeThreshold.HALF, 0.5), (NoticeThreshold.EIGHTY, 0.8), (NoticeThreshold.BREACH, 1.0))
# Sent later than this after its moment, a notice is marked late (the periodic run comes every 30 s).
LATE_AFTER = timedelta(minutes=1)
# A notice claimed by a worker that died is claimed again after this long.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Recipient:
    team: object
    level: int | None
    channel: str
    fallback_channel: str
    step: dict | None


def threshold_moment(clock, fraction, week=None):
    """When `clock` reaches `fraction` of its target (business-hours clocks count the provider's working time)."""
    if fraction >= 1:
        return clock.due_at
    amount = clock.target * fraction
    if clock.business_hours:
        return add_working_time(week or WorkingWeek(), clock.incident.started_at, amount)
    return clock.incident.started_at + amount


def tier_reached(steps, elapsed):
    """The steps of the highest level whose cumulative wait has passed after `elapsed` (level 1 at once)."""
    levels = sorted({step["level"] for step in steps})
    offset, reached = timedelta(0), []
    for level in levels:
        if offset > elapsed:
            break
        reached = [step for step in steps if step["level"] == level]
        offset += max(timedelta(minutes=step.get("wait_minutes") or 0) for step in reached)
    return reached


def _team_fallback(team, channel):
    return team.fallback_channel if team.fallback_channel and team.fallback_channel != channel else ""


def recipients_for(clock, threshold, moment, *, matrix, sla, teams, committee):
    """[Recipient] of `clock`'s notice at `threshold` reached at `moment`."""
    incident = clock.incident
    cutoff = min(moment, incident.acknowledged_at) if incident.acknowledged_at else moment
    steps = [step for step in (matrix or {}).get("steps", []) if step.get("severity") == incident.severity.key]
    recipients = []
    if steps:
        for step in tier_reached(steps, cutoff - incident.started_at):
            team = teams.get(step["team"])
            if team is not None:
                fallback = step.get("fallback_channel") or _team_fallback(team, step["channel"])
                recipients.append(Recipient(team, step["level"], step["channel"], fallback, step))
    else:
        provider = teams.get(sla.get("provider_team"))
        if provider is not None:
            recipients.append(
                Recipient(
                    provider, 1, provider.primary_channel, _team_fallback(provider, provider.primary_channel), None
                )
            )
    if threshold == NoticeThreshold.BREACH:
        for team in [*(teams.get(slug) for slug in sla.get("consumer_teams", [])), committee]:
            if team is not None and all(team.pk != r.team.pk for r in recipients):
                recipients.append(
                    Recipient(team, None, team.primary_channel, _team_fallback(team, team.primary_channel), None)
                )
    return recipients


def running_clocks():
    return (
        Clock.objects.filter(state=ClockState.RUNNING, repeats=False, incident__status__in=OPEN_STATUSES)
        .select_related("incident__severity", "version")
        .order_by("due_at", "pk")
    )


def plan_due_notices(now=None):
    """Create the notices whose moment has come (at most once each: the unique constraint); how many were new."""
    now = now or timezone.now()
    clocks = list(running_clocks())
    if not clocks:
        return 0
    incident_ids = {clock.incident_id for clock in clocks}
    matrices = {
        (row.incident_id, row.service_id): row.version.snapshot
        for row in IncidentPinnedVersion.objects.filter(
            incident_id__in=incident_ids, version__document_kind="escalation_matrix"
        ).select_related("version")
    }
    teams = {team.slug: team for team in Team.objects.all()}
    committee = next((team for team in teams.values() if team.is_sla_committee), None)
    weeks = {}
    # The notices already made are skipped here (the constraint would refuse them anyway) to keep each run light.
    made = set(Notice.objects.filter(clock__in=clocks).values_list("clock_id", "threshold", "team_id"))
    rows = []
    for clock in clocks:
        sla = clock.version.snapshot
        provider = sla.get("provider_team")
        if clock.business_hours and provider not in weeks:
            weeks[provider] = WorkingWeek.of_team(teams[provider]) if provider in teams else WorkingWeek()
        for threshold, fraction in THRESHOLDS:
            moment = threshold_moment(clock, fraction, weeks.get(provider))
            if moment > now:
                break
            matrix = matrices.get((clock.incident_id, clock.service_id))
            for recipient in recipients_for(
                clock, threshold, moment, matrix=matrix, sla=sla, teams=teams, committee=committee
            ):
                if (clock.pk, threshold, recipient.team.pk) in made:
                    continue
                rows.append(
                    Notice(
                        incident_id=clock.incident_id,
                        clock=clock,
                        threshold=threshold,
                        level=recipient.level,
                        team=recipient.team,
                        channel=recipient.channel,
                        fallback_channel=recipient.fallback_channel,
                        due_at=moment,
                    )
                )
    created = Notice.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def next_threshold_at(now=None):
    """The earliest threshold moment still ahead of a running clock (None when none is)."""
    now = now or timezone.now()
    ahead = []
    for clock in running_clocks():
        for _threshold, fraction in THRESHOLDS:
            week = None
            if clock.business_hours:
                provider = Team.objects.filter(slug=clock.version.snapshot.get("provider_team")).first()
                week = WorkingWeek.of_team(provider) if provider else WorkingWeek()
            moment = threshold_moment(clock, fraction, week)
            if moment > now:
                ahead.append(moment)
                break
    return min(ahead, default=None)


def _claim(notice_pk, now):
    lease_over = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    return Notice.objects.filter(lease_over, pk=notice_pk, status=NoticeStatus.PENDING).update(claimed_at=now) == 1


def fire_due_notices(now=None):
    """Create what is due and send every pending notice that is due; the notices handled, in order."""
    now = now or timezone.now()
    plan_due_notices(now)
    handled = []
    pending = Notice.objects.filter(status=NoticeStatus.PENDING, due_at__lte=now, clock__isnull=False).order_by(
        "due_at", "level", "pk"
    )
    for pk in list(pending.values_list("pk", flat=True)):
        if not _claim(pk, now):
            continue  # another worker has it
        notice = Notice.objects.select_related("incident__severity", "clock__service", "team").get(pk=pk)
        send_notice(notice)
        handled.append(notice)
    return handled


# Sending ------------------------------------------------------------------------------------------------


def _absolute(path):
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _step_of(notice):
    if notice.level is None:
        return None
    row = (
        IncidentPinnedVersion.objects.filter(
            incident=notice.incident, service=notice.clock.service, version__document_kind="escalation_matrix"
        )
        .select_related("version")
        .first()
    )
    if row is None:
        return None
    steps = row.version.snapshot.get("steps", [])
    return next(
        (
            step
            for step in steps
            if step.get("severity") == notice.incident.severity.key
            and step.get("level") == notice.level
            and step.get("team") == notice.team.slug
        ),
        None,
    ), row.version.snapshot


def _what_reached(notice):
    if notice.threshold == NoticeThreshold.BREACH:
        return "breached"
    return f"at {notice.threshold} %"


def compose(notice, now):
    """(subject, body, data) of a notice: what the step says to bring, the clocks left, and the links."""
    incident, clock = notice.incident, notice.clock
    drill = "[DRILL] " if incident.is_drill else ""
    subject = (
        f"{drill}[{incident.severity.key}] {incident.reference}: {clock.get_kind_display()} clock "
        f"{_what_reached(notice)} ({clock.service.name})"
    )
    incident_link = _absolute(incident.get_absolute_url())
    oncall_link = _absolute(reverse("oncall_card", kwargs={"slug": clock.service.slug}))
    data = {
        "incident": incident.reference,
        "clock": clock.kind,
        "threshold": notice.threshold,
        "level": notice.level,
        "due_at": notice.due_at.isoformat(),
        "oncall_card": oncall_link,
    }
    if incident.is_restricted:
        body = (
            f"{incident.reference} is restricted: open it in the portal to read it.\n\n"
            f"Incident: {incident_link}\nOn-call card: {oncall_link}"
        )
        return subject, body, data
    found = _step_of(notice)
    step, matrix = found if found else (None, {})
    brings = {
        "timeline": step.get("bring_timeline", True) if step else True,
        "services": step.get("bring_affected_services", True) if step else True,
        "workarounds": step.get("bring_workarounds", False) if step else False,
    }
    lines = [f"{incident.reference} {incident.title}", f"Status: {incident.get_status_display()}"]
    if notice.level is not None:
        lines.append(f"You are escalation level {notice.level}.")
    else:
        lines.append("You are told of this breach as a consumer of the SLA or as the SLA committee.")
    if brings["services"]:
        services = sorted(service.name for service in incident.services.all())
        lines += ["", "Affected services: " + ", ".join(services)]
        data["services"] = sorted(service.slug for service in incident.services.all())
    lines += ["", "Clocks:"]
    clocks = []
    for other in incident.clocks.select_related("service").order_by("due_at", "pk"):
        state = other.state_at(now)
        left = other.next_due(now) - now
        text = f"{int(left.total_seconds() // 60)} min left" if state == ClockState.RUNNING else state
        lines.append(f"- {other.get_kind_display()} ({other.service.name}): {text}")
        clocks.append({"kind": other.kind, "service": other.service.slug, "state": state,
                       "due_at": other.next_due(now).isoformat()})  # fmt: skip
    data["clocks"] = clocks
    if brings["timeline"]:
        events = incident.events.exclude(kind=EventKind.NOTICE).order_by("occurred_at", "pk")
        lines += ["", "Timeline so far:"]
        lines += [
            f"- {event.occurred_at:%Y-%m-%d %H:%M} {event.get_kind_display()}: {event.summary}" for event in events
        ]
    if brings["workarounds"]:
        playbook = matrix.get("playbook", [])
        lines += ["", "Known workarounds (playbook):"]
        lines += [f"- {item['title']}: {item.get('instructions', '')}".rstrip(": ") for item in playbook] or ["- none"]
        data["workarounds"] = [item["title"] for item in playbook]
    lines += ["", f"Incident: {incident_link}", f"On-call card: {oncall_link}"]
    return subject, "\n".join(lines), data


def deliver(notice, channel, *, subject, body, data):
    """Send through one channel; (delivered, what happened)."""
    team = notice.team
    if channel == Channel.EMAIL:
        if not team.email:
            return False, f"{team.name} has no email address"
        with transaction.atomic():
            notify(NOTICE_EVENT, subject=subject, body=body, teams=[team], webhooks=False)
        return True, f"queued for {team.email}"
    outcomes = send_to_team_receivers(
        NOTICE_EVENT, team, subject=subject, body=body, link=data.get("link", ""), data=data,
        restricted=notice.incident.is_restricted,
    )  # fmt: skip
    if not outcomes:
        return False, f"{team.name} has no webhook receiver for {NOTICE_EVENT}"
    delivered = [url for url, ok, _error in outcomes if ok]
    if delivered:
        return True, "delivered to " + ", ".join(delivered)
    return False, "; ".join(f"{url}: {error}" for url, _ok, error in outcomes)


def send_notice(notice):
    """Try the channel, then the fallback; record every attempt on the timeline and the outcome on the notice."""
    now = timezone.now()
    subject, body, data = compose(notice, now)
    data["link"] = _absolute(notice.incident.get_absolute_url())
    channels = [notice.channel, *([notice.fallback_channel] if notice.fallback_channel else [])]
    who = f"{notice.team.name}" + (f" (level {notice.level})" if notice.level is not None else "")
    errors = []
    for channel in channels:
        fallback = channel != notice.channel
        try:
            delivered, outcome = deliver(notice, channel, subject=subject, body=body, data=data)
        except Exception as error:  # a channel that breaks must not keep the fallback from being tried
            logger.exception("Notice %s through %s failed", notice.pk, channel)
            delivered, outcome = False, f"{type(error).__name__}: {error}"
        label = f"{channel} (fallback)" if fallback else channel
        late = timezone.now() - notice.due_at
        if late > LATE_AFTER:
            outcome = f"{outcome} (late by {format_duration(late)})"
        add_event(
            notice.incident, EventKind.NOTICE, occurred_at=timezone.now(), source=IncidentSource.PORTAL,
            summary=f"{notice.clock.get_kind_display()} {_what_reached(notice)} → {who} via {label}: "
            f"{'sent' if delivered else 'failed'}, {outcome}",
        )  # fmt: skip
        if delivered:
            sent_at = timezone.now()
            late = sent_at - notice.due_at
            notice.status, notice.sent_at, notice.fallback_used = NoticeStatus.SENT, sent_at, fallback
            notice.late_by = late if late > LATE_AFTER else None
            notice.last_error = "; ".join(errors)
            notice.save(update_fields=["status", "sent_at", "fallback_used", "late_by", "last_error"])
            return notice
        errors.append(f"{channel}: {outcome}")
    notice.status, notice.last_error = NoticeStatus.FAILED, "; ".join(errors)[:2000]
    notice.save(update_fields=["status", "last_error"])
    return notice
