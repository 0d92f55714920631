"""The governed-document adapters for SLAs and escalation matrices.

A document is a plain JSON dict (canonical: sorted keys when hashed, natural keys
such as slugs and SEV1 instead of database ids, durations in whole minutes) so
that versions stay readable and comparable for ever. `validate` reads such a
dict from any source, `apply` writes it through the registry's actions, and
`describe` says what changed in the words people use.
"""

import copy
from datetime import timedelta

from django.urls import reverse

from approvals.actions import version_in_force
from approvals.reading import DocumentReader
from approvals.registry import GovernedKind, normalise_document
from core.formatting import iso_moment
from core.history import Reason
from core.templatetags.portal import duration
from sla_registry import actions, policy
from sla_registry.choices import AgreementStatus, Channel, Coverage, Duty
from sla_registry.models import (
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


def _minutes(value):
    return None if value is None else int(value.total_seconds() // 60)


def _decimal_text(number):
    return format(number.normalize(), "f")


def _reason(change_request):
    return Reason(change_request.summary, change_request.reference)


def _minutes_text(minutes):
    return duration(timedelta(minutes=minutes)) if minutes is not None else "none"


def _by_key(items, key):
    return {key(item): item for item in items}


class DisplayNames:
    """Team and service names for the slugs in a snapshot (two small queries, on first use)."""

    def __init__(self):
        self._names = None

    def __call__(self, slug):
        if self._names is None:
            self._names = dict(Team.objects.values_list("slug", "name"))
            self._names.update(Service.objects.values_list("slug", "name"))
        return self._names.get(slug, slug)


def _describe_fields(old, new, labels, names):
    lines = []
    for field, label in labels.items():
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        if field in LONG_TEXT_FIELDS:
            lines.append(f"{label} rewritten")
        elif field in NAMED_FIELDS:
            lines.append(f"{label}: {names(before)} → {names(after)}")
        else:
            lines.append(f"{label}: {_show(before)} → {_show(after)}")
    return lines


def _show(value):
    if value in (None, "", []):
        return "none"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


LONG_TEXT_FIELDS = {"executive_summary", "technical_annex", "business_impact", "notes", "instructions"}
NAMED_FIELDS = {"service", "provider_team", "owner_team"}


class ServiceLevelAgreementKind(GovernedKind):
    key = "sla"
    label = "SLA"
    model = ServiceLevelAgreement
    child_keys = {"objectives": ("indicator",), "response_targets": ("severity", "category")}
    text_fields = frozenset({"executive_summary", "technical_annex", "business_impact"})

    def document_url(self, document_id):
        return reverse("sla_registry:sla_detail", kwargs={"reference": self.reference_of(document_id)})

    def revise_url(self, change_request):
        return reverse("sla_registry:sla_revise", kwargs={"change_reference": change_request.reference})

    # The document --------------------------------------------------------

    def _document(self, sla, consumer_teams, objectives, response_targets):
        document = {
            "title": sla.title,
            "service": sla.service.slug,
            "provider_team": sla.provider_team.slug,
            "consumer_teams": sorted(team.slug for team in consumer_teams),
            "status": sla.status,
            "effective_from": iso_moment(sla.effective_from),
            "review_cadence_days": sla.review_cadence_days,
            "executive_summary": sla.executive_summary,
            "technical_annex": sla.technical_annex,
            "business_impact": sla.business_impact,
            "objectives": [
                {
                    "indicator": objective.indicator,
                    "target": _decimal_text(objective.target),
                    "unit": objective.unit,
                    "window_days": objective.window.days,
                    "dashboard_url": objective.dashboard_url,
                }
                for objective in objectives
            ],
            "response_targets": [
                {
                    "severity": target.severity.key,
                    "category": target.category.slug if target.category else None,
                    "time_to_acknowledge_minutes": _minutes(target.time_to_acknowledge),
                    "time_to_restore_minutes": _minutes(target.time_to_restore),
                    "time_to_resolve_minutes": _minutes(target.time_to_resolve),
                    "customer_update_interval_minutes": _minutes(target.customer_update_interval),
                    "coverage": target.coverage,
                }
                for target in sorted(
                    response_targets,
                    key=lambda target: (target.severity.rank, target.category.slug if target.category else ""),
                )
            ],
        }
        return normalise_document(document)

    def snapshot(self, sla):
        sla = (
            ServiceLevelAgreement.objects.select_related("service", "provider_team")
            .prefetch_related("consumer_teams")
            .get(pk=sla.pk)
        )
        return self._document(
            sla,
            sla.consumer_teams.all(),
            sla.objectives.order_by("position", "pk"),
            sla.response_targets.select_related("severity", "category"),
        )

    def _build(self, data, sla=None):
        """Unsaved model instances for `data`, or ValidationError naming each bad field."""
        reader = DocumentReader(data)
        teams = _by_key(Team.objects.all(), lambda team: team.slug)
        severities = _by_key(Severity.objects.all(), lambda severity: severity.key)
        categories = _by_key(IncidentCategory.objects.all(), lambda category: category.slug)
        sla = sla or ServiceLevelAgreement()
        sla.title = reader.text("title", required=True)
        sla.service = reader.lookup("service", _by_key(Service.objects.all(), lambda s: s.slug), "service")
        sla.provider_team = reader.lookup("provider_team", teams, "team")
        consumer_teams = reader.lookup_many("consumer_teams", teams, "team")
        sla.status = reader.choice("status", AgreementStatus, default=AgreementStatus.ACTIVE)
        sla.effective_from = reader.datetime("effective_from")
        sla.review_cadence_days = reader.integer("review_cadence_days", default=90)
        sla.executive_summary = reader.text("executive_summary")
        sla.technical_annex = reader.text("technical_annex")
        sla.business_impact = reader.text("business_impact")
        objectives = [
            Objective(
                indicator=item.text("indicator", required=True),
                target=item.decimal("target"),
                unit=item.text("unit", default="%"),
                window=item.days("window_days"),
                dashboard_url=item.text("dashboard_url"),
            )
            for item in reader.items("objectives")
        ]
        response_targets = [
            ResponseTarget(
                severity=item.lookup("severity", severities, "severity"),
                category=item.lookup("category", categories, "incident category", required=False),
                time_to_acknowledge=item.minutes("time_to_acknowledge_minutes"),
                time_to_restore=item.minutes("time_to_restore_minutes"),
                time_to_resolve=item.minutes("time_to_resolve_minutes"),
                customer_update_interval=item.minutes("customer_update_interval_minutes", required=False),
                coverage=item.choice("coverage", Coverage, default=Coverage.ALWAYS),
            )
            for item in reader.items("response_targets")
        ]
        reader.raise_if_errors()
        actions.validate_sla(
            sla, consumer_teams=consumer_teams, objectives=objectives, response_targets=response_targets
        )
        return sla, consumer_teams, objectives, response_targets

    def validate(self, data, document=None):
        return self._document(*self._build(data, copy.copy(document) if document else None))

    def apply(self, sla, data, *, acting_user, change_request):
        sla, consumer_teams, objectives, response_targets = self._build(data, sla)
        return actions.save_sla(
            sla,
            consumer_teams=consumer_teams,
            objectives=objectives,
            response_targets=response_targets,
            acting_user=acting_user,
            reason=_reason(change_request),
        )

    def required_teams(self, sla, data):
        return policy.sla_required_teams(self.snapshot(sla) if sla else None, data)

    # Describing a change ---------------------------------------------------

    FIELD_LABELS = {
        "title": "Title",
        "service": "Service",
        "provider_team": "Provider",
        "status": "Status",
        "effective_from": "Effective from",
        "review_cadence_days": "Review cadence (days)",
        "executive_summary": "Executive summary",
        "technical_annex": "Technical annex",
        "business_impact": "Business impact",
    }
    TARGET_LABELS = {
        "time_to_acknowledge_minutes": "time to acknowledge",
        "time_to_restore_minutes": "time to restore",
        "time_to_resolve_minutes": "time to resolve",
        "customer_update_interval_minutes": "customer-update interval",
    }

    def describe(self, old, new):
        old, new = normalise_document(old or {}), normalise_document(new)
        names = DisplayNames()
        if not old:
            return [f"New SLA “{new['title']}”: {names(new['provider_team'])} provides {names(new['service'])}"]
        lines = _describe_fields(old, new, self.FIELD_LABELS, names)
        before, after = set(old.get("consumer_teams", [])), set(new.get("consumer_teams", []))
        lines += [f"Adds consumer {names(slug)}" for slug in sorted(after - before)]
        lines += [f"Removes consumer {names(slug)}" for slug in sorted(before - after)]
        lines += self._describe_objectives(old.get("objectives", []), new.get("objectives", []))
        lines += self._describe_targets(old.get("response_targets", []), new.get("response_targets", []))
        return lines

    @staticmethod
    def _objective_text(objective):
        unit = objective["unit"]
        return f"{objective['target']}{'' if unit == '%' else ' '}{unit} over {objective['window_days']} d"

    def _describe_objectives(self, old, new):
        before = _by_key(old, lambda item: item["indicator"])
        after = _by_key(new, lambda item: item["indicator"])
        lines = []
        for indicator, objective in after.items():
            if indicator not in before:
                lines.append(f"New objective “{indicator}”: {self._objective_text(objective)}")
            elif before[indicator] != objective:
                lines.append(
                    f"Objective “{indicator}”: {self._objective_text(before[indicator])} → "
                    f"{self._objective_text(objective)}"
                    + (", new dashboard" if before[indicator]["dashboard_url"] != objective["dashboard_url"] else "")
                )
        lines += [f"Removes objective “{indicator}”" for indicator in before if indicator not in after]
        return lines

    @staticmethod
    def _target_name(target):
        category = f" ({target['category']})" if target["category"] else ""
        return f"{target['severity']}{category}"

    def _describe_targets(self, old, new):
        before = _by_key(old, lambda item: (item["severity"], item["category"]))
        after = _by_key(new, lambda item: (item["severity"], item["category"]))
        lines = []
        for key, target in after.items():
            name = self._target_name(target)
            if key not in before:
                lines.append(
                    f"New {name} target: acknowledge {_minutes_text(target['time_to_acknowledge_minutes'])}, "
                    f"restore {_minutes_text(target['time_to_restore_minutes'])}, "
                    f"resolve {_minutes_text(target['time_to_resolve_minutes'])}"
                )
                continue
            for field, label in self.TARGET_LABELS.items():
                if before[key][field] != target[field]:
                    lines.append(
                        f"{name} {label}: {_minutes_text(before[key][field])} → {_minutes_text(target[field])}"
                    )
            if before[key]["coverage"] != target["coverage"]:
                lines.append(
                    f"{name} coverage: {Coverage(before[key]['coverage']).label} → {Coverage(target['coverage']).label}"
                )
        lines += [
            f"Removes the {self._target_name(target)} target" for key, target in before.items() if key not in after
        ]
        return lines


class EscalationMatrixKind(GovernedKind):
    key = "escalation_matrix"
    label = "Escalation matrix"
    model = EscalationMatrix
    child_keys = {"steps": ("severity", "level"), "responsibilities": ("duty", "team"), "playbook": ("title",)}
    text_fields = frozenset({"notes", "instructions"})

    def document_url(self, document_id):
        return reverse("sla_registry:matrix_detail", kwargs={"reference": self.reference_of(document_id)})

    def revise_url(self, change_request):
        return reverse("sla_registry:matrix_revise", kwargs={"change_reference": change_request.reference})

    def _document(self, matrix, steps, responsibilities, playbook_steps):
        document = {
            "title": matrix.title,
            "service": matrix.service.slug,
            "owner_team": matrix.owner_team.slug,
            "status": matrix.status,
            "effective_from": iso_moment(matrix.effective_from),
            "review_cadence_days": matrix.review_cadence_days,
            "notes": matrix.notes,
            "steps": [
                {
                    "severity": step.severity.key,
                    "level": step.level,
                    "wait_minutes": _minutes(step.wait),
                    "team": step.team.slug,
                    "contact": step.contact,
                    "channel": step.channel,
                    "fallback_channel": step.fallback_channel,
                    "bring_timeline": step.bring_timeline,
                    "bring_affected_services": step.bring_affected_services,
                    "bring_workarounds": step.bring_workarounds,
                }
                for step in sorted(steps, key=lambda step: (step.severity.rank, step.level))
            ],
            "responsibilities": [
                {"duty": item.duty, "team": item.team.slug, "when": item.when}
                for item in sorted(responsibilities, key=lambda item: (item.duty, item.team.slug))
            ],
            "playbook": [
                {
                    "title": step.title,
                    "instructions": step.instructions,
                    "timebox_minutes": step.timebox_minutes,
                    "checkpoint_question": step.checkpoint_question,
                }
                for step in playbook_steps
            ],
        }
        return normalise_document(document)

    def snapshot(self, matrix):
        matrix = EscalationMatrix.objects.select_related("service", "owner_team").get(pk=matrix.pk)
        return self._document(
            matrix,
            matrix.steps.select_related("severity", "team"),
            matrix.responsibilities.select_related("team"),
            matrix.playbook_steps.order_by("position"),
        )

    def _build(self, data, matrix=None):
        reader = DocumentReader(data)
        teams = _by_key(Team.objects.all(), lambda team: team.slug)
        severities = _by_key(Severity.objects.all(), lambda severity: severity.key)
        matrix = matrix or EscalationMatrix()
        matrix.title = reader.text("title", required=True)
        matrix.service = reader.lookup("service", _by_key(Service.objects.all(), lambda s: s.slug), "service")
        matrix.owner_team = reader.lookup("owner_team", teams, "team")
        matrix.status = reader.choice("status", AgreementStatus, default=AgreementStatus.ACTIVE)
        matrix.effective_from = reader.datetime("effective_from")
        matrix.review_cadence_days = reader.integer("review_cadence_days", default=90)
        matrix.notes = reader.text("notes")
        steps = [
            EscalationStep(
                severity=item.lookup("severity", severities, "severity"),
                level=item.integer("level"),
                wait=item.minutes("wait_minutes"),
                team=item.lookup("team", teams, "team"),
                contact=item.text("contact"),
                channel=item.choice("channel", Channel, required=True),
                fallback_channel=item.text("fallback_channel"),
                bring_timeline=item.boolean("bring_timeline", default=True),
                bring_affected_services=item.boolean("bring_affected_services", default=True),
                bring_workarounds=item.boolean("bring_workarounds"),
            )
            for item in reader.items("steps")
        ]
        responsibilities = [
            Responsibility(
                duty=item.choice("duty", Duty, required=True),
                team=item.lookup("team", teams, "team"),
                when=item.text("when"),
            )
            for item in reader.items("responsibilities")
        ]
        playbook_steps = [
            PlaybookStep(
                position=position,
                title=item.text("title", required=True),
                instructions=item.text("instructions"),
                timebox_minutes=item.integer("timebox_minutes"),
                checkpoint_question=item.text("checkpoint_question"),
            )
            for position, item in enumerate(reader.items("playbook"), start=1)
        ]
        reader.raise_if_errors()
        actions.validate_escalation_matrix(
            matrix, steps=steps, responsibilities=responsibilities, playbook_steps=playbook_steps
        )
        return matrix, steps, responsibilities, playbook_steps

    def validate(self, data, document=None):
        return self._document(*self._build(data, copy.copy(document) if document else None))

    def apply(self, matrix, data, *, acting_user, change_request):
        matrix, steps, responsibilities, playbook_steps = self._build(data, matrix)
        return actions.save_escalation_matrix(
            matrix,
            steps=steps,
            responsibilities=responsibilities,
            playbook_steps=playbook_steps,
            acting_user=acting_user,
            reason=_reason(change_request),
        )

    def required_teams(self, matrix, data):
        return policy.matrix_required_teams(self.snapshot(matrix) if matrix else None, data)

    FIELD_LABELS = {
        "title": "Title",
        "service": "Service",
        "owner_team": "Owner",
        "status": "Status",
        "effective_from": "Effective from",
        "review_cadence_days": "Review cadence (days)",
        "notes": "Notes",
    }

    @staticmethod
    def _who(step, names):
        contact = f" ({step['contact']})" if step["contact"] else ""
        fallback = f", fallback {Channel(step['fallback_channel']).label.lower()}" if step["fallback_channel"] else ""
        return f"pages {names(step['team'])}{contact} by {Channel(step['channel']).label.lower()}{fallback}"

    def describe(self, old, new):
        old, new = normalise_document(old or {}), normalise_document(new)
        names = DisplayNames()
        if not old:
            return [
                f"New escalation matrix “{new['title']}” for {names(new['service'])}, "
                f"owned by {names(new['owner_team'])}"
            ]
        lines = _describe_fields(old, new, self.FIELD_LABELS, names)
        before = _by_key(old.get("steps", []), lambda step: (step["severity"], step["level"]))
        after = _by_key(new.get("steps", []), lambda step: (step["severity"], step["level"]))
        who_fields = ("team", "contact", "channel", "fallback_channel")
        for key, step in after.items():
            name = f"Level {step['level']} of {step['severity']}"
            if key not in before:
                lines.append(
                    f"{step['severity']} gains level {step['level']}: {self._who(step, names)}"
                    f" after {_minutes_text(step['wait_minutes'])}"
                )
                continue
            previous = before[key]
            if any(previous[field] != step[field] for field in who_fields):
                lines.append(f"{name} now {self._who(step, names)}")
            if previous["wait_minutes"] != step["wait_minutes"]:
                lines.append(
                    f"{name} wait before escalating: {_minutes_text(previous['wait_minutes'])} → "
                    f"{_minutes_text(step['wait_minutes'])}"
                )
            brought = [
                field
                for field in ("bring_timeline", "bring_affected_services", "bring_workarounds")
                if previous[field] != step[field]
            ]
            if brought:
                lines.append(f"{name} changes what the responder brings")
        lines += [
            f"{step['severity']} loses level {step['level']} ({names(step['team'])})"
            for key, step in before.items()
            if key not in after
        ]

        old_duties = _by_key(old.get("responsibilities", []), lambda item: (item["duty"], item["team"]))
        new_duties = _by_key(new.get("responsibilities", []), lambda item: (item["duty"], item["team"]))
        for key, item in new_duties.items():
            duty = Duty(item["duty"]).label
            if key not in old_duties:
                lines.append(f"{duty}: {names(item['team'])} takes it on ({item['when'] or 'no time given'})")
            elif old_duties[key]["when"] != item["when"]:
                lines.append(f"{duty} by {names(item['team'])}: when “{old_duties[key]['when']}” → “{item['when']}”")
        lines += [
            f"{Duty(item['duty']).label}: {names(item['team'])} no longer responsible"
            for key, item in old_duties.items()
            if key not in new_duties
        ]

        old_playbook, new_playbook = old.get("playbook", []), new.get("playbook", [])
        for position, step in enumerate(new_playbook, start=1):
            if position > len(old_playbook):
                lines.append(f"Playbook step {position} added: “{step['title']}” ({step['timebox_minutes']} min)")
                continue
            previous = old_playbook[position - 1]
            if previous["title"] != step["title"]:
                lines.append(f"Playbook step {position}: “{previous['title']}” → “{step['title']}”")
            if previous["timebox_minutes"] != step["timebox_minutes"]:
                lines.append(
                    f"Playbook step {position} timebox: "
                    f"{previous['timebox_minutes']} min → {step['timebox_minutes']} min"
                )
            if previous["checkpoint_question"] != step["checkpoint_question"]:
                lines.append(f"Playbook step {position} checkpoint question changed")
            if previous["instructions"] != step["instructions"]:
                lines.append(f"Playbook step {position} instructions rewritten")
        lines += [
            f"Playbook step {position} removed: “{step['title']}”"
            for position, step in enumerate(old_playbook[len(new_playbook) :], start=len(new_playbook) + 1)
        ]
        return lines


def agreement_versions_in_force(services, moment):
    """(service, version) for each SLA and escalation matrix of `services` with a version in force at `moment`.

    What a post-incident review and a live incident pin when they open: the terms that applied then.
    """
    for service in services.prefetch_related("slas").select_related("escalation_matrix"):
        documents = [("sla", sla.pk) for sla in service.slas.all() if sla.status != AgreementStatus.DRAFT]
        matrix = getattr(service, "escalation_matrix", None)
        if matrix is not None:
            documents.append(("escalation_matrix", matrix.pk))
        for kind, document_id in documents:
            version = version_in_force(kind, document_id, moment)
            if version is not None:
                yield service, version
