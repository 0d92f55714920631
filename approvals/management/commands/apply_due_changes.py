from django.core.management.base import BaseCommand

from approvals.actions import apply_due_changes
from approvals.choices import ChangeState


class Command(BaseCommand):
    help = "Apply every approved change request whose effective time has come (also run by the background worker)."

    def handle(self, *args, **options):
        outcomes = apply_due_changes()
        for change_request in outcomes:
            if change_request.state == ChangeState.APPLIED:
                self.stdout.write(f"  applied {change_request.reference}: {change_request.summary}")
            else:
                self.stdout.write(f"  {change_request.reference} is stale: the document moved on; rebase needed")
        applied = sum(1 for change_request in outcomes if change_request.state == ChangeState.APPLIED)
        stale = len(outcomes) - applied
        if outcomes:
            self.stdout.write(self.style.SUCCESS(f"Applied {applied} due change request(s); {stale} became stale."))
        else:
            self.stdout.write("No approved change request is due.")
