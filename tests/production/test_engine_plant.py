"""plan_quotas with shelf life, batches, minimum runs and whole units.

The reference below is an independent textbook mixed-integer program solved with
scipy.optimize.milp: one production variable per cell (frozen fixed, held or after the
horizon 0), the net stock as a free variable defined by an equality, backlog >= -stock,
net shortfall >= min(safety, cap) - stock, inventory >= stock, stock <= the effective
shelf-life cap, capacity on the free cells, and for free cells x = batch * n (n integer)
and minimum_run * y <= x <= M * y (y binary). The three objectives are solved one after
another, each optimum added as a constraint.
"""

import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from production.engine import _mip, plan_quotas

# Production is in whole units (the planner rounds its relaxation to batches and runs).
WHOLE_UNITS = True

PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fifo_cap(demand, usable_weeks):
    """Demand of weeks t+1..t+u, past the horizon at the mean of the last min(4, T) weeks."""
    n_products, n_weeks = demand.shape
    cap = np.full((n_products, n_weeks), np.inf)
    for p in range(n_products):
        if not np.isfinite(usable_weeks[p]):
            continue
        tail = demand[p, -min(4, n_weeks) :].mean() if n_weeks else 0.0
        for t in range(n_weeks):
            total = 0.0
            for week in range(t + 1, t + int(usable_weeks[p]) + 1):
                total += demand[p, week] if week < n_weeks else tail
            cap[p, t] = total
    return cap


def stock_without_production(demand, on_hand, lead, frozen, hold):
    """Net stock at the end of each week from opening stock and frozen output only."""
    n_products, n_weeks = demand.shape
    stock = np.zeros((n_products, n_weeks))
    for p in range(n_products):
        level = on_hand[p]
        for t in range(n_weeks):
            source = t - lead[p]
            if source >= 0 and not hold[p] and not np.isnan(frozen[p, source]):
                level += frozen[p, source]
            level -= demand[p, t]
            stock[p, t] = level
    return stock


def effective_cap(demand, on_hand, lead, frozen, hold, usable_weeks):
    return np.maximum(
        fifo_cap(demand, usable_weeks),
        stock_without_production(demand, on_hand, lead, frozen, hold),
    )


def objectives(production, demand, on_hand, safety, lead, cap):
    """(backlog, shortfall below min(safety, cap), inventory) unit-weeks of a plan."""
    n_products, n_weeks = demand.shape
    backlog = shortfall = inventory = 0.0
    for p in range(n_products):
        level = on_hand[p]
        for t in range(n_weeks):
            if t - lead[p] >= 0:
                level += production[p, t - lead[p]]
            level -= demand[p, t]
            backlog += max(-level, 0.0)
            inventory += max(level, 0.0)
            shortfall += max(min(safety[p], cap[p, t]) - max(level, 0.0), 0.0)
    return backlog, shortfall, inventory


def levels(values):
    backlog, shortfall, inventory = values
    return backlog, backlog + shortfall, inventory


