"""The LP path's crash start and its textbook fallback reach the same lexicographic optimum.

solve_line_lp starts HiGHS from a production plan (the planner passes the backward fill's);
the start may change the time to the answer, never the answer's objectives. The textbook
method (each optimum added as a constraint row) is the fallback when the face method's check
fails: checked here directly, on the same instances as the planner's property tests. And
least_backlog (the first level alone, the promise engine's start) reaches the same backlog
from any start, also when it gives up on the start and solves from scratch.
"""

import numpy as np
from hypothesis import given

from production.engine import _lp
from production.engine._greedy import backward_fill
from production.engine._lp import (
    _Model,
    _solve_with_objective_rows,
    least_backlog,
    solve_line_lp,
)
from production.engine._netting import net_line, to_arrival
from tests.production.test_engine_properties import PROPERTY_SETTINGS, instances


def line_problem(data):
    """Line 0 netted, its capacitated products and the backward fill on its real cells."""
    demand, on_hand, safety, lead, line_of, hours, capacity, frozen, hold = data
    rows = np.nonzero(line_of == 0)[0]
    problem = net_line(
        demand[rows],
        on_hand[rows],
        safety[rows],
        lead[rows],
        hours[rows],
        capacity[0],
        frozen[rows],
        hold[rows],
    )
    products = np.nonzero(problem.capacitated)[0]
    if products.size == 0 or problem.demand.shape[1] == 0:
        return None  # nothing on line 0 uses hours: no LP
    filled, _ = backward_fill(problem, products)
    start = np.where(problem.free_with_capacity[products], filled, 0.0)
    return problem, products, start


def objectives(problem, products, free_production):
    """(backlog, shortfall, inventory) unit-weeks of the capacitated products."""
    arrived = to_arrival(free_production, problem.lead_time[products])
    stock = np.cumsum(arrived, axis=1) - problem.need_backlog[products]
    inventory = np.maximum(stock, 0.0)
    shortfall = np.maximum(problem.safety_stock[products, None] - inventory, 0.0)
    return np.array([np.maximum(-stock, 0.0).sum(), shortfall.sum(), inventory.sum()])


def assert_same_objectives(reached, expected):
    # HiGHS works to about 1e-7 per cell; summed over a line that is a few 1e-6 unit-weeks
    # (hypothesis found 3e-6 of stock on the textbook fallback where the face gave 0).
    np.testing.assert_allclose(reached, expected, rtol=1e-6, atol=1e-5)


@PROPERTY_SETTINGS
@given(data=instances(max_products=6, max_weeks=8))
def test_the_start_never_changes_the_optimum(data):
    line = line_problem(data)
    if line is None:
        return
    problem, products, start = line
    cold = objectives(problem, products, solve_line_lp(problem, products))
    from_fill = solve_line_lp(problem, products, start=start)
    usable = problem.free_with_capacity[products]
    # Any plan is a valid start, even one far from the optimum and over capacity.
    rng = np.random.default_rng(int(problem.demand.sum() * 1000) % 2**32)
    wild = np.where(usable, rng.uniform(0, 50, usable.shape), 0.0)
    from_wild = solve_line_lp(problem, products, start=wild)

    assert_same_objectives(objectives(problem, products, from_fill), cold)
    assert_same_objectives(objectives(problem, products, from_wild), cold)


@PROPERTY_SETTINGS
@given(data=instances(max_products=6, max_weeks=8))
def test_textbook_fallback_reaches_the_same_optimum(data):
    line = line_problem(data)
    if line is None:
        return
    problem, products, _ = line
    model = _Model(problem, products)
    if model.n_x == 0:
        return
    solution, _ = _solve_with_objective_rows(model)
    fallback = np.zeros((products.size, problem.demand.shape[1]))
    fallback[model.x_cells] = np.maximum(solution[: model.n_x], 0.0) * model.scale

    assert_same_objectives(
        objectives(problem, products, fallback),
        objectives(problem, products, solve_line_lp(problem, products)),
    )


@PROPERTY_SETTINGS
@given(data=instances(max_products=6, max_weeks=8))
def test_least_backlog_is_the_first_level_from_any_start(data):
    line = line_problem(data)
    if line is None:
        return
    problem, products, start = line
    least = objectives(problem, products, solve_line_lp(problem, products))[0]
    usable = problem.free_with_capacity[products]
    starts = [start, np.zeros(usable.shape)]

    for given_starts in ([], starts):
        made = least_backlog(problem, products, given_starts)
        assert np.all(made[~usable] == 0)
        reached = objectives(problem, products, made)[0]
        np.testing.assert_allclose(reached, least, rtol=1e-6, atol=1e-6)


def test_least_backlog_solves_from_scratch_when_the_start_takes_too_long(monkeypatch):
    # Two products short of hours from week 0: the start needs pivots, one is all it gets.
    demand = np.array([[5.0, 5.0, 5.0], [4.0, 4.0, 4.0]])
    problem = net_line(
        demand,
        np.zeros(2),
        np.zeros(2),
        np.zeros(2, dtype=int),
        np.array([1.0, 2.0]),
        np.array([6.0, 6.0, 6.0]),
        np.full((2, 3), np.nan),
        np.zeros(2, dtype=bool),
    )
    products = np.arange(2)
    monkeypatch.setattr(_lp, "_START_ITERATIONS", 1)
    made = least_backlog(problem, products, [np.zeros((2, 3))])
    # All 18 hours go to the product with 1 hour per unit first (5 a week), the 1 left
    # each week to the other: backlog (0 + 0 + 0) + (3.5 + 7 + 10.5) unit-weeks.
    np.testing.assert_allclose(made, [[5.0, 5.0, 5.0], [0.5, 0.5, 0.5]])
    assert objectives(problem, products, made)[0] == 21.0
