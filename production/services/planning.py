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
from demand.bulk import insert_columns
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
    # Every (product, week) array as one flat Python list in row order (product by
    # product, week by week), one conversion per array: indexing numpy per cell, or
    # building a tuple per row, cost more than the rest of the re-plan's row building.
    # Each array is rounded at once (_rounded: the floats _r gives value by value).
    n_weeks = len(weeks)

    def flat(array) -> list:
        return np.asarray(array).ravel().tolist()

    def per_product(values) -> list:
        return [value for value in values for _ in range(n_weeks)]

    def names(nested) -> list:
        return [str(name)[:200] for row in nested for name in row]

    # max(0.0, round(v, 3)) per cell: a NaN becomes 0.0 as max() gave it, -0.0 too.
    rounded_units = _rounded(production)
    units_of = flat(np.where(rounded_units > 0.0, rounded_units, 0.0))
    stock_cap = flat(_rounded(ex["stock_cap"]))
    finite_cap = flat(np.isfinite(np.asarray(ex["stock_cap"], dtype=float)))
    covering: dict[int, list] = {}  # lead time: the weeks each planning week covers
    leads = [int(lead) for lead in inputs.lead_time]
    for lead in leads:
        if lead not in covering:
            covering[lead] = [add_weeks(week, lead) for week in weeks]
    columns = {
        "run_id": [run.pk] * (len(ids) * n_weeks),
        "product_id": per_product(ids),
        "line_id": [line.pk] * (len(ids) * n_weeks),
        "week": weeks * len(ids),
        "covers_week": [week for lead in leads for week in covering[lead]],
        "recommended_units": units_of,
        "baseline": flat(_rounded(ex["baseline"])),
        "promotion_uplift": flat(_rounded(ex["uplift"])),
        "promotion_dip": flat(_rounded(ex["dip"])),
        "cannibalization": flat(_rounded(ex["cannibalization"])),
        "cannibalized_by": names(ex["cannibalized_by"]),
        "halo": flat(_rounded(ex["halo"])),
        "halo_from": names(ex["halo_from"]),
        "firm_orders": flat(_rounded(ex["firm"])),
        "adjustment": flat(_rounded(ex["adjustment"])),
        "demand": flat(_rounded(ex["demand"])),
        "safety_stock": flat(_rounded(ex["safety_stock"])),
        "stock_before_arrival": flat(_rounded(ex["stock_before"])),
        "net_requirement": flat(_rounded(ex["net_requirement"])),
        "prebuild_units": flat(_rounded(prebuild)),
        "capacity_cut_units": flat(_rounded(ex["capacity_cut"])),
        "shortage_units": flat(_rounded(ex["shortage"])),
        "projected_on_hand": flat(_rounded(ex["on_hand"])),
        "hold_reason": per_product(inputs.hold_reason.get(pid, "") for pid in ids),
        "frozen": flat(~np.isnan(inputs.frozen)),
        "stock_cap": [
            cap if finite else None for cap, finite in zip(stock_cap, finite_cap, strict=True)
        ],
        "shelf_life_capped": flat(np.asarray(ex["cap_binding"], dtype=bool)),
        "unplannable": per_product(
            (reason or "")[:300] for reason in result.unplannable[: len(ids)]
        ),
    }
    changed = 0
    cell = 0
    for pid in ids:
        for week in weeks:
            if not math.isclose(previous.pop((pid, week), -1.0), units_of[cell], abs_tol=0.5):
                changed += 1
            cell += 1
    rows = insert_columns(
        QuotaRecommendation,
        RECOMMENDATION_FIELDS,
        [columns[name] for name in RECOMMENDATION_FIELDS],
    )
    return {
        "rows": rows,
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
