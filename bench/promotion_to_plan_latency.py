"""How long from marketing saving a promotion to production's plan reflecting it?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/promotion_to_plan_latency.py [--lines 5] \\
        [--products-per-line 200] [--promotions 10] [--items 10] [--burst 5] \\
        [--concurrency 2] [--redis-db 5]

DESIGN.md's promise: "every demand signal reaches the production plan within seconds".
Measured end to end on real infrastructure: PostgreSQL, Redis as the broker and a real
Celery worker started by this script.

The DATABASE_URL only says which server to use: the script creates its own database
(`tandem_bench_promo`), migrates it, and drops it at the end (bench/_database.py). The
broker is redis://127.0.0.1:6379/<--redis-db> (5 by default; no test or
docker-compose service uses it), flushed before and after the run.

Built (seconds, in bulk): --lines lines of --products-per-line products (1,000 by
default), each product with a level (gamma, mean ~85 units/week), a yearly season
(amplitude 0.3, random phase), a small trend and 15% noise; 156 weeks (3 years) of
weekly sales up to last week, written with demand.services.sales_import.upsert_quantities
(COPY, what the CSV import runs); lead times 0-3 weeks, run rates 0.02-0.2 h/unit, on-hand
stock for the lead time plus 1.5 weeks of demand. Capacity per line from its load
(sum of level x hours per unit): the odd lines (Line 1, 3, 5) are tight, at 90% load with
half of their products out of stock, so the opening catch-up cannot be met on time and
the planner takes its exact LP path; the even lines are loose, at 60% load, and the
planner's certified fast path (latest-first) plans them. The first plan is the real
pipeline: production.services.pipeline.request_full_recompute and process_request for
each line in this process (forecasts of every product by the demand engine, then the
quota plan of every line); the planner's method per line is then read back by running
production.engine.plan_quotas on production.selectors.line_inputs.load_line's inputs, and
the script stops if a tight line is not on the LP path or a loose one not on the fast
path.

Measured:

- --promotions promotions, one after another, alternating a tight and a loose line, each
  on --items products of its line not promoted before (+60% expected lift, weeks 6-8 from
  now, confirmed), saved by a Marketing user through demand.services.promotions.
  promotion_create, as the browser and the API do: the outbox RecomputeRequest commits
  with the promotion, the task is enqueued on commit, and a real worker
  (`celery -A coordination worker --pool prefork --concurrency 2`, a subprocess against
  the bench database and broker) re-plans the line. The moment of commit is taken by an
  on_commit callback registered before the service's own. This process then polls the
  database every 20 ms until the promoted products' recommendations carry the promotion
  uplift (forecasts, quotas and the request's `done` commit in one transaction). Split,
  from the request's timestamps (same clock: same machine): commit -> enqueued (the
  broker publish, in the saving process), commit -> task start (queue wait: the worker's
  started_at), task start -> finished (run time) with the run's own stage timings
  (RecomputeRun.timings: line locked, forecast, plan) and the time the task's first
  UPDATE of its request waited for a row lock (the RecomputeRun row is created right
  after it), and finished -> seen by the poll.
- a burst: --burst promotions on different lines saved at the same moment (threads, a
  barrier, one database connection each) with --concurrency worker processes; the
  latency of each and of the last.
- the baseline, the floor: after each worker-measured promotion, another one on the
  same line (other products) whose request is handed, instead of to the broker, to
  production.services.pipeline.process_request in this process (what the task calls);
  the time of that call. Printed: end-to-end latency / baseline.

Checked after every promotion (the script stops otherwise): its request is `done` and a
RecomputeRun of its line is done; every (promoted product, promotion week) cell's
recommendation carries a promotion uplift > 0 (exactly --items x 3 cells); and the
promoted products' recommended production arriving by the end of the promotion (the
promotion weeks and the pre-build before them) rose. A request left `running` with no run
serving it for 5 s is reported as lost (the task returned without claiming it). At the
end the worker is stopped with SIGTERM (warm shutdown) and must exit 0, the Redis db is
flushed and the database dropped.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from _database import ROOT, bench_database

BENCH_DB = "tandem_bench_promo"
HISTORY_WEEKS = 156
PROMOTION_START, PROMOTION_WEEKS = 6, 3  # weeks from now, weeks long
LIFT_PCT = 60
POLL_SECONDS = 0.02
TIGHT_LOAD, LOOSE_LOAD = 0.90, 0.60
STOCKOUT_SHARE = 1 / 2  # of a tight line's products
LOST_AFTER = 5.0  # seconds a running request may have no run before it counts as lost


def fail(message: str):
    raise SystemExit(f"FAILED: {message}")


@dataclass
class Saved:
    """One saved promotion and what happened to it."""

    label: str
    line_id: int
    product_ids: list[int]
    before: float  # promoted production arriving by the promotion's end, before
    save_s: float
    committed_at: float  # time.time() when the promotion's transaction committed
    request_id: int = 0
    seen_at: float = 0.0
    figures: dict = field(default_factory=dict)


# --- the company ---------------------------------------------------------------------


def build_company(args) -> tuple:
    """Lines, products, 3 years of sales, run rates, stock and capacities.
    Returns (marketing user, lines, {line id: [product ids]}, tight line ids)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from coordination import roles
    from coordination.models import Line, Product, ProductLine
    from coordination.weeks import add_weeks, current_week
    from demand.models import Channel, SalesActual
    from demand.services.sales_import import upsert_quantities
    from production.models import InventoryPosition, RunRate

    rng = np.random.default_rng(args.seed)
    n_lines, per_line = args.lines, args.products_per_line
    lines = Line.objects.bulk_create(
        Line(name=f"Line {k + 1}", weekly_capacity_hours=Decimal("1.0")) for k in range(n_lines)
    )
    tight = {line.pk for k, line in enumerate(lines) if k % 2 == 0}
    families = ProductLine.objects.bulk_create(
        ProductLine(name=f"Family {k + 1}") for k in range(n_lines)
    )
    n = n_lines * per_line
    line_index = np.arange(n) // per_line
    lead = rng.integers(0, 4, n)
    products = Product.objects.bulk_create(
        Product(
            sku=f"PRM-{i:05d}",
            name=f"Product {i:05d}",
            product_line=families[line_index[i]],
            unit_price=2,
            unit_cost=1,
            production_line=lines[line_index[i]],
            lead_time_weeks=int(lead[i]),
        )
        for i in range(n)
    )
    ids = np.array([p.pk for p in products])

    level = rng.gamma(2.0, 40.0, n) + 5
    this_week = current_week()
    first = add_weeks(this_week, -HISTORY_WEEKS)
    t = np.arange(HISTORY_WEEKS)
    season = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] / 52 + rng.random(n)[:, None]))
    trend = 1 + rng.normal(0, 0.1, n)[:, None] * (t[None, :] - HISTORY_WEEKS) / HISTORY_WEEKS
    noise = rng.normal(1, 0.15, (n, HISTORY_WEEKS))
    sales = np.maximum(0, np.rint(level[:, None] * season * trend * noise)).astype(int)
    weeks = [add_weeks(first, k) for k in range(HISTORY_WEEKS)]
    with transaction.atomic():
        upsert_quantities(
            SalesActual,
            date_field="week",
            quantity_field="units",
            key_field="channel",
            records=(
                (int(ids[i]), week, int(sales[i, k]), Channel.ALL)
                for i in range(n)
                for k, week in enumerate(weeks)
            ),
        )

    hours = rng.uniform(0.02, 0.2, n)
    RunRate.objects.bulk_create(
        RunRate(product_id=int(ids[i]), hours_per_unit=Decimal(f"{hours[i]:.6f}")) for i in range(n)
    )
    on_hand = level * (lead + 1.5)
    on_tight = np.isin(line_index, [k for k, line in enumerate(lines) if line.pk in tight])
    on_hand[on_tight & (rng.random(n) < STOCKOUT_SHARE)] = 0
    InventoryPosition.objects.bulk_create(
        InventoryPosition(product_id=int(ids[i]), as_of=timezone.localdate(), on_hand=int(v))
        for i, v in enumerate(on_hand)
    )
    load = np.bincount(line_index, weights=level * hours, minlength=n_lines)
    for k, line in enumerate(lines):
        share = TIGHT_LOAD if line.pk in tight else LOOSE_LOAD
        line.weekly_capacity_hours = Decimal(f"{load[k] / share:.1f}")
    Line.objects.bulk_update(lines, ["weekly_capacity_hours"])

    marketing = get_user_model().objects.create(username="marketing")
    marketing.groups.add(Group.objects.get(name=roles.MARKETING))
    if not marketing.has_perm("demand.confirm_promotion"):
        fail("the Marketing role may not confirm promotions")
    by_line = {line.pk: [int(pk) for pk in ids[line_index == k]] for k, line in enumerate(lines)}
    return marketing, lines, by_line, tight


