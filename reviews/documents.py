"""The governed-document adapter for post-incident reviews.

A published review is the third governed kind: publishing it, and every
amendment after, is a change request that the owners of the affected services and
the SLA committee approve. The document is a plain JSON dict with natural keys
(slugs, SEV1, usernames) and times in ISO 8601 UTC ("…Z"). Action-item tracking
(status, completion note) is not review content: it is left out of the document,
and applying a change keeps it for the items matched by title.
"""

import copy
from datetime import UTC

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_date, parse_datetime

from approvals.exceptions import InvalidTransition
from approvals.reading import DocumentReader
from approvals.registry import GovernedKind, normalise_document
from core.formatting import iso_moment
from core.history import Reason
from reviews import actions
from reviews.choices import ActionKind, DrillKind, Priority, ReviewStatus, TimelineKind
from reviews.models import INCIDENT_TIMES, ActionItem, PostIncidentReview, TimelineEntry
from sla_registry import policy
from sla_registry.choices import TeamKind
from sla_registry.models import CustomerJourney, IncidentCategory, Service, Severity, Team

TEXT_FIELDS = (
    "summary",
    "customer_impact",
    "trigger",
    "root_causes",
    "contributing_factors",
    "detection",
    "resolution",
    "went_well",
    "went_wrong",
    "got_lucky",
    "links",
)


def _by_key(items, key):
    return {key(item): item for item in items}


def _reason(change_request):
    return Reason(change_request.summary, change_request.reference)


def _username(user):
    return user.get_username() if user is not None else None


class DisplayNames:
    """Names of the teams, services and journeys a snapshot names by slug (queried on first use)."""

    def __init__(self):
        self._names = None

    def __call__(self, slug):
        if self._names is None:
            self._names = dict(Team.objects.values_list("slug", "name"))
            self._names.update(CustomerJourney.objects.values_list("slug", "name"))
            self._names.update(Service.objects.values_list("slug", "name"))
        return self._names.get(slug, slug)

    def many(self, slugs):
        return ", ".join(self(slug) for slug in slugs)


