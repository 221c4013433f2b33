"""What one production line is planned from, read in one go: demand terms, stock,
safety stock, run rates, capacity, frozen quotas and holds, as arrays (products x weeks).
The recompute pipeline plans from it (services/planning.py); the planning review's
what-if scenarios re-plan from it (selectors/review.py).

    safety stock = z(service level) x sigma x sqrt(max(lead time, 1))
where sigma is the standard deviation of the forecast's one-step errors: the stock that
covers forecast error over the lead time (at least the one-week review period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from scipy.stats import norm

from coordination.models import Line, Product
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, ForecastFit
from production.models import (
    InventoryPosition,
    ProductionHold,
    RunRate,
    ScheduleEntry,
)
from production.selectors.capacity import line_capacity


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


def load_line(line: Line, *, horizon: int | None = None, first_week=None) -> LineInputs:
    horizon = settings.PLANNING_HORIZON_WEEKS if horizon is None else horizon
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
