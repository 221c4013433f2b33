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

Speed. Both levels live in one HiGHS model (`highspy`) kept on the LineState with the
line's level 1: after level 1 the model is restricted to its optimal face (as in _lp) and
keeps its basis. Each product's order rows are added once, two per week (one with x, one
without), and a request only changes their bounds and x's, never the matrix, so every
level-2 solve starts from the previous basis and factorisation; HiGHS's primal simplex then
needs a few iterations where its dual simplex needed hundreds. A level-2 solution found
while bisecting is kept by the schedule it delivers, so the plan of the schedule the promise
settles on is not solved again. Level 1 starts from the least-lateness production that the
planner's network program finds (_lp.least_backlog: from the better of its backward fill
and the current plan, or from scratch with presolve when that start is slow).
Measured on the same busy 2-core box, former scipy path -> now (bench/README.md has the
tables): bench/promise_speed.py's over-committed line (500 products x 26 weeks, 30
requests) later promises median 103-148 ms -> 40-80 ms, worst 254-427 ms -> 96-146 ms,
first promise 1.18-1.40 s -> 0.54-0.97 s; bench/promise_api_speed.py (through the API)
median 255-302 ms -> 53 ms, worst 0.97-1.43 s -> 0.22-0.24 s, cold 1.74-3.10 s ->
1.46-1.58 s.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from production.engine._greedy import backward_fill
from production.engine._highs import new_highs
from production.engine._lp import PlanningError, least_backlog
from production.engine._netting import LineProblem

_OPTIMUM_SLACK = 1e-9
_DUAL_TOLERANCE = 1e-7
_ACCEPT = 1e-7


_INF = highspy.kHighsInf
_PRIMAL_SIMPLEX = 4  # HiGHS's simplex_strategy value for the primal simplex


@dataclass(frozen=True)
class _Result:
    status: int  # as scipy's linprog: 0 optimal, 2 infeasible, anything else not solved
    x: np.ndarray | None


