"""A promotion's economics with production's consequences, read from the live data and
computed by production/economics (nothing is written).

Inputs: the forecast baseline over the promotion's weeks; the prices and costs in force in
its first week for its channel (ProductPrice; a list price of 0 counts as no price); the
line's holding cost rate (else HOLDING_COST_RATE_PERCENT); each product's margin lost per
unit short (else price - cost); the dip after it as the forecast carries it (the
product's learned dip, demand.selectors.lift.learned_dips, over the forecast baseline of
the weeks it lasts: the units of the forecast rows' promotion_dip). The capacity effect
plans each line it touches from the pipeline's inputs (load_line) twice, without and with
this promotion's uplift; other planned or confirmed promotions stay in both, and where
two overlap the stronger lift counts, as in the forecast.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
from django.conf import settings

from coordination.models import Line, Product
from coordination.selectors.products import prices_in_force
from coordination.weeks import add_weeks, current_week, iso_label, outside_horizon
from demand.models import Channel, DemandForecast, Promotion, PromotionItem
from demand.selectors.forecasts import channel_baselines
from demand.selectors.lift import DIP_WEEKS, learned_dips
from production.economics import (
    DisplacedProduct,
    Economics,
    HeldStock,
    PromotedProduct,
    capacity_effect,
    present_money,
    promotion_economics,
)
from production.economics.capacity import plan_line
from production.economics.plan_value import plan_value
from production.selectors.line_inputs import LineInputs, load_line


def _units(value: float) -> Decimal:
    """Planner output (float units) as a Decimal input, to the thousandth of a unit."""
    return Decimal(str(round(float(value), 3)))


def _price(prices: dict, product_id: int) -> tuple[Decimal | None, Decimal | None]:
    price, cost = prices.get(product_id, (None, None))
    if price is None or price <= 0:
        return None, None
    return price, cost


def holding_rate(line: Line) -> Decimal:
    """The line's yearly holding cost rate (%), else the company's."""
    if line.holding_cost_rate_pct is not None:
        return line.holding_cost_rate_pct
    return Decimal(settings.HOLDING_COST_RATE_PERCENT)


def shortage_margin(product: Product, price, cost) -> Decimal | None:
    """What a unit short loses: the product's own figure, else its margin (never below 0);
    None without a price."""
    if product.shortage_margin is not None:
        return product.shortage_margin
    return None if price is None else max(Decimal(0), price - cost)


def line_money(line: Line) -> dict:
    """The line's plan valued week by week: holding cost of the stock built ahead and the
    margin lost to shortages, at this week's list prices and costs (the line planned from
    the pipeline's inputs, as the planning review does; nothing written)."""
    inputs = load_line(line)
    currency = settings.CURRENCY
    if not inputs.product_ids:
        return {"weeks": [], "value": None, "currency": currency}
    plan = plan_line(inputs.demand, **inputs.supply())
    products = Product.objects.in_bulk(inputs.product_ids)
    prices = prices_in_force(inputs.product_ids, current_week())
    priced = [_price(prices, pk) for pk in inputs.product_ids]
    value = plan_value(
        skus=[products[pk].sku for pk in inputs.product_ids],
        production=plan["production"],
        uncapacitated=plan["uncapacitated"],
        shortage=plan["shortage"],
        unit_cost=[cost for _, cost in priced],
        shortage_margin=[
            shortage_margin(products[pk], price, cost)
            for pk, (price, cost) in zip(inputs.product_ids, priced, strict=True)
        ],
        holding_rate_pct=holding_rate(line),
    )
    rows = [
        {
            "week": week,
            "held_units": w.held_units,
            "holding_cost": present_money(w.holding_cost, currency),
            "new_short_units": w.new_short_units,
            "lost_margin": present_money(w.lost_margin, currency),
        }
        for week, w in zip(inputs.weeks, value.weeks, strict=True)
        if w.held_units or w.new_short_units
    ]
    return {
        "weeks": rows,
        "value": value,
        "holding_cost": present_money(value.holding_cost, currency),
        "lost_margin": present_money(value.lost_margin, currency),
        "rate": holding_rate(line),
        "currency": currency,
    }


def _lifts(inputs: LineInputs, promotion: Promotion) -> tuple[np.ndarray, np.ndarray]:
    """(other planned promotions' lift, this promotion's lift) per product and week, as
    fractions of the product's baseline: a promotion of one channel, on a product
    forecast per channel, lifts that channel's share of it only (as the forecast does)."""
    n, h = len(inputs.product_ids), len(inputs.weeks)
    row = {pk: i for i, pk in enumerate(inputs.product_ids)}
    col = {week: k for k, week in enumerate(inputs.weeks)}
    others, own = np.zeros((n, h)), np.zeros((n, h))
    items = PromotionItem.objects.filter(
        product_id__in=inputs.product_ids,
        promotion__end_week__gte=inputs.weeks[0],
        promotion__start_week__lte=inputs.weeks[-1],
    ).values_list(
        "promotion_id",
        "promotion__status",
        "product_id",
        "promotion__start_week",
        "promotion__end_week",
        "expected_lift_pct",
        "promotion__channel",
    )
    items = list(items)
    by_channel = channel_baselines(
        inputs.product_ids, inputs.weeks, {channel for *_, channel in items} - {Channel.ALL}
    )
    for promotion_id, status, product_id, start, end, pct, channel in items:
        if promotion_id == promotion.pk:
            target = own
        elif status in Promotion.PLANNING_STATUSES:
            target = others
        else:
            continue
        for week in inputs.weeks:
            if start <= week <= end:
                i, k = row[product_id], col[week]
                share = 1.0
                part = by_channel.get((product_id, channel, week))
                if part is not None:
                    total = inputs.baseline[i, k]
                    share = part / total if total > 0 else 0.0
                target[i, k] = max(target[i, k], float(pct) / 100 * share)
    return others, own


