"""plan_quotas: validate, plan each line on its own, and derive what the dashboard shows."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from production.engine._greedy import backward_fill, is_exact
from production.engine._integral import allowed_cells, as_whole, round_plan, unplannable
from production.engine._lp import solve_line_lp
from production.engine._mip import MipTimeout, solve_line_mip
from production.engine._netting import (
    net_line,
    shelf_life_cap,
    to_arrival,
    uncapacitated_plan,
)
from production.engine._validate import PlanInputs, validate_inputs

Strategy = Literal["auto", "lp"]

# Differences below this fraction of a product's cumulative volume are solver tolerance
# (HiGHS works to about 1e-7), not pre-build. Quotas are whole units downstream anyway.
_CLEAN = 1e-6
# Safety margin used only when rounding pushed a week's hours over its capacity.
_MARGIN = 1e-12
# Lines with at most this many free cells (products x weeks that may be planned) reach
# whole units through the exact mixed-integer program; larger ones round (_integral).
MIP_CELLS = 64


@dataclass(frozen=True)
class QuotaPlan:
    """The plan and the terms that explain it. (P, T) arrays are indexed product x week.

    production: units to make in week t (frozen values kept; 0 for held products).
    prebuild: units made in week t ahead of the uncapacitated plan because later weeks lack
        hours. With P(t) and U(t) the cumulative production of this plan and of the plan
        with unlimited hours, the lead is E(t) = max(0, P(t) - U(t)) and
        prebuild(t) = max(0, E(t) - E(t-1)): the part of week t's output that the
        uncapacitated plan would only make later. 0 wherever capacity is ample.
    shortage: demand not yet met at the end of week t (backlog carried forward).
    inventory: projected stock on hand at the end of week t.
    safety_shortfall: how far that inventory is below the safety stock, in units.
    uncapacitated: production of the latest plan with unlimited hours (prebuild's baseline).
    utilisation_hours: (L, T) hours each line spends per week (frozen hours included).
    backlog_unit_weeks, shortfall_unit_weeks, inventory_unit_weeks: (L,) the three
        objectives, in priority order, reached on each line (sums of the arrays above).
    methods: per line, how the relaxation was solved: "uncapacitated" (no product uses
        hours), "latest-first" (certified fast path), "lp" (exact linear programs), then how
        whole units were reached: "+whole" (the relaxation already was), "+mip" (exact
        mixed-integer program, small lines) or "+rounded" (heuristic); or "skipped".
    stock_cap: the shelf-life cap on inventory at the end of week t (np.inf where none):
        the demand of the product's next usable weeks, or the stock already there with no
        new production where that is more.
    cap_binding: week t's stock is at its cap while a later week of the product is short -
        more built ahead would expire before it sells.
    relaxation_gap: (L, 3) per line, the three objectives of this (whole-unit) plan minus
        those of the continuous relaxation (no batches, runs or whole units). 0 where the
        relaxation was already whole; lexicographically >= 0 (a larger backlog may come
        with a smaller shortfall). NaN for lines not planned.
    unplannable: per product, a sentence when its batch / minimum run can never be made
        (more hours than any week of the line has, or more than it can sell within its shelf
        life) although it has demand, else None. Such a product is simply not made.
    integral_seconds: (L,) seconds spent reaching whole units (after the relaxation).

    Rows of products (and lines) that were not planned (see plan_quotas' `lines`) are NaN.
    """

    production: np.ndarray
    prebuild: np.ndarray
    shortage: np.ndarray
    inventory: np.ndarray
    safety_shortfall: np.ndarray
    uncapacitated: np.ndarray
    utilisation_hours: np.ndarray
    backlog_unit_weeks: np.ndarray
    shortfall_unit_weeks: np.ndarray
    inventory_unit_weeks: np.ndarray
    methods: tuple[str, ...]
    stock_cap: np.ndarray
    cap_binding: np.ndarray
    relaxation_gap: np.ndarray
    unplannable: tuple[str | None, ...]
    integral_seconds: np.ndarray


@dataclass(frozen=True)
class _LinePlan:
    products: np.ndarray
    production: np.ndarray  # whole units
    relaxed: np.ndarray  # the continuous relaxation's plan
    uncapacitated: np.ndarray
    method: str
    stock_cap: np.ndarray
    unplannable: tuple[str | None, ...]
    integral_seconds: float


def _fit_capacity(fixed, free, hours, capacity):
    """Scale a week's planned production down if rounding took the line over its hours.

    Checked on the same sum the plan reports as utilisation, so that sum never exceeds the
    capacity unless frozen production alone does (the planner then plans nothing there).
    """
    for _ in range(8):
        used = (hours[:, None] * (fixed + free)).sum(axis=0)
        planned = (hours[:, None] * free).sum(axis=0)
        over = (used > capacity) & (planned > 0)
        if not over.any():
            break
        target = np.maximum(planned - (used - capacity), 0.0) * (1 - _MARGIN)
        factor = np.where(over, target / np.where(over, planned, 1.0), 1.0)
        free = free * factor[None, :]
    return free


def _plan_line(inputs: PlanInputs, cap: np.ndarray, line: int, strategy: Strategy) -> _LinePlan:
    products = np.nonzero(inputs.line_of == line)[0]
    problem = net_line(
        inputs.demand[products],
        inputs.on_hand[products],
        inputs.safety_stock[products],
        inputs.lead_time[products],
        inputs.hours_per_unit[products],
        inputs.capacity_hours[line],
        inputs.frozen[products],
        inputs.hold[products],
        cap[products],
    )
    uncapacitated_free = uncapacitated_plan(problem)
    free_production = np.zeros_like(problem.fixed)
    no_hours = (problem.hours_per_unit == 0) & ~problem.hold
    free_production[no_hours] = uncapacitated_free[no_hours]
    capacitated = np.nonzero(problem.capacitated)[0]
    method = "uncapacitated"
    if capacitated.size and inputs.n_weeks:
        planned, unmet = backward_fill(problem, capacitated)
        method = "latest-first"
        if strategy == "lp" or not is_exact(problem, capacitated, planned, unmet):
            # Not certified: the LP decides, started from the fill's plan on the real cells.
            usable = problem.free_with_capacity[capacitated]
            planned = solve_line_lp(problem, capacitated, start=np.where(usable, planned, 0.0))
            method = "lp"
        free_production[capacitated] = planned
        free_production = _fit_capacity(
            problem.fixed, free_production, problem.hours_per_unit, inputs.capacity_hours[line]
        )
    batch = inputs.batch_size[products]
    minimum_run = inputs.minimum_run[products]
    rows = np.nonzero(~problem.hold)[0]
    whole, how, seconds = _whole_units(
        problem, rows, free_production[rows], batch[rows], minimum_run[rows]
    )
    integral = np.zeros_like(free_production)
    integral[rows] = whole
    baseline = np.zeros_like(free_production)
    baseline[rows] = round_plan(
        problem,
        rows,
        uncapacitated_free[rows],
        batch[rows],
        minimum_run[rows],
        capacity=np.full(inputs.n_weeks, np.inf),
    )
    sentences: list[str | None] = [None] * products.size
    for row, sentence in zip(
        rows,
        unplannable(problem, rows, batch[rows], minimum_run[rows], inputs.capacity_hours[line]),
        strict=True,
    ):
        sentences[row] = sentence
    return _LinePlan(
        products=products,
        production=problem.fixed + integral,
        relaxed=problem.fixed + free_production,
        uncapacitated=problem.fixed + baseline,
        method=f"{method}+{how}",
        stock_cap=problem.stock_cap,
        unplannable=tuple(sentences),
        integral_seconds=seconds,
    )


def _whole_units(problem, rows, continuous, batch, minimum_run):
    """(whole-batch plan, "whole" | "mip" | "rounded", seconds spent) for the free
    production of these rows, from the relaxation's plan."""
    started = time.perf_counter()
    whole = as_whole(problem, rows, continuous, batch, minimum_run)
    if whole is not None:
        return whole, "whole", time.perf_counter() - started
    rounded = round_plan(problem, rows, continuous, batch, minimum_run)
    how = "rounded"
    if np.count_nonzero(allowed_cells(problem, rows)) <= MIP_CELLS:
        try:
            rounded = solve_line_mip(
                problem,
                rows,
                batch,
                minimum_run,
                problem.demand.shape[1],
                known=rounded,
                relaxed=continuous,
            )
            how = "mip"
        except MipTimeout:
            pass  # keep the rounded plan: every hard constraint holds in it
    return rounded, how, time.perf_counter() - started


def _lead_over(production, baseline):
    """prebuild: week-on-week growth of the cumulative lead over the baseline plan."""
    done = np.cumsum(production, axis=1)
    planned = np.cumsum(baseline, axis=1)
    scale = np.maximum(1.0, np.maximum(np.abs(done), np.abs(planned)).max(axis=1, initial=0.0))
    lead = done - planned
    lead = np.where(lead > _CLEAN * scale[:, None], lead, 0.0)
    growth = np.diff(lead, axis=1, prepend=0.0)
    # A lead below the tolerance that was cleaned to 0 must not reappear as next week's
    # growth: a week never pre-builds more than it makes.
    growth = np.minimum(growth, production)
    return np.where(growth > _CLEAN * scale[:, None], growth, 0.0)


def _cap_binding(inventory, shortage, stock_cap) -> np.ndarray:
    """Weeks whose stock is at its shelf-life cap while a later week of the product is short."""
    scale = np.maximum(1.0, np.nan_to_num(np.abs(inventory)).max(axis=1, initial=0.0))
    tolerance = _CLEAN * scale[:, None]
    short = np.nan_to_num(shortage) > tolerance
    later_short = np.zeros_like(short)
    later_short[:, :-1] = np.logical_or.accumulate(short[:, ::-1], axis=1)[:, ::-1][:, 1:]
    finite = np.isfinite(stock_cap)
    at_cap = finite & (np.nan_to_num(inventory) >= np.where(finite, stock_cap, 0.0) - tolerance)
    return at_cap & later_short


def plan_quotas(
    demand,
    on_hand,
    safety_stock,
    lead_time,
    line_of,
    hours_per_unit,
    capacity_hours,
    frozen=None,
    hold=None,
    *,
    usable_weeks=None,
    batch_size=None,
    minimum_run=None,
    lines: Iterable[int] | None = None,
    strategy: Strategy = "auto",
    workers: int | None = None,
) -> QuotaPlan:
    """Weekly production quotas per product that respect each line's capacity.

    demand (P, T) units per week; on_hand (P,) units in stock now (negative = owed);
    safety_stock (P,) units; lead_time (P,) whole weeks, output of week t is available from
    week t + lead_time; line_of (P,) index of the product's line; hours_per_unit (P,);
    capacity_hours (L, T); frozen (P, T) accepted quotas to keep, NaN where not frozen;
    hold (P,) True for products under a stop-ship recall (they make nothing, frozen or not).

    usable_weeks (P,): weeks a unit may sit in stock after it arrives and still ship with
        the customer's minimum remaining life (np.inf = no limit; None = no limit for all).
        Stock at the end of week t never exceeds the demand of weeks t+1..t+u (FIFO).
    batch_size (P,) whole numbers >= 1 (None = 1): a free week's production is a multiple.
    minimum_run (P,) whole numbers >= 0 (None = 0): a free week's production is 0 or at
        least this. Production is in whole units always; frozen weeks keep their values.

    lines: plan only these lines (the others' rows come back NaN) - a promotion re-plans the
        line it touches. strategy: "auto" tries the certified fast path first; "lp" always
        solves the linear programs (same answer up to ties, for tests and benchmarks).
    workers: plan lines in that many threads (helps only when several lines need the LP).

    Returns a QuotaPlan; see the package docstring for the model and its guarantees.
    """
    if strategy not in ("auto", "lp"):
        raise ValueError('strategy must be "auto" or "lp"')
    inputs = validate_inputs(
        demand,
        on_hand,
        safety_stock,
        lead_time,
        line_of,
        hours_per_unit,
        capacity_hours,
        frozen,
        hold,
        lines,
        usable_weeks,
        batch_size,
        minimum_run,
    )
    cap = shelf_life_cap(inputs.demand, inputs.usable_weeks)
    n_products, n_weeks, n_lines = inputs.n_products, inputs.n_weeks, inputs.n_lines

    def plan(line: int) -> _LinePlan:
        return _plan_line(inputs, cap, line, strategy)

    if workers and workers > 1 and len(inputs.lines) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            line_plans = list(pool.map(plan, inputs.lines))
    else:
        line_plans = [plan(line) for line in inputs.lines]

    production = np.full((n_products, n_weeks), np.nan)
    uncapacitated = np.full((n_products, n_weeks), np.nan)
    stock_cap = np.full((n_products, n_weeks), np.nan)
    relaxed = np.full((n_products, n_weeks), np.nan)
    for line_plan in line_plans:
        production[line_plan.products] = line_plan.production
        relaxed[line_plan.products] = line_plan.relaxed
        uncapacitated[line_plan.products] = line_plan.uncapacitated
        stock_cap[line_plan.products] = line_plan.stock_cap

    planned = np.isin(inputs.line_of, inputs.lines)
    inventory, shortage, safety_shortfall = _terms(inputs, production, stock_cap, planned)
    cap_binding = _cap_binding(inventory, shortage, stock_cap)
    prebuild = np.full((n_products, n_weeks), np.nan)
    prebuild[planned] = _lead_over(production[planned], uncapacitated[planned])
    relaxed_inventory, relaxed_shortage, relaxed_shortfall = _terms(
        inputs, relaxed, stock_cap, planned
    )
    relaxed_terms = (relaxed_shortage, relaxed_shortfall, relaxed_inventory)

    utilisation = np.full((n_lines, n_weeks), np.nan)
    objectives = [np.full(n_lines, np.nan) for _ in range(3)]
    relaxation_gap = np.full((n_lines, 3), np.nan)
    integral_seconds = np.full(n_lines, np.nan)
    methods = ["skipped"] * n_lines
    unplannable_products: list[str | None] = [None] * n_products
    for line_plan, line in zip(line_plans, inputs.lines, strict=True):
        rows = line_plan.products
        hours = inputs.hours_per_unit[rows]
        utilisation[line] = (hours[:, None] * line_plan.production).sum(axis=0)
        for level, (objective, values, relaxed_values) in enumerate(
            zip(objectives, (shortage, safety_shortfall, inventory), relaxed_terms, strict=True)
        ):
            objective[line] = values[rows].sum()
            relaxation_gap[line, level] = objective[line] - relaxed_values[rows].sum()
        if line_plan.method.endswith("+whole"):
            relaxation_gap[line] = 0.0  # the relaxation's own plan, up to solver noise
        methods[line] = line_plan.method
        integral_seconds[line] = line_plan.integral_seconds
        for row, sentence in zip(rows, line_plan.unplannable, strict=True):
            unplannable_products[row] = sentence

    arrays = [production, prebuild, shortage, inventory, safety_shortfall, uncapacitated]
    arrays += [utilisation, *objectives, stock_cap, cap_binding, relaxation_gap, integral_seconds]
    for array in arrays:
        array.setflags(write=False)
    return QuotaPlan(
        production=production,
        prebuild=prebuild,
        shortage=shortage,
        inventory=inventory,
        safety_shortfall=safety_shortfall,
        uncapacitated=uncapacitated,
        utilisation_hours=utilisation,
        backlog_unit_weeks=objectives[0],
        shortfall_unit_weeks=objectives[1],
        inventory_unit_weeks=objectives[2],
        methods=tuple(methods),
        stock_cap=stock_cap,
        cap_binding=cap_binding,
        relaxation_gap=relaxation_gap,
        unplannable=tuple(unplannable_products),
        integral_seconds=integral_seconds,
    )


def _terms(inputs: PlanInputs, production, stock_cap, planned):
    """(inventory, shortage, safety shortfall) of a plan, (P, T), NaN for unplanned rows."""
    stock = (
        inputs.on_hand[:, None]
        + np.cumsum(to_arrival(np.nan_to_num(production), inputs.lead_time), axis=1)
        - np.cumsum(inputs.demand, axis=1)
    )
    stock[~planned] = np.nan
    inventory = np.maximum(stock, 0.0)
    shortage = np.maximum(-stock, 0.0)
    # Under a shelf-life cap only the safety stock the cap allows counts.
    safety_target = np.minimum(inputs.safety_stock[:, None], stock_cap)
    return inventory, shortage, np.maximum(safety_target - inventory, 0.0)
