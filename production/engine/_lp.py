"""The exact fallback: the line's lexicographic problem as one linear program (HiGHS).

Per product p and arrival week t the variables are the free production x (only in weeks
it may be made and that have hours left), the backlog B >= 0 at the end of the week, and
the inventory split in two: I1 in [0, s] (the part that counts towards the safety stock)
and I2 in [0, cap - s] (the rest), where cap is the shelf-life cap on the week's stock
(infinite without one) and s = min(safety_stock, cap):

    I1[t] + I2[t] - B[t] - (I1 + I2 - B)[t-1] - x[t] = -(need[t] - need[t-1])   (balance)
    sum_p hours_per_unit[p] * x[p, s + lead_time[p]] <= hours left[s]         (capacity)

Level 1 minimises sum B, level 2 maximises sum I1 (the shortfall below the safety stock is
sum (safety_stock - I1), because with the most I1 every week's I1 is min(safety, stock)),
level 3 minimises sum I1 + I2. This is the planner's model written as a network: one
balance row per product and week plus one capacity row per week - the shortfall rows of a
separate "F >= safety - I" formulation are gone, so the LP has half the rows.

Each level is solved over the set of optimal solutions of the previous ones, described
exactly by complementary slackness with the previous level's dual solution: a variable with
a non-zero reduced cost stays at its bound in every optimal solution, and an inequality
with a non-zero dual is tight in every optimal solution (this holds for any dual optimum,
not only a strictly complementary one). So the optimal face is "fix those variables and
make those rows equalities" - no weighted sum, no objective row. A final check compares the
earlier objectives of the answer with their optima; if rounding ever made the face too
small or too large, the levels are re-solved with the textbook method (each optimum added
as a constraint with a 1e-9 relative slack).

Why one highspy model with a crash start. Measured on one line of 500 products x 26 weeks
(bench/plan_quotas_speed.py, one core, best of 3) the three cold scipy `linprog` solves
of the former formulation took 1.35 s overloaded (115 %) and 0.75 s tight with an opening
backlog, almost all of it in HiGHS's simplex iterations (18,000-29,000 per level). Tried:

- one HiGHS model kept between the levels (`highspy`), each level warm-started from the
  previous basis on its optimal face: the second and third levels fall to 15-2,500
  iterations, but the cold first level still needs 15,000-18,000 (1.0 s overloaded);
- HiGHS options (edge weights, scaling, presolve off, primal simplex, interior point,
  PDLP): none below 0.85 s for the first level, interior point and PDLP slower;
- a transportation / min-cost-flow formulation in hours solved by a network simplex
  (POT's LEMON-based `emd`, a network simplex on floats from the package index): 1.8 s
  for a 27 x 26,000 transportation problem of that size, slower than HiGHS;
- starting HiGHS from a feasible point (`setSolution`, crossover): from the backward fill
  of the fast path (_greedy.backward_fill), whose plan meets every requirement it can on
  time and drops the rest, the first level takes 3,500 iterations instead of 18,000;
- first solving the weighted sum B - 1e-3 I1 + 1e-5 (I1 + I2) from that point, then the
  exact levels from its basis: its vertex is often already optimal for levels 1 and 2, so
  they take few or no iterations.

Chosen: the last one. The weighted solve is only a crash start - every level is still
solved to optimality on its own objective over the previous level's face, so the answer
is the exact lexicographic optimum whatever the weights. Figures from
bench/plan_quotas_speed.py (one line of 500 products, best of 3, the same busy 2-core box
for both; the reference LP's objectives printed alongside agree to 2.4e-6 or better):

    case                                   former scipy path   now
    tight 97 % + backlog on a third, 26 w  1.66 s              0.17 - 0.20 s
    overloaded 115 %, 26 weeks             2.90 s              0.87 - 1.24 s
    tight 97 % + backlog on a third, 52 w  2.78 s              0.38 - 0.39 s
    overloaded 115 %, 52 weeks             10.1 s              1.22 - 1.38 s
    ample, tight (fast path), 26 or 52 w   0.002 - 0.008 s     unchanged

The targets (0.25 s for 26 weeks, 1 s for 52) are met with an opening backlog and missed
when the line is overloaded for the whole horizon: what is left there is HiGHS's simplex on
a 13,000-26,000-row LP whose later levels still need ~1,000 iterations each on some
instances (the weighted vertex is not always optimal for the pure levels).
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from production.engine._highs import new_highs
from production.engine._netting import LineProblem

# Reduced costs and duals below this (in scaled units, objective coefficients are 1) count as 0.
_DUAL_TOLERANCE = 1e-7
_OBJECTIVE_SLACK = 1e-9
_ACCEPT = 1e-6
_SIGNIFICANT = 9
# Weights of levels 2 and 3 in the crash start (any positive values keep the answer exact).
_CRASH_WEIGHTS = (1e-3, 1e-5)
_INF = highspy.kHighsInf
# least_backlog: iterations from a start before solving from scratch with presolve instead.
_START_ITERATIONS = 4000
_NO_LIMIT = 2**31 - 1


class PlanningError(RuntimeError):
    """HiGHS could not solve a planning LP (never expected: every LP here is feasible)."""


class _Model:
    """The network LP of the capacitated products of one line (columns x, B, I2, I1)."""

    def __init__(self, problem: LineProblem, products: np.ndarray):
        self.products = products
        self.lead = lead = problem.lead_time[products]
        hours = problem.hours_per_unit[products]
        need = problem.need_backlog[products]
        safety = problem.safety_stock[products]
        n, n_weeks = need.shape
        free = problem.free_with_capacity[products]
        self.scale = max(1.0, float(np.abs(problem.need_safety[products]).max(initial=0.0)))
        hour_scale = max(float(problem.capacity.max(initial=0.0)), 1e-300)

        prod_p, prod_s = np.nonzero(free)
        n_x = prod_p.size
        cell = np.arange(n * n_weeks).reshape(n, n_weeks)
        n_stock = n * n_weeks
        self.with_safety = with_safety = np.nonzero(safety > 0)[0]
        n_safe = with_safety.size * n_weeks
        self.n_x = n_x
        self.x_cells = (prod_p, prod_s)
        back0, rest0, safe0 = n_x, n_x + n_stock, n_x + 2 * n_stock
        self.n_vars = safe0 + n_safe
        self.backlog = slice(back0, rest0)
        self.rest = slice(rest0, safe0)
        self.safe = slice(safe0, self.n_vars)
        self.need = need / self.scale
        # The safety stock each week counts up to (min(safety stock, shelf-life cap)).
        cap = problem.stock_cap[products]
        self.safety = np.minimum(safety[:, None], cap) / self.scale
        cap = cap / self.scale

        # Balance, one equality per (product, arrival week): each stock column enters its
        # own week with its sign and the next week with the opposite one.
        carried = cell[:, 1:].ravel()
        safe_cells = cell[with_safety]
        safe_index = np.arange(n_safe).reshape(with_safety.size, n_weeks)
        rows = [cell.ravel(), carried, cell.ravel(), carried, safe_cells.ravel()]
        rows += [safe_cells[:, 1:].ravel(), cell[prod_p, prod_s + lead[prod_p]]]
        cols = [back0 + cell.ravel(), back0 + cell[:, :-1].ravel()]
        cols += [rest0 + cell.ravel(), rest0 + cell[:, :-1].ravel()]
        cols += [safe0 + safe_index.ravel(), safe0 + safe_index[:, :-1].ravel(), np.arange(n_x)]
        vals = [-np.ones(n_stock), np.ones(carried.size), np.ones(n_stock)]
        vals += [-np.ones(carried.size), np.ones(n_safe), -np.ones(safe_index[:, 1:].size)]
        vals.append(-np.ones(n_x))
        # Capacity, one row per week in which something may be made.
        weeks = np.unique(prod_s)
        week_row = np.full(n_weeks, -1)
        week_row[weeks] = n_stock + np.arange(weeks.size)
        rows.append(week_row[prod_s])
        cols.append(np.arange(n_x))
        vals.append(hours[prod_p] * self.scale / hour_scale)
        self.matrix = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_stock + weeks.size, self.n_vars),
        )
        self.n_balance = n_stock
        step = (-np.diff(need, axis=1, prepend=0.0) / self.scale).ravel()
        self.row_lower = np.concatenate([step, np.full(weeks.size, -_INF)])
        self.row_upper = np.concatenate([step, problem.capacity[weeks] / hour_scale])
        self.col_upper = np.full(self.n_vars, _INF)
        self.col_upper[self.safe] = self.safety[with_safety].ravel()
        # Shelf life: I1 + I2 <= cap, as bounds (I1 never exceeds its part of the cap).
        rest_upper = cap.copy()
        rest_upper[with_safety] = np.maximum(rest_upper[with_safety] - self.safety[with_safety], 0)
        self.col_upper[self.rest] = np.where(np.isfinite(rest_upper), rest_upper, _INF).ravel()
        backlog, shortfall, inventory = (np.zeros(self.n_vars) for _ in range(3))
        backlog[self.backlog] = 1.0
        shortfall[self.safe] = -1.0
        inventory[self.rest] = inventory[self.safe] = 1.0
        self.objectives = [backlog, shortfall, inventory]

    def highs(self) -> highspy.Highs:
        highs = new_highs()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_vars, self.matrix.shape[0]
        lp.col_cost_ = self.objectives[0]
        lp.col_lower_ = np.zeros(self.n_vars)
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.matrix.indptr
        lp.a_matrix_.index_ = self.matrix.indices
        lp.a_matrix_.value_ = self.matrix.data
        highs.passModel(lp)
        return highs

    def point(self, production: np.ndarray) -> np.ndarray:
        """All columns for a production plan (products x weeks, unscaled): each week's
        stock split into backlog, the part up to the safety stock and the rest."""
        x = np.maximum(production[self.x_cells], 0.0) / self.scale
        arrived = np.zeros_like(self.need)
        p, s = self.x_cells
        np.add.at(arrived, (p, s + self.lead[p]), x)
        stock = np.cumsum(arrived, axis=1) - self.need
        inventory = np.maximum(stock, 0.0)
        safe = np.minimum(inventory[self.with_safety], self.safety[self.with_safety])
        inventory[self.with_safety] -= safe
        return np.concatenate([x, np.maximum(-stock, 0.0).ravel(), inventory.ravel(), safe.ravel()])

    def set_costs(self, highs: highspy.Highs, cost: np.ndarray) -> None:
        highs.changeColsCost(self.n_vars, np.arange(self.n_vars, dtype=np.int32), cost)


def _run(highs: highspy.Highs) -> None:
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise PlanningError(
            f"planning LP failed: {highs.modelStatusToString(highs.getModelStatus())}"
        )


def _restrict_to_face(model: _Model, highs: highspy.Highs, lower, upper) -> None:
    """Fix what complementary slackness fixes on the optimal face of the level just solved.
    lower, upper: the columns' current bounds, updated in place."""
    solution = highs.getSolution()
    reduced = np.asarray(solution.col_dual)
    open_ = lower < upper
    at_lower = np.nonzero(open_ & (reduced > _DUAL_TOLERANCE))[0]
    at_upper = np.nonzero(open_ & (reduced < -_DUAL_TOLERANCE))[0]  # only bounded I1 columns
    upper[at_lower] = lower[at_lower]
    lower[at_upper] = upper[at_upper]
    fixed = np.concatenate([at_lower, at_upper]).astype(np.int32)
    if fixed.size:
        highs.changeColsBounds(fixed.size, fixed, lower[fixed], upper[fixed])
    duals = np.asarray(solution.row_dual)[model.n_balance :]
    tight = (model.n_balance + np.nonzero(np.abs(duals) > _DUAL_TOLERANCE)[0]).astype(np.int32)
    if tight.size:
        bound = model.row_upper[tight]
        highs.changeRowsBounds(tight.size, tight, bound, bound)


