"""Reading sales history. A product may have several rows per week, one per channel
("all" = not attributed to a channel): its sales in a week are the SUM of them. Readers
that want a product's weekly total go through here rather than reading SalesActual rows
as if there were one per (product, week)."""

from __future__ import annotations

import datetime as dt
from operator import itemgetter

import numpy as np
from django.db.models import Count, FloatField, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils.functional import cached_property

from demand.models import Channel, SalesActual


class _UnitsSum(Sum):
    """SUM of the integer units column, as the database answers it: an int already
    (PostgreSQL's SUM of an integer is a bigint, SQLite's an integer; None over no rows),
    so without Sum's per-row int() converter, which made Django convert every row of
    the 280,000 a night's promotion measures read at 2,000 products."""

    @cached_property
    def convert_value(self):
        return self._convert_value_noop


def weekly_sales(**filters) -> QuerySet:
    """(product_id, week, units) per product and week with sales, units summed over the
    product's channels; `filters` as for SalesActual.objects.filter."""
    return (
        SalesActual.objects.filter(**filters)
        .values("product_id", "week")
        .annotate(total=_UnitsSum("units"))
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


def sales_cells(
    records: list, row: dict[int, int], first: dt.date, *, product: int = 0, week: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of `records` (tuples with a product id at `product` and a Monday
    at `week`) in a products x weeks array: row[product id], and the weeks since
    `first`. C-level maps over the records (hundreds of thousands of them a night) and
    one subtraction per distinct week, not Python arithmetic per record."""
    weeks = {monday: (monday - first).days // 7 for monday in set(map(itemgetter(week), records))}
    count = len(records)
    rows = np.fromiter(map(row.__getitem__, map(itemgetter(product), records)), np.intp, count)
    columns = np.fromiter(map(weeks.__getitem__, map(itemgetter(week), records)), np.intp, count)
    return rows, columns
