"""Request rates: per API client (by client id) and per signed-in person (by user id).

Rates come from settings.API_THROTTLE_RATES (environment: API_CLIENT_RATE,
API_USER_RATE), read per request so they can change without a restart of the class.
Over the limit: 429 with the standard error body and a Retry-After header.

The counters live in the default cache: Redis when CACHE_URL names it, shared by every
web process. A rate limit must never take the API down with it: when that cache fails
(Redis down or hung), requests are counted in this process's memory instead — each
process then enforces the limit on its own share — and the fall-back is logged at most
once a minute. The shared cache is tried again every SHARED_RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from coordination.api.auth import api_client_of

logger = logging.getLogger(__name__)

SHARED_RETRY_SECONDS = 5
LOG_EVERY_SECONDS = 60
FALLBACK_CACHE = LocMemCache("tandem-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


class _SharedCacheHealth:
    """When the shared cache failed last, and when that was last logged (per process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.logged_at: float | None = None

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.down_until = now + SHARED_RETRY_SECONDS
            if self.logged_at is not None and now - self.logged_at < LOG_EVERY_SECONDS:
                return
            self.logged_at = now
        logger.error(
            "The rate-limit cache is unreachable (%s: %s): counting API requests per "
            "process until it is back.",
            type(exc).__name__,
            exc,
        )

    def reset(self) -> None:
        with self._lock:
            self.down_until = 0.0
            self.logged_at = None


shared_cache_health = _SharedCacheHealth()


class ClientRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return None  # chosen per request in allow_request

    def allow_request(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return True  # refused earlier (401) or public; nothing to count
        client = api_client_of(user)
        self.scope = "client" if client is not None else "user"
        self.rate = settings.API_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if shared_cache_health.usable():
            try:
                return super().allow_request(request, view)
            except Exception as exc:  # whatever the cache backend raises: fail open
                shared_cache_health.failed(exc)
        self.cache = FALLBACK_CACHE
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        client = api_client_of(request.user)
        ident = client.pk if client is not None else request.user.pk
        return self.cache_format % {"scope": self.scope, "ident": ident}
