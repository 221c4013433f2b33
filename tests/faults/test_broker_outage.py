"""Redis down while marketing saves promotions, with the docker-compose layout: one
Redis as the broker and the rate-limit cache; gunicorn, a Celery worker and beat.

Every save answers at once (well under a second: the publish gives up fast, the outbox
row keeps the recompute), pages and the API answer (the throttle counts in memory), the
promotion page says the recompute is queued, and no recompute is lost: after Redis
returns, the worker and beat reconnect on their own and every request is done within
15 s."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from coordination.models import RecomputeRequest
from coordination.services.api_clients import client_create
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion, SalesActual
from production.models import RunRate
from tests.factories import PASSWORD, LineFactory, ProductFactory
from tests.faults import stack

pytestmark = pytest.mark.faults

SAVE_SECONDS = 1.0
RECOVERY_SECONDS = 15.0
SKUS = ["TEA-LEM-05", "TEA-MNT-05", "TEA-PEA-05"]


@pytest.fixture
def catalogue(real_services):
    line = LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("500"))
    products = [ProductFactory(sku=sku, production_line=line, lead_time_weeks=1) for sku in SKUS]
    first = add_weeks(current_week(), -30)
    SalesActual.objects.bulk_create(
        SalesActual(product=product, week=add_weeks(first, k), units=50 + k % 7)
        for product in products
        for k in range(30)
    )
    RunRate.objects.bulk_create(
        RunRate(product=product, hours_per_unit=Decimal("0.5")) for product in products
    )
    return line


def browser_form(name: str, token: str, sku: str) -> dict:
    return {
        "csrfmiddlewaretoken": token,
        "name": name,
        "channel": "retail",
        "discount_pct": "20",
        "start_week": iso_label(add_weeks(current_week(), 4)),
        "end_week": iso_label(add_weeks(current_week(), 5)),
        "notes": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "60",
        "items-0-product": sku,
        "items-0-expected_lift_pct": "30",
        "submit": "planned",
    }


def api_body(name: str, sku: str) -> dict:
    return {
        "name": name,
        "channel": "online",
        "discount_pct": "15",
        "start_week": iso_label(add_weeks(current_week(), 6)),
        "end_week": iso_label(add_weeks(current_week(), 7)),
        "status": "planned",
        "items": [{"product": sku, "expected_lift_pct": 25}],
    }


class Marketing:
    """Marketing's side: promotions saved in the browser and through the API, each
    answer timed (the time of the request alone: redirects are not followed)."""

    def __init__(self, web: stack.Http, key: str):
        self.web = web
        self.bearer = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.timings: list[tuple[str, float]] = []

    def _timed(self, what: str, answer):
        status, headers, body, seconds = answer
        self.timings.append((what, seconds))
        return status, headers, body

    def save_in_browser(self, name: str, sku: str) -> str:
        token = self.web.csrf_token("/promotions/new/")
        form = browser_form(name, token, sku)
        status, headers, body = self._timed(
            "browser save", self.web.request("POST", "/promotions/new/", data=form)
        )
        assert status == 302, body[:2000]
        return headers["Location"]

    def save_through_api(self, name: str, sku: str) -> None:
        status, _, body = self._timed(
            "API save",
            self.web.request(
                "POST", "/api/v1/promotions/", data=api_body(name, sku), headers=self.bearer
            ),
        )
        assert status == 201, body

    def read(self, path: str, *, api: bool = False) -> str:
        headers = self.bearer if api else None
        status, _, body = self._timed(f"GET {path}", self.web.request("GET", path, headers=headers))
        assert status == 200, body[:2000]
        return body

    def slow_answers(self) -> list[tuple[str, float]]:
        return [(what, round(s, 3)) for what, s in self.timings if s >= SAVE_SECONDS]


def unfinished():
    return RecomputeRequest.objects.exclude(status="done")


def recovery_seconds() -> float:
    back = time.monotonic()
    stack.wait_until(
        lambda: not unfinished().exists(),
        timeout=RECOVERY_SECONDS + 30,
        interval=0.1,
        what="every recompute to be done",
    )
    return time.monotonic() - back


def test_saves_answer_at_once_while_redis_is_down_or_hung_and_no_recompute_is_lost(
    processes, catalogue, marketer
):
    redis = processes.redis()
    env = stack.app_env(broker_url=redis.url(0), cache_url=redis.url(2))
    port = stack.free_port()
    web_env = stack.app_env(broker_url=redis.url(0), cache_url=redis.url(2), debug=True)
    processes.start(stack.gunicorn(web_env, processes.folder, port))
    worker = processes.start(stack.celery_worker(env, processes.folder, "w1"))
    beat = processes.start(stack.celery_beat(env, processes.folder))
    web = stack.Http(f"http://127.0.0.1:{port}")
    stack.wait_until(web.answers, timeout=stack.READY_SECONDS, what="gunicorn")
    worker.wait_ready()
    beat.wait_ready()
    web.log_in(marketer.username, PASSWORD)
    _, key = client_create(name="Shop", scopes=["promotions:read", "promotions:write"])
    marketing = Marketing(web, key)

    # Redis up: the save is planned within seconds, and the web process now holds a
    # pooled broker connection, which the outage breaks.
    marketing.save_in_browser("Before", SKUS[0])
    marketing.save_through_api("Before API", SKUS[1])
    stack.wait_until(lambda: not unfinished().exists(), timeout=30, what="the first recomputes")
    marketing.timings.clear()

    # Redis down (refuses connections).
    redis.stop()
    for k, sku in enumerate(SKUS):
        page = marketing.save_in_browser(f"Outage {k}", sku)
        html = marketing.read(page)
        assert "Queued" in html and "Waiting for a planning worker" in html
        marketing.save_through_api(f"Outage API {k}", sku)
        marketing.read("/api/v1/promotions/", api=True)  # counted in memory meanwhile
    dashboard = marketing.read(f"/production/?line={catalogue.pk}")
    assert dashboard.count("Queued") == 6
    down = list(marketing.timings)
    assert marketing.slow_answers() == []
    # Never handed to the broker: the outbox rows wait for the reconciler.
    assert set(unfinished().values_list("status", "enqueued_at")) == {("pending", None)}
    assert unfinished().count() == 6

    redis.start()  # empty: whatever it held before is gone
    after_down = recovery_seconds()
    assert after_down < RECOVERY_SECONDS
    assert "Up to date" in marketing.read(page)

    # Redis hung (accepts connections, answers nothing): the timeouts bound each answer.
    marketing.timings.clear()
    redis.pause()
    marketing.save_in_browser("Hung", SKUS[0])
    marketing.save_through_api("Hung API", SKUS[1])
    marketing.read("/api/v1/promotions/", api=True)
    hung = list(marketing.timings)
    assert marketing.slow_answers() == []
    assert unfinished().count() == 2
    redis.resume()
    after_hung = recovery_seconds()
    assert after_hung < RECOVERY_SECONDS

    # Nothing lost: every save's recompute is done, one request per save.
    assert Promotion.objects.filter(status="planned").count() == 10
    assert RecomputeRequest.objects.filter(status="done").count() == 10
    print(
        "\nRedis down, answers (s):",
        [(what, round(s, 3)) for what, s in down],
        f"\nall done {after_down:.1f} s after Redis returned",
        "\nRedis hung, answers (s):",
        [(what, round(s, 3)) for what, s in hung],
        f"\nall done {after_hung:.1f} s after Redis resumed",
    )
