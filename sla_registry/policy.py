"""Who must approve a change to an SLA or an escalation matrix, and why.

The rule, as the change request page explains it:
- SLA: the provider team, every consumer team, and the SLA committee. Teams
  removed by the change approve too: nobody loses an agreement without consent.
- Escalation matrix: the owning team, every team a step notifies before or after
  the change (nobody is put on, or taken off, a pager without consent), and the
  SLA committee.
- Post-incident review (publishing or amending): the owning team of every service
  affected before or after the change, and the SLA committee.
"""

from collections import defaultdict

from sla_registry.models import Service, Team

COMMITTEE_REASON = "the SLA committee approves every change to an agreement"


def _teams_by_slug(slugs):
    return Team.objects.in_bulk([slug for slug in slugs if slug], field_name="slug")


def _with_committee(reasons_by_slug):
    teams = _teams_by_slug(reasons_by_slug)
    required = {teams[slug]: "; ".join(reasons) for slug, reasons in reasons_by_slug.items() if slug in teams}
    committee = Team.objects.filter(is_sla_committee=True).first()
    if committee is not None:
        reason = required.get(committee)
        required[committee] = f"{reason}; {COMMITTEE_REASON}" if reason else COMMITTEE_REASON
    return required


def _before_and_after(before, after, noun):
    """Reasons for a team named before and/or after a change."""
    if before and after:
        return noun
    if after:
        return f"{noun} after this change"
    return f"{noun} until this change removes it"


def sla_required_teams(old, new):
    """`old` and `new` are SLA snapshots (old is None for a new SLA)."""
    old = old or {}
    reasons = defaultdict(list)
    for slug in {old.get("provider_team"), new.get("provider_team")} - {None}:
        noun = _before_and_after(old.get("provider_team") == slug, new.get("provider_team") == slug, "provider")
        reasons[slug].append(noun)
    old_consumers, new_consumers = set(old.get("consumer_teams", [])), set(new.get("consumer_teams", []))
    for slug in old_consumers | new_consumers:
        reasons[slug].append(_before_and_after(slug in old_consumers, slug in new_consumers, "consumer"))
    return _with_committee(reasons)


def _notified_steps(snapshot):
    """{team slug: ["SEV1 level 2", …]} for the steps of a matrix snapshot."""
    notified = defaultdict(list)
    for step in (snapshot or {}).get("steps", []):
        notified[step["team"]].append(f"{step['severity']} level {step['level']}")
    return notified


def matrix_required_teams(old, new):
    """`old` and `new` are escalation-matrix snapshots (old is None for a new matrix)."""
    old = old or {}
    reasons = defaultdict(list)
    for slug in {old.get("owner_team"), new.get("owner_team")} - {None}:
        reasons[slug].append(
            _before_and_after(old.get("owner_team") == slug, new.get("owner_team") == slug, "owner of the matrix")
        )
    before, after = _notified_steps(old), _notified_steps(new)
    for slug in set(before) | set(after):
        if after.get(slug) and before.get(slug):
            reasons[slug].append(f"notified at {', '.join(after[slug])}")
        elif after.get(slug):
            reasons[slug].append(f"will be notified at {', '.join(after[slug])} after this change")
        else:
            reasons[slug].append(f"no longer notified (was {', '.join(before[slug])})")
    return _with_committee(reasons)


REVIEW_COMMITTEE_REASON = "the SLA committee approves every published post-incident review"


def review_required_teams(old, new):
    """Who approves publishing (old is None) or amending a post-incident review: the snapshots' services' owners.

    The owning team of every service affected before or after the change, and the
    SLA committee. A team whose service the change drops approves too: nobody's
    service leaves (or joins) the record of an incident without its consent.
    """
    old_services = set((old or {}).get("services", []))
    new_services = set(new.get("services", []))
    reasons = defaultdict(list)
    services = Service.objects.filter(slug__in=old_services | new_services).select_related("owner_team")
    for service in sorted(services, key=lambda service: service.name):
        if old is None or (service.slug in old_services and service.slug in new_services):
            reason = f"owns {service.name}, an affected service"
        elif service.slug in new_services:
            reason = f"owns {service.name}, an affected service after this change"
        else:
            reason = f"owns {service.name}, an affected service until this change removes it"
        reasons[service.owner_team].append(reason)
    required = {team: "; ".join(team_reasons) for team, team_reasons in reasons.items()}
    committee = Team.objects.filter(is_sla_committee=True).first()
    if committee is not None:
        reason = required.get(committee)
        required[committee] = f"{reason}; {REVIEW_COMMITTEE_REASON}" if reason else REVIEW_COMMITTEE_REASON
    return required