def first_plan() -> float:
    """The nightly full recompute, run in this process: forecasts and plans of all."""
    from production.services import pipeline

    started = time.perf_counter()
    for request_id in pipeline.request_full_recompute(reason="Bench: first plan"):
        pipeline.process_request(request_id)
    return time.perf_counter() - started


def planner_methods(lines) -> dict[int, str]:
    """How the planner solves each line now (the engine on the service's inputs)."""
    from production.engine import plan_quotas
    from production.selectors.line_inputs import load_line

    methods = {}
    for line in lines:
        inputs = load_line(line)
        plan = plan_quotas(
            demand=inputs.demand,
            on_hand=inputs.on_hand,
            safety_stock=inputs.safety_stock,
            lead_time=inputs.lead_time,
            line_of=np.zeros(len(inputs.product_ids), dtype=int),
            hours_per_unit=inputs.hours_per_unit,
            capacity_hours=inputs.capacity_hours[np.newaxis, :],
            frozen=inputs.frozen,
            hold=inputs.hold,
        )
        methods[line.pk] = plan.methods[0]
    return methods


# --- promotions ----------------------------------------------------------------------


def promotion_weeks():
    from coordination.weeks import add_weeks, current_week

    start = add_weeks(current_week(), PROMOTION_START)
    return start, add_weeks(start, PROMOTION_WEEKS - 1)


