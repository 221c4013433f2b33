"""Production's numbers for the planning review, and what-if re-plans.

Each line is planned by the engine from the live inputs (production.selectors.line_inputs
.load_line, the same inputs the recompute pipeline plans from), so the review sees both
the plan and the plan with unlimited hours: the capacity the demand needs. Nothing here
writes: what-if scenarios never touch the live recommendations or the schedule."""

from __future__ import annotations

import datetime as dt

import numpy as np

from coordination.models import Line
from production.engine import plan_quotas
from production.engine.gap import (
    SHIFT_HOURS,
    build_ahead,
    extra_hours_to_close,
    place_extra_hours,
)
from production.selectors.line_inputs import LineInputs, load_line

MAX_HOURS = 168.0  # hours in a week


def _backlog_by_production_week(shortage: np.ndarray, lead_time: np.ndarray) -> np.ndarray:
    """Backlog at the end of each calendar week, seen from the week whose production
    serves it (week + lead time), as the recommendations store it."""
    n, h = shortage.shape
    shifted = np.zeros((n, h))
    for i in range(n):
        lead = int(lead_time[i])
        if lead < h:
            shifted[i, : h - lead] = shortage[i, lead:]
    return shifted


def _plan(inputs: LineInputs, capacity: np.ndarray) -> dict:
    """Plan the line with `capacity` hours per week; arrays per week and per product."""
    n, h = len(inputs.product_ids), len(inputs.weeks)
    if not n:
        zeros = np.zeros(h)
        return {
            "capacity_hours": capacity,
            "needed_hours": zeros,
            "planned_hours": zeros,
            "prebuild_units": zeros,
            "shortage_units": zeros,
            "extra_hours": zeros,
            "production": np.zeros((0, h)),
            "uncapacitated": np.zeros((0, h)),
            "backlog": np.zeros((0, h)),
            "peak_shortage": 0.0,
        }
    supply = inputs.supply(capacity)
    supply["capacity_hours"] = supply["capacity_hours"][np.newaxis, :]
    plan = plan_quotas(demand=inputs.demand, line_of=np.zeros(n, dtype=int), **supply)
    production = np.nan_to_num(np.asarray(plan.production, dtype=float))
    uncapacitated = np.nan_to_num(np.asarray(plan.uncapacitated, dtype=float))
    shortage = np.nan_to_num(np.asarray(plan.shortage, dtype=float))
    backlog = _backlog_by_production_week(shortage, inputs.lead_time)
    # A held product (stop-ship) makes nothing however many hours there are: its backlog
    # is the recall's, not a capacity gap.
    closable = np.where(inputs.hold[:, None], 0.0, backlog)
    hours = inputs.hours_per_unit[:, None]
    return {
        "capacity_hours": capacity,
        "needed_hours": (uncapacitated * hours).sum(axis=0),
        "planned_hours": (production * hours).sum(axis=0),
        "prebuild_units": np.nan_to_num(np.asarray(plan.prebuild, dtype=float)).sum(axis=0),
        "shortage_units": backlog.sum(axis=0),
        "extra_hours": extra_hours_to_close(closable, inputs.hours_per_unit),
        "production": production,
        "uncapacitated": uncapacitated,
        "backlog": backlog,
        # Peak backlog per product, summed: the most demand ever waiting at once.
        "peak_shortage": float(shortage.max(axis=1, initial=0.0).sum()),
    }


def _skus(inputs: LineInputs) -> dict[int, str]:
    from coordination.models import Product

    return dict(Product.objects.filter(pk__in=inputs.product_ids).values_list("pk", "sku"))


