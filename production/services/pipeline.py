"""The recompute pipeline: from pending RecomputeRequests to fresh forecasts and quotas.

One task handles one request, but coalesces: it locks the request's lines (row locks,
in id order so two workers never deadlock), claims every pending request whose lines
it now holds, recomputes the forecasts of all their products and re-plans the lines,
and marks them done — all in one transaction. So:

- no reader ever sees a half-written plan (forecasts and quotas commit together);
- two workers never plan the same line at once (the second waits for the lock, then
  finds its request done and does nothing);
- ten quick edits cause one or two runs, not ten;
- a redelivered or duplicated task finds its request done and changes nothing;
- a worker killed mid-run rolls back: the old plan stays.

What a killed worker leaves is found by `reconcile` (a periodic task, every few
seconds). A run on a worker records the worker and beats (`heartbeat_at`, every
HEARTBEAT_SECONDS, from a thread with its own database connection) while the
transaction runs. A run whose beat is older than HEARTBEAT_TIMEOUT is dead: the
reconciler fails it, visibly, and queues its request again. The beat lives on the run
row because the request rows are locked by the claim for the whole re-plan.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from coordination.models import Line, Product, RecomputeRequest
from coordination.services.recompute import enqueue, recompute_request
from demand.services.forecasting import forecast_products
from production.models import RecomputeRun
from production.services.planning import plan_line

logger = logging.getLogger(__name__)

Status = RecomputeRequest.Status
State = RecomputeRun.State

HEARTBEAT_SECONDS = 2
# Several missed beats: a busy database or a long garbage collection does not make a
# live worker look dead, and a dead one is noticed within seconds.
HEARTBEAT_TIMEOUT = timedelta(seconds=15)
# The pool kills a task at the hard time limit; a run still "running" well after it is
# stuck (or on a pool that does not enforce limits), even if its thread still beats.
STALE_RUNNING = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + timedelta(minutes=5)
# A request the broker never took (a broker outage) is queued again once it is this old:
# the after-commit enqueue may still be on its way.
UNSENT_GRACE = timedelta(seconds=5)
# One the broker took but no worker started: its message may wait behind others, or have
# been lost with a worker or a broker that kept no copy.
HANDED_OVER_GRACE = timedelta(minutes=1)
# A request whose worker died this often (killed, out of memory) fails instead of
# taking down the next worker too.
MAX_WORKER_LOSSES = 3


def process_request(request_id: int, *, worker: str = "", heartbeat: bool = False) -> list[int]:
    """Handle one request (and everything coalesced with it). Returns the run ids.

    `worker` names who runs it; with `heartbeat` its runs beat while it works (tasks
    on a Celery worker; not in-process, where the caller's own process is the worker)."""
    request = RecomputeRequest.objects.filter(pk=request_id).first()
    if request is None or request.is_finished:
        return []  # already done by a coalescing run, or a duplicate delivery
    # Visible progress for the browser, outside the main transaction.
    RecomputeRequest.objects.filter(pk=request_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    # A database that cannot skip locked rows (SQLite) cannot take a beat while the
    # re-plan holds its write lock: runs there are judged by STALE_RUNNING only.
    beats = heartbeat and connection.features.has_select_for_update_skip_locked
    runs = _start_runs(request, worker=worker, beats=beats)
    try:
        with Heartbeat([run.pk for run in runs]) if beats else nullcontext():
            return _recompute(request, runs)
    except Exception as exc:
        logger.exception("Recompute request %s failed", request_id)
        RecomputeRequest.objects.filter(pk=request_id).exclude(status=Status.DONE).update(
            status=Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        RecomputeRun.objects.filter(pk__in=[run.pk for run in runs], state=State.RUNNING).update(
            state=State.FAILED, finished_at=timezone.now(), error=str(exc)
        )
        raise


def _start_runs(request: RecomputeRequest, *, worker: str, beats: bool) -> list[RecomputeRun]:
    """One run per line, committed before the re-plan starts, so progress and the worker
    are visible (and a dead worker's run can be found by its stopped beat)."""
    now = timezone.now()
    runs = [
        RecomputeRun.objects.create(
            line_id=line_id,
            trigger=request.reason,
            worker=worker[:200],
            heartbeat_at=now if beats else None,
        )
        for line_id in sorted(request.line_ids) or [None]
    ]
    for run in runs:
        run.requests.add(request)
    return runs


class Heartbeat:
    """While the block runs, a thread marks the runs alive every HEARTBEAT_SECONDS.

    Django connections belong to a thread: the beat has its own, outside the re-plan's
    transaction, and closes it when it stops. It never waits for that transaction: a
    run row the re-plan is writing (at its very end) is skipped, not waited for, so the
    two can never deadlock."""

    def __init__(self, run_ids: list[int]):
        self.run_ids = run_ids
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="recompute-heartbeat", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_TIMEOUT.total_seconds())
        return False

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    with transaction.atomic():
                        # No-key: rows that reference a run (their foreign-key checks
                        # take key-share locks) must not stop the beat; only the
                        # re-plan's own write of the run row does.
                        free = RecomputeRun.objects.select_for_update(
                            skip_locked=True, no_key=True
                        ).filter(pk__in=self.run_ids, state=State.RUNNING)
                        RecomputeRun.objects.filter(
                            pk__in=list(free.values_list("pk", flat=True))
                        ).update(heartbeat_at=timezone.now())
                except Exception:
                    # A lost database connection: try again next beat with a new one.
                    logger.warning("Heartbeat of runs %s failed", self.run_ids, exc_info=True)
                    connections["default"].close()
        finally:
            connections.close_all()


def _recompute(request: RecomputeRequest, runs: list[RecomputeRun]) -> list[int]:
    line_ids = sorted(request.line_ids)
    started = time.perf_counter()
    with transaction.atomic():
        # Lock the lines in a fixed order: planning one line is serialized.
        lines = list(Line.objects.select_for_update().filter(pk__in=line_ids).order_by("pk"))
        claimed = _claim(request, set(line_ids))
        if not claimed:
            RecomputeRun.objects.filter(pk__in=[r.pk for r in runs]).delete()
            return []
        product_ids = sorted({pk for r in claimed for pk in r.product_ids})
        # Re-planning a line needs the current forecast of every product on it, but only
        # the products whose demand changed need a new one.
        timings = {"locked": round(time.perf_counter() - started, 3)}
        forecast = forecast_products(
            product_ids=product_ids,
            trigger="; ".join(sorted({r.reason for r in claimed}))[:200],
        )
        timings["forecast"] = round(time.perf_counter() - started - timings["locked"], 3)
        lines_by_id = {line.pk: line for line in lines}
        for run in runs:
            line = lines_by_id.get(run.line_id)
            run.product_ids = product_ids
            run.forecast_rows = forecast.rows_written
            run.first_week = forecast.first_week
            if line is not None:
                plan_started = time.perf_counter()
                summary = plan_line(line=line, run=run)
                run.recommendation_rows = summary["rows"]
                run.changed_cells = summary["changed"]
                run.prebuild_units = summary["prebuild"]
                run.shortage_units = summary["shortage"]
                run.plan_method = summary["method"]
                run.relaxation_gap = summary["gap"]
                timings["plan"] = round(time.perf_counter() - plan_started, 3)
            run.timings = {**timings, "total": round(time.perf_counter() - started, 3)}
            run.state = State.DONE
            run.finished_at = timezone.now()
        # Written last: until here the heartbeat updates the run rows without waiting.
        for run in runs:
            run.save()
            run.requests.add(*claimed)
        RecomputeRequest.objects.filter(pk__in=[r.pk for r in claimed]).update(
            status=Status.DONE, finished_at=timezone.now(), error=""
        )
    return [run.pk for run in runs]


def _claim(request: RecomputeRequest, line_ids: set[int]) -> list[RecomputeRequest]:
    """This request and every other unfinished one this run can serve: those whose lines
    are all locked by it (requests without a line coalesce with line-less runs only).

    Only those rows are locked. Locking every unfinished request would hold other lines'
    requests for the whole re-plan: their workers would wait to mark them running, or
    skip their own locked row and leave it "running" until the reconciler's limit."""
    unfinished = (
        RecomputeRequest.objects.filter(status__in=[Status.PENDING, Status.RUNNING])
        .order_by("pk")
        .values_list("pk", "line_ids")
    )
    servable = [
        pk
        for pk, lines in unfinished
        if pk == request.pk or (set(lines) <= line_ids and bool(lines) == bool(line_ids))
    ]
    claimed = list(
        RecomputeRequest.objects.select_for_update(skip_locked=True)
        .filter(pk__in=servable, status__in=[Status.PENDING, Status.RUNNING])
        .order_by("pk")
    )
    return claimed if any(c.pk == request.pk for c in claimed) else []


def reconcile() -> list[int]:
    """Hand to a worker again what a broker outage or a dead worker left behind; fail
    dead workers' runs visibly. Returns the request ids queued again."""
    now = timezone.now()
    _fail_dead_runs(now)
    orphans = _release_orphans(now)
    waiting = RecomputeRequest.objects.filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - UNSENT_GRACE)
        | Q(enqueued_at__lt=now - HANDED_OVER_GRACE),
        status=Status.PENDING,
    )
    ids = sorted({*orphans, *waiting.values_list("pk", flat=True)[:500]})
    for pk in ids:
        enqueue(pk)
    return ids


