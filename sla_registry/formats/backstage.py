"""Teams and services from a Backstage catalog (catalog-info.yaml), planned first, then written.

`read_catalog(text)` reads one or more Backstage entity documents (``apiVersion:
backstage.io/v1alpha1`` or ``v1beta1``) and returns a `CatalogPlan`: the teams and
services to create, update or leave as they are, the documents skipped, and every
error with its document number. It writes nothing. `apply_plan(plan,
acting_user=…)` writes a plan without errors through the registry's actions
(save_team, save_service) in one transaction: all of it or nothing.

How entities become registry rows:

- ``Group`` → Team; ``Component`` and ``System`` → Service. Other kinds (API,
  Resource, User, Domain, Location, Template…) are skipped and listed as such.
- ``metadata.name`` → slug, lowercased (Backstage compares names without case).
  Namespaces are ignored: the portal has one.
- The name shown: ``metadata.title`` (for a Group also ``spec.profile.displayName``),
  else the existing row's name, else ``metadata.name``. ``metadata.description``
  → description, ``spec.profile.email`` → the team's email. A field the document
  does not give is left as it is in the portal.
- A new team needs a way to be reached: its primary channel is email, from
  ``spec.profile.email`` (required for a team the portal does not have yet).
- ``spec.owner`` (``group:default/payments``, ``group:payments`` or ``payments``)
  → the service's owner team: a Group of the file or a team of the portal. A
  ``user:`` owner is an error: services are owned by teams.
- ``spec.dependsOn`` entries ``component:x`` or ``system:x``, and a Component's
  ``spec.system``, → the service depends on that service (the portal has no
  part-of relation, so "part of system x" is recorded as "needs x"). ``resource:``
  entries are noted and skipped. Dependencies are added, never removed: a
  dependency recorded in the portal stays until someone removes it there.

Running the same file twice changes nothing the second time.
"""

import copy
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from sla_registry import actions
from sla_registry.choices import Channel
from sla_registry.formats.yaml_documents import YAMLDocument, YAMLFileError, load_documents
from sla_registry.models import Service, Team

API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEAM_KINDS = ("Group",)
SERVICE_KINDS = ("Component", "System")
REASON = "Backstage catalog import"
SLUG = re.compile(r"^[-a-z0-9_]+$")
ENTITY_REF = re.compile(r"^(?:(?P<kind>[A-Za-z][\w-]*):)?(?:(?P<namespace>[\w.-]+)/)?(?P<name>[\w.-]+)$")


class CatalogError(ValidationError):
    """The plan has errors, so nothing was written."""


@dataclass
class PlannedTeam:
    """A team the file describes: what to set on it, and whether that creates, updates or changes nothing."""

    slug: str
    name: str
    document: str
    action: str = "unchanged"  # "create", "update" or "unchanged"
    changes: list = field(default_factory=list)  # "name: Payments → Payments team"
    values: dict = field(default_factory=dict)  # field -> value to set (only what the file gives)


@dataclass
class PlannedService:
    """A service the file describes, with its owner team and the dependencies it names."""

    slug: str
    name: str
    owner: str
    document: str
    action: str = "unchanged"
    changes: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    dependencies: list = field(default_factory=list)  # every service slug the file says it needs
    new_dependencies: list = field(default_factory=list)  # those the portal does not record yet
    fields_changed: bool = False  # name, description or owner (not only dependencies)


@dataclass
class CatalogPlan:
    teams: list = field(default_factory=list)
    services: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # "document 4 (API payments-api): …"
    notes: list = field(default_factory=list)  # things read but not imported inside a used document
    errors: list = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.errors

    @property
    def changes(self):
        """The planned teams and services that create or update something."""
        return [item for item in (*self.teams, *self.services) if item.action != "unchanged"]


@dataclass
class AppliedCatalog:
    """What apply_plan wrote."""

    created_teams: list = field(default_factory=list)
    updated_teams: list = field(default_factory=list)
    created_services: list = field(default_factory=list)
    updated_services: list = field(default_factory=list)

    @property
    def total(self):
        return sum(map(len, (self.created_teams, self.updated_teams, self.created_services, self.updated_services)))


