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
- a worker killed mid-run rolls back: the old plan stays, the request stays pending,
  and the broker redelivers the task (acks_late, reject_on_worker_lost).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coordination.models import Product, RecomputeRequest
from coordination.services.recompute import enqueue, recompute_request
from demand.services.forecasting import forecast_products
from production.models import Line, RecomputeRun
from production.services.planning import plan_line

logger = logging.getLogger(__name__)

Status = RecomputeRequest.Status
# A request "running" for longer than this lost its worker (the task time limit is 15 min).
STALE_RUNNING = timedelta(minutes=20)
PENDING_GRACE = timedelta(minutes=1)


def process_request(request_id: int) -> list[int]:
    """Handle one request (and everything coalesced with it). Returns the run ids."""
    request = RecomputeRequest.objects.filter(pk=request_id).first()
    if request is None or request.is_finished:
        return []  # already done by a coalescing run, or a duplicate delivery
    # Visible progress for the browser, outside the main transaction.
    RecomputeRequest.objects.filter(pk=request_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    try:
        return _recompute(request)
    except Exception as exc:
        logger.exception("Recompute request %s failed", request_id)
        RecomputeRequest.objects.filter(pk=request_id).exclude(status=Status.DONE).update(
            status=Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        RecomputeRun.objects.filter(
            requests__pk=request_id, state=RecomputeRun.State.RUNNING
        ).update(state=RecomputeRun.State.FAILED, finished_at=timezone.now(), error=str(exc))
        raise


def _recompute(request: RecomputeRequest) -> list[int]:
    line_ids = sorted(request.line_ids)
    runs = [
        RecomputeRun.objects.create(line_id=line_id, trigger=request.reason)
        for line_id in line_ids or [None]
    ]
    for run in runs:
        run.requests.add(request)
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
                timings["plan"] = round(time.perf_counter() - plan_started, 3)
            run.timings = {**timings, "total": round(time.perf_counter() - started, 3)}
            run.state = RecomputeRun.State.DONE
            run.finished_at = timezone.now()
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
    """Re-enqueue requests a broker outage or a lost worker left behind."""
    now = timezone.now()
    stuck = RecomputeRequest.objects.filter(
        Q(status=Status.PENDING, created_at__lt=now - PENDING_GRACE)
        | Q(status=Status.RUNNING, started_at__lt=now - STALE_RUNNING)
    ).order_by("pk")
    ids = list(stuck.values_list("pk", flat=True)[:500])
    RecomputeRequest.objects.filter(pk__in=ids, status=Status.RUNNING).update(status=Status.PENDING)
    RecomputeRun.objects.filter(
        state=RecomputeRun.State.RUNNING, started_at__lt=now - STALE_RUNNING
    ).update(
        state=RecomputeRun.State.FAILED,
        finished_at=now,
        error="The worker stopped before finishing; the request was queued again.",
    )
    for pk in ids:
        enqueue(pk)
    return ids


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
