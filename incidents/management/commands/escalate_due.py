"""Send every incident notice that is due now, and say what was done (the worker does this every 30 s)."""

from django.core.management.base import BaseCommand

from core.templatetags.portal import duration
from incidents.choices import NoticeStatus
from incidents.escalation import fire_due_notices


class Command(BaseCommand):
    help = "Send every due incident notice now (50 %, 80 % and breach of each SLA clock) and list them."

    def handle(self, *args, **options):
        handled = fire_due_notices()
        if not handled:
            self.stdout.write("No notices due.")
            return
        for notice in handled:
            via = f"{notice.fallback_channel} (fallback)" if notice.fallback_used else notice.channel
            level = f"level {notice.level}" if notice.level is not None else "breach"
            late = f", late by {duration(notice.late_by)}" if notice.late_by else ""
            self.stdout.write(
                f"{notice.incident.reference} {notice.clock.get_kind_display()} {notice.get_threshold_display()} "
                f"→ {notice.team.name} ({level}) via {via}: {notice.get_status_display().lower()}{late}"
            )
        sent = sum(1 for notice in handled if notice.status == NoticeStatus.SENT)
        late = sum(1 for notice in handled if notice.late_by)
        fallback = sum(1 for notice in handled if notice.fallback_used)
        failed = len(handled) - sent
        self.stdout.write(f"Sent {sent} notices ({late} late, {fallback} by fallback); {failed} failed.")
