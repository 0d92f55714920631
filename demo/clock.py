"""Seeding a step of the demo's story at the moment the story dates it.

The lifecycle's actions read the time from `django.utils.timezone.now()` (a request's
created, updated and submitted times, a decision's time, the audit events of the
request's timeline, the outbox rows and simple-history's dates), so running one
step with that clock set makes all of them agree with each other, as if it had
happened then. Used by the demo seeders only, for steps that write no registry
document: the registry itself is seeded now, and its history must not run backwards.
"""

from contextlib import contextmanager
from unittest import mock

from django.utils import timezone


@contextmanager
def demo_clock(moment):
    """Within the block, timezone.now() starts at `moment` (None, or a moment not in the past: the real clock)."""
    real_now = timezone.now
    started = real_now()
    if moment is None or moment >= started:
        yield
        return
    # The clock runs on from `moment`, so the writes of one step keep their order (created, then submitted…).
    with mock.patch("django.utils.timezone.now", side_effect=lambda: moment + (real_now() - started)):
        yield
