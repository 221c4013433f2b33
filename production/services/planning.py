"""Re-planning one production line: load its inputs, run the engine, replace its quota
recommendations. Runs inside the pipeline's transaction (production/services/pipeline.py).
The inputs are read by production/selectors/line_inputs.py, the terms that explain each
recommendation computed by production/engine/explain.py.
"""

from __future__ import annotations

import math

import numpy as np
from django.db.models import Q

from coordination.models import Line
from coordination.weeks import add_weeks
from demand.bulk import insert_rows
from production.engine import plan_quotas
from production.engine.explain import explain
from production.models import (
    QuotaRecommendation,
    RecomputeRun,
)
from production.selectors.line_inputs import load_line

# The columns plan_line writes, in the order of its row tuples.
RECOMMENDATION_FIELDS = (
    "run_id",
    "product_id",
    "line_id",
    "week",
    "covers_week",
    "recommended_units",
    "baseline",
    "promotion_uplift",
    "promotion_dip",
    "cannibalization",
    "cannibalized_by",
    "halo",
    "halo_from",
    "firm_orders",
    "adjustment",
    "demand",
    "safety_stock",
    "stock_before_arrival",
    "net_requirement",
    "prebuild_units",
    "capacity_cut_units",
    "shortage_units",
    "projected_on_hand",
    "hold_reason",
    "frozen",
    "stock_cap",
    "shelf_life_capped",
    "unplannable",
)
# The planner's three objectives, in priority order, as the run stores its gaps.
OBJECTIVES = ("backlog", "safety_shortfall", "inventory")


def plan_line(*, line: Line, run: RecomputeRun, horizon: int | None = None) -> dict:
    """Replace the line's recommendations with a fresh plan; returns what changed."""
    inputs = load_line(line, horizon=horizon)
    ids, weeks = inputs.product_ids, inputs.weeks
    scope = QuotaRecommendation.objects.filter(Q(line=line) | Q(product_id__in=ids))
    previous = {
        (pid, week): units
        for pid, week, units in scope.values_list("product_id", "week", "recommended_units")
    }
    scope.delete()
    if not ids:
        return {
            "rows": 0,
            "changed": len(previous),
            "prebuild": 0.0,
            "shortage": 0.0,
            "method": "",
            "gap": {},
        }
    supply = inputs.supply()
    supply["capacity_hours"] = supply["capacity_hours"][np.newaxis, :]
    result = plan_quotas(demand=inputs.demand, line_of=np.zeros(len(ids), dtype=int), **supply)
    production = np.asarray(result.production, dtype=float)
    prebuild = np.asarray(result.prebuild, dtype=float)
    ex = explain(
        inputs, production, prebuild, stock_cap=result.stock_cap, cap_binding=result.cap_binding
    )
    # Every (product, week) array as nested Python lists, one conversion per array:
    # indexing numpy per cell cost more than the rest of the re-plan's row building.
    # Each array is rounded at once (_rounded: the floats _r gives value by value).
    cells = {
        name: _rounded(ex[name]).tolist()
        for name in (
            "baseline",
            "uplift",
            "dip",
            "cannibalization",
            "halo",
            "firm",
            "adjustment",
            "demand",
            "safety_stock",
            "stock_before",
            "net_requirement",
            "capacity_cut",
            "shortage",
            "on_hand",
            "stock_cap",
        )
    }
    # max(0.0, round(v, 3)) per cell: a NaN becomes 0.0 as max() gave it, -0.0 too.
    rounded_units = _rounded(production)
    units_of = np.where(rounded_units > 0.0, rounded_units, 0.0).tolist()
    prebuilt = _rounded(prebuild).tolist()
    finite_cap = np.isfinite(np.asarray(ex["stock_cap"], dtype=float)).tolist()
    frozen = (~np.isnan(inputs.frozen)).tolist()
    binding = np.asarray(ex["cap_binding"], dtype=bool).tolist()
    cannibalized_by = [[str(name)[:200] for name in row] for row in ex["cannibalized_by"]]
    halo_from = [[str(name)[:200] for name in row] for row in ex["halo_from"]]
    columns = list(cells.values())
    rows = []
    changed = 0
    for i, pid in enumerate(ids):
        reason = inputs.hold_reason.get(pid, "")
        unplannable = (result.unplannable[i] or "")[:300]
        lead = int(inputs.lead_time[i])
        (
            baseline,
            uplift,
            dip,
            cannibalization,
            halo,
            firm,
            adjustment,
            demand,
            safety,
            stock_before,
            net,
            capacity_cut,
            shortage,
            on_hand,
            stock_cap,
        ) = (column[i] for column in columns)
        prebuilt_of = prebuilt[i]
        for k, week in enumerate(weeks):
            units = units_of[i][k]
            if not math.isclose(previous.pop((pid, week), -1.0), units, abs_tol=0.5):
                changed += 1
            rows.append(
                (
                    run.pk,
                    pid,
                    line.pk,
                    week,
                    add_weeks(week, lead),
                    units,
                    baseline[k],
                    uplift[k],
                    dip[k],
                    cannibalization[k],
                    cannibalized_by[i][k],
                    halo[k],
                    halo_from[i][k],
                    firm[k],
                    adjustment[k],
                    demand[k],
                    safety[k],
                    stock_before[k],
                    net[k],
                    prebuilt_of[k],
                    capacity_cut[k],
                    shortage[k],
                    on_hand[k],
                    reason,
                    frozen[i][k],
                    stock_cap[k] if finite_cap[i][k] else None,
                    binding[i][k],
                    unplannable,
                )
            )
    insert_rows(QuotaRecommendation, RECOMMENDATION_FIELDS, rows)
    return {
        "rows": len(rows),
        "changed": changed + len(previous),
        "prebuild": float(prebuild.sum()),
        # Peak backlog per product: the most demand that is ever waiting at once.
        "shortage": float(ex["shortage"].max(axis=1).sum()),
        "method": result.methods[0],
        "gap": {
            # In priority order the first non-zero gap is positive (whole units cost it);
            # a later one may be negative (what that cost bought back).
            name: _r(value)
            for name, value in zip(OBJECTIVES, result.relaxation_gap[0], strict=True)
        },
    }


def _r(value) -> float:
    return round(float(value), 3) + 0.0  # + 0.0: never -0.0


# Below this magnitude v * 1000 and the integers near it are exact in floating point;
# _HALF_BAND is a margin: only a product that lands on a half exactly needs round().
_ROUND_EXACT_BELOW = 1e6
_HALF_BAND = 1e-6


def _rounded(values) -> np.ndarray:
    """_r of every value of an array of any shape, the same floats to the bit, without a
    Python round() per value (a re-plan rounds 780,000 values at 2,000 products).

    v * 1000 in floating point is the exact product rounded, and rounding is monotone:
    unless it lands on a half, it is on the same side of every half as the exact product,
    so rint() gives the integer n nearest the exact v * 1000, and n / 1000 (one correctly
    rounded division) is the float nearest the decimal n / 1000 that round(v, 3) finds.
    A value whose v * 1000 is within _HALF_BAND of a half (ties included), a large one,
    NaN or an infinity is rounded by round() itself."""
    x = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN, infinities: round() below
        scaled = x * 1000.0
        out = np.rint(scaled) / 1000.0 + 0.0  # + 0.0: never -0.0
        doubtful = ~(np.abs(scaled - np.floor(scaled) - 0.5) > _HALF_BAND) | ~(
            np.abs(x) < _ROUND_EXACT_BELOW
        )
    if doubtful.any():
        out[doubtful] = [_r(v) for v in x[doubtful].tolist()]
    return out