# Reading ---------------------------------------------------------------------


class _Entity(YAMLDocument):
    """One catalog entity of the file, with where it was."""

    def text(self, mapping, key, errors, path):
        """The stripped text at mapping[key], "" when absent, None (after an error) when not text."""
        value = mapping.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            errors.append(f"{self.where}: {path}: must be text")
            return None
        return value.strip()


def _load(text):
    """The YAML documents of `text`, or (None, error message)."""
    try:
        return load_documents(text), None
    except YAMLFileError as error:
        return None, str(error)


def _entities(documents, plan):
    entities = []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue
        where = f"document {number}"
        if not isinstance(document, dict):
            plan.errors.append(f"{where}: expected a mapping with apiVersion, kind, metadata and spec")
            continue
        kind, metadata = document.get("kind"), document.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if isinstance(kind, str):
            where = f"document {number} ({kind}{' ' + name if isinstance(name, str) else ''})"
        if document.get("apiVersion") not in API_VERSIONS:
            plan.errors.append(
                f"{where}: apiVersion: {document.get('apiVersion')!r} is not a Backstage catalog version "
                f"({' or '.join(API_VERSIONS)})"
            )
            continue
        if not isinstance(kind, str) or not kind:
            plan.errors.append(f"{where}: kind: required")
            continue
        if kind not in TEAM_KINDS + SERVICE_KINDS:
            plan.skipped.append(f"{where}: {kind} entities are not imported")
            continue
        if not isinstance(name, str) or not name.strip():
            plan.errors.append(f"{where}: metadata.name: required")
            continue
        slug = name.strip().lower()
        if not SLUG.match(slug) or len(slug) > 100 or slug == "new":
            plan.errors.append(
                f"{where}: metadata.name: {name!r} cannot be a portal slug (letters, digits, '-' and '_', "
                "at most 100 characters, not “new”)"
            )
            continue
        if "spec" in document and not isinstance(document["spec"], dict):
            plan.errors.append(f"{where}: spec: must be a mapping")
            continue
        entities.append(_Entity(number, kind, slug, document))
    return entities


def _reference(text, default_kind):
    """(kind, name) of an entity reference such as "group:default/payments", or None when unreadable."""
    if not isinstance(text, str):
        return None
    match = ENTITY_REF.match(text.strip())
    if not match:
        return None
    return (match.group("kind") or default_kind).lower(), match.group("name").lower()


def _first_use(entities, kinds, plan, noun):
    """The entities of `kinds` by slug, reporting a slug given twice."""
    by_slug = {}
    for entity in entities:
        if entity.kind not in kinds:
            continue
        if entity.name in by_slug:
            plan.errors.append(
                f"{entity.where}: metadata.name: {by_slug[entity.name].where} already describes "
                f"the {noun} {entity.name}"
            )
            continue
        by_slug[entity.name] = entity
    return by_slug


def _check_instance(instance, entity, exclude, plan):
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                plan.errors.append(
                    f"{entity.where}: {key}: {message}" if key != "__all__" else f"{entity.where}: {message}"
                )
        return False
    return True


def _changes(instance, values, labels):
    return [
        f"{labels[name]}: {getattr(instance, name) or 'none'} → {value or 'none'}"
        for name, value in values.items()
        if getattr(instance, name) != value
    ]


