"""SLA clocks: each response target of the pinned SLA versions, turned into a due time when an incident opens.

The due time is the start plus the target; a business-hours target counts only the provider team's
working hours (sla_registry.working_hours), so a SEV3 opened on Friday evening falls due on Monday.
Clocks are stored so lists and the API read them without recomputing; their state is updated by every
write of the incident (incidents.actions), and a running clock past due reads as breached (Clock.state_at).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from incidents.choices import ClockKind, ClockState
from incidents.models import Clock
from reviews.metrics import matching_target
from sla_registry.models import Team
from sla_registry.working_hours import WorkingWeek

# clock kind -> (the snapshot's target field, the incident's time that stops it)
MEASURES = {
    ClockKind.ACKNOWLEDGE: ("time_to_acknowledge_minutes", "acknowledged_at"),
    ClockKind.RESTORE: ("time_to_restore_minutes", "restored_at"),
    ClockKind.RESOLVE: ("time_to_resolve_minutes", "resolved_at"),
    ClockKind.CUSTOMER_UPDATE: ("customer_update_interval_minutes", "resolved_at"),
}


def add_working_time(week, start, amount):
    """The moment `amount` of `week`'s working time after `start` (the inverse of working_time_between)."""
    if amount <= timedelta(0):
        return start
    zone = ZoneInfo(week.time_zone)
    left = amount
    day = start.astimezone(zone).date()
    for _ in range(3700):  # ten years of days: a week with no working hours never finishes
        if day.isoweekday() in week.days:
            window_start = datetime.combine(day, week.starts, tzinfo=zone).astimezone(UTC)
            window_end = datetime.combine(day, week.ends, tzinfo=zone).astimezone(UTC)
            begin = max(window_start, start.astimezone(UTC))
            if window_end > begin:
                available = window_end - begin
                if available >= left:
                    return begin + left
                left -= available
        day += timedelta(days=1)
    raise ValueError("The working week has no working hours.")


def plan_clocks(incident, pinned_rows):
    """Replace the incident's clocks with one per measure of each pinned SLA version's matching target."""
    incident.clocks.all().delete()
    sla_rows = [row for row in pinned_rows if row.version.document_kind == "sla"]
    slugs = {row.version.snapshot.get("provider_team") for row in sla_rows}
    weeks = {team.slug: WorkingWeek.of_team(team) for team in Team.objects.filter(slug__in=slugs)} if slugs else {}
    category = incident.category.slug if incident.category_id else None
    clocks = []
    for row in sla_rows:
        snapshot = row.version.snapshot
        target = matching_target(snapshot, incident.severity.key, category)
        if target is None:
            continue
        business_hours = target.get("coverage") == "business_hours"
        week = weeks.get(snapshot.get("provider_team"), WorkingWeek())
        for kind, (field, _) in MEASURES.items():
            minutes = target.get(field)
            if minutes is None:
                continue
            amount = timedelta(minutes=minutes)
            due_at = (
                add_working_time(week, incident.started_at, amount) if business_hours else incident.started_at + amount
            )
            clocks.append(
                Clock(
                    incident=incident,
                    kind=kind,
                    service=row.service,
                    version=row.version,
                    target=amount,
                    business_hours=business_hours,
                    repeats=kind == ClockKind.CUSTOMER_UPDATE,
                    due_at=due_at,
                )
            )
    for clock in clocks:
        settle(clock, incident)
    Clock.objects.bulk_create(clocks)
    return clocks


def settle(clock, incident):
    """Set a clock's state from the incident's times: met or breached once its point is reached, else running."""
    point = getattr(incident, MEASURES[clock.kind][1])
    if point is None:
        clock.state, clock.met_at = ClockState.RUNNING, None
    elif clock.repeats:
        clock.state, clock.met_at = ClockState.MET, point
    else:
        clock.state = ClockState.MET if point <= clock.due_at else ClockState.BREACHED
        clock.met_at = point


def settle_all(incident):
    clocks = list(incident.clocks.all())
    for clock in clocks:
        settle(clock, incident)
    Clock.objects.bulk_update(clocks, ["state", "met_at"])
    return clocks
