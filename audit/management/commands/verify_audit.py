"""manage.py verify_audit [--checkpoint FILE_OR_JSON]: walk the audit chain and name its first break."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.verification import CHUNK_SIZE, ChainBreak, CheckpointError, read_checkpoints, verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain from the first event to the last and name the first break "
        "(edited, deleted, rewritten, reordered, truncated); exits non-zero on a break."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            help="A checkpoint from `audit_checkpoint`: the JSON itself, or a file with one checkpoint a line. "
            "Each must still be in the chain with the same hash (detects truncation and rewriting). "
            "Needs AUDIT_CHECKPOINT_KEY.",
        )

    def handle(self, *args, checkpoint=None, **options):
        checkpoints = []
        if checkpoint:
            text = checkpoint if checkpoint.lstrip().startswith("{") else self._read(checkpoint)
            try:
                checkpoints = read_checkpoints(text)
            except CheckpointError as error:
                raise CommandError(str(error)) from None

        total = AuditEvent.objects.count()
        progress = None
        if total > CHUNK_SIZE and options["verbosity"] >= 1:

            def progress(done):
                self.stderr.write(f"… {done} of {total} events checked")

        outcome = verify_chain(checkpoints, progress=progress)
        if isinstance(outcome, ChainBreak):
            raise CommandError(str(outcome))
        self.stdout.write(str(outcome))
        if checkpoints:
            self.stdout.write(f"{len(checkpoints)} checkpoint(s) verified.")

    def _read(self, path):
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read the checkpoint file {path}: {error.strerror}.") from None
