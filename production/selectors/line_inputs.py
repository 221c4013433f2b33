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
    dip: np.ndarray  # the learned dip after promotions (<= 0)
    cannibalization: np.ndarray  # what siblings' promotions take (<= 0)
    cannibalized_by: np.ndarray  # object array: the promoted SKUs, "" where none
    halo: np.ndarray  # what siblings' promotions add (>= 0)
    halo_from: np.ndarray  # object array: the promoted SKUs, "" where none
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
    # What the plant can really make (Product's plant fields), per product:
    shelf_life_weeks: np.ndarray  # NaN: the product keeps
    usable_weeks: np.ndarray  # weeks a unit may wait after arrival; inf: no limit
    batch_size: np.ndarray  # production comes in whole multiples of this
    minimum_run: np.ndarray  # a week's production is 0 or at least this

    def supply(self, capacity_hours: np.ndarray | None = None) -> dict:
        """Everything plan_quotas needs of one line besides demand and line_of, with the
        line's own capacity unless a what-if passes other hours (weeks,)."""
        hours = self.capacity_hours if capacity_hours is None else capacity_hours
        return {
            "on_hand": self.on_hand,
            "safety_stock": self.safety_stock,
            "lead_time": self.lead_time,
            "hours_per_unit": self.hours_per_unit,
            "capacity_hours": np.asarray(hours, dtype=float),
            "frozen": self.frozen,
            "hold": self.hold,
            "usable_weeks": self.usable_weeks,
            "batch_size": self.batch_size,
            "minimum_run": self.minimum_run,
        }


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
        .values_list(
            "pk",
            "lead_time_weeks",
            "target_service_level",
            "shelf_life_weeks",
            "min_remaining_life_weeks",
            "batch_size",
            "minimum_batch",
        )
    )
    ids = [row[0] for row in products]
    n, h = len(ids), len(weeks)
    row = {pk: i for i, pk in enumerate(ids)}
    col = {week: k for k, week in enumerate(weeks)}
    terms = {
        name: np.zeros((n, h))
        for name in ("baseline", "uplift", "dip", "cannibalization", "halo", "firm", "adjustment")
    }
    cannibalized_by = np.full((n, h), "", dtype=object)
    halo_from = np.full((n, h), "", dtype=object)
    demand = np.zeros((n, h))
    for (
        pid,
        week,
        baseline,
        uplift,
        dip,
        taken,
        taken_by,
        halo,
        lifted_by,
        firm,
        adjustment,
        final,
    ) in DemandForecast.objects.filter(
        product_id__in=ids, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list(
        "product_id",
        "week",
        "baseline",
        "promotion_uplift",
        "promotion_dip",
        "cannibalization",
        "cannibalized_by",
        "halo",
        "halo_from",
        "firm_orders",
        "adjustment",
        "final",
    ):
        i, k = row[pid], col[week]
        terms["baseline"][i, k] = baseline
        terms["uplift"][i, k] = uplift
        terms["dip"][i, k] = dip
        terms["cannibalization"][i, k] = taken
        cannibalized_by[i, k] = taken_by
        terms["halo"][i, k] = halo
        halo_from[i, k] = lifted_by
        terms["firm"][i, k] = firm
        terms["adjustment"][i, k] = adjustment
        demand[i, k] = final
    sigma = latest_sigma(ids)
    lead_time = np.array([row[1] for row in products], dtype=int)
    z = norm.ppf(np.array([float(row[2]) for row in products], dtype=float))
    shelf_life = np.array([np.nan if row[3] is None else row[3] for row in products], dtype=float)
    remaining = np.array([row[4] or 0 for row in products], dtype=float)
    # A unit arrives lead-time weeks after it is made and must ship with the customer's
    # remaining life left (the same rule as Product.usable_weeks).
    usable = np.where(np.isnan(shelf_life), np.inf, shelf_life - lead_time - remaining)
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
        dip=terms["dip"],
        cannibalization=terms["cannibalization"],
        cannibalized_by=cannibalized_by,
        halo=terms["halo"],
        halo_from=halo_from,
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
        shelf_life_weeks=shelf_life,
        usable_weeks=np.maximum(usable, 0.0),
        batch_size=np.array([max(row[5] or 1, 1) for row in products], dtype=int),
        minimum_run=np.array([row[6] or 0 for row in products], dtype=int),
    )
