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
from production.bulk import insert_rows
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
)


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
        return {"rows": 0, "changed": len(previous), "prebuild": 0.0, "shortage": 0.0}
    result = plan_quotas(
        demand=inputs.demand,
        on_hand=inputs.on_hand,
        safety_stock=inputs.safety_stock,
        lead_time=inputs.lead_time,
        line_of=np.zeros(len(ids), dtype=int),
        hours_per_unit=inputs.hours_per_unit,
        capacity_hours=inputs.capacity_hours[np.newaxis, :],
        frozen=inputs.frozen,
        hold=inputs.hold,
    )
    production = np.asarray(result.production, dtype=float)
    prebuild = np.asarray(result.prebuild, dtype=float)
    ex = explain(inputs, production, prebuild)
    rows = []
    changed = 0
    for i, pid in enumerate(ids):
        reason = inputs.hold_reason.get(pid, "")
        for k, week in enumerate(weeks):
            units = max(0.0, round(float(production[i, k]), 3))
            if not math.isclose(previous.pop((pid, week), -1.0), units, abs_tol=0.5):
                changed += 1
            rows.append(
                (
                    run.pk,
                    pid,
                    line.pk,
                    week,
                    add_weeks(week, int(inputs.lead_time[i])),
                    units,
                    _r(ex["baseline"][i, k]),
                    _r(ex["uplift"][i, k]),
                    _r(ex["firm"][i, k]),
                    _r(ex["adjustment"][i, k]),
                    _r(ex["demand"][i, k]),
                    _r(inputs.safety_stock[i]),
                    _r(ex["stock_before"][i, k]),
                    _r(ex["net_requirement"][i, k]),
                    _r(prebuild[i, k]),
                    _r(ex["capacity_cut"][i, k]),
                    _r(ex["shortage"][i, k]),
                    _r(ex["on_hand"][i, k]),
                    reason,
                    not np.isnan(inputs.frozen[i, k]),
                )
            )
    insert_rows(QuotaRecommendation, RECOMMENDATION_FIELDS, rows)
    return {
        "rows": len(rows),
        "changed": changed + len(previous),
        "prebuild": float(prebuild.sum()),
        # Peak backlog per product: the most demand that is ever waiting at once.
        "shortage": float(ex["shortage"].max(axis=1).sum()),
    }


def _r(value) -> float:
    return round(float(value), 3)
