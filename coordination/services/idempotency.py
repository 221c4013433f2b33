"""Idempotent creates: the same request sent again with the same `Idempotency-Key` gets
the first answer and creates nothing (coordination.api.support.idempotent is the edge).

Race-free by the database: the key is claimed with an INSERT under a unique constraint
in the transaction that makes the create, before the create. A second request with the
key waits on that insert until the first commits, then finds the answer (or, if the
first was refused and rolled back, claims the key itself)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coordination.errors import IdempotencyKeyReused
from coordination.models import IdempotencyKey

KEY_LIFETIME = dt.timedelta(hours=24)


def request_fingerprint(*, method: str, path: str, body) -> str:
    """Equal for the same request: the body's JSON with its keys sorted, so a client that
    serializes the same data in another order sends "the same body"."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_claim(
    *, user, key: str, method: str, path: str, body
) -> tuple[IdempotencyKey, bool]:
    """Claim `key` for this request, or find the answer it already got.

    Returns (the key's row, whether it is an earlier answer to replay). A new claim must
    commit with the create it guards (the caller's transaction), recording the answer
    with idempotency_record. Raises IdempotencyKeyReused when the key was first used
    with another request."""
    if not connection.in_atomic_block:
        raise RuntimeError("Claim an idempotency key in the transaction of the create.")
    now = timezone.now()
    fingerprint = request_fingerprint(method=method, path=path, body=body)
    # A key is the caller's for a day; after that, the same key is a new request.
    IdempotencyKey.objects.filter(user=user, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.create(
                user=user,
                key=key,
                method=method.upper(),
                path=path[:2000],
                fingerprint=fingerprint,
                status_code=0,  # the answer is recorded before this commits
                created_at=now,
                expires_at=now + KEY_LIFETIME,
            )
    except IntegrityError:
        # Another request with this key committed first (on PostgreSQL this insert
        # waited for it): its answer is ours.
        earlier = IdempotencyKey.objects.get(user=user, key=key)
        if earlier.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"The Idempotency-Key {key!r} was used at {earlier.created_at:%Y-%m-%d %H:%M} "
                f"UTC for another request ({earlier.method} {earlier.path} with another "
                "body): send a new key for a new request."
            ) from None
        return earlier, True
    return claim, False


def idempotency_record(claim: IdempotencyKey, *, status_code: int, response_body: str) -> None:
    """The answer the create got, kept with its key (in the create's transaction)."""
    claim.status_code = status_code
    claim.response_body = response_body
    claim.save(update_fields=["status_code", "response_body"])


def idempotency_keys_expire(*, now: dt.datetime | None = None) -> int:
    """Delete keys older than a day; returns how many (the periodic cleanup)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