def _fail_dead_runs(now) -> list[int]:
    """Running runs whose worker stopped beating, or that ran far past the time limit.

    Rows locked by a live transaction are skipped: a worker that is writing its run
    is alive, and a killed worker's locks go with its database connection."""
    with transaction.atomic():
        dead = list(
            RecomputeRun.objects.select_for_update(skip_locked=True)
            .filter(state=State.RUNNING)
            .filter(
                Q(heartbeat_at__lt=now - HEARTBEAT_TIMEOUT) | Q(started_at__lt=now - STALE_RUNNING)
            )
            .order_by("pk")
        )
        for run in dead:
            run.state = State.FAILED
            run.finished_at = now
            run.error = _death_notice(run, now)
            logger.warning("Recompute run %s failed: %s", run.pk, run.error)
        RecomputeRun.objects.bulk_update(dead, ["state", "finished_at", "error"])
    return [run.pk for run in dead]


def _death_notice(run: RecomputeRun, now) -> str:
    """Why the run failed: its worker died (killed, out of memory, lost the database),
    or it is stuck. Either way nothing it wrote was kept, and its request is served by
    another run."""
    worker = f"its worker ({run.worker})" if run.worker else "its worker"
    if run.heartbeat_at is not None and run.heartbeat_at < now - HEARTBEAT_TIMEOUT:
        seen = timezone.localtime(run.heartbeat_at).strftime("%H:%M:%S")
        return (
            f"Stopped without finishing: no sign of life from {worker} since {seen}. "
            "Another run recomputes its request."
        )
    limit = settings.CELERY_TASK_TIME_LIMIT // 60
    return (
        f"Still running past the {limit}-minute time limit: {worker} is stuck. Another "
        "run recomputes its request once that worker lets go of it."
    )


