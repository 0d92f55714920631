"""How the registry's objects read in search: services, teams, journeys, SLAs and escalation matrices."""

from django.db.models import Prefetch, Q

from core.templatetags.portal import duration
from search.registry import Dependency, SearchAdapter


def _documents_naming_team(team):
    """The registry's documents that show a team's name: its services, its SLAs (provider or consumer) and the
    matrices it owns or is paged by. A renamed team is searchable under its new name in all of them."""
    from sla_registry.models import EscalationMatrix, ServiceLevelAgreement

    slas = ServiceLevelAgreement.objects.filter(Q(provider_team=team) | Q(consumer_teams=team))
    matrices = EscalationMatrix.objects.filter(Q(owner_team=team) | Q(steps__team=team))
    return [
        *(("service", pk) for pk in team.services.values_list("pk", flat=True)),
        *(("sla", pk) for pk in slas.values_list("pk", flat=True).distinct()),
        *(("escalation_matrix", pk) for pk in matrices.values_list("pk", flat=True).distinct()),
    ]


def _documents_naming_service(service):
    """The registry's documents that show a service's name: its SLAs, matrices and journeys, and the services
    that depend on it."""
    from sla_registry.models import EscalationMatrix

    matrices = EscalationMatrix.objects.filter(service=service).values_list("pk", flat=True)
    return [
        *(("sla", pk) for pk in service.slas.values_list("pk", flat=True)),
        *(("escalation_matrix", pk) for pk in matrices),
        *(("journey", pk) for pk in service.journeys.values_list("pk", flat=True)),
        *(("service", pk) for pk in service.dependents.values_list("pk", flat=True)),
    ]


def _service(service):
    return (service.slug, service.name)


def _team(team):
    return (team.slug, team.name)


class ServiceAdapter(SearchAdapter):
    kind = "service"
    model = "sla_registry.Service"
    m2m_fields = ("dependencies",)

    def get_queryset(self):
        return super().get_queryset().select_related("owner_team").prefetch_related("dependencies")

    def document(self, service):
        dependencies = [dependency.name for dependency in service.dependencies.all()]
        return {
            "title": service.name,
            "body": [
                service.description,
                f"{service.get_tier_display()} tier service run by {service.owner_team.name}.",
                f"Depends on {', '.join(dependencies)}." if dependencies else "",
            ],
            # The service page; when the query is the service's name, the hit (ranked first) links the
            # on-call card instead, with this page beside it (SearchDocument.oncall_url).
            "url": service.get_absolute_url(),
            "services": [_service(service)],
            "teams": [_team(service.owner_team)],
            "status_label": service.get_tier_display(),
        }

    def related_keys(self, service):
        return _documents_naming_service(service)


class TeamAdapter(SearchAdapter):
    kind = "team"
    model = "sla_registry.Team"

    def document(self, team):
        return {
            "title": team.name,
            "body": [
                team.description,
                f"{team.get_kind_display()} team.",
                team.chat_channel,
                team.email,
                team.pager_handle,
            ],
            "url": team.get_absolute_url(),
            "teams": [_team(team)],
        }

    def related_keys(self, team):
        return _documents_naming_team(team)


class JourneyAdapter(SearchAdapter):
    kind = "journey"
    model = "sla_registry.CustomerJourney"
    m2m_fields = ("services",)

    def get_queryset(self):
        return super().get_queryset().prefetch_related("services")

    def document(self, journey):
        services = list(journey.services.all())
        return {
            "title": journey.name,
            "body": [
                journey.description,
                journey.business_impact,
                f"Crosses {', '.join(service.name for service in services)}." if services else "",
            ],
            "url": journey.get_absolute_url(),
            "services": [_service(service) for service in services],
        }