def arriving_by_end(product_ids: list[int]) -> float:
    """Recommended production of these products that arrives by the promotion's end:
    the promotion weeks and any pre-build before them."""
    from django.db.models import Sum

    from production.models import QuotaRecommendation

    _, end = promotion_weeks()
    total = QuotaRecommendation.objects.filter(
        product_id__in=product_ids, covers_week__lte=end
    ).aggregate(units=Sum("recommended_units"))["units"]
    return float(total or 0)


def save_promotion(actor, label: str, line_id: int, product_ids: list[int]) -> Saved:
    """promotion_create, confirmed, as the browser saves it; the commit time is taken
    by an on_commit callback registered before the service's enqueue."""
    from django.db import transaction

    from coordination.selectors.recompute import latest_request_about
    from demand.models import Promotion
    from demand.services.promotions import promotion_create

    start, end = promotion_weeks()
    before = arriving_by_end(product_ids)
    committed: list[float] = []
    started = time.perf_counter()
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        promotion = promotion_create(
            actor=actor,
            name=f"Bench {label}",
            discount_pct=Decimal("20"),
            start_week=start,
            end_week=end,
            items=[{"product": pk, "expected_lift_pct": LIFT_PCT} for pk in product_ids],
            status=Promotion.Status.CONFIRMED,
        )
    saved = Saved(label, line_id, product_ids, before, time.perf_counter() - started, committed[0])
    request = latest_request_about(promotion)
    if request is None or sorted(request.line_ids) != [line_id]:
        fail(f"{label}: the promotion did not request a recompute of line {line_id}")
    saved.request_id = request.pk
    return saved


