"""Reads about promotions shared by the pages and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from coordination.weeks import current_week, outside_horizon
from demand.models import Promotion, PromotionItem


def promotion_overlaps(promotion: Promotion) -> list[str]:
    """Warnings naming other live promotions on the same products in overlapping weeks."""
    others = (
        PromotionItem.objects.filter(
            product_id__in=promotion.items.values("product_id"),
            promotion__start_week__lte=promotion.end_week,
            promotion__end_week__gte=promotion.start_week,
        )
        .exclude(promotion=promotion)
        .exclude(promotion__status=Promotion.Status.CANCELLED)
        .select_related("promotion", "product")
        .order_by("promotion__start_week", "promotion__name", "product__sku")
    )
    warnings = []
    for item in others:
        other = item.promotion
        warnings.append(
            f"Overlaps “{other.name}” ({other.get_status_display().lower()}) on "
            f"{item.product.sku} in {other.period_label}."
        )
    return warnings


def promotion_warnings(promotion: Promotion) -> list[str]:
    """What marketing should know about a saved promotion: the live promotions it overlaps,
    and the weeks the plan does not cover yet."""
    warnings = promotion_overlaps(promotion)
    if promotion.status != Promotion.Status.CANCELLED:
        beyond = outside_horizon(promotion.start_week, promotion.end_week)
        if beyond:
            warnings.append(beyond)
    return warnings


def promotions_between(start: dt.date, end: dt.date) -> list[Promotion]:
    """Planned and confirmed promotions running in any week from start to end, with
    their products (and the products' lines) loaded."""
    return list(
        Promotion.objects.filter(
            status__in=Promotion.PLANNING_STATUSES, start_week__lte=end, end_week__gte=start
        )
        .prefetch_related("items__product__production_line")
        .order_by("start_week", "name")
    )


def promotions_a_hold_puts_at_risk(product_ids: Iterable[int]):
    """Drafts and planned or confirmed promotions of these products not yet over: those a
    stop-ship of the products puts at risk."""
    return Promotion.objects.filter(
        items__product_id__in=list(product_ids),
        status__in=[Promotion.Status.DRAFT, *Promotion.PLANNING_STATUSES],
        end_week__gte=current_week(),
    ).distinct()