def _line_effect(line: Line, promotion: Promotion) -> dict | None:
    inputs = load_line(line)
    if not inputs.product_ids:
        return None
    others, own = _lifts(inputs, promotion)
    base = inputs.baseline + inputs.firm + inputs.adjustment
    without = np.maximum(0.0, base + inputs.baseline * others)
    with_ = np.maximum(0.0, base + inputs.baseline * np.maximum(others, own))
    effect = capacity_effect(demand_without=without, demand_with=with_, **inputs.supply())
    return {
        "line": line,
        "effects": dict(zip(inputs.product_ids, effect.products, strict=True)),
    }


def _baselines(product_ids, weeks: list[dt.date], channel: str) -> dict[int, Decimal]:
    """The baseline units the promotion acts on over `weeks`: the product's, or, for a
    promotion of one channel on a product forecast per channel, that channel's."""
    of_channel = channel_baselines(product_ids, weeks, {channel} - {Channel.ALL})
    totals: dict[int, Decimal] = {}
    for product_id, week, baseline in DemandForecast.objects.filter(
        product_id__in=product_ids, week__in=weeks
    ).values_list("product_id", "week", "baseline"):
        baseline = of_channel.get((product_id, channel, week), baseline)
        totals[product_id] = totals.get(product_id, Decimal(0)) + _units(baseline)
    return totals


def _dips(product_ids, promotion: Promotion, counted) -> dict[int, tuple[Decimal, Decimal, str]]:
    """{product id: (dip %, baseline units, evidence)}: the dip the forecast carries after
    the promotion (demand.services.forecasting), for the products with a learned one:
    its learned depth over the baseline (the promotion's channel's, as for the uplift)
    of the learned number of weeks after it, those in `counted` and not inside another
    planned or confirmed promotion of the product (the forecast puts no dip there)."""
    learned = learned_dips(product_ids)
    if not learned:
        return {}
    promoted = set(
        PromotionItem.objects.filter(
            product_id__in=list(learned),
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__start_week__lte=add_weeks(promotion.end_week, DIP_WEEKS),
            promotion__end_week__gt=promotion.end_week,
        )
        .exclude(promotion=promotion)
        .values_list("product_id", "promotion__start_week", "promotion__end_week")
    )
    dips = {}
    for product_id, dip in learned.items():
        after = [add_weeks(promotion.end_week, k) for k in range(1, dip.weeks + 1)]
        weeks = [
            week
            for week in after
            if week in counted
            and not any(pid == product_id and start <= week <= end for pid, start, end in promoted)
        ]
        baseline = _baselines([product_id], weeks, promotion.channel).get(product_id, Decimal(0))
        evidence = f"{dip.weeks} week{'s' if dip.weeks != 1 else ''} after it"
        if len(weeks) < len(after):
            evidence += f", {len(weeks)} of them counted"
        dips[product_id] = (Decimal(str(dip.depth_pct)), baseline, evidence)
    return dips


