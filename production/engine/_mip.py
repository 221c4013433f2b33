"""The exact whole-unit plan of a small line: the lexicographic mixed-integer program (HiGHS).

Per free cell (p, s) an integer n >= 0 (production = batch[p] * n) and, where the minimum
run is above one batch, a binary y with minimum_run * y <= batch * n <= M * y (M: the most
the product could ever usefully make, or the week's hours allow). Stock columns as in _lp:
backlog B >= 0, I1 in [0, min(safety, cap)], I2 in [0, cap - min(safety, cap)], one balance
row per product and arrival week, one capacity row per week. Levels: min sum B, then
max sum I1, then min sum I1 + I2, each optimum added as a row (optimum + a 1e-7 relative
slack) before the next. (Handing HiGHS 1.16 the heuristic's plan as a start with
setSolution was tried: on some instances the next level then reports an objective its
returned solution does not have, so the MIP runs without one.) Instead, the levels the
rounded plan already reaches at the continuous relaxation's objectives - a lower bound of
every whole-unit plan - are proven optimal without a solve; when it reaches all three the
MIP is not even built.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from production.engine._highs import new_highs
from production.engine._integral import allowed_cells, smallest_run
from production.engine._netting import LineProblem, to_arrival

_INF = highspy.kHighsInf
_OBJECTIVE_SLACK = 1e-7
# Per level; small lines take milliseconds. Past it the caller keeps the rounded plan.
_TIME_LIMIT = 5.0


_OPTIONS: dict = {}


class MipTimeout(RuntimeError):
    """HiGHS did not prove a level optimal within the time limit."""


def solve_line_mip(
    problem: LineProblem,
    rows: np.ndarray,
    batch: np.ndarray,
    minimum_run: np.ndarray,
    n_weeks: int,
    known: np.ndarray | None = None,
    relaxed: np.ndarray | None = None,
) -> np.ndarray:
    """Lexicographically optimal whole-batch free production (rows x T).

    known: a whole-batch plan that keeps every constraint (the rounding's), relaxed: the
    continuous relaxation's plan. The relaxation's objectives bound the whole-unit ones
    from below, so while the known plan reaches them level by level those levels need no
    solve (and if it reaches all three it is the answer)."""
    n = rows.size
    production = np.zeros((n, n_weeks))
    allowed = allowed_cells(problem, rows)
    cell_p, cell_s = np.nonzero(allowed)
    n_cells = cell_p.size
    if n == 0 or n_cells == 0:
        return production
    lead = problem.lead_time[rows]
    hours = problem.hours_per_unit[rows]
    need = problem.need_backlog[rows]
    cap = problem.stock_cap[rows]
    safe_level = np.minimum(problem.safety_stock[rows][:, None], cap)
    rest_level = np.where(np.isfinite(cap), np.maximum(cap - safe_level, 0.0), _INF)
    batch = batch.astype(float)
    smallest = smallest_run(batch, minimum_run)
    # Beyond the largest need (plus a run) more production only adds stock.
    useful = np.maximum(problem.need_safety[rows].max(axis=1, initial=0.0), 0.0)
    useful = useful + smallest + batch
    most = np.full(n_cells, np.inf)
    uses_hours = hours[cell_p] > 0
    most[uses_hours] = problem.capacity[cell_s[uses_hours]] / hours[cell_p[uses_hours]]
    most = np.minimum(most, useful[cell_p])
    count_upper = np.floor(most / batch[cell_p] + 1e-9)
    with_run = np.nonzero(smallest[cell_p] > batch[cell_p])[0]

    def levels(plan: np.ndarray) -> list[float]:
        stock = np.cumsum(to_arrival(plan, lead), axis=1) - need
        stocked = np.maximum(stock, 0.0)
        safe = np.minimum(stocked, safe_level)
        return [float(np.maximum(-stock, 0.0).sum()), -float(safe.sum()), float(stocked.sum())]

    reached: list[float] = []
    if known is not None and relaxed is not None:
        for value, bound in zip(levels(known), levels(relaxed), strict=True):
            if value > bound + _OBJECTIVE_SLACK * max(1.0, abs(bound)):
                break
            reached.append(value)
        if len(reached) == 3:
            return known

    n_stock = n * n_weeks
    cell = np.arange(n_stock).reshape(n, n_weeks)
    back0, safe0, rest0 = n_cells, n_cells + n_stock, n_cells + 2 * n_stock
    run0 = rest0 + n_stock
    n_vars = run0 + with_run.size

    rows_, cols, vals = [], [], []
    # Balance per (product, arrival week): (I1 + I2 - B)[t] - (...)[t-1] - arrivals = -step.
    carried = cell[:, 1:].ravel()
    for first, sign in ((back0, -1.0), (safe0, 1.0), (rest0, 1.0)):
        rows_ += [cell.ravel(), carried]
        cols += [first + cell.ravel(), first + cell[:, :-1].ravel()]
        vals += [np.full(n_stock, sign), np.full(carried.size, -sign)]
    rows_.append(cell[cell_p, cell_s + lead[cell_p]])
    cols.append(np.arange(n_cells))
    vals.append(-batch[cell_p])
    step = -np.diff(need, axis=1, prepend=0.0).ravel()
    lower, upper = [step], [step]
    # Capacity per week, products that use hours.
    row = n_stock
    weeks = np.unique(cell_s[uses_hours])
    week_row = np.full(n_weeks, -1)
    week_row[weeks] = row + np.arange(weeks.size)
    rows_.append(week_row[cell_s[uses_hours]])
    cols.append(np.nonzero(uses_hours)[0])
    vals.append(hours[cell_p[uses_hours]] * batch[cell_p[uses_hours]])
    lower.append(np.full(weeks.size, -_INF))
    upper.append(problem.capacity[weeks])
    row += weeks.size
    # Minimum runs: batch * n - minimum * y >= 0 and batch * n - M * y <= 0.
    if with_run.size:
        k = with_run.size
        low_rows, high_rows = row + np.arange(k), row + k + np.arange(k)
        rows_ += [low_rows, low_rows, high_rows, high_rows]
        cols += [with_run, run0 + np.arange(k), with_run, run0 + np.arange(k)]
        vals += [batch[cell_p[with_run]], -smallest[cell_p[with_run]]]
        vals += [batch[cell_p[with_run]], -np.maximum(most[with_run], smallest[cell_p[with_run]])]
        lower += [np.zeros(k), np.full(k, -_INF)]
        upper += [np.full(k, _INF), np.zeros(k)]
        row += 2 * k
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows_), np.concatenate(cols))),
        shape=(row, n_vars),
    )
    col_lower = np.zeros(n_vars)
    col_upper = np.concatenate(
        [count_upper, np.full(n_stock, _INF), safe_level.ravel(), rest_level.ravel()]
    )
    col_upper = np.concatenate([col_upper, np.ones(with_run.size)])
    integrality = np.zeros(n_vars, dtype=bool)
    integrality[:n_cells] = True
    integrality[run0:] = True

    backlog, shortfall, inventory = (np.zeros(n_vars) for _ in range(3))
    backlog[back0:safe0] = 1.0
    shortfall[safe0:rest0] = -1.0
    inventory[safe0:run0] = 1.0

    highs = new_highs()
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-9)
    highs.setOptionValue("time_limit", _TIME_LIMIT)
    for key, value in _OPTIONS.items():
        highs.setOptionValue(key, value)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_vars, row
    lp.col_cost_ = backlog
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.concatenate(lower)
    lp.row_upper_ = np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in integrality
    ]
    highs.passModel(lp)

    for level, cost in enumerate((backlog, shortfall, inventory)):
        if level < len(reached):
            optimum = reached[level]  # the known plan is optimal up to this level
        else:
            highs.changeColsCost(n_vars, np.arange(n_vars, dtype=np.int32), cost)
            highs.run()
            status = highs.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                raise MipTimeout(highs.modelStatusToString(status))
            solution = np.asarray(highs.getSolution().col_value)
            optimum = float(cost @ solution)
        columns = np.nonzero(cost)[0].astype(np.int32)
        bound = optimum + _OBJECTIVE_SLACK * max(1.0, abs(optimum))
        highs.addRow(-_INF, bound, columns.size, columns, cost[columns])
    production[cell_p, cell_s] = np.round(solution[:n_cells]) * batch[cell_p]
    return production
