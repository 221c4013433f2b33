"""A whole worker killed mid-recompute (SIGKILL to the main process and its child, as an
OOM kill or `docker kill` does), with real work: a line of a few hundred products,
whose forecasts and plan take seconds.

The killed transaction rolls back: readers keep seeing the previous plan, never part
of a new one (polled throughout: each line's recommendations all belong to one run,
and there are exactly as many as a whole plan has). The dead run stops beating; beat
and the reconciler (the real ones, on the real schedule) fail it visibly and queue its
request again; a new worker finishes it within 60 s of starting, and no run shows
"running" for more than 60 s."""

from __future__ import annotations

import time
from decimal import Decimal

import numpy as np
import pytest
from celery import Celery
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Count
from kombu import Connection

from coordination.models import Line, Product, ProductLine, RecomputeRequest
from coordination.services.recompute import PROCESS_TASK, recompute_request
from coordination.weeks import add_weeks, current_week
from demand.models import Channel, SalesActual
from demand.services.sales_import import upsert_quantities
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from production.services import pipeline
from tests.faults import stack

pytestmark = pytest.mark.faults

PRODUCTS = 250
HISTORY_WEEKS = 156
DONE_SECONDS = 60.0
RUNNING_SECONDS = 60.0


@pytest.fixture
def big_line(real_services):
    """One line of PRODUCTS products with three years of noisy weekly sales, planned
    once (in this process): the plan a killed re-plan must leave as it was."""
    rng = np.random.default_rng(7)
    line = Line.objects.create(name="Bottling 1", weekly_capacity_hours=Decimal("5000"))
    family = ProductLine.objects.create(name="Teas")
    products = Product.objects.bulk_create(
        Product(
            sku=f"TEA-{i:04d}",
            name=f"Tea {i}",
            product_line=family,
            production_line=line,
            lead_time_weeks=1,
            unit_price=2,
            unit_cost=1,
        )
        for i in range(PRODUCTS)
    )
    level = rng.gamma(2.0, 40.0, PRODUCTS) + 5
    sales = np.rint(level[:, None] * rng.normal(1, 0.15, (PRODUCTS, HISTORY_WEEKS))).clip(0)
    first = add_weeks(current_week(), -HISTORY_WEEKS)
    weeks = [add_weeks(first, k) for k in range(HISTORY_WEEKS)]
    with transaction.atomic():
        upsert_quantities(
            SalesActual,
            date_field="week",
            quantity_field="units",
            key_field="channel",
            records=(
                (product.pk, week, int(sales[i, k]), Channel.ALL)
                for i, product in enumerate(products)
                for k, week in enumerate(weeks)
            ),
        )
    RunRate.objects.bulk_create(
        RunRate(product=product, hours_per_unit=Decimal("0.1")) for product in products
    )
    first_plan = ask_for_recompute(line, "First plan")
    pipeline.process_request(first_plan.pk)
    assert RecomputeRequest.objects.get(pk=first_plan.pk).status == "done"
    return line


def ask_for_recompute(line: Line, reason: str) -> RecomputeRequest:
    with transaction.atomic():
        return recompute_request(
            product_ids=line.products.values_list("pk", flat=True),
            source="manual",
            reason=reason,
            enqueue_after_commit=False,
        )


def hand_to_worker(broker_url: str, request_id: int) -> None:
    """What the after-commit enqueue does, to the test's own broker (this process's
    Celery app runs tasks in-process, and CELERY_BROKER_URL names the shared Redis)."""
    sender = Celery("fault-tests", set_as_current=False)
    with Connection(broker_url) as connection:
        sender.send_task(PROCESS_TASK, args=[request_id], connection=connection)


def replanning(line: Line) -> bool:
    """True while a transaction holds the line's lock, i.e. a re-plan is under way."""
    try:
        with transaction.atomic():
            list(Line.objects.select_for_update(nowait=True).filter(pk=line.pk))
    except OperationalError:
        return True
    return False


