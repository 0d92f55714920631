"""The access policy: who approves for which team and who oversees, as a governed document.

Team kind, the committee flag, approver rights (`approve_for_team`) and membership of the committee
and of leadership teams decide who must approve every change and who reads restricted reviews. No
edit of a team, admin page, API or command changes them: they change through a change request to
the one AccessPolicy document (RULES-0001), approved by the SLA committee and, where a team's own
approvers change, by that team (while it has approvers). `manage.py emergency_grant` is the one
break-glass way around it, loud and acknowledged by the committee.

The document lists the teams whose rules are not the default (an engineering team, not the
committee, without approvers): a team created today adds nothing to it.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Q
from django.db.models.functions import Cast
from django.urls import reverse
from guardian.models import UserObjectPermission

from approvals.registry import GovernedKind
from core.history import Reason
from sla_registry import actions
from sla_registry.choices import TeamKind
from sla_registry.models import AccessPolicy, Team

DEFAULT_KIND = TeamKind.ENGINEERING
# Teams whose membership is itself a power: the committee approves everything, leadership reads everything.
OVERSIGHT_KINDS = {TeamKind.LEADERSHIP}
COMMITTEE_REASON = "the SLA committee approves every change to who approves and who reads"


def governs_membership(entry):
    return entry["is_sla_committee"] or entry["kind"] in OVERSIGHT_KINDS


def team_entry(slug, kind=DEFAULT_KIND, is_sla_committee=False, approvers=(), members=()):
    """One team's rules as the policy document holds them (members only where membership is governed)."""
    entry = {"team": slug, "kind": kind, "is_sla_committee": is_sla_committee, "approvers": sorted(set(approvers))}
    if governs_membership(entry):
        entry["members"] = sorted(set(members))
    return entry


def _is_default(entry):
    return entry["kind"] == DEFAULT_KIND and not entry["is_sla_committee"] and not entry["approvers"]


def live_rules():
    """The rules in force, read from the teams and permissions: {"teams": [entry, …]} sorted by slug."""
    approve = actions.APPROVE_FOR_TEAM.partition(".")[2]
    approvers = {}
    rows = UserObjectPermission.objects.filter(
        permission__codename=approve, content_type=ContentType.objects.get_for_model(Team)
    ).values_list(Cast("object_pk", BigIntegerField()), "user__username")
    for team_pk, username in rows:
        approvers.setdefault(team_pk, []).append(username)
    teams = Team.objects.filter(~Q(kind=DEFAULT_KIND) | Q(is_sla_committee=True) | Q(pk__in=list(approvers)))
    teams = list(teams.order_by("slug"))
    oversight_groups = [team.group_id for team in teams if team.is_sla_committee or team.kind in OVERSIGHT_KINDS]
    members = {}
    user_groups = get_user_model().groups.through.objects.filter(group_id__in=oversight_groups)
    for group_id, username in user_groups.values_list("group_id", "user__username"):
        members.setdefault(group_id, []).append(username)
    entries = [
        team_entry(
            team.slug,
            team.kind,
            team.is_sla_committee,
            approvers.get(team.pk, ()),
            members.get(team.group_id, ()),
        )
        for team in teams
    ]
    return {"teams": [entry for entry in entries if not _is_default(entry)]}


