"""The reconciler: what a broker outage and dead workers leave behind.

A run on a worker beats (heartbeat_at) while it works. What a worker killed mid-run
leaves, its transaction rolled back, is a request marked running and a run marked
running whose beat stopped. The reconciler fails such runs visibly, queues their
requests again (in these tests the tasks run in-process, so "queued" means done), and
leaves everything that is still alive alone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone

from coordination.models import RecomputeRequest
from coordination.services.recompute import PROCESS_TASK, recompute_request
from coordination.weeks import add_weeks, current_week
from demand.models import SalesActual
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from production.services import pipeline
from tests.factories import LineFactory, ProductFactory

pytestmark = pytest.mark.django_db

WORKER = "celery@plant-7 pid 4242"


@pytest.fixture
def world():
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"))
    product = ProductFactory(sku="TEA-LEM-05", production_line=line, lead_time_weeks=0)
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    start = add_weeks(current_week(), -60)
    SalesActual.objects.bulk_create(
        SalesActual(product=product, week=add_weeks(start, k), units=60) for k in range(60)
    )
    return {"line": line, "product": product}


def left_running(world, *, started_ago, beat_ago=None, worker=WORKER, with_run=True):
    """A request its worker marked running `started_ago`, with that worker's run (which
    last beat `beat_ago`, or never beats: in-process), as a killed worker leaves them."""
    request = recompute_request(
        product_ids=[world["product"].pk],
        source="manual",
        reason="edit",
        enqueue_after_commit=False,
    )
    started = timezone.now() - started_ago
    RecomputeRequest.objects.filter(pk=request.pk).update(
        status="running", started_at=started, enqueued_at=started
    )
    run = None
    if with_run:
        run = RecomputeRun.objects.create(
            line=world["line"],
            trigger="edit",
            worker=worker,
            heartbeat_at=None if beat_ago is None else timezone.now() - beat_ago,
        )
        RecomputeRun.objects.filter(pk=run.pk).update(started_at=started)
        run.requests.add(request)
        run.refresh_from_db()
    request.refresh_from_db()
    return request, run


def planned_by(product) -> set[int]:
    return set(QuotaRecommendation.objects.filter(product=product).values_list("run", flat=True))


def test_a_run_that_stopped_beating_fails_visibly_and_its_request_is_done_again(world):
    request, run = left_running(
        world,
        started_ago=pipeline.HEARTBEAT_TIMEOUT + timedelta(seconds=30),
        beat_ago=pipeline.HEARTBEAT_TIMEOUT + timedelta(seconds=1),
    )
    last_beat = timezone.localtime(run.heartbeat_at).strftime("%H:%M:%S")
    assert pipeline.reconcile() == [request.pk]
    run.refresh_from_db()
    assert (run.state, run.error) == (
        "failed",
        f"Stopped without finishing: no sign of life from its worker ({WORKER}) since "
        f"{last_beat}. Another run recomputes its request.",
    )
    assert run.finished_at is not None
    request.refresh_from_db()
    assert (request.status, request.error) == ("done", "")
    again = RecomputeRun.objects.exclude(pk=run.pk).get()
    assert again.state == "done"
    assert list(again.requests.all()) == [request]
    assert planned_by(world["product"]) == {again.pk}


def test_a_run_still_beating_and_its_request_are_left_alone(world):
    request, run = left_running(
        world,
        started_ago=timedelta(minutes=5),
        beat_ago=pipeline.HEARTBEAT_TIMEOUT - timedelta(seconds=3),
    )
    assert pipeline.reconcile() == []
    run.refresh_from_db()
    request.refresh_from_db()
    assert (run.state, run.error, request.status) == ("running", "", "running")
    assert RecomputeRun.objects.count() == 1
    assert planned_by(world["product"]) == set()


def test_a_request_whose_worker_died_before_starting_its_run_is_queued_again(world, monkeypatch):
    handed_over = []
    monkeypatch.setattr(pipeline, "enqueue", handed_over.append)
    request, _ = left_running(
        world, started_ago=pipeline.HEARTBEAT_TIMEOUT + timedelta(seconds=1), with_run=False
    )
    just_marked, _ = left_running(world, started_ago=timedelta(seconds=2), with_run=False)
    assert pipeline.reconcile() == [request.pk]
    assert handed_over == [request.pk]
    request.refresh_from_db()
    just_marked.refresh_from_db()
    # The second was marked running 2 s ago: its worker is creating its run right now.
    assert (request.status, just_marked.status) == ("pending", "running")


def test_an_in_process_run_is_judged_by_the_time_limit_only(world):
    request, run = left_running(world, started_ago=timedelta(minutes=10), worker="")
    assert pipeline.reconcile() == []
    run.refresh_from_db()
    assert run.state == "running"

    RecomputeRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - pipeline.STALE_RUNNING - timedelta(seconds=1)
    )
    assert pipeline.reconcile() == [request.pk]
    run.refresh_from_db()
    assert (run.state, run.error) == (
        "failed",
        "Still running past the 15-minute time limit: its worker is stuck. Another run "
        "recomputes its request once that worker lets go of it.",
    )
    request.refresh_from_db()
    assert request.status == "done"


def test_pending_requests_are_handed_over_again_after_their_grace(world):
    now = timezone.now()

    def pending(*, created_ago, enqueued_ago=None):
        request = recompute_request(
            product_ids=[world["product"].pk],
            source="manual",
            reason="edit",
            enqueue_after_commit=False,
        )
        RecomputeRequest.objects.filter(pk=request.pk).update(
            created_at=now - created_ago,
            enqueued_at=None if enqueued_ago is None else now - enqueued_ago,
        )
        return request.pk

    second = timedelta(seconds=1)
    never_sent = pending(created_ago=pipeline.UNSENT_GRACE + second)
    pending(created_ago=pipeline.UNSENT_GRACE - second)  # its enqueue may be on its way
    handed_over_long_ago = pending(
        created_ago=timedelta(hours=1), enqueued_ago=pipeline.HANDED_OVER_GRACE + second
    )
    pending(created_ago=timedelta(hours=1), enqueued_ago=pipeline.HANDED_OVER_GRACE - 5 * second)
    assert pipeline.reconcile() == [never_sent, handed_over_long_ago]
    # In-process, the first one handed over served all four (they coalesce).
    assert set(RecomputeRequest.objects.values_list("status", flat=True)) == {"done"}


def test_a_request_whose_worker_keeps_dying_fails_instead_of_killing_the_next(world):
    request, _ = left_running(
        world,
        started_ago=timedelta(minutes=2),
        beat_ago=pipeline.HEARTBEAT_TIMEOUT + timedelta(seconds=1),
    )
    for _ in range(pipeline.MAX_WORKER_LOSSES - 1):
        earlier = RecomputeRun.objects.create(line=world["line"], trigger="edit", state="failed")
        earlier.requests.add(request)
    assert pipeline.reconcile() == []
    request.refresh_from_db()
    assert (request.status, request.error) == (
        "failed",
        "Its worker stopped 3 times (killed, or out of memory?); not tried again.",
    )
    assert request.finished_at is not None
    assert set(request.runs.values_list("state", flat=True)) == {"failed"}
    assert planned_by(world["product"]) == set()


def test_a_task_on_a_worker_names_it_and_beats_in_process_it_does_neither(world):
    task = current_app.tasks[PROCESS_TASK]

    def request_id() -> int:
        return recompute_request(
            product_ids=[world["product"].pk],
            source="manual",
            reason="edit",
            enqueue_after_commit=False,
        ).pk

    in_process = task.apply(args=[request_id()]).get()
    task.push_request(hostname="celery@plant-7", is_eager=False)
    try:
        on_worker = task.run(request_id())
    finally:
        task.pop_request()
    run = RecomputeRun.objects.get(pk__in=in_process)
    assert (run.worker, run.heartbeat_at) == ("", None)
    run = RecomputeRun.objects.get(pk__in=on_worker)
    assert run.worker.startswith("celery@plant-7 pid ")
    assert int(run.worker.rsplit(" ", 1)[1]) > 0
    # SQLite cannot take a beat while the re-plan holds its write lock.
    beats = connection.features.has_select_for_update_skip_locked
    assert (run.heartbeat_at is not None) is beats