class Watch:
    """Polls what readers see: whole plans only, and how long each run shows running."""

    def __init__(self, line: Line):
        self.line = line
        self.polls = 0
        self.running_since: dict[int, float] = {}
        self.running_until: dict[int, float] = {}

    def poll(self) -> None:
        now = time.monotonic()
        plans = list(
            QuotaRecommendation.objects.values("line")
            .annotate(runs=Count("run", distinct=True), rows=Count("id"))
            .values_list("line", "runs", "rows")
        )
        assert plans == [(self.line.pk, 1, PRODUCTS * settings.PLANNING_HORIZON_WEEKS)], plans
        for run_id in RecomputeRun.objects.filter(state="running").values_list("pk", flat=True):
            self.running_since.setdefault(run_id, now)
            self.running_until[run_id] = now
        self.polls += 1

    def longest_running(self) -> float:
        return max(
            (self.running_until[pk] - since for pk, since in self.running_since.items()),
            default=0.0,
        )


def test_a_killed_worker_leaves_the_old_plan_and_its_request_is_done_by_the_next(
    processes, big_line
):
    redis = processes.redis()
    env = stack.app_env(broker_url=redis.url(0))
    first_worker = processes.start(stack.celery_worker(env, processes.folder, "w1"))
    beat = processes.start(stack.celery_beat(env, processes.folder))
    first_worker.wait_ready()
    beat.wait_ready()
    old_plan = set(QuotaRecommendation.objects.values_list("run", flat=True))
    watch = Watch(big_line)

    request = ask_for_recompute(big_line, "A promotion on every tea")
    hand_to_worker(redis.url(0), request.pk)
    stack.wait_until(
        lambda: watch.poll() or replanning(big_line), timeout=60, what="the re-plan to start"
    )
    time.sleep(0.3)  # into the forecasts
    first_worker.kill()
    killed_at = time.monotonic()

    [killed_run] = RecomputeRun.objects.filter(requests=request)
    assert (killed_run.state, killed_run.worker.split("@")[0]) == ("running", "w1")
    request.refresh_from_db()
    assert request.status == "running", "the re-plan finished before the kill"
    watch.poll()
    assert set(QuotaRecommendation.objects.values_list("run", flat=True)) == old_plan

    second_worker = processes.start(stack.celery_worker(env, processes.folder, "w2"))
    started = second_worker.wait_ready()

    def finished():
        watch.poll()
        return RecomputeRequest.objects.get(pk=request.pk).status == "done"

    stack.wait_until(finished, timeout=DONE_SECONDS + 30, interval=0.1, what="the request")
    done = time.monotonic()
    watch.poll()

    # The reconciler fails the killed run once its beat is HEARTBEAT_TIMEOUT old, which
    # may come after the next worker has already re-planned (a quick re-plan does).
    def failed():
        killed_run.refresh_from_db()
        return killed_run.state == "failed"

    stack.wait_until(
        failed,
        timeout=pipeline.HEARTBEAT_TIMEOUT.total_seconds() + 30,
        interval=0.2,
        what="the killed run to be failed",
    )
    assert time.monotonic() - killed_at < pipeline.HEARTBEAT_TIMEOUT.total_seconds() + 30
    assert killed_run.error.startswith(
        f"Stopped without finishing: no sign of life from its worker ({killed_run.worker})"
    )
    new_run = RecomputeRun.objects.get(requests=request, state="done")
    assert new_run.worker.startswith("w2@")
    assert set(QuotaRecommendation.objects.values_list("run", flat=True)) == {new_run.pk}
    assert not RecomputeRun.objects.filter(state="running").exists()
    print(
        f"\nworker killed; new worker ready {started - killed_at:.1f} s later; request done "
        f"{done - started:.1f} s after it started ({done - killed_at:.1f} s after the kill); "
        f"longest a run showed running: {watch.longest_running():.1f} s; {watch.polls} polls"
    )
    assert done - started < DONE_SECONDS
    assert watch.longest_running() < RUNNING_SECONDS
    assert watch.polls > 50
