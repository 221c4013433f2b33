"""Reads for the forecast pages: one product's history and forecast, and the overview."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, Sum

from coordination.models import Product
from coordination.weeks import add_weeks, current_week
from demand.models import (
    Channel,
    ChannelForecast,
    DemandForecast,
    ForecastFit,
    MarketingAdjustment,
    Promotion,
    PromotionItem,
    SalesActual,
)
from demand.selectors.sales import weekly_sales


def product_forecast(product: Product, *, history_weeks: int = 52, horizon: int = 26) -> dict:
    """History (actuals), the forecast with its terms, promotions and adjustments."""
    this_week = current_week()
    start = add_weeks(this_week, -history_weeks)
    end = add_weeks(this_week, horizon - 1)
    actuals = {
        week: units
        for _, week, units in weekly_sales(
            product_id=product.pk, week__gte=start, week__lt=this_week
        )
    }
    forecasts = {
        f.week: f
        for f in DemandForecast.objects.filter(product=product, week__gte=start, week__lte=end)
    }
    promotions = list(
        Promotion.objects.filter(items__product=product, end_week__gte=start, start_week__lte=end)
        .exclude(status=Promotion.Status.CANCELLED)
        .distinct()
        .order_by("start_week")
    )
    adjustments = {
        a.week: a
        for a in MarketingAdjustment.objects.filter(
            product=product, week__gte=this_week
        ).select_related("created_by")
    }
    fit = ForecastFit.objects.filter(product=product).select_related("run").order_by("-id").first()
    weeks = [add_weeks(start, k) for k in range(history_weeks + horizon)]
    rows = []
    for week in weeks:
        forecast = forecasts.get(week)
        rows.append(
            {
                "week": week,
                "past": week < this_week,
                "actual": actuals.get(week),
                "forecast": forecast,
                "adjustment": adjustments.get(week),
                "promotions": [p for p in promotions if p.start_week <= week <= p.end_week],
            }
        )
    return {
        "rows": rows,
        "this_week": this_week,
        "promotions": promotions,
        "fit": fit,
        "adjustments": adjustments,
        "channels": channel_breakdown(product, start=this_week, end=end),
    }


def channel_forecasts(*, product_ids, weeks) -> list[ChannelForecast]:
    """The channel forecasts of these products in these weeks, by product, week and
    channel order."""
    order = {code: rank for rank, code in enumerate(Channel.values)}
    found = ChannelForecast.objects.filter(product_id__in=list(product_ids), week__in=list(weeks))
    return sorted(found, key=lambda f: (f.product_id, f.week, order[f.channel]))


def channel_baselines(product_ids, weeks, channels) -> dict[tuple[int, str, dt.date], float]:
    """{(product id, channel, week): baseline} of the products forecast per channel, for
    these channels and weeks (a promotion of one channel lifts only these units)."""
    return {
        (pid, channel, week): baseline
        for pid, channel, week, baseline in ChannelForecast.objects.filter(
            product_id__in=list(product_ids), channel__in=list(channels), week__in=list(weeks)
        ).values_list("product_id", "channel", "week", "baseline")
    }


def channel_breakdown(product: Product, *, start: dt.date, end: dt.date) -> dict | None:
    """The product's forecast per sales channel for the weeks start..end: {"channels":
    [(code, label)], "methods": [each channel's method, as shown], "rows": [{"week",
    "cells": [ChannelForecast or None per channel]}]}, or None when it is not forecast
    per channel."""
    found = list(
        ChannelForecast.objects.filter(product=product, week__gte=start, week__lte=end).order_by(
            "week"
        )
    )
    if not found:
        return None
    present = {f.channel for f in found}
    channels = [(code, label) for code, label in Channel.choices if code in present]
    by_week: dict[dt.date, dict[str, ChannelForecast]] = {}
    for forecast in found:
        by_week.setdefault(forecast.week, {})[forecast.channel] = forecast
    # One run writes a channel's weeks: its method is that of its latest week's row.
    methods = {forecast.channel: forecast.method_label for forecast in found}
    return {
        "channels": channels,
        "methods": [methods[code] for code, _ in channels],
        "rows": [
            {"week": week, "cells": [cells.get(code) for code, _ in channels]}
            for week, cells in sorted(by_week.items())
        ],
    }


def adjustment_versions(product) -> str:
    """The versions of the product's current and future adjustments as 'week:version'
    pairs, carried by the adjustment form so a save can tell what its editor saw."""
    rows = MarketingAdjustment.objects.filter(product=product, week__gte=current_week())
    return ",".join(
        f"{week.isoformat()}:{version}"
        for week, version in rows.order_by("week").values_list("week", "version")
    )


def parse_adjustment_versions(text: str) -> dict[str, int] | None:
    """adjustment_versions' text back to {week ISO date: version}; None if malformed."""
    versions = {}
    for pair in filter(None, (text or "").split(",")):
        week, _, version = pair.partition(":")
        if not version.isdigit():
            return None
        versions[week] = int(version)
    return versions


