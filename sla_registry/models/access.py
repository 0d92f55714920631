from django.db import models
from django.urls import reverse

from core.references import ReferencedByNumber


class AccessPolicy(ReferencedByNumber, models.Model):
    """The one governed document that says who approves and who oversees (RULES-0001).

    Its content lives on the teams and permissions it governs (kind, committee flag, approver rights,
    membership of the committee and of leadership); this row is what change requests lock and version.
    See sla_registry.access.
    """

    REFERENCE_PREFIX = "RULES"

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "access policy"
        verbose_name_plural = "access policy"

    def __str__(self):
        return f"{self.reference} Access policy"

    def get_absolute_url(self):
        return reverse("sla_registry:access_policy")

    @classmethod
    def get(cls):
        """The portal's access policy (made on first use)."""
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy
