"""Re-planning one production line: load its inputs, run the engine, replace its quota
recommendations. Runs inside the pipeline's transaction (production/services/pipeline.py).

    safety stock = z(service level) x sigma x sqrt(max(lead time, 1))
where sigma is the standard deviation of the forecast's one-step errors: the stock that
covers forecast error over the lead time (at least the one-week review period).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone
from scipy.stats import norm

from coordination.models import Line, Product
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, ForecastFit
from production.bulk import insert_rows
from production.engine import plan_quotas
from production.models import (
    InventoryPosition,
    ProductionHold,
    QuotaRecommendation,
    RecomputeRun,
    RunRate,
    ScheduleEntry,
)
from production.selectors.capacity import line_capacity

HORIZON_WEEKS = 26


@dataclass(frozen=True)
class LineInputs:
    """Everything the engine needs for one line, as arrays (products x weeks)."""

    product_ids: list[int]
    weeks: list[dt.date]
    baseline: np.ndarray
    uplift: np.ndarray
    firm: np.ndarray
    adjustment: np.ndarray
    demand: np.ndarray
    on_hand: np.ndarray
    safety_stock: np.ndarray
    lead_time: np.ndarray
    hours_per_unit: np.ndarray
    capacity_hours: np.ndarray  # (weeks,)
    frozen: np.ndarray  # NaN where not frozen
    hold: np.ndarray
    hold_reason: dict[int, str]


def latest_on_hand(ids, until: dt.date) -> dict[int, int]:
    """The most recent count of each product on or before `until`."""
    latest_date = (
        InventoryPosition.objects.filter(product=OuterRef("product"), as_of__lte=until)
        .order_by("-as_of")
        .values("as_of")[:1]
    )
    return dict(
        InventoryPosition.objects.filter(
            product_id__in=ids, as_of=Subquery(latest_date)
        ).values_list("product_id", "on_hand")
    )


def latest_sigma(ids) -> dict[int, float]:
    """Each product's one-step forecast error from its latest forecast run."""
    latest = (
        ForecastFit.objects.filter(product_id__in=ids)
        .values("product_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    return dict(ForecastFit.objects.filter(id__in=latest).values_list("product_id", "sigma"))


def load_line(line: Line, *, horizon: int = HORIZON_WEEKS, first_week=None) -> LineInputs:
    first_week = first_week or current_week()
    weeks = [add_weeks(first_week, k) for k in range(horizon)]
    products = list(
        Product.objects.filter(production_line=line)
        .exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .order_by("pk")
        .values_list("pk", "lead_time_weeks", "target_service_level")
    )
    ids = [pk for pk, _, _ in products]
    n, h = len(ids), len(weeks)
    row = {pk: i for i, pk in enumerate(ids)}
    col = {week: k for k, week in enumerate(weeks)}
    terms = {name: np.zeros((n, h)) for name in ("baseline", "uplift", "firm", "adjustment")}
    demand = np.zeros((n, h))
    for pid, week, baseline, uplift, firm, adjustment, final in DemandForecast.objects.filter(
        product_id__in=ids, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list(
        "product_id",
        "week",
        "baseline",
        "promotion_uplift",
        "firm_orders",
        "adjustment",
        "final",
    ):
        i, k = row[pid], col[week]
        terms["baseline"][i, k] = baseline
        terms["uplift"][i, k] = uplift
        terms["firm"][i, k] = firm
        terms["adjustment"][i, k] = adjustment
        demand[i, k] = final
    sigma = latest_sigma(ids)
    lead_time = np.array([lt for _, lt, _ in products], dtype=int)
    z = norm.ppf(np.array([float(sl) for _, _, sl in products], dtype=float))
    sigmas = np.array([sigma.get(pk, 0.0) for pk in ids], dtype=float)
    safety_stock = np.maximum(0.0, z * sigmas * np.sqrt(np.maximum(lead_time, 1)))
    on_hand_map = latest_on_hand(ids, timezone.localdate())
    rates = dict(
        RunRate.objects.filter(product_id__in=ids).values_list("product_id", "hours_per_unit")
    )
    frozen = np.full((n, h), np.nan)
    frozen_until = add_weeks(first_week, line.frozen_window_weeks)
    for pid, week, units in ScheduleEntry.objects.filter(
        product_id__in=ids,
        week__gte=first_week,
        week__lt=frozen_until,
        superseded_at__isnull=True,
    ).values_list("product_id", "week", "units"):
        frozen[row[pid], col[week]] = units
    holds: dict[int, str] = {}
    for pid, reason in ProductionHold.objects.filter(
        product_id__in=ids, released_at__isnull=True
    ).values_list("product_id", "reason"):
        holds[pid] = f"{holds[pid]}; {reason}" if pid in holds else reason
    return LineInputs(
        product_ids=ids,
        weeks=weeks,
        baseline=terms["baseline"],
        uplift=terms["uplift"],
        firm=terms["firm"],
        adjustment=terms["adjustment"],
        demand=demand,
        on_hand=np.array([float(on_hand_map.get(pk, 0)) for pk in ids]),
        safety_stock=safety_stock,
        lead_time=lead_time,
        hours_per_unit=np.array([float(rates.get(pk, 0)) for pk in ids]),
        capacity_hours=line_capacity(line, weeks),
        frozen=frozen,
        hold=np.array([pk in holds for pk in ids], dtype=bool),
        hold_reason=holds,
    )


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


def plan_line(*, line: Line, run: RecomputeRun, horizon: int = HORIZON_WEEKS) -> dict:
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


def explain(inputs: LineInputs, production: np.ndarray, prebuild: np.ndarray) -> dict:
    """Per production week, the terms of the week its units arrive in (week + lead time).

    net stock(t) = on hand + units arrived by t - demand through t (negative: backlog)."""
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
    net_requirement = np.where(
        inside, np.maximum(0.0, demand + inputs.safety_stock[:, None] - stock_before), 0.0
    )
    return {
        "baseline": term(inputs.baseline),
        "uplift": term(inputs.uplift),
        "firm": term(inputs.firm),
        "adjustment": term(inputs.adjustment),
        "demand": demand,
        "stock_before": stock_before,
        "net_requirement": net_requirement,
        "capacity_cut": np.maximum(0.0, net_requirement + prebuild - production),
        "shortage": np.where(inside, np.maximum(0.0, -net[rows, at]), 0.0),
        "on_hand": np.maximum(0.0, net[rows, at]),
    }