def reference_plan(
    demand,
    on_hand,
    safety,
    lead,
    line_of,
    hours,
    capacity,
    frozen,
    hold,
    usable_weeks,
    batch_size,
    minimum_run,
    integral=True,
):
    """Production of the lexicographic optimum of the textbook (mixed-integer) program."""
    n_products, n_weeks = demand.shape
    if n_products == 0 or n_weeks == 0:
        return np.zeros((n_products, n_weeks))
    cap = effective_cap(demand, on_hand, lead, frozen, hold, usable_weeks)
    cells = n_products * n_weeks
    x, stock, backlog, short, inventory, count, run = (
        k * cells + np.arange(cells).reshape(n_products, n_weeks) for k in range(7)
    )
    n_vars = 7 * cells
    lower, upper = np.zeros(n_vars), np.full(n_vars, np.inf)
    integrality = np.zeros(n_vars)
    lower[stock.ravel()] = -np.inf
    upper[stock.ravel()] = np.where(np.isfinite(cap), cap, np.inf).ravel()
    upper[count.ravel()] = upper[run.ravel()] = 0.0
    free = np.zeros((n_products, n_weeks), dtype=bool)
    biggest = np.abs(demand).sum() + np.abs(on_hand).sum() + safety.sum()
    for p in range(n_products):
        for s in range(n_weeks):
            if hold[p] or (np.isnan(frozen[p, s]) and s + lead[p] >= n_weeks):
                upper[x[p, s]] = 0.0
            elif not np.isnan(frozen[p, s]):
                lower[x[p, s]] = upper[x[p, s]] = frozen[p, s]
            else:
                free[p, s] = True
                upper[count[p, s]] = np.inf
                upper[run[p, s]] = 1.0
                if integral:
                    integrality[count[p, s]] = integrality[run[p, s]] = 1

    rows, cols, vals, row_lower, row_upper = [], [], [], [], []

    def constraint(terms, low, high):
        row = len(row_lower)
        for col, val in terms:
            rows.append(row)
            cols.append(col)
            vals.append(val)
        row_lower.append(low)
        row_upper.append(high)

    batch = batch_size
    big = biggest + batch.max(initial=1) + minimum_run.max(initial=0) + 1.0
    for p in range(n_products):
        for t in range(n_weeks):
            arrived = [(x[p, s], -1.0) for s in range(t - lead[p] + 1)]
            constraint(
                [(stock[p, t], 1.0), *arrived],
                on_hand[p] - demand[p, : t + 1].sum(),
                on_hand[p] - demand[p, : t + 1].sum(),
            )
            constraint([(stock[p, t], -1.0), (backlog[p, t], -1.0)], -np.inf, 0.0)
            target = min(safety[p], cap[p, t])
            constraint([(stock[p, t], -1.0), (short[p, t], -1.0)], -np.inf, -target)
            constraint([(stock[p, t], 1.0), (inventory[p, t], -1.0)], -np.inf, 0.0)
            if free[p, t]:
                constraint([(x[p, t], 1.0), (count[p, t], -float(batch[p]))], 0.0, 0.0)
                if integral:
                    constraint([(x[p, t], 1.0), (run[p, t], -float(minimum_run[p]))], 0.0, np.inf)
                    constraint([(x[p, t], 1.0), (run[p, t], -big)], -np.inf, 0.0)
    for line in range(capacity.shape[0]):
        for s in range(n_weeks):
            members = [p for p in range(n_products) if line_of[p] == line and not hold[p]]
            frozen_hours = sum(hours[p] * frozen[p, s] for p in members if ~np.isnan(frozen[p, s]))
            terms = [(x[p, s], hours[p]) for p in members if free[p, s] and hours[p] > 0]
            if terms:
                constraint(terms, -np.inf, max(0.0, capacity[line, s] - frozen_hours))

    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(row_lower), n_vars))
    low, high = np.array(row_lower), np.array(row_upper)
    options = {"mip_rel_gap": 1e-10, "presolve": True}
    solution = None
    for block, sign in ((backlog, 1.0), (short, 1.0), (inventory, 1.0)):
        cost = np.zeros(n_vars)
        cost[block.ravel()] = sign
        result = milp(
            cost,
            constraints=LinearConstraint(matrix, low, high),
            bounds=Bounds(lower, upper),
            integrality=integrality,
            options=options,
        )
        assert result.status == 0, result.message
        solution = result.x
        matrix = sp.vstack([matrix, sp.csr_matrix(cost)]).tocsr()
        low = np.append(low, -np.inf)
        # Each optimum plus the solver's tolerance: HiGHS reports it to ~1e-8 of the exact
        # value, and a tighter row could cut off the exact optimum of the next level.
        high = np.append(high, result.fun + 1e-7 * max(1.0, abs(result.fun)))
    production = solution[x.ravel()].reshape(n_products, n_weeks)
    if integral:
        counts = np.round(solution[count.ravel()].reshape(n_products, n_weeks))
        production = np.where(free, counts * batch[:, None], production)
    return production


