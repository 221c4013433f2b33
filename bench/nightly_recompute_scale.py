"""The nightly re-plan of a large company on one worker process and on two.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/nightly_recompute_scale.py [--products 20000] [--lines 40] \\
        [--processes 1,2] [--redis-db 5]

Issue 18's target: the nightly plan of 20,000 products x 40 lines finishes in under 60 s
with two worker processes on this 2-core box, and two are at least 1.6x one (same run,
same data).

The script creates `tandem_bench_nightly` on DATABASE_URL's server, loads a company into
it with `manage.py seed_scale` (3 years of weekly sales, run rates, stock, promotions, an
accepted schedule), and drops it at the end (bench/_database.py). The broker is
redis://127.0.0.1:6379/<--redis-db>, flushed before and after each run.

Per --processes value k, on the same data: a real Celery worker (prefork, concurrency k,
a subprocess on the bench database) is started; the nightly task's work is handed to it
exactly as `production.nightly_recompute` does (one recompute request per line, published
as a Celery group), with the shared cache of docker-compose (CACHE_URL, Redis db
<--redis-db> + 1, flushed before each run), through which the workers split measuring the
product lines' past promotions instead of each measuring all of them. The clock runs
from the publish until every request is done (polled every 0.2 s). Printed per run: the
wall time, the sum over lines of the runs' own stage timings (forecast and plan,
RecomputeRun.timings), the slowest line, and the speed-up of each run over the first.
Exits non-zero if a request fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import bench_database
from _processes import start, stop


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def worker(concurrency: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "coordination", "worker", "-Q", "planning"]
    command += ["--pool", "prefork", "--concurrency", str(concurrency)]
    command += ["--hostname", f"nightly-bench-{os.getpid()}@localhost", "--loglevel", "WARNING"]
    command += ["--without-mingle", "--without-gossip"]
    return start(command, dict(os.environ), log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--redis-db", type=int, default=5)
    args = parser.parse_args()
    processes = [int(k) for k in args.processes.split(",")]
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    os.environ["CELERY_BROKER_URL"] = broker
    # The workers share what each product line's promotions taught through this cache, as
    # in docker-compose (CACHE_URL); it is flushed before each run, so each starts cold.
    shared_cache = f"redis://127.0.0.1:6379/{args.redis_db + 1}"
    os.environ["CACHE_URL"] = shared_cache

    with bench_database("tandem_bench_nightly"), tempfile.TemporaryDirectory() as folder:
        import redis
        from celery import group
        from django.core.management import call_command

        from coordination.celery import app
        from coordination.models import RecomputeRequest
        from production.models import RecomputeRun
        from production.services import pipeline
        from production.tasks import process_recompute_request

        began = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_scale", products=args.products, lines=args.lines, stdout=quiet)
        print(
            f"seed_scale: {args.products:,} products x {args.lines} lines in "
            f"{time.perf_counter() - began:.1f} s"
        )
        app.conf.task_always_eager = False
        results = []
        for k in processes:
            redis.Redis.from_url(broker).flushdb()
            redis.Redis.from_url(shared_cache).flushdb()
            process = worker(k, Path(folder) / f"worker-{k}.log")
            try:
                deadline = time.monotonic() + 60
                while not app.control.ping(timeout=0.5):
                    if process.poll() is not None or time.monotonic() > deadline:
                        fail(f"the worker did not start: {(Path(folder) / f'worker-{k}.log')}")
                ids = pipeline.request_full_recompute(reason=f"Nightly bench, {k} processes")
                started = time.perf_counter()
                group(process_recompute_request.s(pk) for pk in ids).apply_async()
                requests = RecomputeRequest.objects.filter(pk__in=ids)
                while requests.exclude(status__in=["done", "failed"]).exists():
                    if time.perf_counter() - started > 1800:
                        fail("the nightly re-plan did not finish within 30 minutes")
                    time.sleep(0.2)
                wall = time.perf_counter() - started
                if requests.filter(status="failed").exists():
                    fail(f"failed: {list(requests.filter(status='failed').values('error'))}")
                runs = list(
                    RecomputeRun.objects.filter(requests__in=ids)
                    .distinct()
                    .values("line__name", "timings")
                )
                forecast = sum(r["timings"].get("forecast", 0) for r in runs)
                plan = sum(r["timings"].get("plan", 0) for r in runs)
                slowest = max(runs, key=lambda r: r["timings"].get("total", 0))
                slowest_s = slowest["timings"].get("total", 0)
                results.append((k, wall))
                print(
                    f"{k} process{'es' if k != 1 else ''}: {wall:.1f} s wall for {len(ids)} "
                    f"requests; summed over lines forecast {forecast:.1f} s, plan {plan:.1f} s; "
                    f"slowest line {slowest['line__name']} {slowest_s:.1f} s"
                )
            finally:
                stop(process, timeout=120)
                redis.Redis.from_url(broker).flushdb()
                redis.Redis.from_url(shared_cache).flushdb()
        first_k, first = results[0]
        for k, wall in results[1:]:
            print(f"{k} processes vs {first_k}: {first / wall:.2f}x")


if __name__ == "__main__":
    main()
