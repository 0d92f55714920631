"""Write the demo's post-incident reviews (`demo.review_data`) through `reviews.actions`.

Runs after `demo.registry_seeding.DemoSeeder`, in the same transaction: it
reads the teams, services, taxonomy and demo logins that seeder wrote, by slug,
key and username. Each review is written as a draft, its finished action items
are marked done, and the reviews meant to be published go through the real
publication lifecycle: a publication change request approved by each required
team's approver.

Reviews are keyed by title and written once: a review that already exists is
left alone, since a published review only changes through an amendment.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from guardian.models import UserObjectPermission

from approvals import actions as approval_actions
from approvals.choices import Verdict
from core.moments import quarter_start
from demo import review_data as demo_data
from demo.registry_seeding import Tally
from reviews import actions
from reviews.models import ActionItem, PostIncidentReview, TimelineEntry
from sla_registry.models import CustomerJourney, IncidentCategory, Service, Severity, Team

APPROVE_FOR_TEAM = "approve_for_team"


def incident_start(spec, now):
    """When the incident in `spec` started: its position in its quarter, at its time of day, always in the past.

    The current quarter's span is the days it has had so far; an incident that would
    still be unfolding at `now` moves back a day at a time (on the first days of a
    quarter that can take it into the previous one).
    """
    current = quarter_start(now.date())
    if spec.quarter == demo_data.PREVIOUS_QUARTER:
        first, last = quarter_start(current - timedelta(days=1)), current - timedelta(days=1)
    else:
        first, last = current, max(current, now.date() - timedelta(days=1))
    day = first + timedelta(days=round((last - first).days * spec.position))
    if spec.weekday:
        # Monday to Thursday, so the business-hours incident also resolves on working days.
        while day.isoweekday() > 4:
            day -= timedelta(days=1)
    started_at = datetime.combine(day, spec.starts_at, tzinfo=UTC)
    while started_at + timedelta(minutes=spec.resolve) > now:
        started_at -= timedelta(days=1)
    return started_at


class ReviewSeeder:
    """Seeds the demo reviews. Like DemoSeeder: `steps()` for progress, `run()` for all; inside one transaction."""

    def __init__(self, *, now=None):
        self.now = now or timezone.now()
        self.reviews = Tally("post-incident reviews")
        self.added = {"published": 0, "drills": 0, "timeline entries": 0, "action items": 0, "done": 0}
        self._lookups = None

    def steps(self):
        return [(f"review: {spec.title}", lambda spec=spec: self.seed_review(spec)) for spec in demo_data.REVIEWS]

    def run(self):
        for _label, step in self.steps():
            step()
        return self

    @property
    def changed(self):
        return self.reviews.new > 0

    def summary(self):
        if not self.changed:
            return f"Demo post-incident reviews already present ({self.reviews.total}); nothing added."
        added = self.added
        return (
            f"Seeded post-incident reviews: {self.reviews}, {added['published']} of them published through "
            f"approved change requests, {added['drills']} drills, {added['timeline entries']} timeline entries, "
            f"{added['action items']} action items ({added['done']} done)."
        )

    # Lookups ------------------------------------------------------------------

    def lookups(self):
        """The registry objects the reviews name, loaded once per run."""
        if self._lookups is None:
            usernames = {spec.author for spec in demo_data.REVIEWS} | {
                item.assignee for spec in demo_data.REVIEWS for item in spec.action_items if item.assignee
            }
            self._lookups = {
                "existing": set(
                    PostIncidentReview.objects.filter(title__in=[spec.title for spec in demo_data.REVIEWS]).values_list(
                        "title", flat=True
                    )
                ),
                "services": {service.slug: service for service in Service.objects.all()},
                "journeys": {journey.slug: journey for journey in CustomerJourney.objects.all()},
                "teams": {team.slug: team for team in Team.objects.all()},
                "severities": {severity.key: severity for severity in Severity.objects.all()},
                "categories": {category.slug: category for category in IncidentCategory.objects.all()},
                "users": {user.username: user for user in get_user_model().objects.filter(username__in=usernames)},
            }
        return self._lookups

    # One review -----------------------------------------------------------------

    def seed_review(self, spec):
        lookups = self.lookups()
        if spec.title in lookups["existing"]:
            self.reviews.count(None)
            return None
        author = lookups["users"][spec.author]
        started_at = incident_start(spec, self.now)

        def after(minutes):
            return started_at + timedelta(minutes=minutes)

        review = PostIncidentReview(
            title=spec.title,
            severity=lookups["severities"][spec.severity],
            category=lookups["categories"][spec.category] if spec.category else None,
            is_drill=spec.is_drill,
            drill_kind=spec.drill_kind,
            is_restricted=spec.is_restricted,
            started_at=started_at,
            detected_at=after(spec.detect),
            acknowledged_at=after(spec.acknowledge),
            restored_at=after(spec.restore),
            resolved_at=after(spec.resolve),
            summary=spec.summary,
            customer_impact=spec.customer_impact,
            customers_affected=spec.customers_affected,
            support_contacts=spec.support_contacts,
            trigger=spec.trigger,
            root_causes=spec.root_causes,
            contributing_factors=spec.contributing_factors,
            detection=spec.detection,
            resolution=spec.resolution,
            went_well=spec.went_well,
            went_wrong=spec.went_wrong,
            got_lucky=spec.got_lucky,
            links=spec.links,
        )
        timeline = [
            TimelineEntry(at=after(entry.minute), kind=entry.kind, entry=entry.entry) for entry in spec.timeline
        ]
        items = [
            ActionItem(
                title=item.title,
                kind=item.kind,
                owner_team=lookups["teams"][item.owner],
                assignee=lookups["users"].get(item.assignee),
                due_date=self._due_date(item.due, started_at),
                priority=item.priority,
                link=item.link,
            )
            for item in spec.action_items
        ]
        review = actions.save_review(
            review,
            services=[lookups["services"][slug] for slug in spec.services],
            journeys=[lookups["journeys"][slug] for slug in spec.journeys],
            restricted_to=[lookups["teams"][slug] for slug in spec.restricted_to],
            timeline=timeline,
            action_items=items,
            acting_user=author,
            reason=demo_data.DEMO_REASON,
        )
        self.reviews.count("new")
        self.added["timeline entries"] += len(timeline)
        self.added["action items"] += len(items)
        self.added["drills"] += spec.is_drill

        if spec.publish:
            self.publish(review, author)
        # Follow-up work is finished after the review is written, as it would be; publishing keeps the rows.
        done_notes = {item.title: item.done_note for item in spec.action_items if item.done_note}
        for item in review.action_items.filter(title__in=done_notes).select_related("assignee"):
            actions.complete_action_item(item, note=done_notes[item.title], acting_user=item.assignee or author)
            self.added["done"] += 1
        return review

    def publish(self, review, author):
        """Submit the review for publication and approve it for every team the policy asks."""
        change_request = actions.submit_for_publication(
            review,
            summary=f"Publish {review.reference}: {review.title}",
            rationale="The review is complete: timeline, causes and action items agreed with the teams involved.",
            acting_user=author,
        )
        for required in change_request.required_approvals.select_related("team"):
            change_request = approval_actions.decide_change_request(
                change_request,
                required.team,
                verdict=Verdict.APPROVE,
                comment="Read and agreed.",
                acting_user=self._approver_for(required.team, author),
            )
        self.added["published"] += 1
        return change_request

    def _approver_for(self, team, author):
        """A demo login that may approve for `team` (the guardian permission approve_for_team), never the author."""
        grant = (
            UserObjectPermission.objects.filter(
                permission__codename=APPROVE_FOR_TEAM,
                content_type=ContentType.objects.get_for_model(Team),
                object_pk=str(team.pk),
            )
            .exclude(user=author)
            .select_related("user")
            .order_by("user__username")
            .first()
        )
        if grant is None:
            raise LookupError(f"Nobody but the author may approve for {team}; the demo logins are incomplete.")
        return grant.user

    def _due_date(self, due, started_at):
        if due.from_today:
            return self.now.date() + timedelta(days=due.days)
        return started_at.date() + timedelta(days=due.days)
