"""Workers share what a product line's past promotions taught (demand.selectors.lift)
through the shared cache (CACHE_URL's Redis): a line measured by one process is reused by
the others, a line another process is measuring is waited for instead of measured twice,
and a claim left by a dead process or a lost Redis only costs a measurement."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import caches

from coordination import config
from coordination.weeks import current_week
from demand.selectors import lift
from tests.factories import ProductFactory, ProductLineFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


@pytest.fixture
def shared(settings, redis_server, monkeypatch, measured_lines):
    settings.CACHES = {
        **settings.CACHES,
        "default": config.cache_config({"CACHE_URL": redis_server.url(3)}),
    }
    monkeypatch.setattr(lift, "_shared_down_until", 0.0)
    yield redis_server, measured_lines
    settings.CACHES = {**settings.CACHES, "default": config.cache_config({})}


@pytest.fixture
def line():
    family = ProductLineFactory(name="Teas")
    ProductFactory(sku="TEA-1", product_line=family)
    return family


def key_of(line_id: int) -> str:
    keys = lift._measures_keys([(line_id,)], current_week(), None, lift._sales_state())
    return keys[(line_id,)][0]


def test_a_line_measured_by_one_process_is_reused_by_another(shared, line):
    _, measured = shared
    first = lift.line_measures(line.pk)
    caches["local"].clear()  # another process: nothing in its own memory
    assert lift.line_measures(line.pk) == first
    assert measured == [(line.pk,)]
    assert caches["default"].get(key_of(line.pk) + ":claim") is None  # released


def test_a_line_another_process_is_measuring_is_waited_for(shared, line):
    _, measured = shared
    key = key_of(line.pk)
    shared_cache = caches["default"]
    assert shared_cache.add(key + ":claim", 1, 60)  # the other process's claim
    result = ([], {("promoted", "sibling"): "from the other process"})

    def other_process_finishes():
        time.sleep(0.3)
        shared_cache.set(key, result, 60)
        shared_cache.delete(key + ":claim")

    thread = threading.Thread(target=other_process_finishes)
    started = time.monotonic()
    thread.start()
    assert lift.line_measures(line.pk) == result
    thread.join()
    assert time.monotonic() - started >= 0.3
    assert measured == []


def test_a_claim_left_by_a_dead_process_costs_a_wait_then_a_measurement(shared, line, monkeypatch):
    _, measured = shared
    monkeypatch.setattr(lift, "MEASURES_WAIT_SECONDS", 0.3)
    assert caches["default"].add(key_of(line.pk) + ":claim", 1, 60)
    started = time.monotonic()
    assert lift.line_measures(line.pk) == ([], {})
    assert time.monotonic() - started >= 0.3
    assert measured == [(line.pk,)]


def test_a_lost_redis_costs_a_measurement_not_a_failure(shared, line):
    redis, measured = shared
    redis.stop()
    assert lift.line_measures(line.pk) == ([], {})
    caches["local"].clear()
    assert lift.line_measures(line.pk) == ([], {})
    assert measured == [(line.pk,), (line.pk,)]
