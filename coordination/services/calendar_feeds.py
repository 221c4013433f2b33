"""Calendar feeds: make a person's secret address, replace it, revoke it, find it.

The address ends in 32 random bytes (secrets.token_urlsafe), so a fast hash is enough
(as for API keys, coordination/services/api_clients.py): the row is found by the sha256
of the token and the hash compared again in constant time. The token is returned once,
to be shown to its owner, and never stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coordination.models import CalendarFeed
from coordination.services.api_clients import hash_key

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything far from that is not a token.
TOKEN_LENGTH_RANGE = range(32, 65)
# Calendar apps poll every few minutes to hours; one write per quarter hour is enough to
# show the person that their app reads the feed.
FETCH_RESOLUTION = dt.timedelta(minutes=15)


@transaction.atomic
def calendar_feed_new_address(*, user) -> str:
    """A new secret address for the user's feed; a previous one stops working at once.
    Returns the token (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={
            "token_hash": hash_key(token),
            "created_at": timezone.now(),
            "last_fetched_at": None,
        },
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, user) -> bool:
    """The user's address stops working; True if there was one (a second revoke is a no-op)."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The feed this token opens, or None (unknown, replaced, revoked, or its owner can no
    longer sign in). Reads only."""
    if not token or len(token) not in TOKEN_LENGTH_RANGE:
        return None
    digest = hash_key(token)
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=digest, user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed


def calendar_feed_record_fetch(*, feed: CalendarFeed, now: dt.datetime | None = None) -> bool:
    """Stamp last_fetched_at at most once per FETCH_RESOLUTION; True if it wrote. One
    conditional UPDATE, so apps polling at once write at most once between them."""
    now = now or timezone.now()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < FETCH_RESOLUTION:
        return False
    stale = Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - FETCH_RESOLUTION)
    return CalendarFeed.objects.filter(stale, pk=feed.pk).update(last_fetched_at=now) == 1