class SlaAdapter(SearchAdapter):
    kind = "sla"
    model = "sla_registry.ServiceLevelAgreement"
    m2m_fields = ("consumer_teams",)
    children = (
        Dependency("sla_registry.Objective", lambda row: [("sla", row.sla_id)]),
        Dependency("sla_registry.ResponseTarget", lambda row: [("sla", row.sla_id)]),
    )

    def get_queryset(self):
        from sla_registry.models import ResponseTarget

        return (
            super()
            .get_queryset()
            .select_related("service", "provider_team")
            .prefetch_related(
                "consumer_teams",
                "objectives",
                Prefetch("response_targets", ResponseTarget.objects.select_related("severity", "category")),
            )
        )

    def document(self, sla):
        consumers = list(sla.consumer_teams.all())
        objectives = [
            f"Objective: {objective.indicator} {objective.target_display} over {duration(objective.window)}."
            for objective in sla.objectives.all()
        ]
        targets = [
            f"{target.severity.key} {target.severity.name} {target.category or 'any category'}: "
            f"acknowledge within {duration(target.time_to_acknowledge)}, "
            f"restore within {duration(target.time_to_restore)}, resolve within {duration(target.time_to_resolve)}"
            + (
                f", customer updates every {duration(target.customer_update_interval)}"
                if target.customer_update_interval
                else ""
            )
            + f" ({target.get_coverage_display()})."
            for target in sla.response_targets.all()
        ]
        return {
            "title": f"{sla.reference} {sla.title}",
            "body": [
                f"{sla.service.name} provided by {sla.provider_team.name}"
                + (f" to {', '.join(team.name for team in consumers)}." if consumers else "."),
                sla.executive_summary,
                *objectives,
                *targets,
                sla.business_impact,
                sla.technical_annex,
            ],
            "url": sla.get_absolute_url(),
            "services": [_service(sla.service)],
            "teams": [_team(sla.provider_team), *(_team(team) for team in consumers)],
            "status": sla.status,
            "status_label": sla.get_status_display(),
            "is_archived": sla.status == "retired",
            "updated_at": sla.updated_at,
        }


class EscalationMatrixAdapter(SearchAdapter):
    kind = "escalation_matrix"
    model = "sla_registry.EscalationMatrix"
    children = (
        Dependency("sla_registry.EscalationStep", lambda row: [("escalation_matrix", row.matrix_id)]),
        Dependency("sla_registry.Responsibility", lambda row: [("escalation_matrix", row.matrix_id)]),
        Dependency("sla_registry.PlaybookStep", lambda row: [("escalation_matrix", row.matrix_id)]),
    )

    def get_queryset(self):
        from sla_registry.models import EscalationStep, Responsibility

        return (
            super()
            .get_queryset()
            .select_related("service", "owner_team")
            .prefetch_related(
                Prefetch("steps", EscalationStep.objects.select_related("severity", "team")),
                Prefetch("responsibilities", Responsibility.objects.select_related("team")),
                "playbook_steps",
            )
        )

    def document(self, matrix):
        steps = list(matrix.steps.all())
        responsibilities = list(matrix.responsibilities.all())
        return {
            "title": f"{matrix.reference} {matrix.title}",
            "body": [
                f"Escalation for {matrix.service.name}, owned by {matrix.owner_team.name}.",
                matrix.notes,
                *(
                    f"{step.severity.key} level {step.level}: after {duration(step.wait)} {step.get_channel_display()} "
                    f"{step.team.name} {step.contact}"
                    + (f", fallback {step.get_fallback_channel_display()}" if step.fallback_channel else "")
                    + (f"; bring {', '.join(step.information_to_bring)}" if step.information_to_bring else "")
                    + "."
                    for step in steps
                ),
                *(f"{item.get_duty_display()}: {item.team.name} {item.when}." for item in responsibilities),
                *(
                    f"Playbook {step.position}. {step.title} ({step.timebox_minutes} min): {step.instructions} "
                    f"{step.checkpoint_question}"
                    for step in matrix.playbook_steps.all()
                ),
            ],
            "url": matrix.get_absolute_url(),
            "services": [_service(matrix.service)],
            "teams": [
                _team(matrix.owner_team),
                *(_team(step.team) for step in steps),
                *(_team(item.team) for item in responsibilities),
            ],
            "status": matrix.status,
            "status_label": matrix.get_status_display(),
            "is_archived": matrix.status == "retired",
            "updated_at": matrix.updated_at,
        }


ADAPTERS = [ServiceAdapter(), TeamAdapter(), JourneyAdapter(), SlaAdapter(), EscalationMatrixAdapter()]
