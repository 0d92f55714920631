"""`python -m tests.fault.worker <command> …`: run a management command with the faults a fault test asks for.

FAULT_CLOCK_AHEAD_SECONDS  the process's clock runs that far ahead, as if it had been started that much later.
FAULT_HANG_APPLYING        a change request's reference: applying it hangs inside its transaction (the version
                           written, nothing committed) after writing the file FAULT_HANG_MARKER, until the
                           process is killed.
"""

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main(argv):
    ahead = float(os.environ.get("FAULT_CLOCK_AHEAD_SECONDS", "0"))
    if ahead:
        import time_machine

        time_machine.travel(datetime.now(UTC) + timedelta(seconds=ahead), tick=True).start()

    import django

    django.setup()
    hang_on = os.environ.get("FAULT_HANG_APPLYING")
    if hang_on:
        from approvals import actions

        apply = actions._apply

        def hanging_apply(change_request, **options):
            applied = apply(change_request, **options)
            if change_request.reference == hang_on:
                Path(os.environ["FAULT_HANG_MARKER"]).write_text(change_request.reference)
                time.sleep(3600)
            return applied

        actions._apply = hanging_apply

    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