def line_review(line: Line) -> dict:
    """One line's plan for the review: per week the hours available, needed (with
    unlimited hours) and planned, units built ahead and short, the extra hours that would
    close the shortage; per product how far ahead it is built and where it is short."""
    inputs = load_line(line)
    plan = _plan(inputs, inputs.capacity_hours)
    skus = _skus(inputs)
    weeks: list[dt.date] = inputs.weeks
    ahead, shortages = [], []
    for i, pid in enumerate(inputs.product_ids):
        moves = build_ahead(plan["production"][i], plan["uncapacitated"][i])
        total = sum(m.units for m in moves)
        weeks_times_units = sum(m.weeks_ahead * m.units for m in moves)
        if total >= 0.5:
            ahead.append(
                {
                    "sku": skus[pid],
                    "units": round(total),
                    "first_week": weeks[min(m.built_week for m in moves)],
                    "weeks_ahead_max": max(m.weeks_ahead for m in moves),
                    "weeks_ahead_avg": round(weeks_times_units / total, 1),
                }
            )
        backlog = plan["backlog"][i]
        if backlog.max(initial=0.0) >= 0.5:
            worst = int(backlog.argmax())
            shortages.append(
                {
                    "sku": skus[pid],
                    "week": weeks[worst],
                    "units": round(float(backlog[worst])),
                    "cause": f"Production held: {inputs.hold_reason[pid]}"
                    if inputs.hold[i]
                    else "Not enough hours",
                }
            )
    # Weeks of the frozen window keep their accepted quotas: hours added there do nothing.
    open_weeks = ~(~np.isnan(inputs.frozen)).any(axis=0) if len(inputs.product_ids) else None
    placements, unplaced = place_extra_hours(
        plan["extra_hours"], plan["capacity_hours"], open_weeks=open_weeks
    )
    added = np.zeros(len(weeks))
    for placement in placements:
        added[placement.week] += placement.hours
    return {
        "line": line,
        "weeks": weeks,
        "extra_hours_added": added,
        "gap": [
            {
                "week": weeks[p.week],
                "for_week": weeks[p.for_week],
                "weeks_earlier": p.weeks_earlier,
                "hours": p.hours,
            }
            for p in placements
        ],
        "gap_unplaced": [
            {"for_week": weeks[k], "hours": float(hours)}
            for k, hours in enumerate(unplaced)
            if hours >= 0.05
        ],
        **{
            key: plan[key]
            for key in (
                "capacity_hours",
                "needed_hours",
                "planned_hours",
                "prebuild_units",
                "shortage_units",
            )
        },
        "build_ahead": sorted(ahead, key=lambda a: a["sku"]),
        "shortages": sorted(shortages, key=lambda s: (s["week"], s["sku"])),
    }


def supply_by_line() -> list[dict]:
    """line_review of every line, by name."""
    return [line_review(line) for line in Line.objects.order_by("name")]


def _summary(plan: dict) -> dict:
    return {
        "capacity_hours": [round(float(v), 1) for v in plan["capacity_hours"]],
        "hours_used": [round(float(v), 1) for v in plan["planned_hours"]],
        "shortage_units": [round(float(v)) for v in plan["shortage_units"]],
        "prebuild_units": [round(float(v)) for v in plan["prebuild_units"]],
        "extra_hours": [round(float(v), 1) for v in plan["extra_hours"]],
        "peak_shortage": round(plan["peak_shortage"]),
        "prebuild_total": round(float(plan["prebuild_units"].sum())),
        "hours_total": round(float(plan["planned_hours"].sum()), 1),
    }


def replan_with_capacity(line: Line, extra_hours) -> dict:
    """Plan the line twice from the live inputs: with its capacity, and with `extra_hours`
    added per week (a week stays between 0 and 168 hours). Reads only."""
    inputs = load_line(line)
    live_capacity = inputs.capacity_hours
    delta = np.asarray(extra_hours, dtype=float)
    if delta.shape != live_capacity.shape:
        raise ValueError(f"extra_hours needs {live_capacity.size} weeks, got {delta.size}")
    live = _plan(inputs, live_capacity)
    scenario = _plan(inputs, np.clip(live_capacity + delta, 0.0, MAX_HOURS))
    changed = np.round(live["production"]) != np.round(scenario["production"])
    return {
        "weeks": [week.isoformat() for week in inputs.weeks],
        "live": _summary(live),
        "scenario": _summary(scenario),
        "changed_cells": int(np.count_nonzero(changed)),
        "shift_hours": SHIFT_HOURS,
    }