def _plan_team(entity, existing, plan):
    errors = plan.errors
    profile = entity.spec.get("profile") or {}
    if not isinstance(profile, dict):
        errors.append(f"{entity.where}: spec.profile: must be a mapping")
        return None
    title = entity.text(entity.metadata, "title", errors, "metadata.title")
    display_name = entity.text(profile, "displayName", errors, "spec.profile.displayName")
    description = entity.text(entity.metadata, "description", errors, "metadata.description")
    email = entity.text(profile, "email", errors, "spec.profile.email")
    if None in (title, display_name, description, email):
        return None
    changes = []
    values = {}
    if title or display_name or existing is None:
        values["name"] = title or display_name or entity.name
    if description:
        values["description"] = description
    if email:
        values["email"] = email
    if existing is None:
        if not email:
            errors.append(
                f"{entity.where}: spec.profile.email: required for a team the portal does not have yet, "
                "so that it can be reached"
            )
            return None
        values.update(primary_channel=Channel.EMAIL, fallback_channel="")
        team = Team(slug=entity.name, **values)
    else:
        team = copy.copy(existing)
        changes = _changes(team, values, {"name": "name", "description": "description", "email": "email"})
        for name, value in values.items():
            setattr(team, name, value)
    if not _check_instance(team, entity, ["group"], plan):
        return None
    planned = PlannedTeam(slug=entity.name, name=team.name, document=entity.where, values=values)
    if existing is None:
        planned.action, planned.changes = "create", [f"new team “{team.name}”"]
    elif changes:
        planned.action, planned.changes = "update", changes
    return planned


def _owner(entity, groups, teams, errors):
    owner = entity.spec.get("owner")
    if owner is None:
        errors.append(f"{entity.where}: spec.owner: required: the group that owns it")
        return None
    reference = _reference(owner, "group")
    if reference is None:
        errors.append(f"{entity.where}: spec.owner: {owner!r} is not an entity reference such as group:payments")
        return None
    kind, name = reference
    if kind != "group":
        errors.append(f"{entity.where}: spec.owner: {owner!r}: the portal's services are owned by teams (group:…)")
        return None
    if name not in groups and name not in teams:
        errors.append(f"{entity.where}: spec.owner: {owner!r} is no Group in this file and no team in the portal")
        return None
    return name


def _dependencies(entity, components, services, plan):
    wanted = []
    references = []
    if entity.kind == "Component" and entity.spec.get("system") is not None:
        references.append(("spec.system", entity.spec["system"], "system"))
    depends_on = entity.spec.get("dependsOn") or []
    if not isinstance(depends_on, list):
        plan.errors.append(f"{entity.where}: spec.dependsOn: must be a list of entity references")
        return None
    references += [(f"spec.dependsOn[{index}]", text, "component") for index, text in enumerate(depends_on)]
    ok = True
    for path, text, default_kind in references:
        reference = _reference(text, default_kind)
        if reference is None:
            plan.errors.append(f"{entity.where}: {path}: {text!r} is not an entity reference such as component:x")
            ok = False
            continue
        kind, name = reference
        if kind not in ("component", "system"):
            plan.notes.append(f"{entity.where}: {path}: {text} skipped: the portal records dependencies on services")
            continue
        if name == entity.name:
            plan.errors.append(f"{entity.where}: {path}: a service cannot depend on itself")
            ok = False
        elif name not in components and name not in services:
            plan.errors.append(f"{entity.where}: {path}: {text!r} is in neither this file nor the portal")
            ok = False
        elif name not in wanted:
            wanted.append(name)
    return wanted if ok else None


def _plan_service(entity, existing, owner, dependencies, recorded, plan):
    errors = plan.errors
    title = entity.text(entity.metadata, "title", errors, "metadata.title")
    description = entity.text(entity.metadata, "description", errors, "metadata.description")
    if None in (title, description):
        return None
    values = {}
    if title or existing is None:
        values["name"] = title or entity.name
    if description:
        values["description"] = description
    service = Service(slug=entity.name) if existing is None else copy.copy(existing)
    changes = []
    if existing is not None:
        changes = _changes(service, values, {"name": "name", "description": "description"})
        if existing.owner_team.slug != owner:
            changes.append(f"owner: {existing.owner_team.slug} → {owner}")
    fields_changed = existing is None or bool(changes)
    for name, value in values.items():
        setattr(service, name, value)
    if not _check_instance(service, entity, ["owner_team", "dependencies"], plan):
        return None
    new_dependencies = [slug for slug in dependencies if slug not in recorded.get(entity.name, set())]
    changes += [f"now depends on {slug}" for slug in new_dependencies]
    planned = PlannedService(
        slug=entity.name,
        name=service.name,
        owner=owner,
        document=entity.where,
        values=values,
        dependencies=dependencies,
        new_dependencies=new_dependencies,
        fields_changed=fields_changed,
    )
    if existing is None:
        planned.action = "create"
        planned.changes = [f"new service “{service.name}” owned by {owner}"] + [
            f"depends on {slug}" for slug in dependencies
        ]
    elif changes:
        planned.action, planned.changes = "update", changes
    return planned


