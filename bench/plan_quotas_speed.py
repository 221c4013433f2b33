"""How fast does the quota planner plan a line exactly, and re-plan a promotion's change?

    .venv/bin/python bench/plan_quotas_speed.py [--products 500] [--lines 10] [--repeat 3]

Issue 16's targets: one line of 500 products, each case at its exact optimum, under
0.25 s for 26 weeks and under 1 s for 52 weeks, on one core. Printed per case (CASES
below), each time the best of --repeat runs:

- the planner (plan_quotas, as the pipeline calls it): seconds, the path it took
  (latest-first: the certified fast path; lp: the exact LP) and its three objectives,
  backlog, safety-stock shortfall and inventory unit-weeks;
- the reference in the same run: a plain textbook LP written here (scipy `linprog`, one
  variable per cell, the stock balance week by week, the three objectives solved one after
  another, each over the previous one's optimal face), its seconds and objectives, and
  the largest relative difference between the two (flagged above 1e-5);
- then a company of --lines lines of --products products x 26 weeks: the full plan, and
  the re-plan of the one line a promotion on 20 of its products touches
  (plan_quotas(..., lines=[k])).

The cases: ample capacity (60 % load), tight (97 %, pre-build, every requirement met),
tight with an opening backlog on a third of the products, overloaded (115 %) for the whole
horizon; each for 26 and 52 weeks. Issue 16 also lists "shelf life on half the products":
the planner has no shelf life yet, so that case has no row; when it does, it is one more
Case (with the products' shelf life as an input of `instance`).

Demand is seasonal with noise, hours per unit vary by 10x, lead times 0-3 weeks, two
frozen weeks of accepted quotas, and 1% of products on hold.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

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


# Largest relative difference of an objective that counts as the same optimum: HiGHS works
# to 1e-7 per cell, and the objectives sum 13,000-26,000 cells over up to 52 weeks.
_SAME = 1e-5


@dataclass(frozen=True)
class Case:
    label: str
    weeks: int
    utilisation: float  # the uncapacitated plan's hours / the line's hours, on average
    backlog: bool = False  # a third of the products start owing units


CASES = tuple(
    case
    for weeks in (26, 52)
    for case in (
        Case("ample (60% load)", weeks, 0.6),
        Case("tight (97% load)", weeks, 0.97),
        Case("tight 97% + backlog on 1/3", weeks, 0.97, backlog=True),
        Case("overloaded (115% load)", weeks, 1.15),
    )
)


def reference_objectives(demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold):
    """(backlog, shortfall, inventory) unit-weeks of the textbook LP of a one-line plan:
    net stock S = on hand + arrivals - demand, backlog B >= -S, shortfall + backlog
    F >= safety - S, inventory I >= S, each level solved over the previous level's optimal
    face (complementary slackness: objective rows make HiGHS take minutes on 500 x 52).
    Units are scaled to the largest cumulative demand: HiGHS's tolerances are absolute."""
    n, n_weeks = demand.shape
    unit = max(1.0, float(np.abs(np.cumsum(demand, axis=1)).max(initial=0.0)))
    demand, on_hand, safety, frozen = demand / unit, on_hand / unit, safety / unit, frozen / unit
    hours = hours * unit
    cell = np.arange(n * n_weeks).reshape(n, n_weeks)
    x, stock, backlog, short, inventory = (k * n * n_weeks + cell for k in range(5))
    n_vars = 5 * n * n_weeks
    lower, upper = np.zeros(n_vars), np.full(n_vars, np.inf)
    lower[stock] = -np.inf
    is_frozen = ~np.isnan(frozen) & ~hold[:, None]
    week = np.arange(n_weeks)[None, :]
    closed = hold[:, None] | (~is_frozen & (week + lead[:, None] >= n_weeks))
    upper[x[closed]] = 0.0
    lower[x[is_frozen]] = upper[x[is_frozen]] = frozen[is_frozen]
    # S[p, t] - S[p, t - 1] - x[p, t - lead] = -demand[p, t] (S[p, -1] = on hand).
    cp, cs = np.nonzero(week + lead[:, None] < n_weeks)
    a_eq = sp.csr_matrix(
        (
            np.concatenate([np.ones(n * n_weeks), -np.ones(n * (n_weeks - 1)), -np.ones(cp.size)]),
            (
                np.concatenate([cell.ravel(), cell[:, 1:].ravel(), cell[cp, cs + lead[cp]]]),
                np.concatenate([stock.ravel(), stock[:, :-1].ravel(), x[cp, cs]]),
            ),
        ),
        shape=(n * n_weeks, n_vars),
    )
    b_eq = -demand.copy()
    b_eq[:, 0] += on_hand
    b_eq = b_eq.ravel()
    rows = np.arange(3 * n * n_weeks).reshape(3, -1)
    free = ~is_frozen & ~hold[:, None]
    fp, fs = np.nonzero(free)
    a_ub = sp.csr_matrix(
        (
            np.concatenate(
                [-np.ones(4 * n * n_weeks), np.ones(n * n_weeks), -np.ones(n * n_weeks), hours[fp]]
            ),
            (
                np.concatenate(
                    [rows[0], rows[0], rows[1], rows[1], rows[2], rows[2], 3 * n * n_weeks + fs]
                ),
                np.concatenate(
                    [s_.ravel() for s_ in (stock, backlog, stock, short, stock, inventory)]
                    + [x[fp, fs]]
                ),
            ),
        ),
        shape=(3 * n * n_weeks + n_weeks, n_vars),
    )
    frozen_hours = (hours[:, None] * np.where(is_frozen, frozen, 0.0)).sum(axis=0)
    b_ub = np.concatenate(
        [
            np.zeros(n * n_weeks),
            -np.repeat(safety, n_weeks),
            np.zeros(n * n_weeks),
            np.maximum(capacity[0] - frozen_hours, 0.0),
        ]
    )
    optima = []
    for part in (backlog, short, inventory):
        cost = np.zeros(n_vars)
        cost[part.ravel()] = 1.0
        result = linprog(
            cost,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=np.column_stack([lower, upper]),
            method="highs",
        )
        assert result.status == 0, result.message
        optima.append(result.fun)
        # The next level keeps this optimum: every optimal solution has the variables with
        # a positive reduced cost at their bound and the rows with a non-zero dual tight.
        upper = np.where(result.lower.marginals > 1e-7, lower, upper)
        lower = np.where(result.upper.marginals < -1e-7, upper, lower)
        tight = result.ineqlin.marginals < -1e-7
        a_eq = sp.vstack([a_eq, a_ub[tight]]).tocsr()
        b_eq = np.concatenate([b_eq, b_ub[tight]])
        a_ub, b_ub = a_ub[~tight], b_ub[~tight]
    return unit * optima[0], unit * (optima[1] - optima[0]), unit * optima[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500, help="products per line")
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(
        f"one line of {args.products} products (best of {args.repeat}); objectives in "
        "unit-weeks: backlog / shortfall / inventory"
    )
    print(
        f"{'case':<28}{'weeks':>6}{'plan s':>8}{'method':>14}  {'plan objectives':<32}"
        f"{'ref s':>7}  {'reference objectives':<32}{'rel diff':>9}"
    )
    for case in CASES:
        data = instance(rng, args.products, case.weeks, 1, case.utilisation, case.backlog)
        plan_s, plan = best_of(args.repeat, lambda d=data: plan_quotas(*d))
        start = time.perf_counter()
        reference = reference_objectives(*data)
        reference_s = time.perf_counter() - start
        reached = (
            plan.backlog_unit_weeks[0],
            plan.shortfall_unit_weeks[0],
            plan.inventory_unit_weeks[0],
        )
        differ = max(
            abs(value - optimum) / max(1.0, abs(optimum))
            for value, optimum in zip(reached, reference, strict=True)
        )
        print(
            f"{case.label:<28}{case.weeks:>6}{plan_s:>8.3f}{plan.methods[0]:>14}  "
            f"{' / '.join(f'{v:.1f}' for v in reached):<32}{reference_s:>7.2f}  "
            f"{' / '.join(f'{v:.1f}' for v in reference):<32}{differ:>9.1e}"
            f"{'' if differ <= _SAME else '  OBJECTIVES DIFFER'}"
        )

    n_products = args.products * args.lines
    data = instance(rng, n_products, 26, args.lines, 0.97)
    full_s, plan = best_of(args.repeat, lambda: plan_quotas(*data))
    # A promotion on 20 products of line 3 re-plans line 3 only.
    demand = data[0].copy()
    touched = np.nonzero(data[4] == 3 % args.lines)[0][:20]
    demand[touched, 6:9] *= 1.8
    changed = (demand, *data[1:])
    one_s, replanned = best_of(args.repeat, lambda: plan_quotas(*changed, lines=[3 % args.lines]))
    print(f"\ncompany: {args.lines} lines x {args.products} products x 26 weeks, 97% load")
    print(f"full plan                  {full_s:8.3f} s   methods {sorted(set(plan.methods))}")
    print(
        f"promotion on 20 products   {one_s:8.3f} s   (re-plans line {3 % args.lines} only: "
        f"{np.isnan(replanned.production).all(axis=1).sum()} other products untouched)"
    )
    print(f"full / one line            {full_s / one_s:8.1f}x")


if __name__ == "__main__":
    main()