def _release_orphans(now) -> list[int]:
    """Running requests no live run serves: their worker died before, during or after
    marking them running. Back to pending (or failed, after MAX_WORKER_LOSSES)."""
    live = RecomputeRun.objects.filter(requests=OuterRef("pk"), state=State.RUNNING)
    released = []
    with transaction.atomic():
        # Skip locked: a request another worker's re-plan has claimed is in good hands.
        orphans = list(
            RecomputeRequest.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RUNNING, started_at__lt=now - HEARTBEAT_TIMEOUT)
            .exclude(Exists(live))
            .order_by("pk")[:500]
        )
        for request in orphans:
            losses = request.runs.filter(state=State.FAILED).count()
            if losses >= MAX_WORKER_LOSSES:
                RecomputeRequest.objects.filter(pk=request.pk).update(
                    status=Status.FAILED,
                    finished_at=now,
                    error=f"Its worker stopped {losses} times (killed, or out of memory?); "
                    "not tried again.",
                )
            else:
                RecomputeRequest.objects.filter(pk=request.pk).update(status=Status.PENDING)
                released.append(request.pk)
    return released


def ends_the_night(request_id: int) -> bool:
    """Whether this request is a scheduled (nightly) one and no scheduled request is left
    unfinished: the night's re-plan has measured every line. Checked after the request's
    own transaction committed, so of two last requests finishing at once at least one
    sees the other done (both may: the refresh it triggers is idempotent)."""
    scheduled = RecomputeRequest.objects.filter(source=RecomputeRequest.Source.SCHEDULED)
    return (
        scheduled.filter(pk=request_id).exists()
        and not scheduled.filter(status__in=[Status.PENDING, Status.RUNNING]).exists()
    )


@transaction.atomic
def request_full_recompute(*, reason: str = "Nightly recompute") -> list[int]:
    """One request per line plus one for products without a line. The caller hands
    them to workers as a Celery group, so lines are planned in parallel."""
    active = Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
    groups = [
        active.filter(production_line_id=line_id)
        for line_id in Line.objects.order_by("pk").values_list("pk", flat=True)
    ]
    groups.append(active.filter(production_line__isnull=True))
    ids = []
    for products in groups:
        request = recompute_request(
            product_ids=products.values_list("pk", flat=True),
            source=RecomputeRequest.Source.SCHEDULED,
            reason=reason,
            enqueue_after_commit=False,
        )
        if request is not None:
            ids.append(request.pk)
    return ids