def save_at_once(actor, specs: list[tuple[str, int, list[int]]]) -> list[Saved]:
    """Several marketers press save at the same moment: one thread and connection each."""
    from django.db import connection

    barrier = threading.Barrier(len(specs))
    results: list = [None] * len(specs)

    def save(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = save_promotion(actor, *specs[index])
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(k,)) for k in range(len(specs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def wait_until_planned(saved: list[Saved], worker, timeout: float) -> None:
    """Poll every 20 ms until each promotion's products carry its uplift in the plan."""
    from coordination.models import RecomputeRequest
    from production.models import QuotaRecommendation

    waiting = {pk: s for s in saved for pk in s.product_ids}
    deadline = time.monotonic() + timeout
    orphaned_since: dict[int, float] = {}
    while waiting:
        seen = set(
            QuotaRecommendation.objects.filter(
                product_id__in=list(waiting), promotion_uplift__gt=0
            ).values_list("product_id", flat=True)
        )
        now = time.time()
        for pk in seen:
            promotion = waiting.get(pk)
            if promotion is not None:
                promotion.seen_at = now
                for other in promotion.product_ids:
                    waiting.pop(other, None)
        if not waiting:
            break
        pending = {s.request_id for s in waiting.values()}
        statuses = dict(RecomputeRequest.objects.filter(pk__in=pending).values_list("pk", "status"))
        if RecomputeRequest.Status.FAILED in statuses.values() or worker.poll() is not None:
            fail(f"requests {statuses}, worker exit code {worker.poll()}")
        orphaned = set(
            RecomputeRequest.objects.filter(
                pk__in=pending, status=RecomputeRequest.Status.RUNNING, runs__isnull=True
            ).values_list("pk", flat=True)
        )
        for pk in orphaned - set(orphaned_since):
            orphaned_since[pk] = time.monotonic()
        for pk in set(orphaned_since) - orphaned:
            del orphaned_since[pk]
        lost = [pk for pk, since in orphaned_since.items() if time.monotonic() - since > LOST_AFTER]
        if lost:
            fail(
                f"requests {lost} are lost: marked running, yet no run serves them for "
                f"{LOST_AFTER:.0f} s (their task claimed nothing and returned); only the "
                "reconciler takes them up again, seconds later"
            )
        if time.monotonic() > deadline:
            fail(f"not planned within {timeout:.0f} s: requests {statuses}")
        time.sleep(POLL_SECONDS)


def check_and_time(promotion: Saved) -> None:
    """The plan reflects the promotion; the request's timings into promotion.figures."""
    from coordination.models import RecomputeRequest
    from production.models import QuotaRecommendation, RecomputeRun

    start, end = promotion_weeks()
    request = RecomputeRequest.objects.get(pk=promotion.request_id)
    run = (
        RecomputeRun.objects.filter(
            requests=request, line_id=promotion.line_id, state=RecomputeRun.State.DONE
        )
        .order_by("-pk")
        .first()
    )
    if request.status != RecomputeRequest.Status.DONE or run is None:
        fail(f"{promotion.label}: request {request.status}, run {run}")
    lifted = QuotaRecommendation.objects.filter(
        product_id__in=promotion.product_ids,
        covers_week__gte=start,
        covers_week__lte=end,
        promotion_uplift__gt=0,
    ).count()
    expected = len(promotion.product_ids) * PROMOTION_WEEKS
    if lifted != expected:
        fail(f"{promotion.label}: {lifted} promoted cells carry the uplift, {expected} expected")
    after = arriving_by_end(promotion.product_ids)
    if not after > promotion.before:
        fail(f"{promotion.label}: promoted production fell: {promotion.before} -> {after}")
    committed = promotion.committed_at
    promotion.figures |= {
        "enqueue": (request.enqueued_at.timestamp() - committed) if request.enqueued_at else None,
        "queue": request.started_at.timestamp() - committed,
        "run": (request.finished_at - request.started_at).total_seconds(),
        # The run row is created right after the task marks its request running: a gap
        # means that UPDATE waited for a row lock held by another worker's transaction.
        "blocked": (run.started_at - request.started_at).total_seconds()
        if run.started_at >= request.started_at
        else None,
        "seen": (promotion.seen_at - committed) if promotion.seen_at else None,
        "after_done": (promotion.seen_at - request.finished_at.timestamp())
        if promotion.seen_at
        else None,
        "locked": run.timings.get("locked"),
        "forecast": run.timings.get("forecast"),
        "plan": run.timings.get("plan"),
        "added": after - promotion.before,
        "prebuild": run.prebuild_units,
        "requests in run": run.requests.count(),
    }


def in_process(promotion: Saved) -> None:
    """The baseline: the task's function called here, right after the commit."""
    from production.services import pipeline

    started = time.perf_counter()
    pipeline.process_request(promotion.request_id)
    promotion.figures["in_process"] = time.perf_counter() - started


@contextmanager
def enqueue_disabled():
    """The outbox row is written, but no task is published (the baseline runs it)."""
    from coordination.services import recompute

    real = recompute.enqueue
    recompute.enqueue = lambda request_id: True
    try:
        yield
    finally:
        recompute.enqueue = real


# --- the worker and the broker -------------------------------------------------------


def flush_broker(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = client.dbsize()
        client.flushdb()
        return keys
    finally:
        client.close()


@contextmanager
def celery_worker(concurrency: int, log: Path):
    """A real worker on the bench database and broker; warm shutdown at the end."""
    from coordination.celery import app

    name = f"bench-promo-{os.getpid()}@localhost"
    command = [sys.executable, "-m", "celery", "-A", "coordination", "worker"]
    command += ["--pool", "prefork", "--concurrency", str(concurrency), "-n", name]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    with log.open("w") as output:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=dict(os.environ), stdout=output, stderr=output
        )
    stopped = False
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                fail(
                    f"the worker did not come up (exit {worker.poll()}): {log.read_text()[-2000:]}"
                )
        yield worker
        began = time.perf_counter()
        worker.terminate()
        code = worker.wait(timeout=60)
        stopped = True
        if code != 0:
            fail(f"the worker exited with {code}: {log.read_text()[-2000:]}")
        stop_s = time.perf_counter() - began
        print(f"worker stopped (SIGTERM, warm shutdown): exit 0 in {stop_s:.1f} s")
    finally:
        if not stopped:
            worker.terminate()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


# --- the run -------------------------------------------------------------------------


def median_max_ms(values: list[float]) -> str:
    values = [v * 1000 for v in values if v is not None]
    if not values:
        return f"{'-':>9} {'-':>9}"
    return f"{statistics.median(values):9.0f} {max(values):9.0f}"


def run(args, broker: str) -> None:
    started = time.perf_counter()
    marketing, lines, by_line, tight = build_company(args)
    built_s = time.perf_counter() - started
    plan_s = first_plan()
    methods = planner_methods(lines)
    for line in lines:
        wanted = "lp" if line.pk in tight else "latest-first"
        if methods[line.pk] != wanted:
            fail(f"{line} is planned by {methods[line.pk]}, the bench wants {wanted}")
    n_products = sum(len(ids) for ids in by_line.values())
    print(
        f"company: {len(lines)} lines x {args.products_per_line} products = {n_products:,}, "
        f"{HISTORY_WEEKS} weeks of sales ({n_products * HISTORY_WEEKS:,} rows); built in "
        f"{built_s:.1f} s, first full plan (forecasts + {len(lines)} lines, in process) "
        f"{plan_s:.1f} s"
    )
    print(
        "planner: "
        + ", ".join(
            f"{line} {'tight' if line.pk in tight else 'loose'} {methods[line.pk]}"
            for line in lines
        )
    )

    rng = random.Random(args.seed)
    unpromoted = {pk: rng.sample(ids, len(ids)) for pk, ids in by_line.items()}
    tight_lines = [line for line in lines if line.pk in tight]
    loose_lines = [line for line in lines if line.pk not in tight]

    def products_of(line) -> list[int]:
        if len(unpromoted[line.pk]) < args.items:
            fail(f"{line} has no {args.items} unpromoted products left: raise --products-per-line")
        return [unpromoted[line.pk].pop() for _ in range(args.items)]

    sequential: list[Saved] = []
    baseline: list[Saved] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        celery_worker(args.concurrency, Path(folder) / "worker.log") as worker,
    ):
        print(
            f"worker: celery prefork, concurrency {args.concurrency}, broker {broker}; "
            f"{args.promotions} promotions of {args.items} products, +{LIFT_PCT}% in weeks "
            f"{PROMOTION_START}-{PROMOTION_START + PROMOTION_WEEKS - 1} from now\n",
            flush=True,
        )
        print(
            f"{'promotion':<22}{'line':>8}{'save ms':>9}{'queue ms':>9}{'run ms':>8}"
            f"{'seen ms':>9}{'in-proc ms':>11}{'+units':>9}{'pre-build':>10}"
        )
        for k in range(args.promotions):
            kind, pool = ("tight", tight_lines) if k % 2 == 0 else ("loose", loose_lines)
            line = pool[(k // 2) % len(pool)]
            promotion = save_promotion(marketing, f"#{k + 1} {kind}", line.pk, products_of(line))
            wait_until_planned([promotion], worker, args.timeout)
            check_and_time(promotion)
            sequential.append(promotion)
            with enqueue_disabled():
                floor = save_promotion(
                    marketing, f"#{k + 1} in-process", line.pk, products_of(line)
                )
            in_process(floor)
            check_and_time(floor)
            baseline.append(floor)
            f = promotion.figures
            print(
                f"{promotion.label:<22}{line.name:>8}{promotion.save_s * 1000:>9.0f}"
                f"{f['queue'] * 1000:>9.0f}{f['run'] * 1000:>8.0f}{f['seen'] * 1000:>9.0f}"
                f"{floor.figures['in_process'] * 1000:>11.0f}{f['added']:>9.0f}"
                f"{f['prebuild']:>10.0f}",
                flush=True,
            )

        burst_lines = (tight_lines + loose_lines)[: args.burst]
        burst = save_at_once(
            marketing,
            [(f"burst {line.name}", line.pk, products_of(line)) for line in burst_lines],
        )
        wait_until_planned(burst, worker, args.timeout)
        for promotion in burst:
            check_and_time(promotion)

    report(args, sequential, baseline, burst, tight)


def report(args, sequential: list[Saved], baseline: list[Saved], burst: list[Saved], tight) -> None:
    def column(rows: list[Saved], name: str) -> list[float]:
        return [row.figures[name] for row in rows]

    print(f"\n{'':<52}{'n':>4}{'median ms':>10}{'max ms':>10}")

    def line(label: str, values: list[float]) -> None:
        print(f"{label:<52}{len(values):>4} {median_max_ms(values)}")

    line("save: promotion_create (write, commit, enqueue)", [s.save_s for s in sequential])
    line("commit -> enqueued (broker publish, saving process)", column(sequential, "enqueue"))
    line("commit -> task start (queue wait)", column(sequential, "queue"))
    line("task run (start -> request done)", column(sequential, "run"))
    line("  of it: waiting to mark the request running", column(sequential, "blocked"))
    line("  of it: line locked and requests claimed", column(sequential, "locked"))
    line("  of it: forecast of the promoted products", column(sequential, "forecast"))
    line("  of it: re-plan of the line", column(sequential, "plan"))
    line("request done -> seen (its COMMIT, the 20 ms poll)", column(sequential, "after_done"))
    line("commit -> plan visible (polled every 20 ms)", column(sequential, "seen"))
    line("  tight lines (LP path)", [s.figures["seen"] for s in sequential if s.line_id in tight])
    line(
        "  loose lines (fast path)",
        [s.figures["seen"] for s in sequential if s.line_id not in tight],
    )
    line("baseline: process_request in process", column(baseline, "in_process"))
    line(
        f"burst: {len(burst)} at once, {args.concurrency} workers, each",
        column(burst, "seen"),
    )
    line("  of it: queue wait", column(burst, "queue"))
    line("  of it: task run", column(burst, "run"))
    line("  of the run: waiting to mark the request running", column(burst, "blocked"))
    line("  of the run: line locked and requests claimed", column(burst, "locked"))
    last = max(s.seen_at for s in burst) - min(s.committed_at for s in burst)
    print(f"{'  burst: first commit -> last plan visible':<52}{'':>4} {last * 1000:9.0f}")
    seen = statistics.median(column(sequential, "seen"))
    floor = statistics.median(column(baseline, "in_process"))
    print(f"\nend-to-end / in-process baseline (medians): {seen / floor:.2f}x")
    coalesced = [s.label for s in burst if s.figures["requests in run"] > 1]
    print(
        f"checked: {len(sequential) + len(baseline) + len(burst)} promotions, each request done,"
        f" {args.items} x {PROMOTION_WEEKS} promoted cells with uplift, promoted production up"
        + (f"; coalesced in the burst: {', '.join(coalesced)}" if coalesced else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--products-per-line", type=int, default=200)
    parser.add_argument("--promotions", type=int, default=10)
    parser.add_argument("--items", type=int, default=10, help="products per promotion")
    parser.add_argument("--burst", type=int, default=5, help="promotions saved at once")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="seconds per wait")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.lines < 2 or args.promotions < 1 or not 1 <= args.burst <= args.lines:
        parser.error("--lines >= 2, --promotions >= 1 and 1 <= --burst <= --lines, please")
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    # Before Django loads its settings: real workers, and this process publishes to them.
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.pop("CELERY_RESULT_BACKEND", None)
    left = flush_broker(broker)
    if left:
        print(f"flushed {left} keys left in {broker}")
    try:
        with bench_database(BENCH_DB):
            run(args, broker)
    finally:
        flush_broker(broker)


if __name__ == "__main__":
    main()
