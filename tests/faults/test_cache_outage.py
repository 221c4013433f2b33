"""The rate-limit cache's Redis goes away (CACHE_URL, as in docker-compose): the API
still answers, counting requests in this process's memory, so the limit still holds
per process; the fall-back is logged once, and the shared count resumes when Redis is
back. A hung Redis costs a request at most the cache's socket timeout."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from coordination import config
from coordination.api import throttling
from coordination.services.api_clients import client_create

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

URL = "/api/v1/schedules/"


@pytest.fixture
def shared_limit(settings, redis_server, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "default": config.cache_config({"CACHE_URL": redis_server.url(2)}),
    }
    settings.API_THROTTLE_RATES = {"client": "3/min", "user": "1000/min"}
    # Try Redis on every request, so each one proves it fails open.
    monkeypatch.setattr(throttling, "SHARED_RETRY_SECONDS", 0)
    throttling.shared_cache_health.reset()
    throttling.FALLBACK_CACHE.clear()
    yield redis_server
    # Before the server stops: the suite clears the default cache after each test.
    settings.CACHES = {**settings.CACHES, "default": config.cache_config({})}
    throttling.shared_cache_health.reset()
    throttling.FALLBACK_CACHE.clear()


def test_the_api_answers_and_still_limits_while_the_cache_redis_is_down_or_hung(
    shared_limit, caplog
):
    redis = shared_limit
    client, key = client_create(name="Plant ERP", scopes=["schedules:read"])
    _, other_key = client_create(name="Shop floor", scopes=["schedules:read"])
    counter = f"throttle_client_{client.pk}"

    def get(bearer: str = key) -> tuple[int, float]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
        started = time.perf_counter()
        status = api.get(URL).status_code
        return status, time.perf_counter() - started

    assert [get()[0] for _ in range(2)] == [200, 200]
    assert len(cache.get(counter)) == 2  # counted in Redis

    redis.stop()
    with caplog.at_level(logging.ERROR, logger="coordination.api.throttling"):
        down = [get() for _ in range(4)]
    # This process counts from zero: three more in the minute, then 429.
    assert [status for status, _ in down] == [200, 200, 200, 429]
    assert max(seconds for _, seconds in down) < 0.5
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "The rate-limit cache is unreachable"
    ]
    assert len(throttling.FALLBACK_CACHE.get(counter)) == 3

    redis.start()  # empty: the shared count starts again
    assert get()[0] == 200
    assert len(cache.get(counter)) == 1

    redis.pause()
    try:
        status, seconds = get(other_key)
    finally:
        redis.resume()
    assert status == 200
    assert seconds < 0.5
