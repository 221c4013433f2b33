"""Lift learning: what past promotions actually did, and a suggested lift for a new one.

For a past promotion of a product:
    baseline    = mean weekly units over up to 8 weeks before it started, skipping weeks
                  inside other promotions of the product (at least 4 such weeks needed)
    actual lift = mean weekly units during the promotion / baseline - 1
    dip         = mean weekly units over the 4 weeks after it / baseline - 1
                  (the post-promotion dip: customers bought ahead)

The suggestion for a new promotion weights the product's past promotions by how close
their discount is to the new one (weight exp(-|d - d_i| / 10 points)) and shrinks that
average toward the product line's, with the line counting as 2 promotions' worth of
evidence: thin history leans on the line, rich history on the product itself.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from coordination.models import Product
from coordination.weeks import add_weeks, current_week
from demand.models import Promotion, PromotionItem, SalesActual

BASELINE_WEEKS = 8
MIN_BASELINE_WEEKS = 4
DIP_WEEKS = 4
DISCOUNT_SCALE = 10.0  # discount points at which a past promotion's weight falls to 1/e
LINE_PRIOR_WEIGHT = 2.0


@dataclass(frozen=True)
class PastEffect:
    promotion_id: int
    promotion_name: str
    product_id: int
    start_week: dt.date
    end_week: dt.date
    discount_pct: float
    baseline: float
    lift_pct: float
    dip_pct: float | None


@dataclass(frozen=True)
class LiftSuggestion:
    suggested_pct: Decimal | None
    evidence: str
    product_count: int = 0
    product_avg: float | None = None
    line_count: int = 0
    line_avg: float | None = None
    effects: list[PastEffect] = field(default_factory=list)


def past_effects(product_ids, *, exclude_promotion: int | None = None) -> list[PastEffect]:
    """Measured effects of finished planned/confirmed promotions of these products."""
    this_week = current_week()
    items = list(
        PromotionItem.objects.filter(
            product_id__in=list(product_ids),
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__end_week__lt=this_week,
        )
        .exclude(promotion_id=exclude_promotion)
        .select_related("promotion")
        .order_by("promotion__start_week")
    )
    if not items:
        return []
    first = min(add_weeks(i.promotion.start_week, -BASELINE_WEEKS) for i in items)
    last = max(add_weeks(i.promotion.end_week, DIP_WEEKS) for i in items)
    products = {i.product_id for i in items}
    sales: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for product_id, week, units in SalesActual.objects.filter(
        product_id__in=products, week__range=(first, last)
    ).values_list("product_id", "week", "units"):
        sales[product_id][week] = units
    promo_weeks: dict[int, set[dt.date]] = defaultdict(set)
    for item in items:
        promo = item.promotion
        for k in range(promo.weeks):
            promo_weeks[item.product_id].add(add_weeks(promo.start_week, k))
    effects = []
    for item in items:
        effect = _measure(item, sales[item.product_id], promo_weeks[item.product_id])
        if effect is not None:
            effects.append(effect)
    return effects


def _measure(item: PromotionItem, sales: dict, promo_weeks: set) -> PastEffect | None:
    promo = item.promotion
    before = [
        sales[w]
        for k in range(1, BASELINE_WEEKS + 1)
        if (w := add_weeks(promo.start_week, -k)) in sales and w not in promo_weeks
    ]
    during_weeks = [add_weeks(promo.start_week, k) for k in range(promo.weeks)]
    if len(before) < MIN_BASELINE_WEEKS or any(w not in sales for w in during_weeks):
        return None
    baseline = sum(before) / len(before)
    if baseline <= 0:
        return None
    during = sum(sales[w] for w in during_weeks) / len(during_weeks)
    after = [
        sales[w]
        for k in range(1, DIP_WEEKS + 1)
        if (w := add_weeks(promo.end_week, k)) in sales and w not in promo_weeks
    ]
    return PastEffect(
        promotion_id=promo.pk,
        promotion_name=promo.name,
        product_id=item.product_id,
        start_week=promo.start_week,
        end_week=promo.end_week,
        discount_pct=float(promo.discount_pct),
        baseline=baseline,
        lift_pct=(during / baseline - 1) * 100,
        dip_pct=(sum(after) / len(after) / baseline - 1) * 100 if after else None,
    )


def _weighted(effects: list[PastEffect], discount: float) -> tuple[float, float]:
    """(weighted mean lift, total weight) with weights by discount similarity."""
    weights = [math.exp(-abs(e.discount_pct - discount) / DISCOUNT_SCALE) for e in effects]
    total = sum(weights)
    if total <= 0:
        return 0.0, 0.0
    return sum(w * e.lift_pct for w, e in zip(weights, effects, strict=True)) / total, total


def suggest_lift(*, product: Product, discount_pct, exclude_promotion: int | None = None):
    discount = float(discount_pct or 0)
    line_ids = list(
        Product.objects.filter(product_line_id=product.product_line_id).values_list("pk", flat=True)
    )
    line_effects = past_effects(line_ids, exclude_promotion=exclude_promotion)
    own = [e for e in line_effects if e.product_id == product.pk]
    line_name = product.product_line.name
    if not line_effects:
        return LiftSuggestion(
            None, "No finished promotions in this product line yet: enter your own estimate."
        )
    line_avg, _ = _weighted(line_effects, discount)
    if not own:
        return LiftSuggestion(
            _pct(line_avg),
            f"No past promotions of {product.sku}; {line_name} averaged {line_avg:+.0f}% "
            f"over {len(line_effects)} promotion{'s' if len(line_effects) != 1 else ''}.",
            line_count=len(line_effects),
            line_avg=line_avg,
            effects=[],
        )
    own_avg, weight = _weighted(own, discount)
    suggested = (weight * own_avg + LINE_PRIOR_WEIGHT * line_avg) / (weight + LINE_PRIOR_WEIGHT)
    dips = [e.dip_pct for e in own if e.dip_pct is not None]
    dip = f"; dip after {sum(dips) / len(dips):+.0f}%" if dips else ""
    return LiftSuggestion(
        _pct(suggested),
        f"{len(own)} past promotion{'s' if len(own) != 1 else ''}, avg {own_avg:+.0f}%{dip}; "
        f"{line_name} {line_avg:+.0f}%.",
        product_count=len(own),
        product_avg=own_avg,
        line_count=len(line_effects),
        line_avg=line_avg,
        effects=own,
    )


def _pct(value: float) -> Decimal:
    bounded = min(max(value, float(PromotionItem.MIN_LIFT)), float(PromotionItem.MAX_LIFT))
    return Decimal(str(round(bounded, 1)))
