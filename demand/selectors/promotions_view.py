"""Reads for the promotion pages: the calendar and one promotion with its items."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Prefetch, QuerySet

from coordination.weeks import add_weeks, iso_label
from demand.models import Promotion, PromotionItem


def promotion_list(*, status: str = "", line_id=None, search: str = "") -> QuerySet[Promotion]:
    promotions = Promotion.objects.prefetch_related(
        Prefetch("items", queryset=PromotionItem.objects.select_related("product"))
    ).order_by("-start_week", "name")
    if status:
        promotions = promotions.filter(status=status)
    if line_id:
        promotions = promotions.filter(items__product__product_line_id=line_id).distinct()
    if search:
        promotions = promotions.filter(name__icontains=search)
    return promotions


def promotion_detail(pk: int) -> Promotion:
    return (
        Promotion.objects.select_related("created_by", "updated_by")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=PromotionItem.objects.select_related(
                    "product", "product__product_line", "product__production_line"
                ),
            )
        )
        .get(pk=pk)
    )


def calendar(*, start: dt.date, weeks: int, line_id=None) -> dict:
    """Promotions overlapping [start, start + weeks) grouped by product line, each with
    the columns it covers, for a timeline table."""
    end = add_weeks(start, weeks - 1)
    items = (
        PromotionItem.objects.filter(
            promotion__start_week__lte=end,
            promotion__end_week__gte=start,
        )
        .select_related("promotion", "product__product_line")
        .order_by("product__product_line__name", "promotion__start_week", "promotion__name")
    )
    if line_id:
        items = items.filter(product__product_line_id=line_id)
    groups: dict[str, dict[int, dict]] = defaultdict(dict)
    for item in items:
        promotion = item.promotion
        entry = groups[item.product.product_line.name].setdefault(
            promotion.pk, {"promotion": promotion, "skus": []}
        )
        entry["skus"].append(item.product.sku)
    columns = [add_weeks(start, k) for k in range(weeks)]
    rows = []
    for line_name in sorted(groups):
        for entry in groups[line_name].values():
            promotion = entry["promotion"]
            first = max(0, (promotion.start_week - start).days // 7)
            last = min(weeks - 1, (promotion.end_week - start).days // 7)
            rows.append(
                {
                    "line": line_name,
                    "promotion": promotion,
                    "skus": entry["skus"],
                    "before": first,
                    "span": last - first + 1,
                    "after": weeks - 1 - last,
                }
            )
    return {
        "columns": [{"week": w, "label": iso_label(w)[-3:]} for w in columns],
        "rows": rows,
        "start": start,
        "end": end,
    }
