"""The promise against a plain linear program with the order added as firm demand (hypothesis).

The reference is written for obviousness, not speed, and shares no code with the engine:
one production variable per (product, week) with its bounds (frozen weeks fixed at the
current plan, held products and output after the horizon at 0), a firm-lateness variable
per (product, week) with

    on_hand + everything arrived by t + late[p, t] >= firm orders through t,

capacity on the weeks from the first unfrozen one, then two levels: least total lateness;
then, keeping it, the largest z with on_hand + arrivals of the product by t >= its firm
orders through t + min(O(t), z) for every week (O: the order's cumulative schedule) -
found by bisection on z with one feasibility LP per step.

The current plans are the planner's own (plan_quotas) on generated lines in every regime:
ample, tight, over-committed by firm orders, shutdowns, holds, long lead times, products
without hours, stock owed.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from production.engine import plan_quotas
from production.engine._netting import to_arrival
from production.engine.promise import LineState, PromiseRefused, promise

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Reference:
    """The two-level LP of one line; deliverable(O) is the largest z for a schedule O."""

    def __init__(self, line: LineState, p: int):
        self.line, self.p = line, p
        n, t_weeks = line.demand.shape
        self.n, self.t = n, t_weeks
        self.prod = np.arange(n * t_weeks).reshape(n, t_weeks)
        self.late = n * t_weeks + self.prod
        self.n_vars = 2 * n * t_weeks
        lower = np.zeros(self.n_vars)
        upper = np.full(self.n_vars, np.inf)
        held = line.held
        for q in range(n):
            for s in range(t_weeks):
                cell = self.prod[q, s]
                if s < line.frozen_weeks:
                    lower[cell] = upper[cell] = line.production[q, s]
                elif held[q] or s + line.lead_time[q] >= t_weeks:
                    upper[cell] = 0.0
        self.bounds = np.column_stack([lower, upper])
        rows, rhs = [], []
        cum_firm = np.cumsum(line.firm, axis=1)
        for q in range(n):
            for t in range(t_weeks):
                row = np.zeros(self.n_vars)
                row[self.arrived(q, t)] = -1.0
                row[self.late[q, t]] = -1.0
                rows.append(row)
                rhs.append(line.on_hand[q] - cum_firm[q, t])
        for s in range(line.frozen_weeks, t_weeks):
            row = np.zeros(self.n_vars)
            row[self.prod[:, s]] = line.hours_per_unit
            rows.append(row)
            rhs.append(line.capacity_hours[s])
        self.a_ub = np.array(rows).reshape(-1, self.n_vars)
        self.b_ub = np.array(rhs)
        cost = np.zeros(self.n_vars)
        cost[self.late.ravel()] = 1.0
        result = self.solve(cost, self.a_ub, self.b_ub)
        assert result.status == 0, result.message
        self.a_ub = np.vstack([self.a_ub, cost])
        self.b_ub = np.append(self.b_ub, result.fun + 1e-9 * max(1.0, result.fun))
        self.cum_firm = cum_firm[p]

    def arrived(self, q, t):
        return [self.prod[q, s] for s in range(t - self.line.lead_time[q] + 1)]

    def solve(self, cost, a_ub, b_ub):
        return linprog(
            cost, A_ub=sp.csr_matrix(a_ub), b_ub=b_ub, bounds=self.bounds, method="highs"
        )

    def feasible(self, schedule, z):
        rows, rhs = [], []
        for t in range(self.t):
            wanted = min(schedule[t], z)
            if wanted <= 0:
                continue
            row = np.zeros(self.n_vars)
            row[self.arrived(self.p, t)] = -1.0
            rows.append(row)
            rhs.append(self.line.on_hand[self.p] - self.cum_firm[t] - wanted)
        if not rows:
            return True
        result = self.solve(
            np.zeros(self.n_vars),
            np.vstack([self.a_ub, rows]),
            np.concatenate([self.b_ub, rhs]),
        )
        return result.status == 0

    def deliverable(self, schedule):
        total = float(schedule[-1])
        if self.feasible(schedule, total):
            return total
        low, high = 0.0, total
        if not self.feasible(schedule, 0.0):
            return 0.0
        for _ in range(60):
            mid = (low + high) / 2
            if self.feasible(schedule, mid):
                low = mid
            else:
                high = mid
        return low


@st.composite
def lines(draw, max_products=4, max_weeks=7):
    n = draw(st.integers(1, max_products))
    t_weeks = draw(st.integers(1, max_weeks))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    regime = draw(st.sampled_from(["ample", "tight", "over-committed", "shutdown"]))
    whole = draw(st.booleans())
    demand = rng.uniform(0, 20, (n, t_weeks)) * (rng.random((n, t_weeks)) < 0.8)
    firm_share = {"over-committed": 1.0}.get(regime, rng.uniform(0, 0.8))
    firm = demand * firm_share * (rng.random((n, t_weeks)) < 0.6)
    if whole:
        demand, firm = np.round(demand), np.round(firm)
        firm = np.minimum(firm, demand)
    on_hand = rng.uniform(-10, 30, n) * (rng.random(n) < 0.7)
    lead = rng.integers(0, 3, n) + t_weeks * (rng.random(n) < 0.05)
    hours = rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0.1, 3)], n)
    level = {"ample": 200.0, "tight": 15.0, "over-committed": 6.0, "shutdown": 40.0}[regime]
    capacity = rng.uniform(0.3, 1.0, t_weeks) * level
    if regime == "shutdown":
        capacity[rng.random(t_weeks) < 0.3] = 0.0
    frozen_weeks = draw(st.integers(0, t_weeks - 1))
    frozen = np.full((n, t_weeks), np.nan)
    frozen[:, :frozen_weeks] = np.where(
        rng.random((n, frozen_weeks)) < 0.7, np.round(rng.uniform(0, 15, (n, frozen_weeks))), np.nan
    )
    held = rng.random(n) < 0.15
    plan = plan_quotas(
        demand,
        on_hand,
        np.zeros(n),
        lead,
        np.zeros(n, dtype=int),
        hours,
        capacity[None, :],
        frozen,
        held,
    )
    products = tuple(f"p{i}" for i in range(n))
    return LineState(
        products=products,
        demand=demand,
        firm=firm,
        on_hand=on_hand,
        lead_time=lead,
        hours_per_unit=hours,
        capacity_hours=capacity,
        production=plan.production,
        frozen_weeks=frozen_weeks,
        hold_reason={products[i]: "recall" for i in np.nonzero(held)[0]},
    )


def tolerance(line, quantity):
    return 1e-6 * max(1.0, quantity, float(np.abs(line.production).sum()), 100.0)


def assert_plan_keeps_promises(line, answer, p):
    """The plan with the order: frozen weeks kept, hours respected, firm orders and the
    delivered schedule covered wherever the line can still influence them."""
    y = answer.production
    assert not y.flags.writeable
    first = line.frozen_weeks
    tol = tolerance(line, answer.quantity)
    np.testing.assert_array_equal(y[:, :first], line.production[:, :first])
    assert np.all(y >= -tol)
    held = line.held
    np.testing.assert_array_equal(y[held], line.production[held])
    hours = (line.hours_per_unit[:, None] * y)[:, first:].sum(axis=0)
    assert np.all(hours <= line.capacity_hours[first:] + tol)
    delivered = np.zeros(line.n_weeks)
    for item in answer.delivers:
        delivered[item.week :] += item.units
    supply = line.on_hand[:, None] + np.cumsum(to_arrival(y, line.lead_time), axis=1)
    owed = np.cumsum(line.firm, axis=1)
    owed[p] += delivered
    others = np.arange(len(line.products)) != p
    makes_nothing = first + line.lead_time[p] >= line.n_weeks
    if line.hours_per_unit[p] == 0 or makes_nothing:
        # An order that takes no hours changes nothing but its own product's production.
        np.testing.assert_array_equal(y[others], line.production[others])
    elif answer.method == "fast":
        for q in range(len(line.products)):
            start = first + int(line.lead_time[q])
            if held[q]:
                continue
            assert np.all(supply[q, start:] >= owed[q, start:] - tol), q
    before_p = supply[p] - np.cumsum(line.firm[p])
    ordered = delivered > 0
    assert np.all(before_p[ordered] >= delivered[ordered] - tol)

    # displaces: exactly the backlog the plan with the order adds, per product and week.
    def backlog(production, extra):
        stock = (
            line.on_hand[:, None]
            + np.cumsum(to_arrival(production, line.lead_time), axis=1)
            - np.cumsum(line.demand, axis=1)
            - extra
        )
        return np.maximum(-stock, 0.0)

    extra = np.zeros_like(line.demand)
    extra[p] = delivered
    more = backlog(y, extra) - backlog(line.production, 0.0)
    reported = np.zeros_like(more)
    for item in answer.displaces:
        reported[line.index(item.product), item.week] = item.units
    np.testing.assert_allclose(reported, np.where(more > tol, more, 0.0), atol=10 * tol)


def pick_product(draw, line):
    open_rows = [i for i, key in enumerate(line.products) if key not in line.hold_reason]
    if not open_rows:
        return None
    return draw(st.sampled_from(open_rows))


@PROPERTY_SETTINGS
@given(data=st.data())
def test_promise_is_the_lp_maximum_and_earliest_week(data):
    line = data.draw(lines())
    p = pick_product(data.draw, line)
    if p is None:
        return
    week = data.draw(st.integers(line.frozen_weeks, line.n_weeks - 1))
    quantity = data.draw(st.sampled_from([1.0, 7.5, 20.0, 60.0, 500.0]))
    answer = promise(line, line.products[p], quantity, week)
    reference = Reference(line, p)
    tol = tolerance(line, quantity)
    schedule = np.where(np.arange(line.n_weeks) >= week, quantity, 0.0)
    expected = reference.deliverable(schedule)
    assert abs(answer.available - expected) <= tol, (answer.available, expected, answer.method)
    earliest = None
    for later in range(week, line.n_weeks):
        if reference.deliverable(np.where(np.arange(line.n_weeks) >= later, quantity, 0)) >= (
            quantity - tol
        ):
            earliest = later
            break
    assert answer.earliest_week == earliest
    assert answer.full == (earliest == week)
    assert (answer.reason == "") == (earliest is not None)
    assert_plan_keeps_promises(line, answer, p)


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(data=st.data())
def test_promise_per_week_is_the_lp_maximum(data):
    line = data.draw(lines())
    p = pick_product(data.draw, line)
    if p is None:
        return
    weeks = data.draw(
        st.lists(st.integers(line.frozen_weeks, line.n_weeks - 1), min_size=1, max_size=3)
    )
    per_week = {}
    for week in weeks:
        per_week[week] = per_week.get(week, 0.0) + data.draw(st.sampled_from([2.0, 10.0, 40.0]))
    answer = promise(line, line.products[p], per_week=per_week)
    wanted = np.zeros(line.n_weeks)
    for week, units in per_week.items():
        wanted[week] += units
    schedule = np.cumsum(wanted)
    tol = tolerance(line, schedule[-1])
    reference = Reference(line, p)
    expected = reference.deliverable(schedule)
    assert abs(answer.available - expected) <= tol, (answer.available, expected, answer.method)
    assert answer.week == max(per_week)
    # The earliest week: the schedule moved later as a block, as little as fits whole.
    earliest = None
    for later in range(line.n_weeks - answer.week):
        moved = np.concatenate([np.zeros(later), schedule[: line.n_weeks - later]])
        if reference.feasible(moved, schedule[-1] - tol):
            earliest = answer.week + later
            break
    assert answer.earliest_week == earliest
    assert_plan_keeps_promises(line, answer, p)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(data=st.data())
def test_held_and_unknown_products_are_refused(data):
    line = data.draw(lines())
    with pytest.raises(PromiseRefused) as refused:
        promise(line, "not on this line", 1.0, line.frozen_weeks)
    assert (refused.value.field, refused.value.code) == ("product", "unknown")
    for key in line.hold_reason:
        try:
            promise(line, key, 1.0, line.frozen_weeks)
        except PromiseRefused as refused:
            assert (refused.field, refused.code) == ("product", "held")
            assert "recall" in str(refused)
        else:
            raise AssertionError("a held product was promised")