@st.composite
def instances(draw, max_products=5, max_weeks=8, shelf=True, runs=False):
    """Small lines in every regime, some products with a shelf life (and batches/runs)."""
    n_products = draw(st.integers(0, max_products))
    n_weeks = draw(st.integers(0, max_weeks))
    n_lines = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    regime = draw(st.sampled_from(["ample", "tight", "mixed", "shutdown", "peak"]))
    whole = draw(st.booleans())
    demand = rng.uniform(0, 20, (n_products, n_weeks)) * (rng.random((n_products, n_weeks)) < 0.8)
    if regime == "peak" and n_weeks:
        demand[:, rng.integers(0, n_weeks)] *= 6
    demand = np.round(demand) if whole else demand
    on_hand = rng.uniform(0, 30, n_products) * (rng.random(n_products) < 0.6)
    safety = rng.uniform(0, 10, n_products) * (rng.random(n_products) < 0.5)
    lead = rng.integers(0, 3, n_products) + n_weeks * (rng.random(n_products) < 0.05)
    line_of = rng.integers(0, n_lines, n_products)
    hours = rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0.1, 3)], n_products)
    level = {"ample": 200.0, "tight": 10.0, "mixed": 40.0, "shutdown": 60.0, "peak": 30.0}
    capacity = rng.uniform(0.3, 1.0, (n_lines, n_weeks)) * level[regime]
    if regime == "shutdown":
        capacity[rng.random((n_lines, n_weeks)) < 0.3] = 0.0
    frozen_share = draw(st.sampled_from([0.0, 0.15]))
    frozen = np.where(
        rng.random((n_products, n_weeks)) < frozen_share,
        np.round(rng.uniform(0, 20, (n_products, n_weeks))),
        np.nan,
    )
    hold = rng.random(n_products) < 0.1
    usable = np.full(n_products, np.inf)
    if shelf:
        limited = rng.random(n_products) < 0.6
        usable[limited] = rng.integers(0, 4, limited.sum())
    batch = np.ones(n_products, dtype=int)
    minimum_run = np.zeros(n_products, dtype=int)
    if runs:
        batch = rng.choice([1, 1, 2, 5, 10], n_products)
        minimum_run = rng.choice([0, 0, 3, 8, 25], n_products)
    inputs = (demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold)
    return inputs, {"usable_weeks": usable, "batch_size": batch, "minimum_run": minimum_run}


def assert_hard_constraints(plan, inputs, options):
    demand, _, _, lead, line_of, hours, capacity, frozen, hold = inputs
    production = plan.production
    assert np.all(production >= 0)
    kept = ~np.isnan(frozen) & ~hold[:, None]
    np.testing.assert_array_equal(production[kept], frozen[kept])
    assert np.all(production[hold] == 0)
    fixed = np.where(kept, frozen, 0.0)
    for line in range(capacity.shape[0]):
        on_line = line_of == line
        used = (hours[on_line, None] * production[on_line]).sum(axis=0)
        frozen_hours = (hours[on_line, None] * fixed[on_line]).sum(axis=0)
        assert np.all(used <= np.maximum(capacity[line], frozen_hours) * (1 + 1e-12))
    n_weeks = demand.shape[1]
    after_horizon = np.arange(n_weeks)[None, :] + lead[:, None] >= n_weeks
    assert np.all(production[after_horizon & ~kept] == 0)
    if not WHOLE_UNITS:
        return
    # Whole units, multiples of the batch, 0 or at least the minimum run, in free weeks.
    free = ~kept & ~hold[:, None]
    batch = options["batch_size"][:, None]
    minimum = options["minimum_run"][:, None]
    made = np.broadcast_to(production, free.shape)
    assert np.all(made[free] == np.round(made[free]))
    assert np.all((made % batch)[free] == 0)
    assert np.all(((made == 0) | (made >= minimum))[free])


def fifo_ages(production, demand, on_hand, lead):
    """Per product, the oldest age (weeks since arrival) of any unit when it ships, and of
    any unit still in stock at the end, simulating first-in first-out. Opening stock
    arrives in week 0."""
    n_products, n_weeks = demand.shape
    oldest = np.zeros(n_products)
    for p in range(n_products):
        lots = [[0, max(on_hand[p], 0.0)]] if on_hand[p] > 0 else []
        owed = max(-on_hand[p], 0.0)
        for t in range(n_weeks):
            if t - lead[p] >= 0 and production[p, t - lead[p]] > 0:
                lots.append([t, production[p, t - lead[p]]])
            wanted = demand[p, t] + owed
            while wanted > 1e-9 and lots:
                take = min(wanted, lots[0][1])
                oldest[p] = max(oldest[p], t - lots[0][0])
                lots[0][1] -= take
                wanted -= take
                if lots[0][1] <= 1e-9:
                    lots.pop(0)
            owed = wanted
    return oldest