class ReviewKind(GovernedKind):
    key = "review"
    label = "Post-incident review"
    model = PostIncidentReview
    child_keys = {"timeline": ("at",), "action_items": ("title",)}
    text_fields = frozenset(TEXT_FIELDS)

    def document_url(self, document_id):
        try:
            return reverse("reviews:review_detail", kwargs={"reference": self.reference_of(document_id)})
        except NoReverseMatch:  # the review pages are not routed (yet)
            return None

    def is_versioned(self, review):
        """A draft (or a draft in review for publication) has no version: its first is the published one."""
        return review.status == ReviewStatus.PUBLISHED

    def filter_visible(self, change_requests, user):
        """Hide change requests about restricted reviews `user` may not see (reviews.permissions decides)."""
        from reviews.permissions import hidden_reviews

        if getattr(user, "is_superuser", False):
            return change_requests
        return change_requests.exclude(document_kind=self.key, document_id__in=hidden_reviews(user).values("pk"))

    def restriction(self, change_request, link=""):
        """Messages about a request to a review restricted now, or by the request, tell non-readers only
        that it waits (reviews.permissions.review_restriction decides who reads)."""
        from reviews.permissions import review_restriction

        review = PostIncidentReview.objects.filter(pk=change_request.document_id).first()
        return review_restriction(
            review, about=f"Change request {change_request.reference}", link=link, proposed=change_request.proposed
        )

    def retired(self, data):
        raise InvalidTransition("A post-incident review is never retired; amend it instead.")

    # The document --------------------------------------------------------

    def document_of(self, review, *, services, journeys, restricted_to, timeline, action_items, status=None):
        """The document for a review and its children, saved or not (the same builder as snapshot)."""
        document = {
            "title": review.title,
            "severity": review.severity.key,
            "category": review.category.slug if review.category_id else None,
            "services": sorted(service.slug for service in services),
            "journeys": sorted(journey.slug for journey in journeys),
            "is_drill": review.is_drill,
            "drill_kind": review.drill_kind,
            "is_restricted": review.is_restricted,
            "restricted_to": sorted(team.slug for team in restricted_to) if review.is_restricted else [],
            **{name: iso_moment(getattr(review, name), utc=True) for name in INCIDENT_TIMES},
            **{name: getattr(review, name) for name in TEXT_FIELDS},
            "customers_affected": review.customers_affected,
            "support_contacts": review.support_contacts,
            "status": status or review.status,
            "timeline": [
                {"at": iso_moment(entry.at, utc=True), "entry": entry.entry, "kind": entry.kind}
                for entry in sorted(timeline, key=lambda entry: entry.at)
            ],
            "action_items": sorted(
                (
                    {
                        "title": item.title,
                        "kind": item.kind,
                        "owner_team": item.owner_team.slug,
                        "assignee": _username(item.assignee),
                        "due_date": item.due_date.isoformat() if item.due_date else None,
                        "priority": item.priority,
                        "link": item.link,
                    }
                    for item in action_items
                ),
                key=lambda item: item["title"],
            ),
        }
        return normalise_document(document)

    def snapshot(self, review):
        review = PostIncidentReview.objects.select_related("severity", "category").get(pk=review.pk)
        return self.document_of(
            review,
            services=review.services.all(),
            journeys=review.journeys.all(),
            restricted_to=review.restricted_to.all(),
            timeline=review.timeline.order_by("at", "pk"),
            action_items=review.action_items.select_related("owner_team", "assignee"),
        )

    def _build(self, data, review=None):
        """Unsaved instances for `data`: (review, services, journeys, restricted_to, timeline, action_items)."""
        reader = DocumentReader(data)
        teams = _by_key(Team.objects.all(), lambda team: team.slug)
        review = review or PostIncidentReview()
        review.title = reader.text("title", required=True)
        review.severity = reader.lookup("severity", _by_key(Severity.objects.all(), lambda s: s.key), "severity")
        review.category = reader.lookup(
            "category", _by_key(IncidentCategory.objects.all(), lambda c: c.slug), "incident category", required=False
        )
        services = reader.lookup_many(
            "services", _by_key(Service.objects.select_related("owner_team"), lambda s: s.slug), "service"
        )
        journeys = reader.lookup_many(
            "journeys", _by_key(CustomerJourney.objects.all(), lambda j: j.slug), "customer journey"
        )
        review.is_drill = reader.boolean("is_drill")
        review.drill_kind = reader.choice("drill_kind", DrillKind, default="")
        review.is_restricted = reader.boolean("is_restricted")
        restricted_to = reader.lookup_many("restricted_to", teams, "team") if review.is_restricted else []
        for name in INCIDENT_TIMES:
            setattr(review, name, reader.datetime(name))
        if review.started_at is None and "started_at" not in reader.errors:
            reader.error("started_at", "This field is required.")
        for name in TEXT_FIELDS:
            setattr(review, name, reader.text(name))
        review.customers_affected = reader.integer("customers_affected", required=False)
        review.support_contacts = reader.integer("support_contacts", required=False)
        review.status = reader.choice("status", ReviewStatus, default=ReviewStatus.DRAFT)

        timeline = []
        for item in reader.items("timeline"):
            at = item.datetime("at")
            if at is None and "at" not in item.data:
                item.error("at", "This field is required.")
            timeline.append(
                TimelineEntry(
                    at=at,
                    entry=item.text("entry", required=True),
                    kind=item.choice("kind", TimelineKind, default=TimelineKind.NOTE),
                )
            )

        items = reader.items("action_items")
        usernames = [item.data.get("assignee") for item in items if isinstance(item.data.get("assignee"), str)]
        user_model = get_user_model()
        users = user_model._default_manager.in_bulk(usernames, field_name=user_model.USERNAME_FIELD)
        action_items, titles = [], set()
        for item in items:
            title = item.text("title", required=True)
            if title and title in titles:
                item.error("title", "Another action item has this title; give each its own.")
            titles.add(title)
            action_items.append(
                ActionItem(
                    title=title,
                    kind=item.choice("kind", ActionKind, default=ActionKind.PREVENT),
                    owner_team=item.lookup("owner_team", teams, "team"),
                    assignee=item.lookup("assignee", users, "user", required=False),
                    due_date=self._date(item, "due_date"),
                    priority=item.choice("priority", Priority, default=Priority.MEDIUM),
                    link=item.text("link"),
                )
            )
        self._check_approvers_can_see(reader, review, services, restricted_to)
        reader.raise_if_errors()
        actions.validate_review(review, services=services, timeline=timeline, action_items=action_items)
        return review, services, journeys, restricted_to, timeline, action_items

    @staticmethod
    def _check_approvers_can_see(reader, review, services, restricted_to):
        """A restricted review names the owners of its services: they approve it, so they must be able to read it."""
        if not review.is_restricted:
            return
        unseeing = {
            service.owner_team.name: service.name
            for service in services
            if service.owner_team not in restricted_to
            and not service.owner_team.is_sla_committee
            and service.owner_team.kind != TeamKind.LEADERSHIP
        }
        for team, service in sorted(unseeing.items()):
            reader.error("restricted_to", f"Name {team} too: it owns {service} and approves the review.")

    @staticmethod
    def _date(reader, name):
        value = reader.data.get(name)
        if value in (None, ""):
            return None
        try:
            parsed = parse_date(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            reader.error(name, "Expected a date such as 2026-12-01.")
        return parsed

    def validate(self, data, document=None):
        review, services, journeys, restricted_to, timeline, action_items = self._build(
            data, copy.copy(document) if document else None
        )
        return self.document_of(
            review,
            services=services,
            journeys=journeys,
            restricted_to=restricted_to,
            timeline=timeline,
            action_items=action_items,
        )

    def apply(self, review, data, *, acting_user, change_request):
        """Write the approved document and publish the review (always through reviews.actions)."""
        review, services, journeys, restricted_to, timeline, action_items = self._build(data, review)
        return actions.apply_review(
            review,
            services=services,
            journeys=journeys,
            restricted_to=restricted_to,
            timeline=timeline,
            action_items=action_items,
            acting_user=acting_user,
            reason=_reason(change_request),
        )

    def required_teams(self, review, data):
        old = self.snapshot(review) if review is not None and self.is_versioned(review) else None
        return policy.review_required_teams(old, data)

    # Describing a change ---------------------------------------------------

    FIELD_LABELS = {
        "title": "Title",
        "severity": "Severity",
        "category": "Category",
        "customers_affected": "Customers affected",
        "support_contacts": "Support contacts",
        "status": "Status",
    }
    TIME_LABELS = {
        "started_at": "Time started",
        "detected_at": "Time detected",
        "acknowledged_at": "Time acknowledged",
        "restored_at": "Time restored",
        "resolved_at": "Time resolved",
    }
    TEXT_LABELS = {
        "summary": "Summary",
        "customer_impact": "Customer impact",
        "trigger": "Trigger",
        "root_causes": "Root causes",
        "contributing_factors": "Contributing factors",
        "detection": "Detection",
        "resolution": "Resolution",
        "went_well": "What went well",
        "went_wrong": "What went wrong",
        "got_lucky": "Where we got lucky",
        "links": "Links",
    }
    ACTION_ITEM_LABELS = {
        "kind": "kind",
        "owner_team": "owner",
        "assignee": "assignee",
        "due_date": "due",
        "priority": "priority",
        "link": "link",
    }

    @staticmethod
    def _times(before, after):
        """ "10:22 → 10:18" on one day, with dates when the day differs (UTC)."""
        moments = [parse_datetime(value).astimezone(UTC) if value else None for value in (before, after)]
        same_day = all(moments) and moments[0].date() == moments[1].date()
        shown = [
            "none" if moment is None else moment.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M UTC")
            for moment in moments
        ]
        return f"{shown[0]} → {shown[1]}"

    def describe(self, old, new):
        old, new = normalise_document(old), normalise_document(new)
        names = DisplayNames()
        if not old:
            return [f"Publishes “{new['title']}” ({new['severity']}), affecting {names.many(new.get('services', []))}"]
        lines = []
        for field, label in self.FIELD_LABELS.items():
            before, after = old.get(field), new.get(field)
            if before != after:
                lines.append(
                    f"{label}: {before if before not in (None, '') else 'none'} → "
                    f"{after if after not in (None, '') else 'none'}"
                )
        for field, label in self.TIME_LABELS.items():
            if old.get(field) != new.get(field):
                lines.append(f"{label}: {self._times(old.get(field), new.get(field))}")
        for field, label in self.TEXT_LABELS.items():
            before, after = old.get(field) or "", new.get(field) or ""
            if before == after:
                continue
            lines.append(f"{label} added" if not before else f"{label} removed" if not after else f"{label} rewritten")
        for field, noun in (("services", "affected service"), ("journeys", "affected customer journey")):
            before, after = set(old.get(field, [])), set(new.get(field, []))
            lines += [f"Adds {noun} {names(slug)}" for slug in sorted(after - before)]
            lines += [f"No longer lists {names(slug)} as an {noun}" for slug in sorted(before - after)]
        lines += self._describe_drill(old, new)
        lines += self._describe_restriction(old, new, names)
        lines += self._describe_timeline(old.get("timeline", []), new.get("timeline", []))
        lines += self._describe_action_items(old.get("action_items", []), new.get("action_items", []), names)
        return lines

    @staticmethod
    def _describe_drill(old, new):
        if (old.get("is_drill"), old.get("drill_kind")) == (new.get("is_drill"), new.get("drill_kind")):
            return []
        if not new.get("is_drill"):
            return ["No longer a drill: counts as a real incident"]
        kind = DrillKind(new["drill_kind"]).label.lower() if new.get("drill_kind") else "drill"
        return [f"Now a drill ({kind}): kept out of incident metrics"]

    @staticmethod
    def _describe_restriction(old, new, names):
        before = (old.get("is_restricted", False), old.get("restricted_to", []))
        after = (new.get("is_restricted", False), new.get("restricted_to", []))
        if before == after:
            return []
        if not after[0]:
            return ["No longer restricted: everyone can see it"]
        teams = names.many(after[1]) if after[1] else "the SLA committee and leadership only"
        return [f"Now restricted to {teams}"]

    @staticmethod
    def _describe_timeline(old, new):
        def clock(entry):
            return entry["at"][11:16] if entry.get("at") else "?"

        def short(text):
            return text if len(text) <= 60 else f"{text[:59]}…"

        lines = []
        before, after = _by_key(old, lambda entry: entry["at"]), _by_key(new, lambda entry: entry["at"])
        for at, entry in after.items():
            if at not in before:
                lines.append(f"Adds timeline entry at {clock(entry)}: “{short(entry['entry'])}”")
            elif before[at] != entry:
                lines.append(f"Timeline entry at {clock(entry)} reworded: “{short(entry['entry'])}”")
        lines += [
            f"Removes timeline entry at {clock(entry)}: “{short(entry['entry'])}”"
            for at, entry in before.items()
            if at not in after
        ]
        return lines

    def _describe_action_items(self, old, new, names):
        def shown(field, value):
            if value in (None, ""):
                return "none"
            return names(value) if field == "owner_team" else str(value)

        lines = []
        before, after = _by_key(old, lambda item: item["title"]), _by_key(new, lambda item: item["title"])
        for title, item in after.items():
            if title not in before:
                lines.append(f"Adds action item “{title}”")
                continue
            for field, label in self.ACTION_ITEM_LABELS.items():
                if before[title].get(field) != item.get(field):
                    lines.append(
                        f"Action item “{title}” {label}: "
                        f"{shown(field, before[title].get(field))} → {shown(field, item.get(field))}"
                    )
        lines += [f"Removes action item “{title}”" for title in before if title not in after]
        return lines