def _highs(a_ub, b_ub, cost) -> highspy.Highs:
    """A HiGHS model of min cost @ v, a_ub @ v <= b_ub, v >= 0."""
    highs = new_highs()
    matrix = sp.csc_matrix(a_ub)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(matrix.shape[1])
    lp.col_upper_ = np.full(matrix.shape[1], _INF)
    lp.row_lower_ = np.full(matrix.shape[0], -_INF)
    lp.row_upper_ = np.asarray(b_ub, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    highs.passModel(lp)
    return highs


def _solution(values: np.ndarray) -> highspy.HighsSolution:
    solution = highspy.HighsSolution()
    solution.col_value = values
    solution.value_valid = True
    return solution


def _least_lateness(line, net) -> np.ndarray:
    """(P, T) production with the least firm lateness from week W, by the planner's LP."""
    n_weeks, first = line.n_weeks, line.frozen_weeks
    lead = line.lead_time
    week = np.arange(n_weeks)[None, :]
    capacity = np.zeros(n_weeks)
    capacity[first:] = line.capacity_hours[first:]
    n = len(line.products)
    problem = LineProblem(
        demand=np.zeros((n, n_weeks)),
        on_hand=np.zeros(n),
        safety_stock=np.zeros(n),
        lead_time=lead,
        hours_per_unit=line.hours_per_unit,
        hold=line.held,
        fixed=np.zeros((n, n_weeks)),
        free=(week >= first) & (week + lead[:, None] < n_weeks) & ~line.held[:, None],
        capacity=capacity,
        need_backlog=net.need_arrival,
        need_safety=net.need_arrival,
    )
    production = np.zeros((n, n_weeks))
    rows = net.rows
    if rows.size and n_weeks:
        filled, _ = backward_fill(problem, rows)
        usable = problem.free_with_capacity[rows]
        # The backward fill drops what cannot be on time; the current plan makes it late.
        starts = [np.where(usable, plan, 0.0) for plan in (filled, line.production[rows])]
        production[rows] = least_backlog(problem, rows, starts)
    return production


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
        firm_at = np.array(firm_cells, dtype=int).reshape(-1, 2)
        self.firm_at = (firm_at[:, 0], firm_at[:, 1])
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
        self.cost = cost
        self.highs = highs = _highs(a_ub, b_ub, cost)
        highs.changeColBounds(self.x_col, 0.0, 0.0)
        # Start from an optimal production: the planner's network program of the same
        # lateness (firm need as its backlog need, weeks from W free) solves it several
        # times faster from its backward fill; HiGHS then only finds this model's basis.
        highs.setSolution(_solution(self._columns(line, _least_lateness(line, net))))
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = highs.modelStatusToString(highs.getModelStatus())
            raise PlanningError(f"promise LP failed: {status}")
        solution = highs.getSolution()
        self.level1 = _Result(0, np.asarray(solution.col_value))
        self.lateness = highs.getInfo().objective_function_value
        # Level 2 runs over the optimal face of level 1, described by complementary
        # slackness (as in _lp): variables with a positive reduced cost stay at 0 and rows
        # with a non-zero dual stay tight - no dense objective row for HiGHS to fight. The
        # same HiGHS model becomes the face, so each level-2 solve starts from the basis of
        # the one before.
        fixed = np.nonzero(np.asarray(solution.col_dual) > _DUAL_TOLERANCE)[0].astype(np.int32)
        if fixed.size:
            zeros = np.zeros(fixed.size)
            highs.changeColsBounds(fixed.size, fixed, zeros, zeros)
        tight = np.nonzero(np.asarray(solution.row_dual) < -_DUAL_TOLERANCE)[0].astype(np.int32)
        if tight.size:
            highs.changeRowsBounds(tight.size, tight, b_ub[tight], b_ub[tight])
        maximise = np.zeros(n_vars)
        maximise[self.x_col] = -1.0
        highs.changeColsCost(n_vars, np.arange(n_vars, dtype=np.int32), maximise)
        # A level-2 solve changes the bounds of a few rows and of x from the last basis:
        # HiGHS's primal simplex takes a handful of iterations there, its dual simplex
        # hundreds (measured on the over-committed line of bench/promise_speed.py).
        highs.setOptionValue("simplex_strategy", _PRIMAL_SIMPLEX)
        self.order_rows: dict[int, int] = {}  # product -> its first order row (one per j)
        self.ordering: int | None = None  # the product whose order rows are in force
        lateness = self.lateness + _OPTIMUM_SLACK * max(1.0, abs(self.lateness))
        self.with_row = (sp.vstack([a_ub, sp.csr_matrix(cost)]).tocsr(), np.append(b_ub, lateness))

    def _columns(self, line, production: np.ndarray) -> np.ndarray:
        """All columns (scaled) for a production plan (products x weeks) from week W."""
        first = line.frozen_weeks
        made = np.cumsum(np.maximum(production[:, first:], 0.0), axis=1) / self.scale
        values = np.zeros(self.n_vars)
        cells = np.array(list(self.y_index), dtype=int).reshape(-1, 2)
        values[: self.n_y] = made[cells[:, 0], cells[:, 1]] if cells.size else 0.0
        firm_q, firm_j = self.firm_at
        values[self.n_y : self.x_col] = np.maximum(
            self.net.need[firm_q, firm_j] / self.scale - made[firm_q, firm_j], 0.0
        )
        return values

    def _solve(self, cost, a, b, x_bounds):
        """The textbook fallback, cold (scipy's HiGHS): v >= 0 and x within x_bounds."""
        bounds = np.zeros((self.n_vars, 2))
        bounds[:, 1] = np.inf
        bounds[self.x_col] = x_bounds
        return linprog(cost, A_ub=a, b_ub=b, bounds=bounds, method="highs")

    def level2(self, p: int, wanted, uses_x, low: float, high: float) -> _Result:
        """Maximise x in [low, high] on the optimal face with the order's rows for p:
        Y[p, j] >= need + units (for the weeks that do not use x) or need + x. If rounding
        made the face too large (the answer's lateness above level 1's optimum), again
        with the optimum as a constraint row."""
        highs, scale = self.highs, self.scale
        first = self._order_rows_of(p)
        if self.ordering is not None and self.ordering != p:
            self._release(self.ordering)
        self.ordering = p
        # Two rows per week j: -Y[p, j] <= r (row j) and -Y[p, j] + x / scale <= r (row
        # count + j), free unless wanted; only bounds change between solves, never the
        # matrix, so HiGHS keeps its factorisation and basis.
        count = self.last[p] + 1
        lower, upper = np.full(2 * count, -_INF), np.full(2 * count, _INF)
        rhs = np.array(
            [
                -(self.net.need[p, j] + (0.0 if use else units)) / scale
                for (j, units), use in zip(wanted, uses_x, strict=True)
            ]
        )
        for (j, _), use, bound in zip(wanted, uses_x, rhs, strict=True):
            upper[j + count * use] = bound
        rows = (first + np.arange(2 * count)).astype(np.int32)
        highs.changeRowsBounds(rows.size, rows, lower, upper)
        highs.changeColBounds(self.x_col, low, high)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(highs.getSolution().col_value)[: self.n_vars]
            lateness = float(self.cost @ x)
            if lateness <= self.lateness + _ACCEPT * max(1.0, abs(self.lateness)):
                return _Result(0, x)
        elif status == highspy.HighsModelStatus.kInfeasible:
            return _Result(2, None)
        order = _single_rows([self.y_index[p, j] for j, _ in wanted], self.n_vars).tolil()
        for row, use in enumerate(uses_x):
            if use:
                order[row, self.x_col] = 1.0 / scale
        a_ub, b_ub = self.with_row
        maximise = np.zeros(self.n_vars)
        maximise[self.x_col] = -1.0
        result = self._solve(
            maximise,
            sp.vstack([a_ub, order.tocsr()]).tocsr(),
            np.concatenate([b_ub, rhs]),
            (low, high),
        )
        return _Result(result.status, result.x if result.status == 0 else None)

    def _order_rows_of(self, p: int) -> int:
        """The rows -Y[p, j] <= r_j and -Y[p, j] + x / scale <= r_j of product p (see
        level2), added free the first time p is asked for."""
        if p not in self.order_rows:
            count = self.last[p] + 1
            first = self.highs.getNumRow()
            columns = np.array([self.y_index[p, j] for j in range(count)], dtype=np.int32)
            self.highs.addRows(
                2 * count,
                np.full(2 * count, -_INF),
                np.full(2 * count, _INF),
                3 * count,
                np.concatenate([np.arange(count), count + 2 * np.arange(count)]).astype(np.int32),
                np.concatenate(
                    [columns, np.column_stack([columns, np.full(count, self.x_col)]).ravel()]
                ).astype(np.int32),
                np.concatenate([-np.ones(count), np.tile([-1.0, 1.0 / self.scale], count)]),
            )
            self.order_rows[p] = first
        return self.order_rows[p]

    def _release(self, p: int) -> None:
        count = 2 * (self.last[p] + 1)
        rows = (self.order_rows[p] + np.arange(count)).astype(np.int32)
        self.highs.changeRowsBounds(count, rows, np.full(count, -_INF), np.full(count, _INF))


class OrderLP:
    """Level 2 for one product of a line whose level 1 is solved (LineLP)."""

    def __init__(self, model: LineLP, line, p: int):
        self.model, self.p = model, p
        self.net, self.scale, self.last = model.net, model.scale, model.last
        self.start = line.frozen_weeks + int(line.lead_time[p])
        # Level-2 solutions by the schedule they deliver (max_order's): hard_requirements
        # of the schedule the promise settles on needs one, and max_order usually solved it.
        self.delivering: dict[bytes, _Result] = {}

    def _level2(self, schedule: np.ndarray, low: float, high: float):
        """Maximise x in [low, high], with min(O, x) = O where O <= low and x elsewhere."""
        start = self.start
        wanted = [
            (j, float(schedule[j + start]))
            for j in range(self.last[self.p] + 1)
            if schedule[j + start] > 0
        ]
        uses_x = [units > low for _, units in wanted]
        return self.model.level2(self.p, wanted, uses_x, low, high)

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
        reached, solved = 0.0, None
        for low, high in itertools.pairwise(levels):
            result = self._level2(schedule, low, high)
            if result.status != 0:
                break
            reached, solved = float(result.x[self.model.x_col]), result
            if reached < high - tol:
                break
        if solved is not None:
            # A plan that delivers min(schedule, reached): what the promise settles on when
            # this is its answer, and hard_requirements then needs no program of its own.
            self.delivering[np.minimum(schedule, reached).tobytes()] = solved
            if reached >= total - tol:
                self.delivering[schedule.tobytes()] = solved
        return reached

    def hard_requirements(self, schedule: np.ndarray) -> np.ndarray:
        """(rows, weeks W..T-1) cumulative units each product must have made so that the
        firm lateness stays least and `schedule` is delivered: need minus the lateness the
        level-2 solution allows, as a running maximum (the order included for p)."""
        total = float(schedule[-1])
        result = self.delivering.get(schedule.tobytes())
        if result is None:
            result = self._level2(schedule, total, total) if total > 0 else self.model.level1
        if result.status != 0:
            result = self.model.level1
        late = np.zeros_like(self.net.need)
        firm_q, firm_j = self.model.firm_at
        late[firm_q, firm_j] = result.x[self.model.n_y : self.model.x_col] * self.scale
        need = self.net.need.copy()
        p, start, last = self.p, self.start, self.last[self.p]
        order = np.array([min(float(schedule[j + start]), total) for j in range(last + 1)])
        order = np.concatenate([order, np.full(need.shape[1] - last - 1, order[-1])])
        hard = np.maximum(need - late, 0.0)
        hard[p] = np.where(order > 0, np.maximum(need[p] + order, 0.0), hard[p])
        for q in self.model.rows:
            hard[q, self.last[q] + 1 :] = hard[q, self.last[q]]
        return np.maximum.accumulate(hard[self.model.rows], axis=1)