@PROPERTY_SETTINGS
@given(data=instances())
def test_shelf_life_keeps_stock_under_the_cap_and_units_ship_fresh(data):
    inputs, options = data
    demand, on_hand, _, lead, _, _, _, frozen, hold = inputs
    usable = options["usable_weeks"]

    plan = plan_quotas(*inputs, usable_weeks=usable)

    assert_hard_constraints(plan, inputs, options)
    cap = effective_cap(demand, on_hand, lead, frozen, hold, usable)
    np.testing.assert_allclose(plan.stock_cap, cap, rtol=1e-12, atol=1e-12)
    scale = 1e-7 * (1 + np.abs(demand).sum() + np.abs(on_hand).sum())
    assert np.all(plan.inventory <= cap + scale)
    # Where production adds to stock (not already over the cap from opening stock and
    # frozen output), every unit made ships within its usable weeks: simulate FIFO on the
    # products whose opening stock and frozen output fit their cap.
    fits = np.all(
        stock_without_production(demand, on_hand, lead, frozen, hold) <= fifo_cap(demand, usable),
        axis=1,
    ) & np.all(np.isnan(frozen), axis=1)
    whole = np.all(np.round(demand) == demand, axis=1) & (on_hand == np.round(on_hand))
    ages = fifo_ages(plan.production, demand, on_hand, lead)
    for p in np.nonzero(fits & whole & np.isfinite(usable))[0]:
        assert ages[p] <= usable[p], (p, ages[p], usable[p])


@PROPERTY_SETTINGS
@given(data=instances(max_products=5, max_weeks=8))
def test_shelf_life_plan_is_the_lexicographic_optimum_of_the_reference(data):
    inputs, options = data
    demand, on_hand, safety, lead, _, _, _, frozen, hold = inputs
    cap = effective_cap(demand, on_hand, lead, frozen, hold, options["usable_weeks"])
    reference = reference_plan(*inputs, **options, integral=WHOLE_UNITS)
    optimum = objectives(reference, demand, on_hand, safety, lead, cap)

    for strategy in ("auto", "lp"):
        # The planner gives the exact program 5 s of wall clock and keeps the rounded plan
        # when it runs out; on a loaded machine that happened here, and the rounded plan
        # is not the optimum this test holds the exact one to.
        with mock.patch.object(_mip, "_TIME_LIMIT", 600.0):
            plan = plan_quotas(*inputs, **options, strategy=strategy)

        reached = objectives(plan.production, demand, on_hand, safety, lead, cap)
        assert_hard_constraints(plan, inputs, options)
        # Level 2 as backlog + shortfall: a solver's tolerance on the backlog (~1e-7) may
        # move shortfall the other way by as much.
        for value, best in zip(levels(reached), levels(optimum), strict=True):
            assert abs(value - best) <= 1e-6 * (1 + abs(best)), (reached, optimum)
        line_sums = (
            plan.backlog_unit_weeks.sum(),
            plan.shortfall_unit_weeks.sum(),
            plan.inventory_unit_weeks.sum(),
        )
        np.testing.assert_allclose(line_sums, reached, rtol=1e-9, atol=1e-9)


@PROPERTY_SETTINGS
@given(data=instances(max_products=8, max_weeks=8, runs=True))
def test_batches_and_minimum_runs_reach_the_reference_mixed_integer_optimum(data):
    inputs, options = data
    demand, on_hand, safety, lead, _, _, _, frozen, hold = inputs
    cap = effective_cap(demand, on_hand, lead, frozen, hold, options["usable_weeks"])
    reference = reference_plan(*inputs, **options)
    optimum = objectives(reference, demand, on_hand, safety, lead, cap)

    plan = plan_quotas(*inputs, **options)

    assert_hard_constraints(plan, inputs, options)
    assert all(method.endswith(("+mip", "+whole")) for method in plan.methods)
    reached = objectives(plan.production, demand, on_hand, safety, lead, cap)
    for value, best in zip(levels(reached), levels(optimum), strict=True):
        assert abs(value - best) <= 1e-6 * (1 + abs(best)), (reached, optimum)
    assert_gap_is_against_the_relaxation(plan, inputs)


