"""manage.py audit_checkpoint: print the signed head of the audit chain, to keep outside the database."""

import json

from django.core.management.base import BaseCommand, CommandError

from audit.verification import CheckpointError, make_checkpoint


class Command(BaseCommand):
    help = (
        "Print the audit chain's head (event id, hash, event count, time) signed with HMAC-SHA256 "
        "(key: the AUDIT_CHECKPOINT_KEY environment variable) as one line of JSON. Store it outside the "
        "database, e.g. append it to a file elsewhere, and check it later with `verify_audit --checkpoint`."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = make_checkpoint()
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(checkpoint, sort_keys=True))
