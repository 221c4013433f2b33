"""The exact fallback: the line's lexicographic problem as three linear programs (HiGHS).

Per product p and arrival week t the variables are the free production x (only in weeks
it may be made and that have hours left), the inventory I >= 0 and backlog B >= 0 at the
end of the week, and, for products with a safety stock, the shortfall F >= 0 below it:

    I[t] - B[t] - I[t-1] + B[t-1] - x[t] = -(need[t] - need[t-1])      (stock balance)
    F[t] + I[t] >= safety_stock                                        (shortfall)
    sum_p hours_per_unit[p] * x[p, s + lead_time[p]] <= hours left[s]  (capacity)

Level 1 minimises sum B, level 2 sum F, level 3 sum I. Each level is solved over the set
of optimal solutions of the previous ones, described exactly by complementary slackness
with the previous level's dual solution: a variable with a positive reduced cost is 0 in
every optimal solution, and an inequality with a non-zero dual is tight in every optimal
solution (this holds for any dual optimum, not only a strictly complementary one). So the
optimal face is "fix those variables at 0 and those rows to equality" - no weighted sum,
no objective row. A final check compares the earlier objectives of the answer with their
optima; if rounding ever made the face too small or too large, the levels are re-solved
with the textbook method (each optimum added as a constraint with a 1e-9 relative slack).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from production.engine._netting import LineProblem

# Reduced costs and duals below this (in scaled units, objective coefficients are 1) count as 0.
_DUAL_TOLERANCE = 1e-7
_OBJECTIVE_SLACK = 1e-9
_ACCEPT = 1e-6
_SIGNIFICANT = 9


class PlanningError(RuntimeError):
    """HiGHS could not solve a planning LP (never expected: every LP here is feasible)."""


class _Model:
    """Sparse matrices of the three-level LP for the capacitated products of one line."""

    def __init__(self, problem: LineProblem, products: np.ndarray):
        self.products = products
        lead = problem.lead_time[products]
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
        with_safety = np.nonzero(safety > 0)[0]
        n_short = with_safety.size * n_weeks
        self.n_x = n_x
        self.x_cells = (prod_p, prod_s)
        inv0, back0, short0 = n_x, n_x + n_stock, n_x + 2 * n_stock
        self.n_vars = short0 + n_short
        self.inventory = slice(inv0, back0)
        self.backlog = slice(back0, short0)
        self.shortfall = slice(short0, self.n_vars)

        # Stock balance, one equality per (product, arrival week).
        rows = [cell.ravel(), cell.ravel(), cell[:, 1:].ravel(), cell[:, 1:].ravel()]
        cols = [
            inv0 + cell.ravel(),
            back0 + cell.ravel(),
            inv0 + cell[:, :-1].ravel(),
            back0 + cell[:, :-1].ravel(),
        ]
        n_carry = cell[:, 1:].size
        vals = [np.ones(n_stock), -np.ones(n_stock), -np.ones(n_carry), np.ones(n_carry)]
        rows.append(cell[prod_p, prod_s + lead[prod_p]])
        cols.append(np.arange(n_x))
        vals.append(-np.ones(n_x))
        self.a_eq = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_stock, self.n_vars),
        )
        step = np.diff(need, axis=1, prepend=0.0)
        self.b_eq = (-step / self.scale).ravel()

        # Shortfall rows -F - I <= -safety, then one capacity row per week.
        short_cells = cell[with_safety].ravel()
        short_rows = np.arange(n_short)
        weeks = np.unique(prod_s)
        week_row = np.full(n_weeks, -1)
        week_row[weeks] = n_short + np.arange(weeks.size)
        self.a_ub = sp.csr_matrix(
            (
                np.concatenate(
                    [-np.ones(n_short), -np.ones(n_short), hours[prod_p] * self.scale / hour_scale]
                ),
                (
                    np.concatenate([short_rows, short_rows, week_row[prod_s]]),
                    np.concatenate([short0 + short_rows, inv0 + short_cells, np.arange(n_x)]),
                ),
            ),
            shape=(n_short + weeks.size, self.n_vars),
        )
        self.b_ub = np.concatenate(
            [
                -np.repeat(safety[with_safety], n_weeks) / self.scale,
                problem.capacity[weeks] / hour_scale,
            ]
        )
        self.objectives = []
        for part in (self.backlog, self.shortfall, self.inventory):
            cost = np.zeros(self.n_vars)
            cost[part] = 1.0
            self.objectives.append(cost)

    def solve(self, cost, a_ub, b_ub, a_eq, b_eq, upper):
        result = linprog(
            cost,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=b_ub if a_ub.shape[0] else None,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=np.column_stack([np.zeros(self.n_vars), upper]),
            method="highs",
        )
        if result.status != 0:
            raise PlanningError(f"planning LP failed: {result.message}")
        return result


def _solve_on_faces(model: _Model):
    """Levels one after another, each restricted to the optimal face of the previous."""
    a_ub, b_ub, a_eq, b_eq = model.a_ub, model.b_ub, model.a_eq, model.b_eq
    upper = np.full(model.n_vars, np.inf)
    optima = []
    result = None
    for level, cost in enumerate(model.objectives):
        result = model.solve(cost, a_ub, b_ub, a_eq, b_eq, upper)
        optima.append(result.fun)
        if level == len(model.objectives) - 1:
            break
        upper = np.where(result.lower.marginals > _DUAL_TOLERANCE, 0.0, upper)
        tight = result.ineqlin.marginals < -_DUAL_TOLERANCE if a_ub.shape[0] else []
        if np.any(tight):
            a_eq = sp.vstack([a_eq, a_ub[tight]]).tocsr()
            b_eq = np.concatenate([b_eq, b_ub[tight]])
            a_ub, b_ub = a_ub[~tight], b_ub[~tight]
    return result.x, optima


def _solve_with_objective_rows(model: _Model):
    """The textbook sequential method: previous optima become constraints."""
    a_ub, b_ub = model.a_ub, model.b_ub
    upper = np.full(model.n_vars, np.inf)
    optima = []
    result = None
    for cost in model.objectives:
        result = model.solve(cost, a_ub, b_ub, model.a_eq, model.b_eq, upper)
        optima.append(result.fun)
        bound = result.fun + _OBJECTIVE_SLACK * max(1.0, abs(result.fun))
        a_ub = sp.vstack([a_ub, sp.csr_matrix(cost)]).tocsr()
        b_ub = np.append(b_ub, bound)
    return result.x, optima


def _levels_of(model: _Model, solution: np.ndarray) -> tuple[float, float]:
    return (
        float(solution[model.backlog].sum()),
        float(solution[model.shortfall].sum()),
    )


def solve_line_lp(problem: LineProblem, products: np.ndarray) -> np.ndarray:
    """Lexicographically optimal free production (products x production weeks)."""
    n_weeks = problem.demand.shape[1]
    production = np.zeros((products.size, n_weeks))
    model = _Model(problem, products)
    if model.n_x == 0:
        return production
    solution, optima = _solve_on_faces(model)
    reached = _levels_of(model, solution)
    if any(
        value > optimum + _ACCEPT * max(1.0, abs(optimum))
        for value, optimum in zip(reached, optima[:2], strict=True)
    ):
        solution, optima = _solve_with_objective_rows(model)
    # A vertex of the LP is exact up to HiGHS's 1e-7 tolerances; rounding to 9 significant
    # digits of the line's largest need removes the scaling noise (89.99999999999997 -> 90).
    decimals = _SIGNIFICANT - int(np.ceil(np.log10(model.scale)))
    made = np.round(np.maximum(solution[: model.n_x], 0.0) * model.scale, decimals)
    production[model.x_cells] = np.maximum(made, 0.0)
    return production