def assert_gap_is_against_the_relaxation(plan, inputs):
    """relaxation_gap: objectives minus the continuous plan's, lexicographically >= 0."""
    for line, gap in enumerate(plan.relaxation_gap):
        if plan.methods[line].endswith("+whole"):
            np.testing.assert_array_equal(gap, [0.0, 0.0, 0.0])
            continue
        tolerance = 1e-6 * (1 + np.abs(inputs[0]).sum())
        first = next((value for value in gap if abs(value) > tolerance), 0.0)
        assert first >= 0, gap


@PROPERTY_SETTINGS
@given(data=instances(max_products=30, max_weeks=12, runs=True))
def test_rounding_keeps_every_hard_constraint_on_larger_lines(data):
    inputs, options = data
    demand, on_hand, _, lead, _, _, _, frozen, hold = inputs
    cap = effective_cap(demand, on_hand, lead, frozen, hold, options["usable_weeks"])

    plan = plan_quotas(*inputs, **options)

    assert_hard_constraints(plan, inputs, options)
    scale = 1e-7 * (1 + np.abs(demand).sum() + np.abs(on_hand).sum())
    assert np.all(plan.inventory <= cap + scale)
    assert_gap_is_against_the_relaxation(plan, inputs)


def test_promotion_on_a_product_with_little_shelf_life_goes_short_instead_of_built_ahead():
    # 100 a week, a promotion of 700 in week 6, 200 hours a week at 1 hour a unit, and
    # units usable for 2 weeks after they arrive: stock at the end of week t may not
    # exceed the demand of weeks t+1 and t+2. Without the limit weeks 1-5 build 500 ahead
    # and nothing is short. With it the end of week 3 holds at most 100 + 100 = 200, weeks 4
    # and 5 add 100 each (200 made, 100 sold), so week 6 starts with 400 and sells 400 + 200
    # of 700: 100 short, made up in week 7 (200 made, 100 sold).
    demand = np.array([[100, 100, 100, 100, 100, 100, 700, 100]], dtype=float)
    args = (demand, [0.0], [0.0], [0], [0], [1.0], [[200.0] * 8])

    free = plan_quotas(*args)
    capped = plan_quotas(*args, usable_weeks=[2])

    np.testing.assert_array_equal(free.production[0], [100, 200, 200, 200, 200, 200, 200, 100])
    assert free.shortage.sum() == 0
    np.testing.assert_array_equal(capped.production[0], [100, 100, 200, 200, 200, 200, 200, 200])
    np.testing.assert_array_equal(capped.inventory[0], [0, 0, 100, 200, 300, 400, 0, 0])
    np.testing.assert_array_equal(capped.shortage[0], [0, 0, 0, 0, 0, 0, 100, 0])
    # Caps: demand of the next two weeks; weeks 6 and 7 reach past the horizon, where a
    # week counts as the mean of the last four weeks (100 + 100 + 700 + 100) / 4 = 250.
    np.testing.assert_array_equal(capped.stock_cap[0], [200, 200, 200, 200, 800, 800, 350, 500])
    # Week 3 is at its cap while week 6 is short: building more ahead would expire.
    np.testing.assert_array_equal(capped.cap_binding[0], [0, 0, 0, 1, 0, 0, 0, 0])
    assert capped.backlog_unit_weeks[0] == 100
    assert capped.inventory_unit_weeks[0] == 1000


