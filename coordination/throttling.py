"""Request rates: per API client (by client id) and per signed-in person (by user id).

Rates come from settings.API_THROTTLE_RATES (environment: API_CLIENT_RATE,
API_USER_RATE), read per request so they can change without a restart of the class.
Over the limit: 429 with the standard error body and a Retry-After header.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from coordination.auth import api_client_of


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
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        client = api_client_of(request.user)
        ident = client.pk if client is not None else request.user.pk
        return self.cache_format % {"scope": self.scope, "ident": ident}