def _check_unique_names(planned_items, noun, plan):
    """Two documents cannot give the same name to different rows (full_clean compares with the portal's rows)."""
    seen = {}
    for item in planned_items:
        if item.name in seen and seen[item.name] != item.slug:
            plan.errors.append(f"{item.document}: the name “{item.name}” is also given to the {noun} {seen[item.name]}")
        seen.setdefault(item.name, item.slug)


def read_catalog(text):
    """The plan for a Backstage catalog file: what it would create or update, and every error. Writes nothing."""
    plan = CatalogPlan()
    documents, error = _load(text)
    if error:
        plan.errors.append(error)
        return plan
    entities = _entities(documents, plan)
    if not entities and not plan.errors and not plan.skipped:
        plan.errors.append("The file has no Backstage entities.")
    groups = _first_use(entities, TEAM_KINDS, plan, "team")
    components = _first_use(entities, SERVICE_KINDS, plan, "service")

    teams = {team.slug: team for team in Team.objects.all()}
    services = {service.slug: service for service in Service.objects.select_related("owner_team")}
    recorded = {}
    for dependent, needed in Service.dependencies.through.objects.values_list("from_service__slug", "to_service__slug"):
        recorded.setdefault(dependent, set()).add(needed)

    for slug, entity in groups.items():
        planned = _plan_team(entity, teams.get(slug), plan)
        if planned:
            plan.teams.append(planned)
    for slug, entity in components.items():
        owner = _owner(entity, groups, teams, plan.errors)
        dependencies = _dependencies(entity, components, services, plan)
        if owner is None or dependencies is None:
            continue
        planned = _plan_service(entity, services.get(slug), owner, dependencies, recorded, plan)
        if planned:
            plan.services.append(planned)
    _check_unique_names(plan.teams, "team", plan)
    _check_unique_names(plan.services, "service", plan)
    return plan


# Writing ---------------------------------------------------------------------


@transaction.atomic
def apply_plan(plan, *, acting_user):
    """Write the plan's creations and updates through the registry's actions, all or nothing.

    Rows are matched on their slug when written, so a plan read a moment ago still
    updates (rather than duplicates) a row created since. Raises CatalogError for a
    plan with errors, ValidationError when a write is refused; nothing is written then.
    """
    if plan.errors:
        raise CatalogError(plan.errors)
    applied = AppliedCatalog()
    for planned in plan.teams:
        if planned.action == "unchanged":
            continue
        team = Team.objects.filter(slug=planned.slug).first()
        created = team is None
        team = team or Team(slug=planned.slug)
        for name, value in planned.values.items():
            setattr(team, name, value)
        actions.save_team(team, acting_user=acting_user, reason=REASON)
        (applied.created_teams if created else applied.updated_teams).append(team)

    teams = Team.objects.in_bulk({planned.owner for planned in plan.services}, field_name="slug")
    written = {}
    for planned in plan.services:
        if planned.action == "unchanged":
            continue
        service = Service.objects.filter(slug=planned.slug).first()
        created = service is None
        service = service or Service(slug=planned.slug)
        for name, value in planned.values.items():
            setattr(service, name, value)
        service.owner_team = teams[planned.owner]
        if created or planned.fields_changed:
            actions.save_service(service, acting_user=acting_user, reason=REASON)
        written[planned.slug] = service
        (applied.created_services if created else applied.updated_services).append(service)

    for planned in plan.services:
        if not planned.new_dependencies:
            continue
        service = written.get(planned.slug) or Service.objects.get(slug=planned.slug)
        needed = set(service.dependencies.values_list("slug", flat=True)) | set(planned.new_dependencies)
        actions.save_service(
            service,
            dependencies=list(Service.objects.filter(slug__in=needed)),
            acting_user=acting_user,
            reason=REASON,
        )
    return applied
