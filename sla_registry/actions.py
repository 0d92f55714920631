"""Every write to the registry goes through a function here.

Views, the admin's forms, management commands and tests all call these, so each
write is validated the same way and leaves a history row naming the acting user
and the reason. SLAs and escalation matrices are written whole, children
included, in one transaction: the shape the change-request engine will apply.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from api.models import ApiToken
from api.tokens import revoke_api_token
from audit.log import record_event
from core.history import stamp
from sla_registry.choices import TeamKind
from sla_registry.models import IncidentCategory, Severity, Team, check_escalation_levels

APPROVE_FOR_TEAM = "sla_registry.approve_for_team"


def save_registry_object(instance, *, acting_user, reason, many_to_many=None):
    """Validate and save one registry row, then set its many-to-many relations.

    The single write path for teams, services, journeys and the taxonomy.
    """
    instance.full_clean()
    stamp(instance, acting_user, reason)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        # full_clean checked uniqueness; only a concurrent save of the same name or slug gets here.
        raise ValidationError(
            "Someone else saved a record with the same name or slug a moment ago; reload and try again."
        ) from error
    for field_name, related in (many_to_many or {}).items():
        manager = getattr(instance, field_name)
        stamp(instance, acting_user, reason)
        manager.set(related)
    return instance


# Teams --------------------------------------------------------------------


# What decides who approves and who reads: no edit of a team changes these (see check_team_rules).
GOVERNED_TEAM_FIELDS = {"kind": "Team kind", "is_sla_committee": "The SLA committee flag"}


# How escalations reach a team: every matrix that pages it depends on them, so changes are audited.
TEAM_CONTACT_FIELDS = ("pager_handle", "email", "chat_channel", "primary_channel", "fallback_channel")
# Audited as well: where the on-call cards read who in the team is on call. (Not a contact the pages list as
# "changed since": the cards show the people it names, not its address, which often holds a private token.)
AUDITED_TEAM_FIELDS = (*TEAM_CONTACT_FIELDS, "oncall_schedule_url")


def check_team_rules(team, stored=None):
    """Refuse an edit that changes a team's kind or committee flag (the model refuses a second committee).

    They decide who must approve every change and who reads restricted reviews, so an edit of a team
    (its page, the admin, the API) never changes them, whoever makes it. `stored`: the team's saved values.
    """
    if team.pk is None:
        return
    if stored is None:
        stored = Team.objects.filter(pk=team.pk).values(*GOVERNED_TEAM_FIELDS).first() or {}
    changed = {
        name: label
        for name, label in GOVERNED_TEAM_FIELDS.items()
        if stored.get(name, getattr(team, name)) != getattr(team, name)
    }
    if changed:
        raise ValidationError(
            {
                name: f"{label} decides who approves and who reads restricted reviews: no edit of a team changes it."
                for name, label in changed.items()
            }
        )


@transaction.atomic
def save_team(team, *, acting_user, reason):
    """Create or update a team; a new team gets its own member group. Its kind and committee flag stay;
    a change of its contacts is recorded in the audit log (team.contacts_changed)."""
    stored = None
    if team.pk is not None:
        stored = Team.objects.filter(pk=team.pk).values(*GOVERNED_TEAM_FIELDS, *AUDITED_TEAM_FIELDS).first()
    check_team_rules(team, stored)
    if team.group_id is None:
        team.group, _ = Group.objects.get_or_create(name=f"team:{team.slug}")
    try:
        team = save_registry_object(team, acting_user=acting_user, reason=reason)
    except ValidationError:
        if team.pk is None:
            transaction.set_rollback(True)
        raise
    contacts = {
        name: [stored[name], getattr(team, name)]
        for name in AUDITED_TEAM_FIELDS
        if stored is not None and stored[name] != getattr(team, name)
    }
    if contacts:
        record_event("team.contacts_changed", team, actor=acting_user, payload={"changes": contacts, "reason": reason})
    return team


def _is_member(team, user):
    return user.groups.filter(pk=team.group_id).exists()


def _may_approve_for(team, user):
    """Whether `user` holds approve_for_team on `team` itself (not through a group), read from the database."""
    return UserObjectPermission.objects.filter(
        user=user,
        permission__codename=APPROVE_FOR_TEAM.partition(".")[2],
        content_type=ContentType.objects.get_for_model(team),
        object_pk=str(team.pk),
    ).exists()


def _record_membership(action, team, user, *, acting_user, permission=None):
    payload = {"user": user.get_username(), "user_id": user.pk, "team": team.slug}
    if permission:
        payload["permission"] = permission
    record_event(action, team, actor=acting_user, payload=payload)


@transaction.atomic
def add_team_member(team, user, *, acting_user, approver=False):
    """Make `user` a member of `team`; an approver may also approve change requests for it.

    Each change is recorded in the audit log (team.member_added, permission.granted); what `user`
    already had is left alone and not recorded again.
    """
    if not _is_member(team, user):
        user.groups.add(team.group)
        _record_membership("team.member_added", team, user, acting_user=acting_user)
    if approver and not _may_approve_for(team, user):
        assign_perm(APPROVE_FOR_TEAM, user, team)
        _record_membership("permission.granted", team, user, acting_user=acting_user, permission=APPROVE_FOR_TEAM)


@transaction.atomic
def remove_team_member(team, user, *, acting_user):
    """Take `user` out of `team`, and with it their permission to approve for it; both are audited."""
    if _is_member(team, user):
        user.groups.remove(team.group)
        _record_membership("team.member_removed", team, user, acting_user=acting_user)
    if _may_approve_for(team, user):
        remove_perm(APPROVE_FOR_TEAM, user, team)
        _record_membership("permission.revoked", team, user, acting_user=acting_user, permission=APPROVE_FOR_TEAM)


@transaction.atomic
def revoke_approver(team, user, *, acting_user):
    """Take away `user`'s right to approve for `team` (they stay a member); audited."""
    if _may_approve_for(team, user):
        remove_perm(APPROVE_FOR_TEAM, user, team)
        _record_membership("permission.revoked", team, user, acting_user=acting_user, permission=APPROVE_FOR_TEAM)