def forecast_products(*, line_id=None):
    """The products the forecast list shows, in its order (by product line, then SKU)."""
    products = Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED).select_related(
        "product_line"
    )
    if line_id:
        products = products.filter(product_line_id=line_id)
    return products.order_by("product_line__name", "sku")


def forecast_overview(products, *, weeks: int = 13) -> list[dict]:
    """Per product of `products` (one page of forecast_products): the next `weeks` weeks
    of forecast by term, last year's sales over the same weeks, and whether a promotion
    runs in them."""
    products = list(products)
    this_week = current_week()
    end = add_weeks(this_week, weeks - 1)
    totals = {
        row["product_id"]: row
        for row in DemandForecast.objects.filter(
            product__in=products, week__gte=this_week, week__lte=end
        )
        .values("product_id")
        .annotate(
            final=Sum("final"),
            baseline=Sum("baseline"),
            uplift=Sum("promotion_uplift"),
            dip=Sum("promotion_dip"),
            taken=Sum("cannibalization"),
            halo=Sum("halo"),
            firm=Sum("firm_orders"),
            adjustment=Sum("adjustment"),
        )
    }
    last_year = {
        row["product_id"]: row["units"]
        for row in SalesActual.objects.filter(
            product__in=products,
            week__gte=add_weeks(this_week, -52),
            week__lte=add_weeks(end, -52),
        )
        .values("product_id")
        .annotate(units=Sum("units"))
    }
    promoted = set(
        PromotionItem.objects.filter(
            Q(promotion__status__in=Promotion.PLANNING_STATUSES),
            product__in=products,
            promotion__start_week__lte=end,
            promotion__end_week__gte=this_week,
        ).values_list("product_id", flat=True)
    )
    return [
        {
            "product": product,
            "totals": totals.get(product.pk),
            "last_year": last_year.get(product.pk),
            "promoted": product.pk in promoted,
        }
        for product in products
    ]


def week_range(start: dt.date, count: int) -> list[dt.date]:
    return [add_weeks(start, k) for k in range(count)]


def forecast_terms(*, start: dt.date, end: dt.date) -> list[tuple]:
    """Every product's forecast terms per week from start to end, as plain tuples
    (product_id, production line id, week, baseline, uplift, dip after promotion, taken by
    siblings' promotions, added by siblings' promotions (halo), firm orders, adjustment,
    final)."""
    return list(
        DemandForecast.objects.filter(week__gte=start, week__lte=end)
        .order_by("product_id", "week")
        .values_list(
            "product_id",
            "product__production_line_id",
            "week",
            "baseline",
            "promotion_uplift",
            "promotion_dip",
            "cannibalization",
            "halo",
            "firm_orders",
            "adjustment",
            "final",
        )
    )
