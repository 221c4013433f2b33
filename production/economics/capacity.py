"""What a promotion does to its line's plan: the line planned twice by the pipeline's
planner (production.engine.plan_quotas), without and with the promotion's uplift, and per
product the difference (pure numpy, nothing written).

Per product:
    pre-build     the lead of cumulative production over the plan with unlimited hours,
                  lead(t) = max(0, cumulative plan - cumulative unlimited plan); its sum
                  over the weeks is the unit-weeks held, its growth the units built ahead
    short         the peak backlog: the most demand ever waiting at once
The promotion's effect is each figure with it less without it. It may be negative for a
product: on a full line the planner may build ahead, or leave waiting, another product than
before; the valuation (terms.py) nets them over the line. A difference within the planner's
float noise is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from production.engine import plan_quotas

# Differences smaller than this share of a product's demand are the solver's float noise.
NOISE = 1e-7


@dataclass(frozen=True)
class ProductEffect:
    prebuild_units: float
    prebuild_unit_weeks: float
    short_units: float
    short_without: float
    short_with: float


@dataclass(frozen=True)
class CapacityEffect:
    products: list[ProductEffect]  # in the order of the inputs' rows


def stock_built_ahead(production: np.ndarray, uncapacitated: np.ndarray) -> np.ndarray:
    """(P, T) units held because they were built ahead: the lead of cumulative production
    over the plan with unlimited hours, never below 0."""
    return np.maximum(
        np.cumsum(np.nan_to_num(production), axis=1)
        - np.cumsum(np.nan_to_num(uncapacitated), axis=1),
        0.0,
    )


def plan_line(demand, *, capacity_hours, **supply) -> dict[str, np.ndarray]:
    """One line planned by the pipeline's planner: production, the plan with unlimited
    hours, and the backlog at the end of each week (P x T). `supply` is the rest of
    plan_quotas' inputs for the line (LineInputs.supply(): stock, lead times, run rates,
    frozen weeks, holds, shelf life, batches and minimum runs)."""
    n = demand.shape[0]
    plan = plan_quotas(
        demand=demand,
        line_of=np.zeros(n, dtype=int),
        capacity_hours=np.asarray(capacity_hours, dtype=float)[np.newaxis, :],
        **supply,
    )
    return {
        "production": np.asarray(plan.production, dtype=float),
        "uncapacitated": np.asarray(plan.uncapacitated, dtype=float),
        "shortage": np.nan_to_num(np.asarray(plan.shortage, dtype=float)),
    }


def _plan(demand, **common):
    plan = plan_line(demand, **common)
    lead = stock_built_ahead(plan["production"], plan["uncapacitated"])
    built = np.maximum(np.diff(lead, axis=1, prepend=0.0), 0.0).sum(axis=1)
    return built, lead.sum(axis=1), plan["shortage"].max(axis=1, initial=0.0)


def _change(with_: np.ndarray, without: np.ndarray, scale: np.ndarray) -> np.ndarray:
    change = with_ - without
    return np.where(np.abs(change) > NOISE * scale, change, 0.0)


def capacity_effect(
    *,
    demand_without,
    demand_with,
    on_hand,
    safety_stock,
    lead_time,
    hours_per_unit,
    capacity_hours,
    frozen=None,
    hold=None,
    usable_weeks=None,
    batch_size=None,
    minimum_run=None,
) -> CapacityEffect:
    """Plan one line (P products x T weeks) with `demand_without` and `demand_with` (the
    same but for the promotion's uplift) and return the change in each product's pre-build
    and shortage. The plant's limits (shelf life, batches, minimum runs) apply to both."""
    without = np.asarray(demand_without, dtype=float)
    with_ = np.asarray(demand_with, dtype=float)
    if without.shape != with_.shape:
        raise ValueError("demand_without and demand_with need the same shape")
    common = {
        "on_hand": np.asarray(on_hand, dtype=float),
        "safety_stock": np.asarray(safety_stock, dtype=float),
        "lead_time": np.asarray(lead_time, dtype=int),
        "hours_per_unit": np.asarray(hours_per_unit, dtype=float),
        "capacity_hours": capacity_hours,
        "frozen": frozen,
        "hold": hold,
        "usable_weeks": usable_weeks,
        "batch_size": batch_size,
        "minimum_run": minimum_run,
    }
    if without.shape[0] == 0:
        return CapacityEffect(products=[])
    built_0, weeks_0, short_0 = _plan(without, **common)
    built_1, weeks_1, short_1 = _plan(with_, **common)
    scale = np.maximum(1.0, np.maximum(without.sum(axis=1), with_.sum(axis=1)))
    built = _change(built_1, built_0, scale)
    held = _change(weeks_1, weeks_0, scale * max(1, without.shape[1]))
    short = _change(short_1, short_0, scale)
    return CapacityEffect(
        products=[
            ProductEffect(
                prebuild_units=float(built[i]),
                prebuild_unit_weeks=float(held[i]),
                short_units=float(short[i]),
                short_without=float(short_0[i]),
                short_with=float(short_1[i]),
            )
            for i in range(without.shape[0])
        ]
    )
