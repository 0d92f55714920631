from django.conf import settings
from django.db import models


class EmergencyGrant(models.Model):
    """Approval rights given outside the access policy by `manage.py emergency_grant` (break glass).

    For a committee that cannot act: the grant works at once, writes a loud audit event, and every page
    shows a banner until a member of the SLA committee acknowledges it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_grants")
    team = models.ForeignKey(settings.APPROVALS_TEAM_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    granted_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="emergency_grant_has_a_reason"),
        ]

    def __str__(self):
        return f"Emergency grant to {self.user} for {self.team} ({self.granted_at:%Y-%m-%d %H:%M})"
