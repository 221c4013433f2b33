"""The promise on an over-committed line: two linear programs (HiGHS).

Used only when the line's firm orders alone do not fit its hours from the first unfrozen
week on (the fast bound of promise.py assumes they do). Production weeks d = W + j.

Variables: Y[q, j] units of product q made in weeks W..W+j (only weeks whose output arrives
in the horizon), b[q, j] >= 0 units of q's firm need still missing by then. Rows:

    Y[q, j] + b[q, j] >= n_q(j)                                  (firm need, net of stock)
    Y[q, j] >= Y[q, j-1]                                         (nothing unmade)
    sum_q hours[q] * (Y[q, j] - Y[q, j-1]) <= hours of week j    (capacity)

Level 1 minimises sum b (the least firm lateness the line can reach). Level 2 keeps
sum b at that optimum and maximises x subject to the order's rows for the product p:

    Y[p, j] >= n_p(j) + min(O(j + W + lead), x)

min(O, x) is linear between two consecutive values of O, so level 2 is solved segment by
segment, from 0 up, until x stops short of a segment's end. A level-2 program HiGHS does
not solve to optimality counts as infeasible (on large, badly over-committed lines it may
report "unknown" for one it cannot prove infeasible): the answer then errs towards
promising less, never more.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from production.engine._lp import PlanningError

_OPTIMUM_SLACK = 1e-9
_DUAL_TOLERANCE = 1e-7
_ACCEPT = 1e-7


def _single_rows(columns, n_vars, value=-1.0):
    """One row per column listed, with `value` in that column."""
    columns = np.asarray(columns, dtype=int)
    return sp.csr_matrix(
        (np.full(columns.size, value), (np.arange(columns.size), columns)),
        shape=(columns.size, n_vars),
    )


class LineLP:
    """Level 1 of one line (it does not depend on the request): solved on construction.

    The production variables are cumulative (Y[q, j]: units of q made in weeks W..W+j), so
    every firm or order row has one entry; Y never decreases and each week's hours are
    sum_q hours[q] * (Y[q, j] - Y[q, j-1])."""

    def __init__(self, line, net):
        n_weeks, first = line.n_weeks, line.frozen_weeks
        lead = line.lead_time
        self.net = net
        self.rows = net.rows
        n_free = net.hours_left.size
        self.scale = scale = net.scale
        hour_scale = float(net.hours_left.max(initial=0.0)) or 1.0
        self.last = last = {q: n_weeks - 1 - int(lead[q]) - first for q in self.rows}
        self.y_index = y_index = {}
        for q in self.rows:
            for j in range(last[q] + 1):
                y_index[q, j] = len(y_index)
        self.firm_cells = firm_cells = [
            (q, j) for q in self.rows for j in range(last[q] + 1) if net.need[q, j] > 0
        ]
        n_y, n_b = len(y_index), len(firm_cells)
        self.n_y, self.x_col = n_y, n_y + n_b
        self.n_vars = n_vars = self.x_col + 1

        firm = _single_rows([y_index[cell] for cell in firm_cells], n_vars)
        firm = firm + sp.csr_matrix(
            (-np.ones(n_b), (np.arange(n_b), n_y + np.arange(n_b))), shape=(n_b, n_vars)
        )
        firm_rhs = -np.array([net.need[q, j] for q, j in firm_cells]) / scale
        earlier = [(y_index[q, j - 1], y_index[q, j]) for (q, j) in y_index if j > 0]
        n_up = len(earlier)
        before, after = (
            (np.array(c, dtype=int) for c in zip(*earlier, strict=True))
            if (n_up)
            else (np.zeros(0, dtype=int), np.zeros(0, dtype=int))
        )
        monotone = sp.csr_matrix(
            (
                np.concatenate([np.ones(n_up), -np.ones(n_up)]),
                (np.tile(np.arange(n_up), 2), np.concatenate([before, after])),
            ),
            shape=(n_up, n_vars),
        )
        hours = line.hours_per_unit
        cap_rows, cap_cols, cap_vals = [], [], []
        for (q, j), col in y_index.items():
            weight = hours[q] * scale / hour_scale
            cap_rows.append(j)
            cap_cols.append(col)
            cap_vals.append(weight)
            if j + 1 <= last[q]:  # Y[q, j] leaves week j + 1's hours
                cap_rows.append(j + 1)
                cap_cols.append(col)
                cap_vals.append(-weight)
        capacity = sp.csr_matrix((cap_vals, (cap_rows, cap_cols)), shape=(n_free, n_vars))
        a_ub = sp.vstack([firm, monotone, capacity]).tocsr()
        b_ub = np.concatenate([firm_rhs, np.zeros(n_up), net.hours_left / hour_scale])
        cost = np.zeros(n_vars)
        cost[n_y : self.x_col] = 1.0
        level1 = self._solve(cost, a_ub, b_ub, (0.0, 0.0))
        if level1.status != 0:
            raise PlanningError(f"promise LP failed: {level1.message}")
        self.level1 = level1
        # Level 2 runs over the optimal face of level 1, described by complementary
        # slackness (as in _lp): variables with a positive reduced cost stay at 0 and rows
        # with a non-zero dual stay tight - no dense objective row for HiGHS to fight.
        self.upper = np.where(level1.lower.marginals > _DUAL_TOLERANCE, 0.0, np.inf)
        tight = level1.ineqlin.marginals < -_DUAL_TOLERANCE
        self.face = (a_ub[~tight], b_ub[~tight], a_ub[tight], b_ub[tight])
        self.lateness = level1.fun
        self.cost = cost
        lateness = level1.fun + _OPTIMUM_SLACK * max(1.0, abs(level1.fun))
        self.with_row = (sp.vstack([a_ub, sp.csr_matrix(cost)]).tocsr(), np.append(b_ub, lateness))

    def _solve(self, cost, a, b, x_bounds, a_eq=None, b_eq=None, upper=None):
        bounds = np.zeros((self.n_vars, 2))
        bounds[:, 1] = np.inf if upper is None else upper
        bounds[self.x_col] = x_bounds
        if a_eq is not None and a_eq.shape[0] == 0:
            a_eq = b_eq = None
        return linprog(cost, A_ub=a, b_ub=b, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")

    def _solve_level2(self, cost, order, rhs, x_bounds):
        """On the optimal face; if rounding made the face too large (the answer's lateness
        above level 1's optimum), again with the optimum as a constraint row."""
        a_ub, b_ub, a_eq, b_eq = self.face
        result = self._solve(
            cost,
            sp.vstack([a_ub, order]).tocsr(),
            np.concatenate([b_ub, rhs]),
            x_bounds,
            a_eq,
            b_eq,
            self.upper,
        )
        if result.status == 0:
            lateness = float(self.cost @ result.x)
            if lateness <= self.lateness + _ACCEPT * max(1.0, abs(self.lateness)):
                return result
        elif result.status == 2:
            return result
        a_ub, b_ub = self.with_row
        return self._solve(
            cost, sp.vstack([a_ub, order]).tocsr(), np.concatenate([b_ub, rhs]), x_bounds
        )


class OrderLP:
    """Level 2 for one product of a line whose level 1 is solved (LineLP)."""

    def __init__(self, model: LineLP, line, p: int):
        self.model, self.p = model, p
        self.net, self.scale, self.last = model.net, model.scale, model.last
        self.start = line.frozen_weeks + int(line.lead_time[p])

    def _level2(self, schedule: np.ndarray, low: float, high: float):
        """Maximise x in [low, high], with min(O, x) = O where O <= low and x elsewhere."""
        p, start, scale = self.p, self.start, self.scale
        wanted = [
            (j, float(schedule[j + start]))
            for j in range(self.last[p] + 1)
            if schedule[j + start] > 0
        ]
        maximise = np.zeros(self.model.n_vars)
        maximise[self.model.x_col] = -1.0
        model = self.model
        order = _single_rows([model.y_index[p, j] for j, _ in wanted], model.n_vars).tolil()
        uses_x = [units > low for _, units in wanted]
        for row, use in enumerate(uses_x):
            if use:
                order[row, model.x_col] = 1.0 / scale
        rhs = -np.array(
            [
                self.net.need[p, j] + (0.0 if use else units)
                for (j, units), use in zip(wanted, uses_x, strict=True)
            ]
        )
        return model._solve_level2(maximise, order.tocsr(), rhs / scale, (low, high))

    def max_order(self, schedule: np.ndarray, bound: np.ndarray, tol: float) -> float:
        """Largest x such that the first x units of `schedule` can be delivered on time."""
        start = self.start
        total = float(schedule[-1])
        early = (schedule[:start] > 0) & (schedule[:start] > bound[:start] + tol)
        ceiling = min(total, float(bound[:start][early].min())) if early.any() else total
        if ceiling <= 0:
            return 0.0
        inside = schedule[start:]
        levels = sorted({0.0, ceiling, *(float(u) for u in inside if 0 < u < ceiling)})
        reached = 0.0
        for low, high in itertools.pairwise(levels):
            result = self._level2(schedule, low, high)
            if result.status != 0:
                return reached
            reached = float(result.x[self.model.x_col])
            if reached < high - tol:
                return reached
        return reached

    def hard_requirements(self, schedule: np.ndarray) -> np.ndarray:
        """(rows, weeks W..T-1) cumulative units each product must have made so that the
        firm lateness stays least and `schedule` is delivered: need minus the lateness the
        level-2 solution allows, as a running maximum (the order included for p)."""
        total = float(schedule[-1])
        result = self._level2(schedule, total, total) if total > 0 else self.model.level1
        if result.status != 0:
            result = self.model.level1
        late = np.zeros_like(self.net.need)
        for k, (q, j) in enumerate(self.model.firm_cells):
            late[q, j] = result.x[self.model.n_y + k] * self.scale
        need = self.net.need.copy()
        p, start, last = self.p, self.start, self.last[self.p]
        order = np.array([min(float(schedule[j + start]), total) for j in range(last + 1)])
        order = np.concatenate([order, np.full(need.shape[1] - last - 1, order[-1])])
        hard = np.maximum(need - late, 0.0)
        hard[p] = np.where(order > 0, np.maximum(need[p] + order, 0.0), hard[p])
        for q in self.model.rows:
            hard[q, self.last[q] + 1 :] = hard[q, self.last[q]]
        return np.maximum.accumulate(hard[self.model.rows], axis=1)
