"""How fast does the quota planner re-plan a line, and a promotion's change?

    .venv/bin/python bench/plan_quotas_speed.py [--products 500] [--weeks 26] [--lines 10]

Issue 5's targets: one line of 500 products x 26 weeks in under a second; a promotion
touching 20 products re-plans only their line. Printed, each the best of --repeat runs:

- one line, capacity ample (no pre-build), tight (pre-build, every requirement still met:
  the certified fast path) and short (backlog trade-offs: the exact LPs);
- the same tight and short lines solved with strategy="lp", the exact reference in the same
  run, and the ratio fast / LP;
- a company of --lines such lines: the full plan, and the re-plan of the one line a
  promotion on 20 of its products touches (plan_quotas(..., lines=[k])).

Demand is seasonal with noise, hours per unit vary by 10x, lead times 0-3 weeks, two
frozen weeks of accepted quotas, and 1% of products on hold.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from production.engine import plan_quotas


def instance(rng, n_products, n_weeks, n_lines, utilisation, backlog=False):
    """Inputs whose uncapacitated plan needs `utilisation` x the capacity on average."""
    weeks = np.arange(n_weeks)
    level = rng.gamma(2.0, 40.0, size=n_products)
    season = 1 + 0.4 * np.sin(
        2 * np.pi * (weeks[None, :] + rng.integers(0, 52, n_products)[:, None]) / 52
    )
    demand = np.maximum(level[:, None] * season * rng.normal(1, 0.15, (n_products, n_weeks)), 0)
    # A promotion peak in weeks 8-10 for a fifth of the products: the week capacity runs out.
    promoted = rng.random(n_products) < 0.2
    demand[promoted, 8:11] *= 2.5
    lead = rng.integers(0, 4, n_products)
    safety = level * 0.5
    # A running plant: stock covers the lead time and most of the safety stock. With
    # `backlog`, a third of the products start short instead (owed units, no stock).
    cover = np.array([demand[p, : lead[p] + 1].sum() for p in range(n_products)])
    on_hand = cover + safety * rng.uniform(0.5, 1.2, n_products)
    if backlog:
        short = rng.random(n_products) < 1 / 3
        on_hand[short] = -level[short] * rng.uniform(0.5, 2.0, short.sum())
    line_of = np.arange(n_products) % n_lines
    hours = rng.uniform(0.02, 0.2, n_products)
    load = np.zeros(n_lines)
    np.add.at(load, line_of, (demand.mean(axis=1) * hours))
    capacity = np.repeat((load / utilisation)[:, None], n_weeks, axis=1)
    frozen = np.full((n_products, n_weeks), np.nan)
    frozen[:, :2] = np.round(demand[:, :2])
    hold = rng.random(n_products) < 0.01
    return demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold


def best_of(repeat, function):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500, help="products per line")
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"one line: {args.products} products x {args.weeks} weeks (best of {args.repeat})")
    print(f"{'capacity':<28}{'auto s':>9}{'method':>14}{'lp s':>9}{'auto/lp':>9}{'pre-build':>11}")
    for label, utilisation, backlog in (
        ("ample (60% load)", 0.6, False),
        ("tight (97% load)", 0.97, False),
        ("short (115% load)", 1.15, False),
        ("tight, opening backlog", 0.97, True),
    ):
        data = instance(rng, args.products, args.weeks, 1, utilisation, backlog)
        fast_s, fast = best_of(args.repeat, lambda d=data: plan_quotas(*d))
        lp_s, exact = best_of(args.repeat, lambda d=data: plan_quotas(*d, strategy="lp"))
        same = np.allclose(
            fast.backlog_unit_weeks, exact.backlog_unit_weeks, atol=1e-3
        ) and np.allclose(
            fast.inventory_unit_weeks, exact.inventory_unit_weeks, rtol=1e-6, atol=1e-2
        )
        print(
            f"{label:<28}{fast_s:>9.3f}{fast.methods[0]:>14}{lp_s:>9.3f}"
            f"{fast_s / lp_s:>9.2f}{np.nansum(fast.prebuild):>11.0f}"
            f"{'' if same else '  OBJECTIVES DIFFER'}"
        )

    n_products = args.products * args.lines
    data = instance(rng, n_products, args.weeks, args.lines, 0.97)
    full_s, plan = best_of(args.repeat, lambda: plan_quotas(*data))
    # A promotion on 20 products of line 3 re-plans line 3 only.
    demand = data[0].copy()
    touched = np.nonzero(data[4] == 3 % args.lines)[0][:20]
    demand[touched, 6:9] *= 1.8
    changed = (demand, *data[1:])
    one_s, replanned = best_of(args.repeat, lambda: plan_quotas(*changed, lines=[3 % args.lines]))
    print(
        f"\ncompany: {args.lines} lines x {args.products} products x {args.weeks} weeks, 97% load"
    )
    print(f"full plan                  {full_s:8.3f} s   methods {sorted(set(plan.methods))}")
    print(
        f"promotion on 20 products   {one_s:8.3f} s   (re-plans line {3 % args.lines} only: "
        f"{np.isnan(replanned.production).all(axis=1).sum()} other products untouched)"
    )
    print(f"full / one line            {full_s / one_s:8.1f}x")


if __name__ == "__main__":
    main()