def test_four_usable_weeks_cap_a_peak_and_flag_the_week_that_holds_it_back():
    # 10 a week, a promotion of 400 in week 6, 50 hours a week at 1 hour a unit, 4 usable
    # weeks. Caps (demand of the next 4 weeks): weeks 0 and 1 hold at most 40, weeks 2-5
    # at most 10 + 10 + 10 + 400 = 430 less what lies outside their window (230 for week
    # 2: 10 + 10 + 10 + 400 is weeks 3-6 = 430; week 2's window is weeks 3-6 = 430).
    # The line adds at most 40 a week to stock, so from 40 at the end of week 1 it reaches
    # 80, 120, 160, 200 by week 5: week 6 sells 200 + 50 of 400 and is 150 short, caught
    # up by 40 a week (110, 70, 30). Week 1 is at its cap while week 6 is short: anything
    # more built ahead would expire before it sells.
    demand = np.array([[10, 10, 10, 10, 10, 10, 400, 10, 10, 10]], dtype=float)
    args = (demand, [0.0], [0.0], [0], [0], [1.0], [[50.0] * 10])

    plan = plan_quotas(*args, usable_weeks=[4])

    np.testing.assert_array_equal(plan.stock_cap[0, :6], [40, 40, 430, 430, 430, 430])
    np.testing.assert_array_equal(plan.production[0], [10, 50, 50, 50, 50, 50, 50, 50, 50, 50])
    np.testing.assert_array_equal(plan.inventory[0, :6], [0, 40, 80, 120, 160, 200])
    np.testing.assert_array_equal(plan.shortage[0], [0] * 6 + [150, 110, 70, 30])
    np.testing.assert_array_equal(plan.cap_binding[0], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    assert plan.backlog_unit_weeks[0] == 360


def test_stock_already_over_the_cap_is_the_cap_and_nothing_is_added():
    # 400 in stock, 50 a week, 1 usable week: the cap (50) is below the stock of weeks 0-5
    # (350, 300, ... 100), so those weeks' caps are that stock; weeks 8 and 9 need 50 each.
    demand = np.array([[50.0] * 10])
    plan = plan_quotas(demand, [400.0], [0.0], [0], [0], [1.0], [[100.0] * 10], usable_weeks=[1])

    np.testing.assert_array_equal(plan.stock_cap[0], [350, 300, 250, 200, 150, 100, 50, 50, 50, 50])
    np.testing.assert_array_equal(plan.production[0], [0] * 8 + [50, 50])
    assert not plan.cap_binding.any()
    assert plan.shortage.sum() == 0


def test_safety_stock_counts_only_up_to_the_cap():
    # Safety stock 100 but only 1 usable week of 20 a week: the target is 20, not 100.
    demand = np.array([[20.0] * 6])
    plan = plan_quotas(demand, [0.0], [100.0], [0], [0], [1.0], [[1000.0] * 6], usable_weeks=[1])

    np.testing.assert_array_equal(plan.production[0], [40, 20, 20, 20, 20, 20])
    np.testing.assert_array_equal(plan.inventory[0], [20] * 6)
    np.testing.assert_array_equal(plan.safety_shortfall[0], [0] * 6)
    assert plan.shortfall_unit_weeks[0] == 0


def test_no_shelf_life_leaves_the_cap_infinite_and_nothing_binding():
    demand = np.array([[10.0, 20.0, 30.0]])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[25.0] * 3])

    assert np.all(np.isinf(plan.stock_cap))
    assert not plan.cap_binding.any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"usable_weeks": [1.0, 2.0]}, r"usable_weeks must have shape \(1,\)"),
        ({"usable_weeks": [-1.0]}, "usable_weeks must not be negative"),
        ({"usable_weeks": [1.5]}, "usable_weeks must hold whole numbers"),
        ({"usable_weeks": [np.nan]}, "usable_weeks must not be NaN"),
        ({"usable_weeks": ["x"]}, "usable_weeks must be numeric"),
        ({"batch_size": [0]}, "batch_size must be at least 1"),
        ({"batch_size": [2.5]}, "batch_size must hold whole numbers"),
        ({"batch_size": [[1]]}, "batch_size must be 1-dimensional"),
        ({"minimum_run": [-3]}, "minimum_run must be at least 0"),
        ({"minimum_run": [np.inf]}, "minimum_run must hold whole numbers"),
    ],
)
def test_invalid_plant_parameters_are_rejected_with_a_clear_message(change, message):
    demand = np.array([[10.0, 20.0]])
    with pytest.raises(ValueError, match=message):
        plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[25.0] * 2], **change)


