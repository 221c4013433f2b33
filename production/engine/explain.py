"""Why the engine recommends what it does: for each production week, the terms of the
week its units arrive in (pure numpy, no Django)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from production.selectors.line_inputs import LineInputs

# Below this many units a term rounds to nothing: the dashboard's waterfall, the schedule
# API's explanation and the week flags (pre-build, short) leave it out.
NEGLIGIBLE = 0.5


def whole_units(value: float) -> int:
    """A quantity in whole units, as the dashboard, the schedule and the API state it.
    The planner plans whole units (whole batches); older or hand-made fractional figures
    are rounded up, so accepting a plan never makes less than it needs."""
    return max(0, math.ceil(round(float(value), 6)))


def explain(
    inputs: LineInputs,
    production: np.ndarray,
    prebuild: np.ndarray,
    *,
    stock_cap: np.ndarray | None = None,
    cap_binding: np.ndarray | None = None,
) -> dict:
    """Per production week, the terms of the week its units arrive in (week + lead time).

    net stock(t) = on hand + units arrived by t - demand through t (negative: backlog).
    stock_cap (P, T), per arrival week, is the most stock the shelf life lets that week
    end with (inf: none); the safety stock the plan aims for is never above it, so the
    safety term is min(safety stock, cap). cap_binding (P, T) marks arrival weeks whose
    stock is at that cap while a later week is short."""
    n, h = production.shape
    arrivals = np.zeros((n, h))
    for i in range(n):
        lead = int(inputs.lead_time[i])
        if lead < h:
            arrivals[i, lead:] = production[i, : h - lead]
    net = inputs.on_hand[:, None] + np.cumsum(arrivals - inputs.demand, axis=1)
    # Index of the arrival week for each (product, production week); beyond the horizon
    # the units serve no demand we know of.
    covers = np.arange(h)[None, :] + inputs.lead_time[:, None]
    inside = covers < h
    at = np.minimum(covers, h - 1)
    rows = np.arange(n)[:, None]
    before = np.where(at >= 1, net[rows, np.maximum(at - 1, 0)], inputs.on_hand[:, None])

    def term(matrix: np.ndarray) -> np.ndarray:
        return np.where(inside, matrix[rows, at], 0.0)

    demand = term(inputs.demand)
    stock_before = np.where(inside, before, net[:, -1:] if h else 0.0)
    cap = np.full((n, h), np.inf) if stock_cap is None else np.asarray(stock_cap, dtype=float)
    cap = np.where(np.isnan(cap), np.inf, cap)
    cap_at = np.where(inside, cap[rows, at], np.inf)
    safety = np.minimum(inputs.safety_stock[:, None], cap_at)
    net_requirement = np.where(inside, np.maximum(0.0, demand + safety - stock_before), 0.0)
    binding = np.zeros((n, h), dtype=bool) if cap_binding is None else np.asarray(cap_binding)
    return {
        "baseline": term(inputs.baseline),
        "uplift": term(inputs.uplift),
        "dip": term(inputs.dip),
        "cannibalization": term(inputs.cannibalization),
        "cannibalized_by": np.where(inside, inputs.cannibalized_by[rows, at], ""),
        "halo": term(inputs.halo),
        "halo_from": np.where(inside, inputs.halo_from[rows, at], ""),
        "firm": term(inputs.firm),
        "adjustment": term(inputs.adjustment),
        "demand": demand,
        "stock_before": stock_before,
        "net_requirement": net_requirement,
        "capacity_cut": np.maximum(0.0, net_requirement + prebuild - production),
        "shortage": np.where(inside, np.maximum(0.0, -net[rows, at]), 0.0),
        "on_hand": np.maximum(0.0, net[rows, at]),
        "safety_stock": safety,
        "stock_cap": cap_at,
        "cap_binding": np.where(inside, binding[rows, at], False),
    }