def _solve_on_faces(model: _Model, start: np.ndarray | None):
    """Levels one after another, each restricted to the optimal face of the previous."""
    highs = model.highs()
    if start is not None:
        weights = (1.0, *_CRASH_WEIGHTS)
        model.set_costs(highs, sum(w * c for w, c in zip(weights, model.objectives, strict=True)))
        # After the costs: changing the model drops a solution already given.
        crash = highspy.HighsSolution()
        crash.col_value = model.point(start)
        crash.value_valid = True
        highs.setSolution(crash)
        _run(highs)
        model.set_costs(highs, model.objectives[0])
    optima = []
    lower, upper = np.zeros(model.n_vars), model.col_upper.copy()
    for level, cost in enumerate(model.objectives):
        if level:
            _restrict_to_face(model, highs, lower, upper)
            model.set_costs(highs, cost)
        _run(highs)
        optima.append(highs.getInfo().objective_function_value)
    return np.asarray(highs.getSolution().col_value), optima


def _solve_with_objective_rows(model: _Model):
    """The textbook sequential method: previous optima become constraints."""
    highs = model.highs()
    optima = []
    for level, cost in enumerate(model.objectives):
        if level:
            model.set_costs(highs, cost)
        _run(highs)
        optimum = highs.getInfo().objective_function_value
        optima.append(optimum)
        columns = np.nonzero(cost)[0].astype(np.int32)
        bound = optimum + _OBJECTIVE_SLACK * max(1.0, abs(optimum))
        highs.addRow(-_INF, bound, columns.size, columns, cost[columns])
    return np.asarray(highs.getSolution().col_value), optima