def apply_access_rules(old, new, *, default, acting_user, reason):
    """Write an approved access policy: `old` and `new` map team slugs to their rules (sla_registry.access).

    The one write path for team kinds, the committee flag, approver rights and membership of the
    committee and leadership; called by the access policy's adapter when its change request applies.
    """
    slugs = sorted(old.keys() | new.keys())
    teams = Team.objects.in_bulk(slugs, field_name="slug")
    named = {name for entry in [*old.values(), *new.values()] for name in entry["approvers"] + entry.get("members", [])}
    users = {user.username: user for user in get_user_model().objects.filter(username__in=named)}
    changed = [slug for slug in slugs if slug in teams]
    rules = {slug: (old.get(slug) or default(slug), new.get(slug) or default(slug)) for slug in changed}
    # The committee flag is taken off before it is put on: only one team may hold it at a time.
    leaving_first = sorted(
        changed, key=lambda slug: not (rules[slug][0]["is_sla_committee"] and not rules[slug][1]["is_sla_committee"])
    )
    for slug in leaving_first:
        was, now = rules[slug]
        if (was["kind"], was["is_sla_committee"]) != (now["kind"], now["is_sla_committee"]):
            team = teams[slug]
            team.kind, team.is_sla_committee = now["kind"], now["is_sla_committee"]
            save_registry_object(team, acting_user=acting_user, reason=reason)
    for slug in changed:
        (was, now), team = rules[slug], teams[slug]
        for username in sorted(set(now["approvers"]) - set(was["approvers"])):
            add_team_member(team, users[username], acting_user=acting_user, approver=True)
        for username in sorted(set(was["approvers"]) - set(now["approvers"])):
            revoke_approver(team, users[username], acting_user=acting_user)
        if "members" in now:  # the committee or leadership: its membership is part of the policy
            for username in sorted(set(now["members"]) - set(was.get("members", []))):
                add_team_member(team, users[username], acting_user=acting_user)
            if "members" in was:
                for username in sorted(set(was["members"]) - set(now["members"])):
                    remove_team_member(team, users[username], acting_user=acting_user)


ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")


def check_governed_memberships(teams):
    """Refuse joining or leaving the SLA committee or a leadership team outside the access policy."""
    governed = sorted(team.name for team in teams if team.is_sla_committee or team.kind == TeamKind.LEADERSHIP)
    if governed:
        raise ValidationError(
            {
                "groups": f"Membership of {', '.join(governed)} is part of the access policy: "
                "propose the change on the access policy page, where the SLA committee approves it."
            }
        )


