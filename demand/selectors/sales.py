"""Reading sales history. A product may have several rows per week, one per channel
("all" = not attributed to a channel): its sales in a week are the SUM of them. Readers
that want a product's weekly total go through here rather than reading SalesActual rows
as if there were one per (product, week)."""

from __future__ import annotations

from django.db.models import Count, FloatField, QuerySet, Sum
from django.db.models.functions import Cast

from demand.models import Channel, SalesActual


def weekly_sales(**filters) -> QuerySet:
    """(product_id, week, units) per product and week with sales, units summed over the
    product's channels; `filters` as for SalesActual.objects.filter."""
    return (
        SalesActual.objects.filter(**filters)
        .values("product_id", "week")
        .annotate(total=Sum("units"))
        .order_by()
        .values_list("product_id", "week", "total")
    )


def mean_weekly_sales(**filters) -> dict[int, float]:
    """{product id: mean units per week with sales}, each week's units summed over the
    product's channels (a mean over rows would halve a product sold in two channels)."""
    return {
        product_id: float(mean or 0)
        for product_id, mean in SalesActual.objects.filter(**filters)
        .values("product_id")
        .annotate(
            mean=Cast(Sum("units"), FloatField()) / Cast(Count("week", distinct=True), FloatField())
        )
        .order_by()
        .values_list("product_id", "mean")
    }


def channel_sales(**filters) -> QuerySet:
    """(product_id, channel, week, units) rows as stored, one per channel and week."""
    return (
        SalesActual.objects.filter(**filters)
        .order_by()
        .values_list("product_id", "channel", "week", "units")
    )


def products_with_channels(product_ids) -> set[int]:
    """Products with a sales row in a named channel (not "all")."""
    return set(
        SalesActual.objects.filter(product_id__in=list(product_ids))
        .exclude(channel=Channel.ALL)
        .values_list("product_id", flat=True)
        .distinct()
    )
