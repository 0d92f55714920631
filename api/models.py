from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A personal API token: stored only as a digest, expiring, named by its owner.

    django-rest-knox authenticates with it (`Authorization: Token slap_…`); the
    token itself is shown once, when it is made on the profile page.
    """

    name = models.CharField(max_length=100, help_text="What uses it, e.g. “deploy pipeline”.")
    # Written at most once a minute per token (api.authentication), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.token_key}…)"


class IdempotencyKey(models.Model):
    """A POST made with an Idempotency-Key header, and the response it got.

    A retry with the same key (same user) gets that response again instead of
    doing the work twice; the same key with a different request is refused.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.key} ({self.user_id})"