@transaction.atomic
def set_user_groups(user, groups, *, acting_user):
    """Make `user`'s groups exactly `groups`, each change audited (what Django's user admin saves through).

    A team's group is joined or left through add_team_member and remove_team_member, so leaving a team also
    ends approving for it; any other group is recorded as group.member_added or group.member_removed.
    """
    current, wanted = set(user.groups.all()), set(groups)
    teams = {team.group_id: team for team in Team.objects.filter(group__in=current ^ wanted)}
    check_governed_memberships(teams.values())
    person = {"user": user.get_username(), "user_id": user.pk}
    for change, changed in (("added", wanted - current), ("removed", current - wanted)):
        for group in sorted(changed, key=lambda group: group.name):
            team = teams.get(group.pk)
            if team is not None:
                (add_team_member if change == "added" else remove_team_member)(team, user, acting_user=acting_user)
                continue
            (user.groups.add if change == "added" else user.groups.remove)(group)
            record_event(f"group.member_{change}", group, actor=acting_user, payload={**person, "group": group.name})


@transaction.atomic
def set_global_permissions(holder, permissions, *, acting_user):
    """Make the global permissions of `holder` (a user or a group) exactly `permissions`, each change audited
    as permission.granted or permission.revoked on the holder (what Django's user and group admin save through).
    """
    if isinstance(holder, Group):
        held, holder_key = holder.permissions, {"group": holder.name}
    else:
        held, holder_key = holder.user_permissions, {"user": holder.get_username(), "user_id": holder.pk}
    current, wanted = set(held.select_related("content_type")), set(permissions)
    for action, changed in (("permission.granted", wanted - current), ("permission.revoked", current - wanted)):
        if changed:
            (held.add if action == "permission.granted" else held.remove)(*changed)
        for permission in sorted(
            changed, key=lambda permission: (permission.content_type.app_label, permission.codename)
        ):
            name = f"{permission.content_type.app_label}.{permission.codename}"
            record_event(action, holder, actor=acting_user, payload={**holder_key, "permission": name})


@transaction.atomic
def record_access_flags(user, flags_changed, *, acting_user):
    """Audit the ACCESS_FLAGS an edit of `user` changed (`flags_changed`: {name: (before, after)}).

    A deactivated user's API tokens are revoked with it: they would otherwise wake with the account."""
    if flags_changed.get("is_active", (None, True))[1] is False:
        for token in ApiToken.objects.filter(user=user):
            revoke_api_token(token, acting_user=acting_user)
    for name, (before, after) in sorted(flags_changed.items()):
        record_event(
            "user.access_changed",
            user,
            actor=acting_user,
            payload={"user": user.get_username(), "user_id": user.pk, "field": name, "from": before, "to": after},
        )


# Services, journeys and taxonomy -------------------------------------------


def check_service_dependencies(service, dependencies):
    """Refuse a service that depends on itself (forms call this too, to show the error on the field)."""
    if dependencies is not None and service.pk and any(dep.pk == service.pk for dep in dependencies):
        raise ValidationError({"dependencies": "A service cannot depend on itself."})


@transaction.atomic
def save_service(service, *, dependencies=None, acting_user, reason):
    check_service_dependencies(service, dependencies)
    many_to_many = {"dependencies": dependencies} if dependencies is not None else None
    return save_registry_object(service, acting_user=acting_user, reason=reason, many_to_many=many_to_many)


@transaction.atomic
def save_journey(journey, *, services=None, acting_user, reason):
    many_to_many = {"services": services} if services is not None else None
    return save_registry_object(journey, acting_user=acting_user, reason=reason, many_to_many=many_to_many)


@transaction.atomic
def save_severity(severity: Severity, *, acting_user, reason):
    return save_registry_object(severity, acting_user=acting_user, reason=reason)


@transaction.atomic
def save_category(category: IncidentCategory, *, acting_user, reason):
    return save_registry_object(category, acting_user=acting_user, reason=reason)


# Governed documents --------------------------------------------------------


def _validate_children(children, prefix, exclude):
    """full_clean() each child, collecting errors keyed "prefix[i].field"."""
    errors = {}
    for index, child in enumerate(children):
        try:
            child.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                key = f"{prefix}[{index}]" if field == "__all__" else f"{prefix}[{index}].{field}"
                errors.setdefault(key, []).extend(messages)
    return errors


def _check_unique(children, key, prefix, message):
    errors = {}
    seen = set()
    for index, child in enumerate(children):
        value = key(child)
        if value in seen:
            errors[f"{prefix}[{index}]"] = [message]
        seen.add(value)
    return errors


