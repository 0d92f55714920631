"""Seeds the demo release calendars by importing iCalendar files, as a team's calendar tool would export them.

Two calendars over the same two quarters as the demo reviews:

- Checkout's release train: a weekly Tuesday release (a recurring event with one
  week skipped and one occurrence moved), the Basket release that preceded the
  slow-checkout incident by a few hours, and a high-risk release next week;
- Platform's changes: maintenance windows and the year-end freeze window of the
  customer-facing services.

The files go through releases.importing like any upload, so the demo exercises
the real import path and re-seeding is idempotent.
"""

from datetime import UTC, datetime, timedelta

import icalendar

from core.moments import quarter_start
from demo import review_data as review_demo_data
from demo.review_seeding import incident_start
from releases.choices import RuleField, SyncSource
from releases.importing import import_calendar
from releases.models import Calendar, ServiceRule
from sla_registry.models import Service, Team

UID_DOMAIN = "basketly.example"
BASKET_INCIDENT = "Checkout latency after the basket-pricing deploy"
# The year-end freeze reaches the customer-facing services through a rule on its category.
FREEZE_SERVICES = ("checkout-api", "basket-service", "payments-gateway")


def _event(uid, summary, start, end, *, description="", categories=(), status=None, all_day=False):
    event = icalendar.Event()
    event.add("uid", f"{uid}@{UID_DOMAIN}")
    event.add("summary", summary)
    event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
    event.add("dtstart", start.date() if all_day else start)
    event.add("dtend", end.date() if all_day else end)
    if description:
        event.add("description", description)
    if categories:
        event.add("categories", list(categories))
    if status:
        event.add("status", status)
    return event


def _calendar_file(name, events):
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Google Inc//Google Calendar 70.9054//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


class ReleaseSeeder:
    """Like the other seeders: `steps()` for progress, `summary()` at the end; inside the caller's transaction."""

    CALENDARS = {
        "checkout-release-train": ("Checkout release train", "checkout", ("checkout-api", "basket-service")),
        "platform-changes": ("Platform changes", "platform", ("kubernetes-platform", "api-gateway")),
    }

    def __init__(self, *, now=None, acting_user=None):
        self.now = now or datetime.now(UTC)
        self.acting_user = acting_user
        self.syncs = []

    def steps(self):
        return [
            ("releases: Checkout release train", lambda: self.seed("checkout-release-train", self.checkout_events())),
            ("releases: Platform changes", lambda: self.seed("platform-changes", self.platform_events())),
        ]

    @property
    def changed(self):
        return any(sync.added or sync.updated or sync.cancelled for sync in self.syncs)

    def summary(self):
        if not self.syncs:
            return "Demo release calendars: nothing to import."
        added = sum(sync.added for sync in self.syncs)
        updated = sum(sync.updated for sync in self.syncs)
        unchanged = sum(sync.unchanged for sync in self.syncs)
        return (
            f"Demo release calendars: {len(self.syncs)} imported from iCalendar, {added} releases added, "
            f"{updated} updated, {unchanged} unchanged."
        )

    def seed(self, slug, events):
        name, team_slug, service_slugs = self.CALENDARS[slug]
        calendar, _ = Calendar.objects.get_or_create(
            slug=slug, defaults={"name": name, "team": Team.objects.get(slug=team_slug)}
        )
        calendar.default_services.set(Service.objects.filter(slug__in=service_slugs))
        if slug == "platform-changes":
            for service in Service.objects.filter(slug__in=FREEZE_SERVICES):
                ServiceRule.objects.get_or_create(
                    calendar=calendar, field=RuleField.CATEGORY, value="freeze", service=service
                )
        sync = import_calendar(
            calendar,
            _calendar_file(name, events),
            source=SyncSource.COMMAND,
            acting_user=self.acting_user,
            now=self.now,
        )
        if sync.error:
            raise RuntimeError(f"The demo calendar {name} did not import: {sync.error}")
        self.syncs.append(sync)

    # The calendars ------------------------------------------------------------

    def _previous_quarter_start(self):
        return quarter_start(quarter_start(self.now.date()) - timedelta(days=1))

    def checkout_events(self):
        first_day = self._previous_quarter_start()
        first_tuesday = first_day + timedelta(days=(1 - first_day.weekday()) % 7)
        train_start = datetime.combine(first_tuesday, datetime.min.time(), tzinfo=UTC).replace(hour=10)
        train = _event(
            "checkout-train",
            "Checkout weekly release train",
            train_start,
            train_start + timedelta(hours=1),
            description="Every Tuesday: checkout-api and basket-service ship what passed staging by Monday noon.",
            categories=("release",),
        )
        train.add("rrule", {"freq": "weekly", "byday": "TU"})
        skipped = train_start + timedelta(weeks=6)
        train.add("exdate", skipped)

        moved_from = train_start + timedelta(weeks=9)
        moved = _event(
            "checkout-train",
            "Checkout weekly release train (moved to Wednesday)",
            moved_from + timedelta(days=1),
            moved_from + timedelta(days=1, hours=1),
            description="Moved a day: Tuesday clashed with the payments provider's maintenance.",
            categories=("release",),
        )
        moved.add("recurrence-id", moved_from)

        basket_spec = next(spec for spec in review_demo_data.REVIEWS if spec.title == BASKET_INCIDENT)
        incident = incident_start(basket_spec, self.now)
        basket_release = _event(
            "basket-pricing-2-14",
            "Basket pricing 2.14",
            incident - timedelta(hours=2, minutes=40),
            incident - timedelta(hours=2, minutes=10),
            description="Promotion prices recalculated in basket-service (moves price rules off the cache).",
            categories=("release", "medium risk"),
        )
        next_week = (self.now + timedelta(days=8)).replace(hour=9, minute=0, second=0, microsecond=0)
        risky = _event(
            "checkout-2026-12-1",
            "Checkout 2026.12.1: new payment-method selector",
            next_week,
            next_week + timedelta(hours=2),
            description="Replaces the payment-method selector on web and mobile; feature-flagged per market.",
            categories=("release", "high risk"),
        )
        return [train, moved, basket_release, risky]

    def platform_events(self):
        first_day = self._previous_quarter_start()
        events = []
        for month in range(6):
            window = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC) + timedelta(days=30 * month + 12)
            window = window.replace(hour=2)
            events.append(
                _event(
                    f"k8s-maintenance-{window:%Y%m}",
                    f"Kubernetes node pool upgrade ({window:%b})",
                    window,
                    window + timedelta(hours=3),
                    description="Rolling node upgrades; pods are drained one zone at a time.",
                    categories=("maintenance",),
                )
            )
        freeze_start = (self.now + timedelta(days=12)).replace(hour=0, minute=0, second=0, microsecond=0)
        events.append(
            _event(
                "year-end-freeze",
                "Year-end change freeze",
                freeze_start,
                freeze_start + timedelta(days=16),
                description="No releases to customer-facing services over the peak trading weeks.",
                categories=("freeze",),
                all_day=True,
            )
        )
        return events
