"""How fast does a line answer "can we make it, and when?" (capable-to-promise)?

    .venv/bin/python bench/promise_speed.py [--products 500] [--weeks 26] [--requests 50]

Issue 15's target: a promise on a line of 500 products x 26 weeks in under 200 ms. The
line is bench/plan_quotas_speed.py's (seasonal demand, a promotion peak, hours per unit
varying 10x, lead times 0-3 weeks, two frozen weeks, 1% of products on hold), with a third
of its demand firm; its current plan comes from plan_quotas. Printed per load:

- the re-plan of the line (plan_quotas), the baseline measured in the same run: what
  answering by re-planning with the order added would cost at the least;
- a promise: median and worst of --requests random requests (product, quantity of 1, 4,
  8 or 60 weeks of its demand, week 2-25), and the ratio median promise / re-plan;
- how many were full, partial and not within the horizon, and the method used;
- a line over-committed by firm orders (firm orders alone above the hours of some weeks),
  which the engine answers with its linear programs: the first promise (which solves the
  line's least firm lateness, cached on the LineState) and the next ones.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan_quotas_speed import best_of, instance

from production.engine import plan_quotas
from production.engine.promise import LineState, promise


def line_state(rng, n_products, n_weeks, utilisation, firm_share=1 / 3, firm_cells=0.5):
    demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold = instance(
        rng, n_products, n_weeks, 1, utilisation
    )
    firm = np.round(demand * firm_share * (rng.random(demand.shape) < firm_cells))
    plan = plan_quotas(demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold)
    products = tuple(range(n_products))
    state = LineState(
        products=products,
        demand=demand,
        firm=firm,
        on_hand=on_hand,
        lead_time=lead,
        hours_per_unit=hours,
        capacity_hours=capacity[0],
        production=plan.production,
        frozen_weeks=2,
        hold_reason=dict.fromkeys(np.nonzero(hold)[0].tolist(), "recall"),
    )
    replan = (demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold)
    return state, replan


def requests(rng, state, count):
    open_products = [p for p in state.products if p not in state.hold_reason]
    for _ in range(count):
        p = int(rng.choice(open_products))
        week = int(rng.integers(state.frozen_weeks, state.n_weeks))
        weeks_of_demand = rng.choice([1, 4, 8, 60])
        quantity = float(np.round(state.demand[p].mean() * weeks_of_demand)) or 1.0
        yield p, quantity, week


def timed(state, asked):
    times, answers = [], []
    for p, quantity, week in asked:
        start = time.perf_counter()
        answers.append(promise(state, p, quantity, week))
        times.append(time.perf_counter() - start)
    return times, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"one line: {args.products} products x {args.weeks} weeks, {args.requests} requests")
    print(
        f"{'load':<20}{'re-plan s':>10}{'median ms':>11}{'worst ms':>10}{'med/re-plan':>12}"
        f"{'full':>6}{'partial':>9}{'none':>6}  methods"
    )
    for label, utilisation in (("ample (60%)", 0.6), ("tight (97%)", 0.97), ("short (115%)", 1.15)):
        state, replan = line_state(rng, args.products, args.weeks, utilisation)
        replan_s, _ = best_of(3, lambda r=replan: plan_quotas(*r))
        asked = list(requests(rng, state, args.requests))
        promise(state, *asked[0])  # warm-up (imports, caches)
        times, answers = timed(state, asked)
        median, worst = statistics.median(times), max(times)
        full = sum(a.full for a in answers)
        none = sum(a.earliest_week is None for a in answers)
        methods = sorted({a.method for a in answers})
        print(
            f"{label:<20}{replan_s:>10.3f}{median * 1e3:>11.1f}{worst * 1e3:>10.1f}"
            f"{median / replan_s:>12.2f}{full:>6}{len(answers) - full - none:>9}{none:>6}"
            f"  {methods}"
        )

    state, _ = line_state(rng, args.products, args.weeks, 1.15, firm_share=1.3, firm_cells=1.0)
    asked = list(requests(rng, state, 6))
    times, answers = timed(state, asked)
    print(
        "\nover-committed line (firm orders alone above the hours of some weeks): "
        f"methods {sorted({a.method for a in answers})}\n"
        f"first promise (solves the line's least firm lateness) {times[0]:.2f} s, "
        f"next ones on the same LineState: median {statistics.median(times[1:]) * 1e3:.0f} ms, "
        f"worst {max(times[1:]) * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
