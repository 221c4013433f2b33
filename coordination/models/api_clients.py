"""REST clients: API keys with scopes, and the idempotency keys of their writes."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiClient(models.Model):
    """An ERP, shop-floor system or script that calls the REST API with a key.

    The client acts as its own service user (`user`: no password, no roles), so writes
    are attributed to it like any person's and `request.user.is_authenticated` holds;
    what it may do comes only from `scopes` (coordination/scopes.py), granted through
    coordination.api.auth.ApiClientBackend. The key itself is never stored: `key_prefix`
    finds the row, `key_hash` (sha256 of the whole key) proves it.
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    scopes = models.JSONField(default=list)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients_created",
    )
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """A create an API caller sent with an `Idempotency-Key` header, and the answer it
    got: the same request sent again (a retry after a timeout) gets that answer again
    and creates nothing (coordination.services.idempotency).

    A row is written in the transaction that makes the create and commits with it, so a
    committed row always holds the answer; a refused create leaves none. Rows expire
    after a day and the periodic `coordination.expire_idempotency_keys` deletes them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The caller: a person, or an API client's service user.",
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and body (JSON, keys sorted)."
    )
    status_code = models.PositiveSmallIntegerField(help_text="The answer's status.")
    response_body = models.TextField(blank=True, help_text="The answer's JSON, as sent.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_caller")
        ]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
