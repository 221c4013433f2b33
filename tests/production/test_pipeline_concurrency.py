"""Two workers planning different lines at the same time (PostgreSQL: real row locks),
and a worker's heartbeat, which commits while the re-plan's transaction runs.

A worker locks the requests it serves for its whole re-plan. It must lock only those:
holding another line's request made that line's worker wait to mark it running, or skip
its own locked row and leave it "running" until the reconciler's 20-minute limit."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from coordination.models import RecomputeRequest
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from production.services import pipeline
from tests.factories import LineFactory, ProductFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
    ),
]


def request_for(line) -> RecomputeRequest:
    return RecomputeRequest.objects.create(
        source="manual", reason=f"edit on {line}", product_ids=[], line_ids=[line.pk]
    )


def test_a_worker_holds_only_its_own_lines_requests():
    first_line, second_line = LineFactory(name="Bottling"), LineFactory(name="Canning")
    first, second = request_for(first_line), request_for(second_line)
    claimed_by_first = []
    holding, release = threading.Event(), threading.Event()

    def first_worker():
        try:
            with transaction.atomic():
                claimed_by_first.extend(pipeline._claim(first, {first_line.pk}))
                holding.set()
                release.wait(timeout=10)  # the re-plan, holding the claim's locks
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            # Fail fast instead of hanging if the first worker holds this row.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            marked = RecomputeRequest.objects.filter(pk=second.pk, status="pending").update(
                status="running"
            )
            claimed_by_second = pipeline._claim(second, {second_line.pk})
    finally:
        release.set()
        thread.join(timeout=10)

    assert [r.pk for r in claimed_by_first] == [first.pk]
    assert marked == 1
    assert [r.pk for r in claimed_by_second] == [second.pk]


def test_a_request_the_holder_serves_is_left_to_it():
    line = LineFactory(name="Bottling")
    mine, coalesced = request_for(line), request_for(line)
    holding, release = threading.Event(), threading.Event()
    claimed_by_first = []

    def first_worker():
        try:
            with transaction.atomic():
                claimed_by_first.extend(pipeline._claim(mine, {line.pk}))
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            # The second request's own worker finds its row taken: it does nothing, the
            # holder plans it (and marks it done when it commits).
            assert pipeline._claim(coalesced, {line.pk}) == []
    finally:
        release.set()
        thread.join(timeout=10)

    assert [r.pk for r in claimed_by_first] == [mine.pk, coalesced.pk]


def backends_on_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_run_on_a_worker_beats_while_its_transaction_runs(monkeypatch):
    line = LineFactory(name="Bottling")
    product = ProductFactory(production_line=line)
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    request = RecomputeRequest.objects.create(
        source="manual", reason="edit", product_ids=[product.pk], line_ids=[line.pk]
    )
    monkeypatch.setattr(pipeline, "HEARTBEAT_SECONDS", 0.05)
    plan_line = pipeline.plan_line
    seen = []

    def slow_plan(*, line, run):
        summary = plan_line(line=line, run=run)
        # Planned, not committed; the transaction sees what other connections commit.
        assert QuotaRecommendation.objects.filter(run=run).count() == 26
        first = RecomputeRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(0.5)
        seen.append((first, RecomputeRun.objects.get(pk=run.pk).heartbeat_at))
        return summary

    monkeypatch.setattr(pipeline, "plan_line", slow_plan)
    backends = backends_on_this_database()
    [run_id] = pipeline.process_request(request.pk, worker="celery@plant-7 pid 42", heartbeat=True)

    [(first, later)] = seen
    assert later > first  # the beat thread committed while the transaction ran
    run = RecomputeRun.objects.get(pk=run_id)
    assert (run.state, run.worker) == ("done", "celery@plant-7 pid 42")
    request.refresh_from_db()
    assert request.status == "done"
    # The thread stopped and closed its own connection.
    assert [t for t in threading.enumerate() if t.name == "recompute-heartbeat"] == []
    assert backends_on_this_database() == backends