def test_batches_make_whole_multiples_with_the_least_stock():
    # 30 a week, batches of 50: cumulative production must reach 30, 60, 90, 120 in
    # multiples of 50 - the least is 50, 100, 100, 150, i.e. 50, 50, 0, 50 (stock 20, 40,
    # 10, 30 = 100 unit-weeks more than the continuous plan of 30 a week).
    demand = np.array([[30.0] * 4])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[500.0] * 4], batch_size=[50])

    np.testing.assert_array_equal(plan.production[0], [50, 50, 0, 50])
    np.testing.assert_array_equal(plan.inventory[0], [20, 40, 10, 30])
    np.testing.assert_array_equal(plan.relaxation_gap[0], [0, 0, 100])
    assert plan.methods == ("latest-first+mip",)
    assert plan.unplannable == (None,)


def test_a_minimum_run_makes_one_run_when_two_would_hold_more_stock():
    # 30 a week, minimum run 100: one run of 120 in week 0 holds 90 + 60 + 30 = 180
    # unit-weeks; 100 then another run of 100 in week 3 would hold 70 + 40 + 10 + 80 = 200.
    demand = np.array([[30.0] * 4])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[500.0] * 4], minimum_run=[100])

    np.testing.assert_array_equal(plan.production[0], [120, 0, 0, 0])
    assert plan.inventory_unit_weeks[0] == 180
    np.testing.assert_array_equal(plan.relaxation_gap[0], [0, 0, 180])


def test_fractional_demand_is_planned_in_whole_units():
    # 10.4 a week: whole units cover 10.4, 20.8, 31.2 with 11, 21, 32 (11, 10, 11).
    demand = np.array([[10.4, 10.4, 10.4]])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[100.0] * 3])

    np.testing.assert_array_equal(plan.production[0], [11, 10, 11])
    assert plan.shortage.sum() == 0


def test_a_minimum_run_beyond_the_weeks_hours_is_flagged_and_the_rest_is_planned():
    # 900 units at 130/900 hours each need 130 hours; the line never has more than 120.
    demand = np.array([[100.0] * 4, [20.0] * 4])
    plan = plan_quotas(
        demand,
        [0.0, 0.0],
        [0.0, 0.0],
        [0, 0],
        [0, 0],
        [130 / 900, 1.0],
        [[120.0, 100.0, 120.0, 90.0]],
        minimum_run=[900, 0],
    )

    assert plan.unplannable == (
        "a minimum run of 900 units needs 130.0 hours; the line never has more than 120.0 "
        "in a week",
        None,
    )
    np.testing.assert_array_equal(plan.production[0], [0, 0, 0, 0])
    np.testing.assert_array_equal(plan.shortage[0], [100, 200, 300, 400])
    np.testing.assert_array_equal(plan.production[1], [20, 20, 20, 20])


def test_a_batch_larger_than_the_shelf_life_can_sell_is_flagged():
    # 100 a week for 6 weeks, 2 usable weeks: by week 5 at most 600 owed + 200 of cap =
    # 800 units may have been made; a batch of 1,000 never fits.
    demand = np.array([[100.0] * 6])
    plan = plan_quotas(
        demand,
        [0.0],
        [0.0],
        [0],
        [0],
        [0.01],
        [[100.0] * 6],
        usable_weeks=[2],
        batch_size=[1000],
    )

    assert plan.unplannable == (
        "a batch of 1,000 units is more than it can sell within its shelf life: at most 800 "
        "units fit under the cap",
    )
    np.testing.assert_array_equal(plan.production[0], [0] * 6)


def test_frozen_weeks_keep_their_given_values_whole_or_not():
    demand = np.array([[10.0, 10.0, 10.0]])
    frozen = np.array([[7.5, np.nan, np.nan]])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[100.0] * 3], frozen, batch_size=[5])

    # Week 0 keeps 7.5 (2.5 short); week 1 must bring the total to 20: 12.5 -> 15.
    np.testing.assert_array_equal(plan.production[0], [7.5, 15, 10])