def _field_values(row):
    return [getattr(row, field.attname) for field in row._meta.concrete_fields if not field.primary_key]


def _sync_children(manager, children, natural_key, acting_user, reason):
    """Make a document's children equal `children`, matching rows on their natural key.

    A matching row is updated in place (so history shows "SEV1 time to acknowledge
    30 min -> 15 min" rather than a delete and an insert) and skipped when nothing
    changed; rows that are no longer wanted are deleted.
    """
    existing = {natural_key(row): row for row in manager.all()}
    for child in children:
        current = existing.pop(natural_key(child), None)
        if current is not None:
            child.pk = current.pk
            child._state.adding = False
            if _field_values(child) == _field_values(current):
                continue
        stamp(child, acting_user, reason)
        child.save()
    for unwanted in existing.values():
        stamp(unwanted, acting_user, reason)
        unwanted.delete()


def validate_sla(sla, *, consumer_teams, objectives, response_targets):
    """Raise ValidationError (keys like "response_targets[0].time_to_restore") unless the SLA is sound."""
    errors = {}
    try:
        sla.full_clean(exclude=["consumer_teams"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if any(team.pk == sla.provider_team_id for team in consumer_teams):
        errors.setdefault("consumer_teams", []).append("The provider team cannot also be a consumer of its own SLA.")
    errors.update(_validate_children(objectives, "objectives", exclude=["sla"]))
    errors.update(_validate_children(response_targets, "response_targets", exclude=["sla"]))
    errors.update(
        _check_unique(
            response_targets,
            lambda target: (target.severity_id, target.category_id),
            "response_targets",
            "Two targets for the same severity and category.",
        )
    )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_sla(sla, *, consumer_teams, objectives, response_targets, acting_user, reason):
    """Write an SLA with its consumers, objectives and response targets, all or nothing.

    `objectives` and `response_targets` are unsaved Objective / ResponseTarget
    instances; they replace the SLA's current children.
    """
    validate_sla(sla, consumer_teams=consumer_teams, objectives=objectives, response_targets=response_targets)
    stamp(sla, acting_user, reason)
    sla.save()
    stamp(sla, acting_user, reason)
    sla.consumer_teams.set(consumer_teams)
    for position, objective in enumerate(objectives, start=1):
        objective.sla, objective.position = sla, position
    for target in response_targets:
        target.sla = sla
    _sync_children(sla.objectives, objectives, lambda row: row.position, acting_user, reason)
    _sync_children(
        sla.response_targets, response_targets, lambda row: (row.severity_id, row.category_id), acting_user, reason
    )
    return sla


def validate_escalation_matrix(matrix, *, steps, responsibilities, playbook_steps):
    """Raise ValidationError unless the matrix is sound: valid rows, levels 1..n per severity, no duplicates."""
    errors = {}
    try:
        matrix.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    errors.update(_validate_children(steps, "steps", exclude=["matrix"]))
    errors.update(_validate_children(responsibilities, "responsibilities", exclude=["matrix"]))
    # Keyed "playbook[i]" like the document the editor and the API send.
    errors.update(_validate_children(playbook_steps, "playbook", exclude=["matrix", "position"]))
    try:
        check_escalation_levels((step.severity, step.level) for step in steps)
    except ValidationError as error:
        errors.setdefault("steps", []).extend(error.messages)
    errors.update(
        _check_unique(
            responsibilities,
            lambda item: (item.duty, item.team_id),
            "responsibilities",
            "This team already has this duty.",
        )
    )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_escalation_matrix(matrix, *, steps, responsibilities, playbook_steps, acting_user, reason):
    """Write an escalation matrix with its steps, responsibilities and playbook, all or nothing."""
    validate_escalation_matrix(matrix, steps=steps, responsibilities=responsibilities, playbook_steps=playbook_steps)
    stamp(matrix, acting_user, reason)
    matrix.save()
    for step in steps:
        step.matrix = matrix
    for item in responsibilities:
        item.matrix = matrix
    for position, playbook_step in enumerate(playbook_steps, start=1):
        playbook_step.matrix, playbook_step.position = matrix, position
    _sync_children(matrix.steps, steps, lambda row: (row.severity_id, row.level), acting_user, reason)
    _sync_children(matrix.responsibilities, responsibilities, lambda row: (row.duty, row.team_id), acting_user, reason)
    _sync_children(matrix.playbook_steps, playbook_steps, lambda row: row.position, acting_user, reason)
    return matrix
