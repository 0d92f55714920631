"""The access policy's pages: the rules in force, and proposing a change to one team's rules."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from approvals.actions import latest_version, propose_change
from approvals.choices import OPEN_STATES
from approvals.models import ChangeRequest
from sla_registry.access import AccessPolicyKind, live_rules, team_entry
from sla_registry.forms import TeamRulesForm
from sla_registry.models import AccessPolicy, Team


def access_policy(request):
    """Who approves for which team, who is the committee, who leads: the rules in force and their changes."""
    policy = AccessPolicy.get()
    rules = live_rules()["teams"]
    names = dict(Team.objects.filter(slug__in=[entry["team"] for entry in rules]).values_list("slug", "name"))
    open_requests = ChangeRequest.objects.filter(
        document_kind=AccessPolicyKind.key, document_id=policy.pk, state__in=OPEN_STATES
    ).select_related("author")
    return render(
        request,
        "sla_registry/access_policy.html",
        {
            "policy": policy,
            "rows": [
                {**entry, "members": entry.get("members"), "name": names.get(entry["team"], entry["team"])}
                for entry in rules
            ],
            "version": latest_version(AccessPolicyKind.key, policy.pk),
            "open_requests": open_requests,
        },
    )


def _initial_rules(slug):
    """The form's starting point: the team's rules in force (the defaults for a team the policy omits)."""
    entry = next((entry for entry in live_rules()["teams"] if entry["team"] == slug), None)
    if entry is None:
        team = Team.objects.filter(slug=slug).first()
        return {"team": slug, "kind": team.kind if team else None}
    return {
        **entry,
        "approvers": "\n".join(entry["approvers"]),
        "members": "\n".join(entry.get("members", [])),
    }


def propose_team_rules(request):
    """Propose new rules for one team: its kind, the committee flag, its approvers (and governed members)."""
    policy = AccessPolicy.get()
    form = TeamRulesForm(request.POST or None, initial=_initial_rules(request.GET.get("team", "")))
    if request.method == "POST" and form.is_valid():
        rules = {entry["team"]: entry for entry in live_rules()["teams"]}
        team = form.cleaned_data["team"]
        rules[team.slug] = form.team_rules()
        if rules[team.slug]["is_sla_committee"]:
            # The flag moves: the team that holds it now gives it up in the same proposal.
            for slug, entry in list(rules.items()):
                if slug != team.slug and entry["is_sla_committee"]:
                    rules[slug] = team_entry(slug, entry["kind"], False, entry["approvers"], entry.get("members", ()))
        try:
            change_request = propose_change(
                AccessPolicyKind.key,
                policy,
                data={"teams": list(rules.values())},
                summary=form.cleaned_data["summary"],
                rationale=form.cleaned_data["rationale"],
                acting_user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"{change_request.reference} proposes it. Check it, then submit it for approval.")
            return redirect(change_request)
    context = {"form": form, "policy": policy}
    return render(request, "sla_registry/access_policy_propose.html", context, status=400 if form.errors else 200)
