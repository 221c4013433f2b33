"""How fast does a customer request page render with the plan's promise on it?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/request_page_speed.py [--renders 30]

Issue 15's target: the request page with the promise renders in under 500 ms on the demo.
The script seeds the demo (`seed_demo`, recomputes run in-process) into its own database
(bench/_database.py), then, for every open customization of the demo whose request the
plan can be asked about, times GET /requests/<id>/ as the production manager who reviews
it (the full Django stack in process: session, middleware, the request, the promise, the
forms, the timeline, the template):

- cold: the first render after the line's promise state was dropped (reads the line and
  its plan into the engine's state, as after a new plan);
- warm: median, 95th percentile and worst of --renders renders on the kept state;
- baseline, in the same run: the same pages with the plan not asked (no promise).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database

BENCH_DB = "tandem_bench_request_page"
TARGET_S = 0.5


def timed_get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()
    # As the demo runs (static files served from the app directories, no manifest).
    os.environ.setdefault("DEBUG", "1")
    with bench_database(BENCH_DB):
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from coordination import promising
        from coordination.models import CustomerRequest
        from coordination.services.customer_requests import plan_promise
        from production.selectors.promise import forget_line_states

        started = time.perf_counter()
        call_command("seed_demo", verbosity=0)
        print(f"demo seeded and planned in {time.perf_counter() - started:.1f} s")

        client = Client(SERVER_NAME="localhost")
        client.force_login(get_user_model().objects.get(username="production"))

        open_customizations = CustomerRequest.objects.filter(
            kind="customization", status__in=["new", "triaged", "in_review", "quoted"]
        ).select_related("product")
        asked = [r for r in open_customizations if (p := plan_promise(r)) and p.answer]
        if not asked:
            sys.exit("The demo has no open customization the plan can answer.")

        print(f"\n{'request':<44} {'cold':>8} {'median':>8} {'p95':>8} {'worst':>8}")
        worst_warm = []
        for request in asked:
            url = f"/requests/{request.pk}/"
            forget_line_states()
            cold = timed_get(client, url)
            warm = sorted(timed_get(client, url) for _ in range(args.renders))
            p95 = warm[int(0.95 * (len(warm) - 1))]
            worst_warm.append(p95)
            name = f"#{request.pk} {request.product.sku} x {request.quantity}"
            print(
                f"{name:<44} {cold * 1000:>6.0f}ms {statistics.median(warm) * 1000:>6.0f}ms "
                f"{p95 * 1000:>6.0f}ms {warm[-1] * 1000:>6.0f}ms"
            )
        # Baseline, same run: the same pages with the plan not asked (no promise card).
        answer, promising._ANSWER[:] = list(promising._ANSWER), []
        plain = sorted(
            timed_get(client, f"/requests/{request.pk}/")
            for request in asked
            for _ in range(args.renders)
        )
        promising._ANSWER[:] = answer
        print(
            f"{'the same pages without the promise':<44} {'':>8} "
            f"{statistics.median(plain) * 1000:>6.0f}ms "
            f"{plain[int(0.95 * (len(plain) - 1))] * 1000:>6.0f}ms {plain[-1] * 1000:>6.0f}ms"
        )
        verdict = "meets" if max(worst_warm) < TARGET_S else "MISSES"
        print(f"\nTarget: under {TARGET_S * 1000:.0f} ms. Warm p95 {verdict} it.")


if __name__ == "__main__":
    main()
