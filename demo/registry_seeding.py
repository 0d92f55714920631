"""Write the demo organisation of `demo.registry_data` through the registry's actions.

Seeding converges: an object that is missing is created, one that differs from
its definition is brought back to it, and one that already matches is not
written at all, so a second run adds no rows and no history. Objects are found
by their natural keys (slug, severity key, username, SLA title and service), and
objects the definitions do not name are left alone. SLAs and escalation
matrices are governed documents: seeding creates the missing ones (recording
version 1 of each) and never rewrites an existing one, which only a change
request may change.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from guardian.models import UserObjectPermission

from approvals import actions as approval_actions
from approvals.actions import record_baseline_version
from approvals.models import ChangeRequest
from demo import registry_data as demo_data
from demo.clock import demo_clock
from sla_registry import actions
from sla_registry.access import AccessPolicyKind, live_rules
from sla_registry.choices import AgreementStatus
from sla_registry.documents import ServiceLevelAgreementKind
from sla_registry.models import (
    AccessPolicy,
    CustomerJourney,
    EscalationMatrix,
    EscalationStep,
    IncidentCategory,
    Objective,
    PlaybookStep,
    ResponseTarget,
    Responsibility,
    Service,
    ServiceLevelAgreement,
    Severity,
    Team,
)

# Fields compared to decide whether an existing row still matches its definition.
TEAM_FIELDS = (
    "name",
    "kind",
    "description",
    "is_sla_committee",
    "chat_channel",
    "email",
    "pager_handle",
    "primary_channel",
    "fallback_channel",
)
SERVICE_FIELDS = ("name", "owner_team_id", "tier", "description")
JOURNEY_FIELDS = ("name", "description", "business_impact")
SEVERITY_FIELDS = ("name", "rank", "customer_impact")
CATEGORY_FIELDS = ("name", "description")


@dataclass
class Tally:
    """How many objects of one kind the demo has, and how many this run created or brought back in line."""

    label: str
    total: int = 0
    new: int = 0
    updated: int = 0

    def count(self, outcome):
        self.total += 1
        if outcome == "new":
            self.new += 1
        elif outcome == "updated":
            self.updated += 1

    def __str__(self):
        changes = f"{self.new} new" + (f", {self.updated} updated" if self.updated else "")
        return f"{self.total} {self.label} ({changes})"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    team: str
    role: str


def _differing_fields(existing, wanted, fields):
    return [name for name in fields if getattr(existing, name) != getattr(wanted, name)]


def _days_ago(now, count):
    return now - timedelta(days=count)


class DemoSeeder:
    """Seeds the demo organisation, optionally with `size - 1` batches of synthetic benchmark data.

    `steps()` lists the work as (label, callable) pairs so a caller can show
    progress; `run()` does it all. Call either inside one transaction.
    """

    def __init__(self, *, size=1, now=None):
        if size < 1:
            raise ValueError("The size must be at least 1.")
        self.size = size
        self.now = now or timezone.now()
        self.tallies = {
            "teams": Tally("teams"),
            "services": Tally("services"),
            "journeys": Tally("customer journeys"),
            "severities": Tally("severities"),
            "categories": Tally("incident categories"),
            "slas": Tally("SLAs"),
            "matrices": Tally("escalation matrices"),
            "users": Tally("users"),
            "change_requests": Tally("change requests"),
        }
        self.admin = None
        self.teams = {}
        self.services = {}
        self.severities = {}
        self.categories = {}
        self._password_hash = None

    # The plan ---------------------------------------------------------------

    def steps(self):
        steps = [
            ("admin", self.seed_admin),
            ("taxonomy", self.seed_taxonomy),
            ("teams", self.seed_teams),
            ("services", self.seed_services),
            ("customer journeys", self.seed_journeys),
            ("SLAs", self.seed_slas),
            ("escalation matrices", self.seed_matrices),
            ("demo logins", self.seed_users),
            ("access policy", self.seed_access_policy),
            ("change requests", self.seed_change_requests),
        ]
        for unit in demo_data.synthetic_units(self.size):
            steps.append((unit.service.name, lambda unit=unit: self.seed_synthetic_unit(unit)))
        return steps

    def run(self):
        for _label, step in self.steps():
            step()
        return self

    @property
    def changed(self):
        return any(tally.new or tally.updated for tally in self.tallies.values())

    def summary(self):
        if not self.changed:
            return "Demo data already present; nothing changed."
        return "Seeded demo organisation: " + ", ".join(str(tally) for tally in self.tallies.values()) + "."

    # Sections ---------------------------------------------------------------

    def seed_admin(self):
        """The superuser every demo write is recorded against; created first so history can name it."""
        user_model = get_user_model()
        admin = user_model.objects.filter(username=demo_data.ADMIN_USERNAME).first()
        outcome = None
        if admin is None:
            admin = user_model(
                username=demo_data.ADMIN_USERNAME,
                email=f"{demo_data.ADMIN_USERNAME}@{demo_data.EMAIL_DOMAIN}",
                first_name="Demo",
                last_name="Administrator",
                password=self.password_hash(),
            )
            outcome = "new"
        elif not (admin.is_superuser and admin.is_staff):
            outcome = "updated"
        if outcome:
            admin.is_superuser = admin.is_staff = True
            admin.save()
        self.tallies["users"].count(outcome)
        self.admin = admin

    def seed_taxonomy(self):
        existing = {severity.key: severity for severity in Severity.objects.all()}
        for spec in demo_data.SEVERITIES:
            wanted = Severity(key=spec.key, name=spec.name, rank=spec.rank, customer_impact=spec.customer_impact)
            self.severities[spec.key] = self._converge(
                "severities", existing.get(spec.key), wanted, SEVERITY_FIELDS, actions.save_severity
            )
        existing = {category.slug: category for category in IncidentCategory.objects.all()}
        for spec in demo_data.CATEGORIES:
            wanted = IncidentCategory(name=spec.name, slug=spec.slug, description=spec.description)
            self.categories[spec.slug] = self._converge(
                "categories", existing.get(spec.slug), wanted, CATEGORY_FIELDS, actions.save_category
            )

    def seed_teams(self):
        self._seed_teams(demo_data.TEAMS)

    def seed_services(self):
        self._seed_services(demo_data.SERVICES)

    def seed_journeys(self):
        slugs = [spec.slug for spec in demo_data.JOURNEYS]
        existing = {
            journey.slug: journey
            for journey in CustomerJourney.objects.filter(slug__in=slugs).prefetch_related("services")
        }
        for spec in demo_data.JOURNEYS:
            wanted = CustomerJourney(
                name=spec.name, slug=spec.slug, description=spec.description, business_impact=spec.business_impact
            )
            self._converge(
                "journeys",
                existing.get(spec.slug),
                wanted,
                JOURNEY_FIELDS,
                actions.save_journey,
                services=[self.services[slug] for slug in spec.services],
            )

    def seed_slas(self):
        for spec in demo_data.SLAS:
            self._seed_sla(spec)

    def seed_matrices(self):
        for spec in demo_data.MATRICES:
            self._seed_matrix(spec)

    def seed_users(self):
        user_model = get_user_model()
        usernames = [spec.username for spec in demo_data.DEMO_USERS]
        existing = {
            user.username: user
            for user in user_model.objects.filter(username__in=usernames).prefetch_related("groups", "user_permissions")
        }
        staff_permissions = list(
            Permission.objects.filter(content_type__app_label="sla_registry", codename__in=demo_data.STAFF_PERMISSIONS)
        )
        approvals_held = set(
            UserObjectPermission.objects.filter(
                permission__codename="approve_for_team",
                content_type=ContentType.objects.get_for_model(Team),
                user__username__in=usernames,
            ).values_list("user_id", "object_pk")
        )
        for spec in demo_data.DEMO_USERS:
            user = existing.get(spec.username)
            outcome = self._seed_user(spec, user, staff_permissions, approvals_held)
            self.tallies["users"].count(outcome)

    def seed_change_requests(self):
        """A few change requests through the real lifecycle, so the approval pages have something to show.

        Seeded once, into a registry that has none: one applied (its SLA is at
        version 2), one in review for six days waiting for Customer Support and the
        committee, one draft. Each step happens at the moment its spec dates it
        (demo.clock), so the request's times, its decisions and its timeline agree;
        the approval that completes a request applies it and writes the SLA, so it
        happens now, after the SLA was seeded.
        """
        if ChangeRequest.objects.filter(document_kind="sla").exists():
            return
        user_model = get_user_model()
        for spec in demo_data.DEMO_CHANGE_REQUESTS:
            sla = ServiceLevelAgreement.objects.get(title=spec.sla_title)
            snapshot = ServiceLevelAgreementKind().snapshot(sla)
            for target in snapshot["response_targets"]:
                if target["severity"] == spec.severity and target["category"] is None:
                    target[spec.field] = spec.minutes
            author = user_model.objects.get(username=spec.author)
            proposed_at = self.now - spec.proposed_ago
            with demo_clock(proposed_at):
                change_request = approval_actions.propose_change(
                    "sla", sla, data=snapshot, summary=spec.summary, rationale=spec.rationale, acting_user=author
                )
            submitted_at = proposed_at + spec.submitted_after
            if spec.submit:
                with demo_clock(submitted_at):
                    change_request = approval_actions.submit_change_request(change_request, acting_user=author)
            for approval in spec.approvals:
                team = self.teams[approval.team]
                completes = [missing.pk for missing in approval_actions.missing_approvals(change_request)] == [team.pk]
                moment = None if completes or approval.after is None else submitted_at + approval.after
                with demo_clock(moment):
                    change_request = approval_actions.decide_change_request(
                        change_request,
                        team,
                        verdict="approve",
                        comment="Agreed.",
                        acting_user=user_model.objects.get(username=approval.approver),
                    )
            self.tallies["change_requests"].count("new")

    def seed_access_policy(self):
        """The teams' approvers, set the way the portal sets them: a change request to the access policy.

        Only the committee's own approver is there before it (the policy's first version, recorded when
        the request is proposed): the committee secretary proposes every other team's approvers and the
        chair approves, so RULES-0001 is at version 2. Seeded once.
        """
        if ChangeRequest.objects.filter(document_kind=AccessPolicyKind.key).exists():
            return
        rules = {entry["team"]: entry for entry in live_rules()["teams"]}
        for spec in demo_data.DEMO_USERS:
            if spec.approver and spec.team not in rules:
                rules[spec.team] = {"team": spec.team, "kind": self.teams[spec.team].kind, "approvers": []}
            if spec.approver:
                rules[spec.team]["approvers"] = sorted({*rules[spec.team]["approvers"], spec.username})
        users = get_user_model().objects.in_bulk(["committee.secretary", "committee.chair"], field_name="username")
        change_request = approval_actions.propose_change(
            AccessPolicyKind.key,
            AccessPolicy.get(),
            data={"teams": list(rules.values())},
            summary="Team approvers for the demo organisation",
            rationale="Each team names the people who approve changes on its behalf.",
            acting_user=users["committee.secretary"],
        )
        change_request = approval_actions.submit_change_request(
            change_request, acting_user=users["committee.secretary"]
        )
        approval_actions.decide_change_request(
            change_request,
            self.teams[demo_data.COMMITTEE],
            verdict="approve",
            comment="Agreed.",
            acting_user=users["committee.chair"],
        )
        self.tallies["change_requests"].count("new")

    def seed_synthetic_unit(self, unit):
        self._seed_teams([unit.team])
        self._seed_services([unit.service])
        self._seed_sla(unit.sla)
        if unit.matrix is not None:
            self._seed_matrix(unit.matrix)

    # One object at a time ----------------------------------------------------

    def _converge(self, kind, existing, wanted, fields, save, **relations):
        """Create `wanted`, or bring `existing` in line with it; write nothing when they already match.

        `relations` are many-to-many values (lists of saved objects) passed on to `save`.
        """
        if existing is None:
            instance, outcome = wanted, "new"
        else:
            instance = existing
            differing = _differing_fields(existing, wanted, fields)
            for name in differing:
                setattr(existing, name, getattr(wanted, name))
            related_differ = any(
                {related.pk for related in getattr(existing, name).all()} != {related.pk for related in value}
                for name, value in relations.items()
            )
            outcome = "updated" if differing or related_differ else None
        if outcome:
            save(instance, acting_user=self.admin, reason=demo_data.DEMO_REASON, **relations)
        self.tallies[kind].count(outcome)
        return instance

    def _seed_teams(self, specs):
        existing = {team.slug: team for team in Team.objects.filter(slug__in=[spec.slug for spec in specs])}
        for spec in specs:
            wanted = Team(
                name=spec.name,
                slug=spec.slug,
                kind=spec.kind,
                description=spec.description,
                is_sla_committee=spec.is_sla_committee,
                chat_channel=spec.chat_channel,
                email=spec.email,
                pager_handle=spec.pager_handle,
                primary_channel=spec.primary_channel,
                fallback_channel=spec.fallback_channel,
            )
            self.teams[spec.slug] = self._converge(
                "teams", existing.get(spec.slug), wanted, TEAM_FIELDS, actions.save_team
            )

    def _seed_services(self, specs):
        existing = {
            service.slug: service
            for service in Service.objects.filter(slug__in=[spec.slug for spec in specs]).prefetch_related(
                "dependencies"
            )
        }
        # Dependencies outside this batch (the platform services a synthetic service needs).
        missing = {slug for spec in specs for slug in spec.dependencies} - set(self.services) - set(existing)
        self.services.update({service.slug: service for service in Service.objects.filter(slug__in=missing)})
        for spec in specs:
            wanted = Service(
                name=spec.name,
                slug=spec.slug,
                owner_team=self.teams[spec.owner],
                tier=spec.tier,
                description=spec.description,
            )
            self.services[spec.slug] = self._converge(
                "services",
                existing.get(spec.slug),
                wanted,
                SERVICE_FIELDS,
                actions.save_service,
                dependencies=[self.services[slug] for slug in spec.dependencies],
            )

    def _seed_sla(self, spec):
        service = self.services[spec.service]
        sla = ServiceLevelAgreement.objects.filter(title=spec.title, service=service).first()
        # An existing SLA is governed: it changes through change requests, never by re-seeding.
        if sla is not None:
            self.tallies["slas"].count(None)
            return sla
        wanted = ServiceLevelAgreement(
            title=spec.title,
            service=service,
            provider_team=self.teams[spec.provider],
            status=AgreementStatus.ACTIVE,
            executive_summary=spec.executive_summary,
            technical_annex=spec.technical_annex,
            business_impact=spec.business_impact,
        )
        consumers = [self.teams[slug] for slug in spec.consumers]
        objectives = [
            Objective(
                indicator=objective.indicator,
                target=objective.target,
                unit=objective.unit,
                window=objective.window,
                dashboard_url=objective.dashboard_url,
            )
            for objective in spec.objectives
        ]
        targets = [
            ResponseTarget(
                severity=self.severities[target.severity],
                category=self.categories[target.category] if target.category else None,
                time_to_acknowledge=target.acknowledge,
                time_to_restore=target.restore,
                time_to_resolve=target.resolve,
                customer_update_interval=target.customer_update_interval,
                coverage=target.coverage,
            )
            for target in spec.response_targets
        ]
        sla = wanted
        sla.effective_from = _days_ago(self.now, spec.effective_days_ago)
        sla.last_reviewed_at = _days_ago(self.now, spec.reviewed_days_ago)
        actions.save_sla(
            sla,
            consumer_teams=consumers,
            objectives=objectives,
            response_targets=targets,
            acting_user=self.admin,
            reason=demo_data.DEMO_REASON,
        )
        record_baseline_version(sla, acting_user=self.admin)
        self.tallies["slas"].count("new")
        return sla

    def _seed_matrix(self, spec):
        service = self.services[spec.service]
        matrix = EscalationMatrix.objects.filter(service=service).first()
        # An existing matrix is governed: it changes through change requests, never by re-seeding.
        if matrix is not None:
            self.tallies["matrices"].count(None)
            return matrix
        wanted = EscalationMatrix(
            title=spec.title,
            service=service,
            owner_team=self.teams[spec.owner],
            status=AgreementStatus.ACTIVE,
            notes=spec.notes,
        )
        steps = [
            EscalationStep(
                severity=self.severities[step.severity],
                level=step.level,
                wait=step.wait,
                team=self.teams[step.team],
                contact=step.contact,
                channel=step.channel,
                fallback_channel=step.fallback_channel,
                bring_timeline=step.bring_timeline,
                bring_affected_services=step.bring_affected_services,
                bring_workarounds=step.bring_workarounds,
            )
            for step in spec.steps
        ]
        responsibilities = [
            Responsibility(duty=item.duty, team=self.teams[item.team], when=item.when) for item in spec.responsibilities
        ]
        playbook_steps = [
            PlaybookStep(
                title=item.title,
                instructions=item.instructions,
                timebox_minutes=item.timebox_minutes,
                checkpoint_question=item.checkpoint_question,
            )
            for item in spec.playbook
        ]
        matrix = wanted
        matrix.effective_from = _days_ago(self.now, spec.effective_days_ago)
        matrix.last_reviewed_at = _days_ago(self.now, spec.reviewed_days_ago)
        actions.save_escalation_matrix(
            matrix,
            steps=steps,
            responsibilities=responsibilities,
            playbook_steps=playbook_steps,
            acting_user=self.admin,
            reason=demo_data.DEMO_REASON,
        )
        record_baseline_version(matrix, acting_user=self.admin)
        self.tallies["matrices"].count("new")
        return matrix

    def _seed_user(self, spec, user, staff_permissions, approvals_held):
        team = self.teams[spec.team]
        outcome = None
        if user is None:
            user = get_user_model()(username=spec.username, password=self.password_hash())
            outcome = "new"
        wanted = {
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": spec.email,
            "is_staff": spec.is_staff,
        }
        differing = {name: value for name, value in wanted.items() if getattr(user, name) != value}
        for name, value in differing.items():
            setattr(user, name, value)
        if outcome == "new" or differing:
            user.save()
            outcome = outcome or "updated"

        is_member = outcome != "new" and any(group.pk == team.group_id for group in user.groups.all())
        # Only the committee's approver is set up directly (the access policy's first version); every other
        # team's approvers come from the access policy's change request (seed_access_policy).
        approver = spec.approver and team.is_sla_committee
        is_approver = (user.pk, str(team.pk)) in approvals_held
        if not is_member or (approver and not is_approver):
            actions.add_team_member(team, user, acting_user=self.admin, approver=approver)
            outcome = outcome or "updated"

        if spec.is_staff:
            held = set() if outcome == "new" else {permission.pk for permission in user.user_permissions.all()}
            missing = [permission for permission in staff_permissions if permission.pk not in held]
            if missing:
                user.user_permissions.add(*missing)
                outcome = outcome or "updated"
        return outcome

    def password_hash(self):
        """One hash of the demo password for every demo login: hashing is deliberately slow (~0.3 s each)."""
        if self._password_hash is None:
            self._password_hash = make_password(demo_data.DEMO_PASSWORD)
        return self._password_hash


# Demo logins ------------------------------------------------------------------


def demo_logins():
    """The demo logins present in the database, in the order the demo defines them."""
    team_names = dict(Team.objects.values_list("slug", "name"))
    present = set(
        get_user_model()
        .objects.filter(username__in=[demo_data.ADMIN_USERNAME, *(spec.username for spec in demo_data.DEMO_USERS)])
        .values_list("username", flat=True)
    )
    logins = []
    if demo_data.ADMIN_USERNAME in present:
        logins.append(DemoLogin(demo_data.ADMIN_USERNAME, "—", "superuser (Django admin)"))
    logins.extend(
        DemoLogin(spec.username, team_names.get(spec.team, spec.team), spec.role)
        for spec in demo_data.DEMO_USERS
        if spec.username in present
    )
    return logins


def login_table(logins):
    """The logins as a plain-text table, one line per login."""
    header = DemoLogin("Username", "Team", "Role")
    rows = [header, *logins]
    widths = [max(len(getattr(row, column)) for row in rows) for column in ("username", "team", "role")]

    def line(row):
        cells = (row.username, row.team, row.role)
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in logins)])
