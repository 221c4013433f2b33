"""How fast does the REST promise answer on a planned line in PostgreSQL?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/promise_api_speed.py [--products 500] [--weeks 26] [--requests 50]

bench/promise_speed.py times the engine alone; this times the path an API client takes:
POST /api/v1/promises/ -> production.selectors.promise -> the engine, on a line stored in
its own database (bench/_database.py). The line is promise_speed.py's (seasonal demand, a
promotion peak, hours per unit varying 10x, lead times 0-3 weeks, two frozen weeks, 1% of
products on hold, a third of the demand firm), written as products, run rates, stock,
holds and forecasts, and planned by the pipeline's own plan_line. Printed per load:

- cold: the first promise after a new plan (reads the line and the plan into the
  engine's state; on an over-committed line also solves its least firm lateness);
- warm: median and worst of --requests random requests on the kept state, through the
  selector and through the API (HTTP request in process, authentication, JSON);
- the target: a promise in under 200 ms (issue 15).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database
from promise_speed import line_state, requests

BENCH_DB = "tandem_bench_promise_api"
TARGET_S = 0.2


def store_line(name: str, state, weeks: int):
    """Write the engine state's inputs as a line of the database and plan it with the
    pipeline's plan_line; returns the line and {product index: SKU}."""
    from django.db import transaction
    from django.utils import timezone

    from coordination.models import Line, Product, ProductLine
    from coordination.weeks import add_weeks, current_week
    from demand.models import DemandForecast, ForecastRun
    from production.models import InventoryPosition, ProductionHold, RecomputeRun, RunRate
    from production.services.planning import plan_line

    n = len(state.products)
    this_week = current_week()
    with transaction.atomic():
        line = Line.objects.create(
            name=name,
            weekly_capacity_hours=Decimal(f"{state.capacity_hours[0]:.1f}"),
            frozen_window_weeks=state.frozen_weeks,
        )
        family, _ = ProductLine.objects.get_or_create(name="Bench family")
        products = Product.objects.bulk_create(
            Product(
                sku=f"{name[:3].upper()}-{i:05d}",
                name=f"{name} product {i}",
                product_line=family,
                unit_price=2,
                unit_cost=1,
                production_line=line,
                lead_time_weeks=int(state.lead_time[i]),
            )
            for i in range(n)
        )
        RunRate.objects.bulk_create(
            RunRate(product=p, hours_per_unit=Decimal(f"{state.hours_per_unit[i]:.6f}"))
            for i, p in enumerate(products)
        )
        InventoryPosition.objects.bulk_create(
            InventoryPosition(
                product=p, as_of=timezone.localdate(), on_hand=max(0, int(state.on_hand[i]))
            )
            for i, p in enumerate(products)
        )
        ProductionHold.objects.bulk_create(
            ProductionHold(product=products[i], reason=reason, reference="RC-BENCH")
            for i, reason in state.hold_reason.items()
        )
        run = ForecastRun.objects.create(
            trigger="bench", status="done", horizon_weeks=weeks, first_week=this_week
        )
        DemandForecast.objects.bulk_create(
            DemandForecast(
                product=p,
                week=add_weeks(this_week, k),
                run=run,
                baseline=float(max(state.demand[i, k] - state.firm[i, k], 0.0)),
                firm_orders=float(state.firm[i, k]),
                final=float(max(state.demand[i, k], state.firm[i, k])),
                method="bench",
            )
            for i, p in enumerate(products)
            for k in range(weeks)
        )
        recompute = RecomputeRun.objects.create(line=line, trigger="bench", first_week=this_week)
        plan_line(line=line, run=recompute, horizon=weeks)
    return line, {i: p.sku for i, p in enumerate(products)}


def measure(label: str, line, skus, state, rng, count: int, client) -> float:
    from coordination.weeks import add_weeks, current_week, iso_label
    from production.selectors.promise import forget_line_states, promise_answer

    asked = [
        (skus[p], int(quantity), add_weeks(current_week(), week))
        for p, quantity, week in requests(rng, state, count)
    ]
    forget_line_states()
    start = time.perf_counter()
    promise_answer(sku=asked[0][0], quantity=asked[0][1], week=asked[0][2])
    cold = time.perf_counter() - start
    selector_times, api_times = [], []
    for sku, quantity, week in asked:
        start = time.perf_counter()
        promise_answer(sku=sku, quantity=quantity, week=week)
        selector_times.append(time.perf_counter() - start)
        body = {"product": sku, "quantity": quantity, "week": iso_label(week)}
        start = time.perf_counter()
        response = client.post("/api/v1/promises/", body, format="json", secure=True)
        api_times.append(time.perf_counter() - start)
        if response.status_code != 200:
            sys.exit(f"{body}: {response.status_code} {response.content[:300]!r}")
    worst = max(api_times)
    print(
        f"{label:<24}{cold:>9.3f}{statistics.median(selector_times) * 1e3:>12.1f}"
        f"{max(selector_times) * 1e3:>10.1f}{statistics.median(api_times) * 1e3:>10.1f}"
        f"{worst * 1e3:>10.1f}"
    )
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    with bench_database(BENCH_DB):
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from rest_framework.test import APIClient

        from coordination import roles

        settings.PLANNING_HORIZON_WEEKS = args.weeks
        settings.ALLOWED_HOSTS = ["*"]
        user = get_user_model().objects.create(username="sales")
        user.groups.add(Group.objects.get(name=roles.SALES))
        client = APIClient()
        client.force_authenticate(user)

        # The first request of a process imports and resolves the API: not a promise.
        client.post("/api/v1/promises/", {"product": "NONE"}, format="json", secure=True)
        print(
            f"one line in PostgreSQL: {args.products} products x {args.weeks} weeks, "
            f"{args.requests} requests; target < {TARGET_S * 1e3:.0f} ms"
        )
        print(
            f"{'line':<24}{'cold s':>9}{'selector ms':>12}{'worst':>10}{'API ms':>10}{'worst':>10}"
        )
        worst = []
        cases = (
            ("Ample (60%)", {"utilisation": 0.6}),
            ("Tight (97%)", {"utilisation": 0.97}),
            ("Overcommitted", {"utilisation": 1.15, "firm_share": 1.3, "firm_cells": 1.0}),
        )
        for name, options in cases:
            state, _ = line_state(rng, args.products, args.weeks, **options)
            line, skus = store_line(name, state, args.weeks)
            worst.append(measure(name, line, skus, state, rng, args.requests, client))
        verdict = "met" if max(worst) < TARGET_S else "MISSED"
        print(f"\nwarm API worst {max(worst) * 1e3:.1f} ms: target {verdict}")


if __name__ == "__main__":
    main()
