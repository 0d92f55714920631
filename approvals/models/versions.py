from django.conf import settings
from django.db import models
from django.db.models import Q

from approvals.registry import content_hash, normalise_document


class DocumentVersionQuerySet(models.QuerySet):
    def of(self, document_kind, document_id):
        return self.filter(document_kind=document_kind, document_id=document_id)

    def in_force_at(self, moment):
        """The version effective at `moment`: the latest that had taken effect by then."""
        return self.filter(effective_at__lte=moment).order_by("-effective_at", "-number").first()


class DocumentVersion(models.Model):
    """One applied state of a governed document: numbered, hashed, frozen.

    Version 1 of a document made before governance (demo data, imports) has no
    change request. The unique number per document is the compare-and-set that
    lets only one of two racing applies win.
    """

    document_kind = models.CharField(max_length=32)
    document_id = models.PositiveBigIntegerField()
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    snapshot = models.JSONField()
    effective_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_request = models.OneToOneField(
        "approvals.ChangeRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="applied_version"
    )

    objects = DocumentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["document_kind", "document_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_kind", "document_id", "number"], name="document_version_unique_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="document_version_number_positive"),
        ]

    def __str__(self):
        return f"{self.document_kind} #{self.document_id} v{self.number}"

    def holds(self, snapshot):
        """Whether this version says what `snapshot` (a document as its kind's snapshot gives it) says.

        Its stored hash decides; a version stored before documents were normalised (its text may end
        in a newline the live document no longer shows) is compared by its normalised snapshot, so the
        document does not look edited since. Its snapshot and hash are never rewritten.
        """
        digest = content_hash(normalise_document(snapshot))
        return self.content_hash == digest or content_hash(normalise_document(self.snapshot)) == digest
