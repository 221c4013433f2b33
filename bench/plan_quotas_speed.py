"""How fast does the quota planner plan a line exactly, and re-plan a promotion's change?

    .venv/bin/python bench/plan_quotas_speed.py [--products 500] [--lines 10] [--repeat 3]

Issue 16's targets: one line of 500 products, each case at its exact optimum, under
0.25 s for 26 weeks and under 1 s for 52 weeks, on one core. Printed per case (CASES
below), each time the best of --repeat runs:

- the planner (plan_quotas, as the pipeline calls it): seconds, the path it took
  (latest-first: the certified fast path; lp: the exact LP; then +whole / +mip / +rounded:
  how whole units were reached) and the three objectives of its continuous relaxation,
  backlog, safety-stock shortfall and inventory unit-weeks (the plan's objectives less its
  relaxation_gap);
- on a second line, the whole-unit plan: its objectives, the gap to the relaxation, and
  the seconds of the integrality step alone (included in the planner's seconds);
- the reference in the same run: a plain textbook LP written here (scipy `linprog`, one
  variable per cell, the stock balance week by week, the three objectives solved one after
  another, each over the previous one's optimal face), its seconds and objectives, and
  the largest relative difference between the two (flagged above 1e-5);
- then a company of --lines lines of --products products x 26 weeks: the full plan, and
  the re-plan of the one line a promotion on 20 of its products touches
  (plan_quotas(..., lines=[k])).

The cases: ample capacity (60 % load), tight (97 %, pre-build, every requirement met),
tight with an opening backlog on a third of the products, overloaded (115 %) for the whole
horizon; each for 26 and 52 weeks; then "shelf life on half the products" (2-6 usable
weeks, overloaded, 26 and 52 weeks: the reference LP gets the same FIFO cap on its stock,
computed here) and "batches and minimum runs" (26 weeks, tight: batches of 1-48 units,
minimum runs on half the products; the reference is the continuous LP, so the planner's
relaxation is compared and the whole-unit plan's gap to it printed).

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


def plant_options(rng, demand, shelf_life=False, runs=False):
    """plan_quotas' keyword inputs: usable weeks (2-6) on half the products with
    `shelf_life`, batches (1-48 units) and minimum runs (about 1.5 weeks of demand, on
    half the products) with `runs`."""
    n_products = demand.shape[0]
    options = {}
    if shelf_life:
        usable = np.full(n_products, np.inf)
        limited = rng.random(n_products) < 0.5
        usable[limited] = rng.integers(2, 7, limited.sum())
        options["usable_weeks"] = usable
    if runs:
        options["batch_size"] = rng.choice([1, 6, 12, 24, 48], n_products)
        weekly = demand.mean(axis=1)
        options["minimum_run"] = np.where(
            rng.random(n_products) < 0.5, np.round(1.5 * weekly), 0
        ).astype(int)
    return options


def fifo_cap(demand, on_hand, lead, frozen, hold, usable_weeks):
    """The effective shelf-life cap on stock: demand of the next u weeks (past the horizon
    the mean of the last 4), or the stock from opening stock and frozen output if more."""
    n_products, n_weeks = demand.shape
    if usable_weeks is None:
        return np.full((n_products, n_weeks), np.inf)
    tail = demand[:, -min(4, n_weeks) :].mean(axis=1)
    extended = np.concatenate([demand, np.repeat(tail[:, None], n_weeks, axis=1)], axis=1)
    cap = np.full((n_products, n_weeks), np.inf)
    for p in np.nonzero(np.isfinite(usable_weeks))[0]:
        u = int(usable_weeks[p])
        window = np.concatenate([extended[p], np.full(u, tail[p])])
        cap[p] = [window[t + 1 : t + 1 + u].sum() for t in range(n_weeks)]
    kept = np.where(~np.isnan(frozen) & ~hold[:, None], frozen, 0.0)
    arrived = np.zeros_like(demand)
    for p in range(n_products):
        if lead[p] < n_weeks:
            arrived[p, lead[p] :] = kept[p, : n_weeks - lead[p]]
    without = on_hand[:, None] + np.cumsum(arrived - demand, axis=1)
    return np.maximum(cap, without)


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
    shelf_life: bool = False  # 2-6 usable weeks on half the products
    runs: bool = False  # batches and minimum runs


CASES = (
    *(
        case
        for weeks in (26, 52)
        for case in (
            Case("ample (60% load)", weeks, 0.6),
            Case("tight (97% load)", weeks, 0.97),
            Case("tight 97% + backlog on 1/3", weeks, 0.97, backlog=True),
            Case("overloaded (115% load)", weeks, 1.15),
            Case("shelf life on half, 115%", weeks, 1.15, shelf_life=True),
        )
    ),
    Case("batches and minimum runs", 26, 0.97, runs=True),
)


def reference_objectives(
    demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold, usable_weeks=None
):
    """(backlog, shortfall, inventory) unit-weeks of the textbook LP of a one-line plan:
    net stock S = on hand + arrivals - demand, S <= the shelf-life cap, backlog B >= -S,
    shortfall + backlog F >= min(safety, cap) - S, inventory I >= S, each level solved over
    the previous level's optimal face (complementary slackness: objective rows make HiGHS
    take minutes on 500 x 52). Units are scaled to the largest cumulative demand: HiGHS's
    tolerances are absolute."""
    n, n_weeks = demand.shape
    cap = fifo_cap(demand, on_hand, lead, frozen, hold, usable_weeks)
    unit = max(1.0, float(np.abs(np.cumsum(demand, axis=1)).max(initial=0.0)))
    demand, on_hand, safety, frozen = demand / unit, on_hand / unit, safety / unit, frozen / unit
    cap = cap / unit
    target = np.minimum(safety[:, None], cap)
    hours = hours * unit
    cell = np.arange(n * n_weeks).reshape(n, n_weeks)
    x, stock, backlog, short, inventory = (k * n * n_weeks + cell for k in range(5))
    n_vars = 5 * n * n_weeks
    lower, upper = np.zeros(n_vars), np.full(n_vars, np.inf)
    lower[stock] = -np.inf
    upper[stock] = cap
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
            -target.ravel(),
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
        f"{'case':<28}{'weeks':>6}{'plan s':>8}{'method':>22}  {'plan objectives':<32}"
        f"{'ref s':>7}  {'reference objectives':<32}{'rel diff':>9}"
    )
    print(
        f"{'':<28}{'':>6}{'int s':>8}{'':>22}  {'whole-unit objectives':<32}{'':>7}  "
        f"{'whole units - relaxation':<32}"
    )
    for case in CASES:
        data = instance(rng, args.products, case.weeks, 1, case.utilisation, case.backlog)
        options = plant_options(rng, data[0], case.shelf_life, case.runs)
        plan_s, plan = best_of(args.repeat, lambda d=data, o=options: plan_quotas(*d, **o))
        start = time.perf_counter()
        reference = reference_objectives(*data, options.get("usable_weeks"))
        reference_s = time.perf_counter() - start
        whole = (
            plan.backlog_unit_weeks[0],
            plan.shortfall_unit_weeks[0],
            plan.inventory_unit_weeks[0],
        )
        gap = plan.relaxation_gap[0]
        reached = tuple(value - part for value, part in zip(whole, gap, strict=True))
        differ = max(
            abs(value - optimum) / max(1.0, abs(optimum))
            for value, optimum in zip(reached, reference, strict=True)
        )
        print(
            f"{case.label:<28}{case.weeks:>6}{plan_s:>8.3f}{plan.methods[0]:>22}  "
            f"{' / '.join(f'{v:.1f}' for v in reached):<32}{reference_s:>7.2f}  "
            f"{' / '.join(f'{v:.1f}' for v in reference):<32}{differ:>9.1e}"
            f"{'' if differ <= _SAME else '  OBJECTIVES DIFFER'}"
        )
        print(
            f"{'':<28}{'':>6}{plan.integral_seconds[0]:>8.3f}{'whole units':>22}  "
            f"{' / '.join(f'{v:.1f}' for v in whole):<32}{'gap':>7}  "
            f"{' / '.join(f'{v:+.1f}' for v in gap):<32}"
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