def promotion_money(promotion: Promotion) -> dict:
    """Everything the economics page and API show of one promotion."""
    items = list(
        promotion.items.select_related("product__production_line").order_by("product__sku")
    )
    this_week = current_week()
    horizon_last = add_weeks(this_week, settings.PLANNING_HORIZON_WEEKS - 1)
    weeks = [add_weeks(promotion.start_week, k) for k in range(promotion.weeks)]
    counted = [w for w in weeks if this_week <= w <= horizon_last]
    products = [item.product for item in items]
    lines = {p.production_line_id: p.production_line for p in products if p.production_line}
    effects = {
        pk: e for pk, e in ((pk, _line_effect(line, promotion)) for pk, line in lines.items()) if e
    }
    line_products = {
        p.pk: p
        for p in Product.objects.filter(production_line_id__in=list(lines)).select_related(
            "production_line"
        )
    }
    line_products.update({p.pk: p for p in products})
    promo_prices = prices_in_force(
        [p.pk for p in products], promotion.start_week, promotion.channel
    )
    list_prices = prices_in_force(list(line_products), promotion.start_week)
    baselines = _baselines([p.pk for p in products], counted, promotion.channel)
    # The dip after it: the weeks the plan covers, as for the promotion's own weeks.
    dips = _dips(
        [p.pk for p in products],
        promotion,
        {
            w
            for w in (add_weeks(promotion.end_week, k) for k in range(1, DIP_WEEKS + 1))
            if this_week <= w <= horizon_last
        },
    )
    promoted, held, displaced = [], [], []
    for item in items:
        product = item.product
        price, cost = _price(promo_prices, product.pk)
        baseline = baselines.get(product.pk, Decimal(0))
        extra = baseline * item.expected_lift_pct / 100
        line_effect = effects.get(product.production_line_id)
        # A discontinued product is not planned: no capacity effect of its own.
        own = line_effect["effects"].get(product.pk) if line_effect else None
        unsupplied = Decimal(0)
        if own is not None:
            unsupplied = max(Decimal(0), min(extra, _units(own.short_units)))
        dip = dips.get(product.pk)
        promoted.append(
            PromotedProduct(
                sku=product.sku,
                unit_price=price,
                unit_cost=cost,
                baseline_units=baseline,
                lift_pct=item.expected_lift_pct,
                unsupplied_units=unsupplied,
                dip_pct=dip[0] if dip else None,
                dip_baseline_units=dip[1] if dip else Decimal(0),
                dip_evidence=dip[2] if dip else "",
            )
        )
    promoted_ids = {p.pk for p in products}
    for line_effect in effects.values():
        line = line_effect["line"]
        rate = holding_rate(line)
        for product_id, effect in sorted(
            line_effect["effects"].items(), key=lambda kv: line_products[kv[0]].sku
        ):
            product = line_products[product_id]
            price, cost = _price(list_prices, product_id)
            if product_id in promoted_ids:
                cost = _price(promo_prices, product_id)[1]
            if effect.prebuild_unit_weeks != 0:
                held.append(
                    HeldStock(
                        sku=product.sku,
                        unit_cost=cost,
                        holding_rate_pct=rate,
                        units=_units(effect.prebuild_units),
                        unit_weeks=_units(effect.prebuild_unit_weeks),
                    )
                )
            if product_id not in promoted_ids and effect.short_units != 0:
                displaced.append(
                    DisplacedProduct(
                        sku=product.sku,
                        extra_short_units=_units(effect.short_units),
                        margin_per_unit=shortage_margin(product, price, cost),
                    )
                )
    economics = promotion_economics(
        discount_pct=promotion.discount_pct,
        products=promoted,
        held=held,
        displaced=displaced,
        currency=settings.CURRENCY,
    )
    not_counted = [w for w in weeks if w not in counted]
    return {
        "promotion": promotion,
        "economics": economics,
        "products": [
            {
                "sku": p.sku,
                "name": item.product.name,
                "unit_price": p.unit_price,
                "unit_cost": p.unit_cost,
                "baseline_units": p.baseline_units,
                "lift_pct": p.lift_pct,
                "dip_pct": p.dip_pct,
                "dip_units": p.dip_units,
            }
            for p, item in zip(promoted, items, strict=True)
        ],
        "lines": sorted(line.name for line in lines.values()),
        "priced_week": promotion.start_week,
        "weeks_not_counted": _not_counted(not_counted, this_week, promotion),
        "steps": waterfall(economics),
        "rows": [
            {"term": term, "shown": present_money(term.amount, economics.currency)}
            for term in economics.terms
        ],
        "shown": {
            "incremental_revenue": present_money(economics.incremental_revenue, economics.currency),
            "incremental_margin": present_money(economics.incremental_margin, economics.currency),
            "net": present_money(economics.net, economics.currency),
        },
    }


def _not_counted(weeks: list[dt.date], this_week: dt.date, promotion: Promotion) -> str:
    if not weeks:
        return ""
    past = [w for w in weeks if w < this_week]
    parts = []
    if past:
        parts.append(
            f"{len(past)} week{'s' if len(past) != 1 else ''} already past "
            f"({iso_label(past[0])} to {iso_label(past[-1])}) are history, not plan"
        )
    beyond = outside_horizon(promotion.start_week, promotion.end_week)
    if beyond:
        parts.append(beyond.rstrip("."))
    return "Not counted: " + "; ".join(parts) + "."


def waterfall(economics: Economics) -> list[dict]:
    """The terms as waterfall rows (bars in % of the widest running total) ending at the
    net result; empty when a term cannot be valued."""
    if economics.net is None:
        return []
    running, rows = Decimal(0), []
    for term in economics.terms:
        rows.append({"term": term, "start": running, "end": running + term.amount})
        running += term.amount
    span_low = min(Decimal(0), *(r["start"] for r in rows), *(r["end"] for r in rows))
    span_high = max(Decimal(0), *(r["start"] for r in rows), *(r["end"] for r in rows))
    span = (span_high - span_low) or Decimal(1)
    for row in rows:
        low, high = sorted((row["start"], row["end"]))
        row["left"] = float((low - span_low) / span * 100)
        row["width"] = max(0.3, float((high - low) / span * 100))
        row["shown"] = present_money(row["term"].amount, economics.currency)
    return rows