class AccessPolicyKind(GovernedKind):
    key = "access_policy"
    label = "Access policy"
    model = AccessPolicy
    child_keys = {"teams": ("team",)}

    def document_url(self, document_id):
        return reverse("sla_registry:access_policy")

    def revise_url(self, change_request):
        return reverse("sla_registry:access_policy_propose") + f"?revise={change_request.reference}"

    def title_of(self, data):
        return "Access policy"

    def services_of(self, data):
        return []

    def snapshot(self, policy):
        return live_rules()

    def validate(self, data, document=None):
        if not isinstance(data, dict) or not isinstance(data.get("teams"), list):
            raise ValidationError({"teams": "The policy is a list of teams with their rules."})
        errors, entries, seen = {}, [], set()
        known_teams = set(
            Team.objects.filter(
                slug__in=[str(item.get("team", "")) for item in data["teams"] if isinstance(item, dict)]
            ).values_list("slug", flat=True)
        )
        usernames = {
            str(name)
            for item in data["teams"]
            if isinstance(item, dict)
            for name in [*(item.get("approvers") or []), *(item.get("members") or [])]
        }
        known_users = set(
            get_user_model().objects.filter(username__in=usernames, is_active=True).values_list("username", flat=True)
        )
        for position, item in enumerate(data["teams"]):
            where = f"teams[{position}]"
            if not isinstance(item, dict):
                errors[where] = "Each team is an object with team, kind, is_sla_committee, approvers (and members)."
                continue
            slug = str(item.get("team", ""))
            if slug not in known_teams:
                errors[f"{where}.team"] = f"No team “{slug}”."
                continue
            if slug in seen:
                errors[f"{where}.team"] = f"{slug} is listed twice."
                continue
            seen.add(slug)
            kind = item.get("kind", DEFAULT_KIND)
            if kind not in TeamKind.values:
                errors[f"{where}.kind"] = f"“{kind}” is not a team kind ({', '.join(TeamKind.values)})."
                continue
            names = {}
            for field in ("approvers", "members"):
                value = item.get(field) or []
                if not isinstance(value, list):
                    errors[f"{where}.{field}"] = "A list of usernames."
                    continue
                unknown = sorted({str(name) for name in value} - known_users)
                if unknown:
                    errors[f"{where}.{field}"] = f"No active user named {', '.join(unknown)}."
                names[field] = [str(name) for name in value]
            entry = team_entry(
                slug, kind, bool(item.get("is_sla_committee")), names.get("approvers", ()), names.get("members", ())
            )
            if names.get("members") and "members" not in entry:
                errors[f"{where}.members"] = "Membership is governed only for the committee and leadership teams."
            entries.append(entry)
        committees = [entry["team"] for entry in entries if entry["is_sla_committee"]]
        if not errors and len(committees) != 1:
            errors["teams"] = f"Exactly one team is the SLA committee (this policy names {len(committees)})."
        if errors:
            raise ValidationError(errors)
        entries.sort(key=lambda entry: entry["team"])
        return {"teams": [entry for entry in entries if not _is_default(entry)]}

    def apply(self, policy, data, *, acting_user, change_request):
        reason = Reason(change_request.summary, change_request.reference) if change_request else "Access policy"
        actions.apply_access_rules(
            {entry["team"]: entry for entry in live_rules()["teams"]},
            {entry["team"]: entry for entry in data["teams"]},
            default=team_entry,
            acting_user=acting_user,
            reason=reason,
        )
        policy = policy or AccessPolicy.get()
        policy.save()
        return policy

    def required_teams(self, policy, data):
        old = {entry["team"]: entry for entry in live_rules()["teams"]}
        new = {entry["team"]: entry for entry in data["teams"]}
        reasons = {}
        for slug in sorted(old.keys() | new.keys()):
            before, after = old.get(slug, team_entry(slug)), new.get(slug, team_entry(slug))
            if before["approvers"] != after["approvers"] and before["approvers"]:
                reasons[slug] = "its own approvers change"
            if before["is_sla_committee"] and not after["is_sla_committee"]:
                reasons[slug] = "it stops being the SLA committee"
        teams = Team.objects.in_bulk(list(reasons), field_name="slug")
        required = {teams[slug]: reason for slug, reason in reasons.items() if slug in teams}
        committee = Team.objects.filter(is_sla_committee=True).first()
        if committee is not None:
            required[committee] = "; ".join(filter(None, [required.get(committee), COMMITTEE_REASON]))
        return required

    def describe(self, old, new):
        before = {entry["team"]: entry for entry in (old or {}).get("teams", [])}
        after = {entry["team"]: entry for entry in new.get("teams", [])}
        names = dict(Team.objects.filter(slug__in=before.keys() | after.keys()).values_list("slug", "name"))
        lines = []
        for slug in sorted(before.keys() | after.keys()):
            was, now, name = (
                before.get(slug, team_entry(slug)),
                after.get(slug, team_entry(slug)),
                names.get(slug, slug),
            )
            if was["kind"] != now["kind"]:
                lines.append(f"{name} kind: {TeamKind(was['kind']).label} → {TeamKind(now['kind']).label}")
            if was["is_sla_committee"] != now["is_sla_committee"]:
                lines.append(f"{name} {'becomes' if now['is_sla_committee'] else 'is no longer'} the SLA committee")
            for field, noun in (("approvers", "Approvers"), ("members", "Members")):
                gained = sorted(set(now.get(field, [])) - set(was.get(field, [])))
                lost = sorted(set(was.get(field, [])) - set(now.get(field, [])))
                if gained or lost:
                    change = ", ".join([*(f"+ {user}" for user in gained), *(f"− {user}" for user in lost)])
                    lines.append(f"{noun} of {name}: {change}")
        return lines
