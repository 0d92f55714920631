"""Who may read the audit log, and which of its events they see.

The whole log is for oversight: superusers and staff, and whoever the apps name as overseers (members of
the SLA committee and leadership teams). Anyone else may read the events of one document or change
request named by its reference (the "Audit events" tab of what they are reading), less what is hidden
from them; the whole log, or an object named as app_label.model:id, answers them 403 saying who may. An app that
keeps some objects from some readers (restricted reviews, change requests to them) registers which of
its objects a reader may not see, and their events are left out for a reader who does not see everything.

The log knows no app: each registers, from its AppConfig.ready(), its overseers rule
(`register_overseers`), what it hides (`register_hidden_objects`), and how its references read
(`register_reference_reader`).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q


@dataclass(frozen=True)
class AuditTarget:
    """The object an audit filter names: its type and id as stored on events, and how people call it.

    `related` is a Q over AuditEvent for the events that belong to it besides its own (a governed
    document's change requests).
    """

    object_type: str
    object_id: str
    label: str
    related: Q | None = None
    # Named by a reference a reader of the object knows ("SLA-0003"), not as app_label.model:id.
    by_reference: bool = True


_overseers = []  # callable(user) -> bool
_hidden = []  # (object_type, callable(user) -> queryset of text ids the user may not see)
_reference_readers = []  # callable(text) -> AuditTarget | None


def register_overseers(rule):
    """`rule(user)` says whether `user` oversees the portal (reads every event)."""
    _overseers.append(rule)


def register_hidden_objects(object_type, hidden_ids):
    """Events about `object_type` ("app_label.model") whose object_id is in `hidden_ids(user)` are not for `user`.

    `hidden_ids(user)` is a queryset of one text column: the ids, as events store them.
    """
    _hidden.append((object_type, hidden_ids))


def register_reference_reader(reader):
    """`reader(text)` is the AuditTarget that "CR-0012", "SLA-0003"… names, or None."""
    _reference_readers.append(reader)


def access_audit_log(user, target=None):
    """Return whether `user` sees every event (True) or only those about what they may see (False); 403 otherwise.

    `target` is the object the page is narrowed to, if any: a document's own events are open to its readers.
    """
    if user.is_superuser:
        return True
    if any(rule(user) for rule in _overseers):
        return True
    if user.is_staff or (target is not None and target.by_reference):
        return False
    raise PermissionDenied(
        "The whole audit log is open to staff, the SLA committee and leadership. The events of a document or"
        " change request you may read are on its own Audit events link."
    )


def readable_events(queryset, user, *, sees_everything):
    """`queryset` without the events about objects `user` may not see."""
    if sees_everything:
        return queryset
    for object_type, hidden_ids in _hidden:
        queryset = queryset.exclude(object_type=object_type, object_id__in=hidden_ids(user))
    return queryset


def referenced_object(text):
    """The AuditTarget for "CR-0012", "SLA-0003"… or "app_label.model:id"; None when the text names nothing."""
    if ":" in text:
        object_type, _, object_id = text.partition(":")
        if not object_id.strip():
            return None
        return AuditTarget(object_type.strip().lower(), object_id.strip(), text, by_reference=False)
    for reader in _reference_readers:
        if (target := reader(text)) is not None:
            return target
    return None


def events_about(queryset, target):
    """Events about `target`, and those that belong to it (for a governed document, its change requests')."""
    about = Q(object_type=target.object_type, object_id=target.object_id)
    if target.related is not None:
        about |= target.related
    return queryset.filter(about)