def solve_line_lp(
    problem: LineProblem, products: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """Lexicographically optimal free production (products x production weeks).

    start: a production plan (products x weeks) to start HiGHS from; any plan is fine
    (it is completed with the backlog and stock it leaves), the answer does not depend
    on it, only the time to reach it."""
    n_weeks = problem.demand.shape[1]
    production = np.zeros((products.size, n_weeks))
    model = _Model(problem, products)
    if model.n_x == 0:
        return production
    solution, optima = _solve_on_faces(model, start)
    if any(
        float(cost @ solution) > optimum + _ACCEPT * max(1.0, abs(optimum))
        for cost, optimum in zip(model.objectives[:2], optima[:2], strict=True)
    ):
        solution, optima = _solve_with_objective_rows(model)
    # A vertex of the LP is exact up to HiGHS's 1e-7 tolerances; rounding to 9 significant
    # digits of the line's largest need removes the scaling noise (89.99999999999997 -> 90).
    decimals = _SIGNIFICANT - int(np.ceil(np.log10(model.scale)))
    made = np.round(np.maximum(solution[: model.n_x], 0.0) * model.scale, decimals)
    production[model.x_cells] = np.maximum(made, 0.0)
    return production


def least_backlog(problem: LineProblem, products: np.ndarray, starts) -> np.ndarray:
    """Free production (products x weeks) of a plan with the least backlog unit-weeks, the
    first level alone (the promise engine starts its own program from it).

    HiGHS first tries from whichever of the `starts` (production plans) leaves the least
    backlog; a start rules out presolve, which makes each iteration about four times
    cheaper, so after _START_ITERATIONS it solves the program from scratch instead."""
    production = np.zeros((products.size, problem.demand.shape[1]))
    model = _Model(problem, products)
    if model.n_x == 0:
        return production
    highs = model.highs()
    points = [model.point(start) for start in starts]
    if points:
        crash = highspy.HighsSolution()
        crash.col_value = min(points, key=lambda point: float(model.objectives[0] @ point))
        crash.value_valid = True
        highs.setSolution(crash)
        highs.setOptionValue("simplex_iteration_limit", _START_ITERATIONS)
        highs.run()
        if highs.getModelStatus() == highspy.HighsModelStatus.kIterationLimit:
            highs.clearSolver()
        highs.setOptionValue("simplex_iteration_limit", _NO_LIMIT)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        _run(highs)
    made = np.asarray(highs.getSolution().col_value)[: model.n_x] * model.scale
    production[model.x_cells] = np.maximum(made, 0.0)
    return production