def test_importing_and_planning_print_nothing(tmp_path):
    # HiGHS prints a banner when the process's first model is made; the engine keeps it
    # off stdout (the CLI and the Celery logs would carry it otherwise).
    script = (
        "import numpy as np\n"
        "from production.engine import plan_quotas\n"
        "plan_quotas(np.array([[10.0, 30.0, 50.0]]), [0.0], [0.0], [0], [0], [1.0],"
        " [[20.0, 20.0, 20.0]], batch_size=[4])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert result.stdout == ""
    assert result.stderr == ""


def test_a_fraction_is_not_noise_on_a_line_with_large_needs():
    # A million units of one product make the line's scale large; 10.4 a week of another
    # is still planned as 11, 10, 11 (never rounded down into a shortage).
    demand = np.array([[1e6, 1e6, 1e6], [10.4, 10.4, 10.4]])
    plan = plan_quotas(demand, [0.0, 0.0], [0.0, 0.0], [0, 0], [0, 0], [0.0, 1.0], [[100.0] * 3])

    np.testing.assert_array_equal(plan.production[1], [11, 10, 11])
    assert plan.shortage.sum() == 0


def test_a_huge_usable_life_is_no_limit():
    demand = np.array([[10.0, 20.0, 30.0]])
    plan = plan_quotas(demand, [0.0], [0.0], [0], [0], [1.0], [[25.0] * 3], usable_weeks=[1e300])

    assert np.all(plan.stock_cap > 1e12)
    np.testing.assert_array_equal(plan.production[0], [10, 25, 25])


def test_a_run_held_back_by_the_cap_is_made_in_an_earlier_run_when_rounding(monkeypatch):
    # The demo's replaced product: 2,870 in stock, demand ending after week 5 (its
    # successor takes over), batches of 500, a minimum run of 1,000, lead time 1, weeks 0
    # and 1 frozen at 0. It needs 1,662 more units; 2,000 would leave 338 that never sell
    # (over the cap), so the best whole plan is one run of 1,500 in week 2: 162 short. The
    # rounding, week by week, made 1,000 in week 2 and then had no room under the cap for
    # a second minimum run: 662 short. It now enlarges the earlier run, as the exact
    # mixed-integer program does.
    from production.engine import planner

    demand = np.array([[831, 774.6, 778.8, 727.7, 720.8, 699.2] + [0.0] * 10])
    frozen = np.full((1, 16), np.nan)
    frozen[0, :2] = 0
    args = (demand, [2870.0], [234.98], [1], [0], [0.0056], [[120.0] * 16])
    options = {"frozen": frozen, "batch_size": [500], "minimum_run": [1000], "usable_weeks": [17]}

    exact = plan_quotas(*args, **options)
    monkeypatch.setattr(planner, "MIP_CELLS", 0)
    rounded = plan_quotas(*args, **options)

    assert (exact.methods, rounded.methods) == (("latest-first+mip",), ("latest-first+rounded",))
    for plan in (exact, rounded):
        np.testing.assert_array_equal(plan.production[0], [0, 0, 1500] + [0] * 13)
        np.testing.assert_allclose(plan.shortage[0], [0] * 5 + [162.1] * 11)
        np.testing.assert_allclose(plan.relaxation_gap[0], [1783.1, 0, 1325.04])


@pytest.mark.parametrize(
    ("row", "relaxed", "start", "kept", "freed"),
    [
        # 500 ahead from week 4 on: its batch goes; weeks 2 and 3 are less ahead than one.
        (
            [0, 1000, 500, 500, 500],
            [0, 800, 1200, 1600, 2000],
            2,
            [0, 1000, 500, 500, 0],
            [0, 0, 0, 0, 500],
        ),
        # A whole run of 1,000 may go.
        ([1500, 0, 1000], [500, 500, 1500], 1, [1500, 0, 0], [0, 0, 1000]),
        # Half of a minimum run may not: the run would fall below it.
        ([0, 1000], [0, 500], 1, [0, 1000], [0, 0]),
    ],
)
def test_batches_a_larger_earlier_run_made_unnecessary_are_taken_back(
    row, relaxed, start, kept, freed
):
    from production.engine._integral import _give_back

    production = np.array(row, dtype=float)
    taken = _give_back(production, np.array(relaxed, dtype=float), start, 500.0, 1000.0)
    np.testing.assert_array_equal(production, kept)
    np.testing.assert_array_equal(taken, freed)
