import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from core.formatting import key_words


def canonical_json(value):
    """The one serialisation hashed everywhere: sorted keys, no whitespace, ISO times."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder, ensure_ascii=False)


class AuditEvent(models.Model):
    """Something that happened to a governed object: submitted, approved, applied, withdrawn…

    Rows are only ever appended. `row_hash` covers this row's canonical payload and
    the previous row's hash, so editing, deleting or reordering rows breaks the chain.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. change_request.submitted")
    object_type = models.CharField(max_length=64, help_text="app_label.model of the object the event is about")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    previous_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="audit_event_object")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def canonical_content(self):
        return canonical_json(
            {
                "occurred_at": self.occurred_at,
                "actor": self.actor_id,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "object_repr": self.object_repr,
                "payload": self.payload,
                "previous_hash": self.previous_hash,
            }
        )

    def compute_hash(self):
        return hashlib.sha256(self.canonical_content().encode()).hexdigest()

    @property
    def verb(self):
        """The action without its object kind: "submitted", "approved"…"""
        return key_words(self.action.rpartition(".")[2])
