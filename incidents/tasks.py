"""The escalation task, run by `manage.py worker`: send the notices that are due, then queue the next run.

It queues its own next run for the earlier of 30 s from now and the next threshold of a running clock, unless a
run that early is already waiting; opening an incident asks for a run at its first threshold, and the worker
queues one at start (IncidentsConfig.ready). Running it twice sends nothing twice: each notice is one row,
claimed before it is sent.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import get_date_max

from core.tasks import enqueue_unless_waiting
from incidents.choices import NoticeStatus
from incidents.escalation import fire_due_notices, next_threshold_at, running_clocks
from incidents.models import Notice

EVERY = timedelta(seconds=30)


@task()
def escalate_due_notices():
    """Send every notice that is due (late ones marked late), then queue the next run."""
    try:
        handled = fire_due_notices()
    finally:
        schedule_next_escalation()
    return {
        "sent": sum(1 for notice in handled if notice.status == NoticeStatus.SENT),
        "failed": sum(1 for notice in handled if notice.status == NoticeStatus.FAILED),
    }


def next_escalation_at(now=None):
    """When the next run is needed: the next threshold, at most 30 s away while a clock runs; None when idle."""
    now = now or timezone.now()
    if not running_clocks().exists() and not Notice.objects.filter(status=NoticeStatus.PENDING).exists():
        return None
    upcoming = next_threshold_at(now)
    return min(upcoming or now + EVERY, now + EVERY)


def schedule_next_escalation():
    """Queue a run for the next moment needed, unless one that early is waiting; the queued result, or None."""
    moment = next_escalation_at()
    if moment is None:
        return None
    earlier_or_unscheduled = Q(run_after__lte=moment) | Q(run_after=get_date_max())
    return enqueue_unless_waiting(escalate_due_notices, moment, waiting=earlier_or_unscheduled)
