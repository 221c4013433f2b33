"""Forecast accuracy once actuals arrive, and the value marketing's adjustments add.

Over the weeks that have both a forecast and an actual:
    WMAPE = sum |actual - final| / sum actual                  (lower is better)
    bias  = sum (final - actual) / sum actual                  (+ over-, - under-forecast)
    MASE  = mean |actual - final| / mean |a_t - a_t-1|          (< 1 beats last week's actual;
            scaled by the naive one-step error of the product's own history before the window)
    FVA   = WMAPE(statistical) - WMAPE(final), in points        (+ adjustments helped)
where statistical = baseline + promotion uplift + dip + cannibalization + halo + firm
orders (before marketing's adjustment). Worst products (highest WMAPE) first.

Per channel (channel_accuracy): the same WMAPE, bias and MASE of each sales channel's
forecast (ChannelForecast.final) against that channel's sales, over the products whose
history names channels; a channel's MASE scale is the naive one-step error of each
product's sales in that channel before the window, weighted by its weeks. No FVA:
marketing adjusts a product's total, not a channel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from coordination.models import Product
from coordination.weeks import add_weeks, current_week
from demand.models import Channel, ChannelForecast, DemandForecast
from demand.selectors.sales import channel_sales, weekly_sales

SCALE_HISTORY_WEEKS = 52


@dataclass(frozen=True)
class Accuracy:
    key: str
    label: str
    product_line: str
    weeks: int
    actual: float
    forecast: float
    wmape: float | None
    bias: float | None
    mase: float | None
    fva: float | None  # points of WMAPE the adjustments saved (negative: they hurt)
    adjusted_weeks: int


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _summary(key, label, line, actual, final, statistical, scale, adjusted) -> Accuracy:
    total = float(actual.sum())
    wmape = _ratio(float(np.abs(actual - final).sum()), total)
    wmape_stat = _ratio(float(np.abs(actual - statistical).sum()), total)
    return Accuracy(
        key=key,
        label=label,
        product_line=line,
        weeks=int(actual.size),
        actual=total,
        forecast=float(final.sum()),
        wmape=wmape,
        bias=_ratio(float((final - actual).sum()), total),
        mase=_ratio(float(np.abs(actual - final).mean()), scale) if actual.size else None,
        fva=(wmape_stat - wmape) if wmape is not None and wmape_stat is not None else None,
        adjusted_weeks=int(adjusted),
    )


def forecast_accuracy(*, weeks: int = 13, end: dt.date | None = None, line_id=None) -> dict:
    """Accuracy per product and per product line over the `weeks` weeks before `end`."""
    end = end or current_week()
    start = add_weeks(end, -weeks)
    products = Product.objects.select_related("product_line")
    if line_id:
        products = products.filter(product_line_id=line_id)
    info = {p.pk: p for p in products}
    forecasts: dict[int, dict[dt.date, tuple]] = defaultdict(dict)
    rows = DemandForecast.objects.filter(
        product_id__in=info, week__gte=start, week__lt=end
    ).values_list(
        "product_id",
        "week",
        "final",
        "baseline",
        "promotion_uplift",
        "promotion_dip",
        "cannibalization",
        "halo",
        "firm_orders",
        "adjustment",
    )
    for pid, week, final, baseline, uplift, dip, taken, halo, firm, adj in rows:
        forecasts[pid][week] = (final, baseline + uplift + dip + taken + halo + firm, adj)
    actuals: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for pid, week, units in weekly_sales(
        product_id__in=info, week__gte=add_weeks(start, -SCALE_HISTORY_WEEKS), week__lt=end
    ):
        actuals[pid][week] = units
    per_product = []
    per_line: dict[str, list] = defaultdict(lambda: [[], [], [], [], 0])
    for pid, product in info.items():
        own = forecasts.get(pid, {})
        keys = sorted(w for w in own if w in actuals[pid])
        if not keys:
            continue
        actual = np.array([actuals[pid][w] for w in keys], dtype=float)
        final = np.array([own[w][0] for w in keys])
        statistical = np.maximum(0.0, np.array([own[w][1] for w in keys]))
        adjusted = sum(1 for w in keys if own[w][2])
        before = [actuals[pid][w] for w in sorted(actuals[pid]) if w < start]
        scale = float(np.abs(np.diff(before)).mean()) if len(before) > 1 else 0.0
        per_product.append(
            _summary(
                product.sku,
                product.name,
                product.product_line.name,
                actual,
                final,
                statistical,
                scale,
                adjusted,
            )
        )
        bucket = per_line[product.product_line.name]
        bucket[0].append(actual)
        bucket[1].append(final)
        bucket[2].append(statistical)
        bucket[3].append(scale * actual.size)
        bucket[4] += adjusted
    lines = []
    for name, (acts, finals, stats, scales, adjusted) in sorted(per_line.items()):
        actual = np.concatenate(acts)
        lines.append(
            _summary(
                name,
                name,
                name,
                actual,
                np.concatenate(finals),
                np.concatenate(stats),
                sum(scales) / actual.size if actual.size else 0.0,
                adjusted,
            )
        )
    worst_first = sorted(per_product, key=lambda a: (-(a.wmape or 0), a.key))
    return {
        "start": start,
        "end": end,
        "weeks": weeks,
        "products": worst_first,
        "lines": lines,
        "channels": channel_accuracy(start=start, end=end, product_ids=list(info)),
    }


def channel_accuracy(*, start: dt.date, end: dt.date, product_ids) -> list[Accuracy]:
    """Accuracy per sales channel over the weeks in [start, end) that have both a channel
    forecast and the channel's sales, in the order of the channels; [] when no product
    has a channel forecast there."""
    forecasts: dict[tuple[int, str], dict[dt.date, float]] = defaultdict(dict)
    for pid, channel, week, final in ChannelForecast.objects.filter(
        product_id__in=product_ids, week__gte=start, week__lt=end
    ).values_list("product_id", "channel", "week", "final"):
        forecasts[(pid, channel)][week] = final
    if not forecasts:
        return []
    actuals: dict[tuple[int, str], dict[dt.date, int]] = defaultdict(dict)
    for pid, channel, week, units in channel_sales(
        product_id__in={pid for pid, _ in forecasts},
        week__gte=add_weeks(start, -SCALE_HISTORY_WEEKS),
        week__lt=end,
    ):
        actuals[(pid, channel)][week] = units
    per_channel: dict[str, list] = defaultdict(lambda: [[], [], []])
    for series, own in forecasts.items():
        sold = actuals.get(series, {})
        keys = sorted(w for w in own if w in sold)
        if not keys:
            continue
        before = [sold[w] for w in sorted(sold) if w < start]
        scale = float(np.abs(np.diff(before)).mean()) if len(before) > 1 else 0.0
        bucket = per_channel[series[1]]
        bucket[0].append(np.array([sold[w] for w in keys], dtype=float))
        bucket[1].append(np.array([own[w] for w in keys], dtype=float))
        bucket[2].append(scale * len(keys))
    found = []
    for code, label in Channel.choices:
        if code not in per_channel:
            continue
        acts, finals, scales = per_channel[code]
        actual, final = np.concatenate(acts), np.concatenate(finals)
        summary = _summary(code, label, "", actual, final, final, sum(scales) / actual.size, 0)
        found.append(dataclasses.replace(summary, fva=None))
    return found
