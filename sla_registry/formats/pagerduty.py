"""An escalation matrix's steps for one severity as a PagerDuty escalation policy.

`escalation_policy(matrix, "SEV1")` returns the body PagerDuty's REST API v2
accepts for ``POST /escalation_policies`` (and ``PUT /escalation_policies/{id}``):

    {"escalation_policy": {"type": "escalation_policy", "name": …, "description": …,
                           "num_loops": 0, "on_call_handoff_notifications": "if_has_services",
                           "escalation_rules": [{"escalation_delay_in_minutes": N,
                                                 "targets": [{"id": …, "type": "schedule_reference",
                                                              "summary": …}]}]}}

Conventions, since the portal and PagerDuty do not share identifiers:

- One rule per step of that severity, in level order. A rule's delay is the step's
  wait: in both systems it is how long an unacknowledged incident stays at that
  level before it escalates to the next one.
- PagerDuty refuses a delay under one minute. The portal stores waits in minutes and
  refuses a zero wait, but a snapshot from elsewhere (an old version, a proposal)
  may carry 0; such a delay is raised to 1 minute and the description says so.
- Each rule targets the on-call schedule of the step's team, as a
  ``schedule_reference`` whose id is the team's pager handle (Team.pager_handle,
  "the paging tool's schedule or handle"): keep the PagerDuty schedule id there.
  A team without a pager handle falls back to its slug, which PagerDuty will not
  know, so fill the handle in before sending the policy.
- A reference's ``summary`` is read-only in PagerDuty (it echoes the schedule's
  name), so everything a responder needs (team, contact, channel, fallback channel,
  what to bring) is also written, level by level, into the policy's description.
- ``num_loops`` is 0: the matrix ends at its last level; repeating it is PagerDuty
  configuration, not an agreed term.

Pass `snapshot` (a matrix snapshot, e.g. the version in force) to export that
state instead of the live document.
"""

from django.core.exceptions import ValidationError

from approvals.registry import get_kind
from sla_registry.choices import Channel
from sla_registry.models import Service, Severity, Team

MINIMUM_DELAY_MINUTES = 1


class EscalationPolicyError(ValidationError):
    """The matrix cannot give a policy for that severity (unknown severity, or no steps for it)."""


def _channel(code):
    return Channel(code).label.lower() if code in Channel.values else code


def _target_summary(step, team):
    contact = f" ({step['contact']})" if step.get("contact") else ""
    fallback = f", fallback {_channel(step['fallback_channel'])}" if step.get("fallback_channel") else ""
    return f"{team.name if team else step['team']}{contact} by {_channel(step['channel'])}{fallback}"


def _brings(step):
    wanted = [
        (step.get("bring_timeline"), "the timeline"),
        (step.get("bring_affected_services"), "the affected services"),
        (step.get("bring_workarounds"), "known workarounds"),
    ]
    return [label for flag, label in wanted if flag]


def escalation_policy(matrix, severity_code, *, snapshot=None):
    """The PagerDuty ``POST /escalation_policies`` body for `matrix`'s `severity_code` steps.

    Raises EscalationPolicyError for a severity the portal does not know or one the
    matrix has no steps for. Three queries (plus the snapshot's four when none is given).
    """
    kind = get_kind("escalation_matrix")
    snapshot = kind.snapshot(matrix) if snapshot is None else snapshot
    reference = kind.reference_of(matrix.pk)
    code = (severity_code or "").strip().upper()
    steps = sorted(
        (step for step in snapshot.get("steps", []) if step["severity"].upper() == code),
        key=lambda step: step["level"],
    )
    if not steps:
        known = list(Severity.objects.values_list("key", flat=True))
        if code not in {key.upper() for key in known}:
            raise EscalationPolicyError(
                f"“{severity_code}” is not a severity of the portal (known: {', '.join(known) or 'none yet'})."
            )
        raise EscalationPolicyError(f"{reference} has no {code} escalation steps, so there is no policy to export.")
    code = steps[0]["severity"]

    teams = Team.objects.in_bulk({step["team"] for step in steps}, field_name="slug")
    service = Service.objects.filter(slug=snapshot["service"]).only("name").first()
    service_name = service.name if service else snapshot["service"]

    rules, lines = [], []
    for step in steps:
        team = teams.get(step["team"])
        delay = max(step["wait_minutes"] or 0, MINIMUM_DELAY_MINUTES)
        summary = _target_summary(step, team)
        rules.append(
            {
                "escalation_delay_in_minutes": delay,
                "targets": [
                    {
                        "id": (team.pager_handle if team and team.pager_handle else step["team"]),
                        "type": "schedule_reference",
                        "summary": summary,
                    }
                ],
            }
        )
        raised = ""
        if delay != step["wait_minutes"]:
            raised = f" (raised from {step['wait_minutes'] or 0} min: PagerDuty needs at least 1)"
        brings = _brings(step)
        bring = f"; bring {', '.join(brings)}" if brings else ""
        lines.append(f"Level {step['level']}: {summary}{bring}; escalates after {delay} min{raised}.")

    description = (
        f"{code} escalation for {service_name}, from {reference} “{snapshot['title']}” in the SLA portal. "
        + " ".join(lines)
    )
    return {
        "escalation_policy": {
            "type": "escalation_policy",
            "name": f"{service_name} {code} ({reference})",
            "description": description,
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
            "escalation_rules": rules,
        }
    }
