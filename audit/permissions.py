"""Who may read the audit log, and which of its events they see.

The log is for oversight: superusers and staff, and whoever the apps name as overseers (members of the
SLA committee and leadership teams). Everyone else gets 403 (the page says who may read it). An app that
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


def access_audit_log(user):
    """Return whether `user` sees every event (True) or only those about what they may see (False); 403 otherwise."""
    if user.is_superuser:
        return True
    if any(rule(user) for rule in _overseers):
        return True
    if user.is_staff:
        return False
    raise PermissionDenied("The audit log is open to staff, the SLA committee and leadership.")


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
        return AuditTarget(object_type.strip().lower(), object_id.strip(), text) if object_id.strip() else None
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
