"""CPU seconds of the nightly re-plan per 1,000 products, in this process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/nightly_cpu.py [--products 2000] [--lines 4] [--repeat 3] \\
        [--fingerprint] [--profile FILE] [--database tandem_bench_nightly_cpu]

The script creates its own database on DATABASE_URL's server (bench/_database.py),
loads a company with `manage.py seed_scale` (same seed, same company), and drops it at
the end. Then the nightly recompute's work without Celery and without a second process:
the requests `production.nightly_recompute` publishes (one per line) are handled one
after the other here, as a worker handles each (`pipeline.process_request`), with the
caches cleared first so every product line's past promotions are measured again, as on
the first night. Printed per repeat: this process's CPU seconds (time.process_time: not
the database's, not waiting), per 1,000 products; the wall seconds of the same span (the
database's work and any waiting on top of this process's CPU), per 1,000 products; and
the runs' own stage timings (forecast, plan; wall, so waiting included) summed over
lines; then the medians. CPU time, unlike wall time, is little moved by other jobs on a
shared box.

`--fingerprint` prints a digest of every forecast and recommendation written, without
ids, run ids and times: the same code on the same data and week gives the same digest,
so a faster version that prints the digest of the former one changed no result.
`--profile FILE` writes a cProfile of the last repeat.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fingerprint", action="store_true")
    parser.add_argument("--profile", help="write a cProfile of the last repeat here")
    parser.add_argument("--database", default="tandem_bench_nightly_cpu")
    args = parser.parse_args()
    with bench_database(args.database):
        from django.core.management import call_command

        call_command("seed_scale", products=args.products, lines=args.lines, stdout=io.StringIO())
        measure(args)


def measure(args) -> None:
    from django.core.cache import caches

    from coordination.models import Product
    from production.models import RecomputeRun
    from production.services import pipeline

    products = Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED).count()
    per_repeat, walls = [], []
    for repeat in range(args.repeat):
        for name in ("default", "local"):
            caches[name].clear()
        ids = pipeline.request_full_recompute()
        profile = cProfile.Profile() if args.profile and repeat == args.repeat - 1 else None
        stages = {"forecast": 0.0, "plan": 0.0}
        started, wall_started = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        for request_id in ids:
            for run in RecomputeRun.objects.filter(pk__in=pipeline.process_request(request_id)):
                for stage in stages:
                    stages[stage] += run.timings.get(stage, 0.0)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        cpu = time.process_time() - started
        wall = time.perf_counter() - wall_started
        per_repeat.append(cpu / products * 1000)
        walls.append(wall / products * 1000)
        print(
            f"repeat {repeat + 1}: {cpu:.2f} s CPU for {products:,} products in {len(ids)} "
            f"requests, {per_repeat[-1]:.2f} s per 1,000 products ({walls[-1]:.2f} s wall in "
            f"this process: the database's work and waiting on top); stage timings summed "
            f"(wall): forecast {stages['forecast']:.2f} s, plan {stages['plan']:.2f} s"
        )
    print(
        f"median: {statistics.median(per_repeat):.2f} s CPU, "
        f"{statistics.median(walls):.2f} s wall per 1,000 products"
    )
    if args.fingerprint:
        print(f"fingerprint: {fingerprint()}")


def fingerprint() -> str:
    """A digest of the forecasts and recommendations now stored, without their ids, run
    ids or times (which differ between runs)."""
    from demand.models import DemandForecast
    from production.models import QuotaRecommendation

    digest = hashlib.sha256()
    for model in (DemandForecast, QuotaRecommendation):
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in ("id", "run_id")
            and field.get_internal_type() != "DateTimeField"
        ]
        for row in model.objects.order_by("product_id", "week").values_list(*names):
            digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    main()
