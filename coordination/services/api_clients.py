"""API clients: create, rotate, revoke, record use. A key is shown once, stored hashed.

Keys are 32 random bytes (secrets.token_urlsafe), so a fast hash (sha256) is enough:
nothing can be guessed from it the way a password could. `key_prefix` (the key's first
8 characters) finds the row; the hash is compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coordination.api.scopes import validate_scopes
from coordination.models import ApiClient

PREFIX_LENGTH = 8
# Recording every request would write a row per call; once a minute is precise enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _new_key() -> tuple[str, str, str]:
    key = secrets.token_urlsafe(32)
    return key, key[:PREFIX_LENGTH], hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def service_username(name: str) -> str:
    return f"api-client:{name}"


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the client a name."]})
    if len(name) > 100:
        raise ValidationError({"name": ["At most 100 characters."]})
    return name


def _clean_scopes(scopes) -> list[str]:
    try:
        validate_scopes(scopes)
    except ValidationError as exc:
        raise ValidationError({"scopes": exc.messages}) from exc
    return sorted(set(scopes))


@transaction.atomic
def client_create(*, name: str, scopes: list[str], created_by=None) -> tuple[ApiClient, str]:
    """The new client and its key in clear: the only moment the key exists."""
    name = _clean_name(name)
    scopes = _clean_scopes(scopes)
    User = get_user_model()
    username = service_username(name)
    if (
        ApiClient.objects.filter(name=name).exists()
        or User.objects.filter(username=username).exists()
    ):
        raise ValidationError({"name": [f"An API client named “{name}” already exists."]})
    user = User(username=username, first_name=name[:150])
    user.set_unusable_password()
    user.save()
    key, prefix, digest = _new_key()
    client = ApiClient.objects.create(
        name=name,
        user=user,
        scopes=scopes,
        key_prefix=prefix,
        key_hash=digest,
        created_by=created_by,
    )
    return client, key


@transaction.atomic
def client_set_scopes(*, client: ApiClient, scopes: list[str]) -> ApiClient:
    client.scopes = _clean_scopes(scopes)
    client.save(update_fields=["scopes"])
    return client


@transaction.atomic
def client_rotate(*, client: ApiClient) -> str:
    """A new key for the client; the old one stops working at once."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        raise ValidationError("A revoked client cannot get a new key.")
    key, client.key_prefix, client.key_hash = _new_key()
    client.rotated_at = timezone.now()
    client.save(update_fields=["key_prefix", "key_hash", "rotated_at"])
    return key


@transaction.atomic
def client_revoke(*, client: ApiClient) -> ApiClient:
    """Its key stops working for good (idempotent: a second revoke keeps the first time)."""
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    client.refresh_from_db(fields=["revoked_at"])
    return client


def client_for_key(key: str) -> ApiClient | None:
    """The active client this key belongs to, or None (unknown, rotated or revoked)."""
    if not key or len(key) < PREFIX_LENGTH:
        return None
    digest = hash_key(key)
    candidates = ApiClient.objects.select_related("user").filter(
        key_prefix=key[:PREFIX_LENGTH], revoked_at__isnull=True
    )
    for client in candidates:
        if hmac.compare_digest(client.key_hash, digest):
            return client
    return None


def client_record_use(*, client: ApiClient, now: dt.datetime | None = None) -> bool:
    """Stamp last_used_at at most once per LAST_USED_RESOLUTION; True if it wrote.

    A conditional UPDATE, so concurrent requests write at most once between them."""
    now = now or timezone.now()
    last = client.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return False
    stale = ApiClient.objects.filter(pk=client.pk).filter(
        **({"last_used_at__isnull": True} if last is None else {"last_used_at": last})
    )
    written = stale.update(last_used_at=now) == 1
    if written:
        client.last_used_at = now
    return written
