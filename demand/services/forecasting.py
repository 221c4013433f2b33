"""Recomputing demand forecasts for a set of products.

Loads every input with one query per table, runs the vectorized engine on all series at
once, and writes the forecast rows for this week onwards (past weeks keep what was
forecast for them, so accuracy can be measured). Runs inside the caller's transaction:
the planning pipeline writes forecasts and quotas together or not at all.

    final = max(0, baseline + promotion uplift + promotion dip + cannibalization
                   + halo + firm orders + marketing adjustment)
    promotion uplift = baseline x expected lift of the planned/confirmed promotion
    cannibalization  = - the learned share of a sibling's promotion uplift this product
                       loses (demand.selectors.lift), per promoted sibling; with the dip
                       it never takes the product below 0 (baseline + dip +
                       cannibalization >= 0)
    halo             = + the learned share of a sibling's promotion uplift this product
                       gains (a sibling whose promotion lifts it: a share below 0), per
                       promoted sibling (halo_from names them)
    promotion dip    = baseline x the product's learned dip (<= 0, demand.selectors.lift)
                       in the weeks after a planned/confirmed promotion ends, except
                       weeks inside another of its promotions; overlapping dips do not
                       stack (the deepest counts). A dip is at least -100 %, so
                       baseline + dip is never below 0; the final is clipped at 0 only
                       by a negative marketing adjustment.
    baseline         = the engine's baseline, except for a new product with a launch
                       plan (blended with its like products' demand and ramped up,
                       demand.engine.launch; from_likes is the likes' part) and for the
                       products of a succession (from the switch week the replaced
                       product's baseline moves to its successor; successor_transfer).
                       A promotion of the replaced product after the switch lifts the
                       demand the successor took over: its uplift and the dip after it
                       move with the baseline, and its siblings lose their share of
                       that uplift as before the switch.

The like products of a new product are forecast in the same run (their rows are not
written), and succession partners are always forecast together, so a succession never
moves demand that one side of it no longer has.

Sales channels: a product's history is the sum of its channels' rows. A product whose
history names a channel (a row not "all") is forecast per channel too: each channel's
series is one more series of the same engine call, the product's engine baseline is the
sum of its channels' and its sigma sqrt(sum of sigma^2). A promotion in one of those
channels lifts (and dips) only that channel: the product's lift and dip fractions become
the channels' fractions weighted by their shares of the baseline. The breakdown is
stored in ChannelForecast: each channel's share of the product's final baseline (so it
always adds up), and its uplift and dip (its own fractions of that share; they add up to
the product's, except what a successor carries for a replaced product). Products with
only "all" rows are forecast exactly as without channels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from django.conf import settings
from django.utils import timezone

from coordination.models import Product
from coordination.selectors.customer_requests import firm_orders
from coordination.weeks import add_weeks, current_week
from demand.bulk import insert_columns, insert_rows
from demand.engine import forecast_baseline, splice_predecessor
from demand.engine.effects import DIP_WEEKS
from demand.engine.launch import apply_successions, chain_order, launch_forecast, usable_level
from demand.models import (
    Channel,
    ChannelForecast,
    DemandForecast,
    ForecastFit,
    ForecastRun,
    MarketingAdjustment,
    Promotion,
    PromotionItem,
)
from demand.selectors.launches import (
    launch_inputs,
    own_history_weeks,
    succession_partners,
    successions_among,
)
from demand.selectors.lift import learned_dips, learned_shares
from demand.selectors.sales import channel_sales, sales_cells

HISTORY_WEEKS = 156
SEASON_LENGTH = 52


@dataclass(frozen=True)
class ChannelHistory:
    """The weekly units of each channel of the products whose history names a channel
    (a row in a channel other than "all"); their "all" rows, if any, are a series too
    (sales not attributed to a channel). One series per (product, channel)."""

    rows: np.ndarray  # int, the History row (product) of each series
    channels: list[str]
    units: np.ndarray  # (series, weeks) float, NaN before the channel's first sale


@dataclass(frozen=True)
class History:
    """Weekly units per product (rows) over the history window (columns); a product's
    units in a week are the sum over its sales channels."""

    product_ids: list[int]
    weeks: list[dt.date]
    units: np.ndarray  # float, NaN before a product's first recorded sale
    promo_mask: np.ndarray  # bool, weeks inside a past planned/confirmed promotion
    used_predecessor: np.ndarray  # bool per product
    channels: ChannelHistory | None = None  # None: no product's history names a channel


def _launched(units: np.ndarray) -> np.ndarray:
    """A week without a record after the series' first sale sold nothing; before it, the
    product was not on sale yet (NaN). In place; returns `units`."""
    recorded = ~np.isnan(units)
    launched = np.cumsum(recorded, axis=1) > 0
    units[launched & ~recorded] = 0.0
    return units


def _channel_history(
    records: list, own: set[int], row: dict[int, int], first: dt.date, weeks: int
) -> ChannelHistory | None:
    """The channel series of the products in `own` whose records name a channel."""
    named = {pid for pid, channel, _, _ in records if channel != Channel.ALL and pid in own}
    if not named:
        return None
    index: dict[tuple[int, str], int] = {}
    cells: list[tuple[int, int, int]] = []
    for pid, channel, week, sold in records:
        if pid in named:
            j = index.setdefault((pid, channel), len(index))
            cells.append((j, (week - first).days // 7, sold))
    units = np.full((len(index), weeks), np.nan)
    for j, k, sold in cells:
        units[j, k] = sold
    keys = sorted(index, key=index.get)
    return ChannelHistory(
        rows=np.array([row[pid] for pid, _ in keys], dtype=int),
        channels=[channel for _, channel in keys],
        units=_launched(units),
    )


def load_history(
    products: list[Product], *, end_week: dt.date, weeks: int, unspliced=frozenset()
) -> History:
    """`unspliced`: products that do not inherit their predecessor's history."""
    first = add_weeks(end_week, -weeks)
    week_list = [add_weeks(first, k) for k in range(weeks)]
    ids = [p.pk for p in products]
    predecessor = {
        p.pk: p.predecessor_id for p in products if p.predecessor_id and p.pk not in unspliced
    }
    wanted = sorted(set(ids) | set(predecessor.values()))
    row = {pk: i for i, pk in enumerate(wanted)}
    # One row per product, channel and week: a product's week is the sum of its rows.
    records = list(channel_sales(product_id__in=wanted, week__gte=first, week__lt=end_week))
    rows, columns = sales_cells(records, row, first, week=2)
    cell = rows.astype(np.int64) * weeks + columns
    sold = np.fromiter(map(itemgetter(3), records), dtype=float, count=len(records))
    size = len(wanted) * weeks
    # (bincount answers ints, not floats, when there are no records at all)
    units = np.bincount(cell, weights=sold, minlength=size).astype(float)
    units = units.reshape(len(wanted), weeks)
    units[(np.bincount(cell, minlength=size) == 0).reshape(len(wanted), weeks)] = np.nan
    _launched(units)
    promo = np.zeros((len(wanted), weeks), dtype=bool)
    for product_id, start, end in PromotionItem.objects.filter(
        product_id__in=wanted,
        promotion__status__in=Promotion.PLANNING_STATUSES,
        promotion__end_week__gte=first,
        promotion__start_week__lt=end_week,
    ).values_list("product_id", "promotion__start_week", "promotion__end_week"):
        promo[row[product_id], max(0, (start - first).days // 7) : (end - first).days // 7 + 1] = (
            True
        )
    own = [row[pk] for pk in ids]
    # A product-line shift: before its launch, a new product inherits the sales (and the
    # promotion weeks) of the one it replaces, scaled by how the two compare.
    pred_rows = [row.get(predecessor.get(pk)) for pk in ids]
    no_history = np.full(weeks, np.nan)
    spliced = splice_predecessor(
        units[own],
        np.array([units[r] if r is not None else no_history for r in pred_rows]).reshape(
            len(ids), weeks
        ),
        promo_mask=promo[own],
        predecessor_promo_mask=np.array(
            [promo[r] if r is not None else np.zeros(weeks, dtype=bool) for r in pred_rows]
        ).reshape(len(ids), weeks),
    )
    used_predecessor = np.asarray(spliced.used_predecessor)
    # A product that inherits its predecessor's history is forecast as a whole: its
    # channels' own histories would be shorter than the one its total is forecast from.
    position = {pk: i for i, pk in enumerate(ids)}
    by_channel = _channel_history(
        records,
        {pk for pk in ids if not used_predecessor[position[pk]]},
        position,
        first,
        weeks,
    )
    return History(
        ids, week_list, spliced.history, spliced.promo_mask, used_predecessor, by_channel
    )


def promotion_lift(
    product_ids: list[int], weeks: list[dt.date], channels: dict[int, set[str]] | None = None
):
    """(lift, promoted, promotions, channel_lift): the planned/confirmed promotions' lift
    (a fraction of the baseline; overlapping promotions do not stack, the stronger sets
    it) and whether a promotion runs, per product and week; the promotions as (product
    id, start, end, expected lift %, channel), those whose dip may still lie in the weeks
    included; and the lift of the promotions of one channel of a product forecast per
    channel (`channels`: the channels of each product, by row), {(row, channel): (h,)},
    which is then not in `lift`."""
    channels = channels or {}
    n, h = len(product_ids), len(weeks)
    row = {pk: i for i, pk in enumerate(product_ids)}
    col = {week: k for k, week in enumerate(weeks)}
    lift = np.zeros((n, h))
    promoted = np.zeros((n, h), dtype=bool)
    channel_lift: dict[tuple[int, str], np.ndarray] = {}
    # A promotion that ended up to DIP_WEEKS before the first week still has its dip ahead.
    promotions = list(
        PromotionItem.objects.filter(
            product_id__in=product_ids,
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__end_week__gte=add_weeks(weeks[0], -DIP_WEEKS),
            promotion__start_week__lte=weeks[-1],
        ).values_list(
            "product_id",
            "promotion__start_week",
            "promotion__end_week",
            "expected_lift_pct",
            "promotion__channel",
        )
    )
    for product_id, start, end, pct, channel in promotions:
        i = row[product_id]
        fractions = channel_row(i, channel, channels, channel_lift, lift)
        for week in weeks:
            if start <= week <= end:
                k = col[week]
                promoted[i, k] = True
                fractions[k] = max(fractions[k], float(pct) / 100)
    return lift, promoted, promotions, channel_lift


def channel_row(i: int, channel: str, channels: dict, terms: dict, whole: np.ndarray):
    """The row a promotion's fractions go to: its channel's, when product `i` is forecast
    in that channel, or else the product's."""
    if channel != Channel.ALL and channel in channels.get(i, ()):
        return terms.setdefault((i, channel), np.zeros(whole.shape[1]))
    return whole[i]


def future_terms(
    product_ids: list[int], weeks: list[dt.date], channels: dict[int, set[str]] | None = None
) -> dict:
    """Promotion lift and dip (fractions of the baseline), the weeks a promotion runs,
    firm orders and adjustments per product and week.

    `channels`: the channels each product (by row) is forecast in. A promotion in one of
    them lifts (and dips) that channel only: its fractions go to "channel_lift" and
    "channel_dip", {(row, channel): (h,) array}, not to "lift" and "dip", which hold the
    promotions of all channels (and those of a channel the product has no forecast in)."""
    channels = channels or {}
    n, h = len(product_ids), len(weeks)
    row = {pk: i for i, pk in enumerate(product_ids)}
    col = {week: k for k, week in enumerate(weeks)}
    dip = np.zeros((n, h))
    firm = np.zeros((n, h))
    adjustment = np.zeros((n, h))
    channel_dip: dict[tuple[int, str], np.ndarray] = {}
    lift, promoted, promotions, channel_lift = promotion_lift(product_ids, weeks, channels)
    dips = learned_dips({product_id for product_id, *_ in promotions}) if promotions else {}
    for product_id, _, end, _, channel in promotions:
        learned = dips.get(product_id)
        if learned is None:
            continue
        i = row[product_id]
        fractions = channel_row(i, channel, channels, channel_dip, dip)
        for offset, fraction in enumerate(learned.fractions(), start=1):
            k = col.get(add_weeks(end, offset))
            if k is not None and not promoted[i, k]:
                fractions[k] = min(fractions[k], fraction)
    for order in firm_orders(product_ids=product_ids, start=weeks[0], end=weeks[-1]):
        firm[row[order["product_id"]], col[order["week"]]] += order["units"]
    for product_id, week, units in MarketingAdjustment.objects.filter(
        product_id__in=product_ids, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list("product_id", "week", "units"):
        adjustment[row[product_id], col[week]] = units
    return {
        "lift": lift,
        "dip": dip,
        "promoted": promoted,
        "firm": firm,
        "adjustment": adjustment,
        "channel_lift": channel_lift,
        "channel_dip": channel_dip,
    }


@dataclass(frozen=True)
class SiblingTerms:
    """What planned/confirmed promotions of their siblings do to these products, (n, h):
    taken (<= 0, cannibalization) and added (>= 0, halo), with the promoted SKUs per
    (row, column) for each."""

    taken: np.ndarray
    taken_by: dict[tuple[int, int], str]
    added: np.ndarray
    added_from: dict[tuple[int, int], str]


def sibling_terms(product_ids: list[int], weeks: list[dt.date], uplift: np.ndarray) -> SiblingTerms:
    """What planned/confirmed promotions of their siblings take from (learned share > 0)
    and add to (< 0: a halo) these products, each the learned share of the promoted
    sibling's uplift.

    `uplift`: the extra units each product's own promotions cause, by row (those of a
    replaced product after its switch week included: its successor carries them). A
    promoted sibling's comes from it when it is forecast in this run, else from its
    stored forecast."""
    n, h = len(product_ids), len(weeks)
    taken, added = np.zeros((n, h)), np.zeros((n, h))
    names: dict[str, dict[tuple[int, int], list[str]]] = {"taken": {}, "added": {}}
    row = {pk: i for i, pk in enumerate(product_ids)}
    col = {week: k for k, week in enumerate(weeks)}
    nothing = SiblingTerms(taken, {}, added, {})
    lines = set(
        Product.objects.filter(pk__in=product_ids).values_list("product_line_id", flat=True)
    )
    promoted = set(
        PromotionItem.objects.filter(
            product__product_line_id__in=lines,
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__end_week__gte=weeks[0],
            promotion__start_week__lte=weeks[-1],
        ).values_list("product_id", flat=True)
    )
    if not promoted:
        return nothing
    # Only the product lines with a promotion in the weeks can take or add anything.
    lines = set(Product.objects.filter(pk__in=promoted).values_list("product_line_id", flat=True))
    shares = {
        (p, s): share
        for (p, s), share in learned_shares(lines).items()
        if p in promoted and s in row
    }
    if not shares:
        return nothing
    skus = dict(Product.objects.filter(pk__in={p for p, _ in shares}).values_list("pk", "sku"))
    stored: dict[int, np.ndarray] = {}
    outside = sorted({p for p, _ in shares if p not in row})
    moved_out = np.zeros((len(outside), h))
    for p in outside:
        stored[p] = np.zeros(h)
    at = {p: j for j, p in enumerate(outside)}
    for product_id, week, units, transfer in DemandForecast.objects.filter(
        product_id__in=outside, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list("product_id", "week", "promotion_uplift", "successor_transfer"):
        stored[product_id][col[week]] = units
        moved_out[at[product_id], col[week]] = max(0.0, -transfer)
    if moved_out.any():
        # A replaced product's stored uplift is 0 from the switch week: its promotion
        # lifts the demand its successor took over, and that is what siblings lose to.
        lift, *_ = promotion_lift(outside, weeks)
        for p in outside:
            stored[p] = stored[p] + moved_out[at[p]] * lift[at[p]]
    for (p, s), share in sorted(shares.items()):
        extra = np.maximum(uplift[row[p]] if p in row else stored[p], 0.0)
        i = row[s]
        if share > 0:
            taken[i] -= share * extra
        else:
            added[i] -= share * extra
        kind = "taken" if share > 0 else "added"
        for k in np.flatnonzero(extra > 0):
            names[kind].setdefault((i, int(k)), []).append(skus[p])
    return SiblingTerms(
        taken,
        {key: ", ".join(value) for key, value in names["taken"].items()},
        added,
        {key: ", ".join(value) for key, value in names["added"].items()},
    )


def forecast_history(history: History, horizon: int, *, products: int):
    """The engine's forecast of every row of `history`: (result, baseline, sigma,
    by_channel). Each channel of a product whose history names channels is one more
    series of the same engine call, and the product's baseline and sigma are its
    channels' sum (_sum_channels); by_channel is the breakdown of the first `products`
    rows (None without one)."""
    series, mask = history.units, history.promo_mask
    if history.channels is not None:
        series = np.vstack([series, history.channels.units])
        mask = np.vstack([mask, mask[history.channels.rows]])
    result = forecast_baseline(series, horizon, season_length=SEASON_LENGTH, promo_mask=mask)
    rows = len(history.product_ids)
    baseline = np.array(result.mean[:rows], dtype=float)
    sigma = np.array(result.sigma[:rows], dtype=float)
    by_channel = _sum_channels(history.channels, result, baseline, sigma, products=products)
    return result, baseline, sigma, by_channel


def forecast_products(
    *, product_ids, trigger: str, horizon: int | None = None, history_weeks: int = HISTORY_WEEKS
) -> ForecastRun:
    """Recompute and store the forecasts of these products from this week on (for the
    planning horizon unless `horizon` weeks are asked for)."""
    horizon = settings.PLANNING_HORIZON_WEEKS if horizon is None else horizon
    this_week = current_week()
    product_ids = succession_partners(product_ids)
    products = list(
        Product.objects.filter(pk__in=list(product_ids))
        .exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .order_by("pk")
    )
    run = ForecastRun.objects.create(
        trigger=trigger[:200],
        horizon_weeks=horizon,
        first_week=this_week,
        products_count=len(products),
        parameters={"history_weeks": history_weeks, "season_length": SEASON_LENGTH},
    )
    # Discontinued products are no longer forecast: drop their future rows.
    DemandForecast.objects.filter(product_id__in=list(product_ids), week__gte=this_week).delete()
    if not products:
        return _finish(run, 0)
    launches = launch_inputs([p.pk for p in products])
    predecessor_of = {p.pk: p.predecessor_id for p in products}
    n = len(products)
    # The like products are forecast with these (appended rows, not written).
    like_ids = {like for plan in launches.values() for like, _ in plan.likes} - {
        p.pk for p in products
    }
    likes = list(Product.objects.filter(pk__in=like_ids).order_by("pk"))
    successions = successions_among([p.pk for p in products])
    # A successor that takes over its predecessor's demand through a succession does not
    # also inherit its history: that would count the demand twice.
    history = load_history(
        products + likes,
        end_week=this_week,
        weeks=history_weeks,
        unspliced={new for old, new, _ in successions if predecessor_of.get(new) == old},
    )
    result, baseline, sigma, by_channel = forecast_history(history, horizon, products=n)
    weeks = [add_weeks(this_week, k) for k in range(horizon)]
    from_likes, likes_weight = _launch_terms(
        launches, history, baseline, sigma, this_week=this_week, weeks=weeks
    )
    baseline, sigma, from_likes = baseline[:n], sigma[:n], from_likes[:n]
    history = History(
        history.product_ids[:n],
        history.weeks,
        history.units[:n],
        history.promo_mask[:n],
        history.used_predecessor[:n],
    )
    before_successions = baseline
    baseline, transfer, transferred_with, moves = _succession_terms(
        history.product_ids, successions, baseline, sigma, weeks
    )
    terms = future_terms(
        history.product_ids, weeks, by_channel.channels_of() if by_channel else None
    )
    all_channels = {"lift": terms["lift"].copy(), "dip": terms["dip"].copy()}
    if by_channel is not None:
        by_channel.promotion_fractions(terms)
    uplift = baseline * terms["lift"]
    dip = baseline * terms["dip"]
    # The extra units each product's own promotions cause: what siblings lose to.
    caused = uplift
    if moves:
        # A promotion of a replaced product lifts the demand its successor took over:
        # its uplift, and the dip after it, move with the baseline (promotions do not
        # stack: the larger uplift, the deepest dip counts; no dip inside a promotion of
        # the successor's own), and siblings lose to it as before the switch.
        carried, _ = apply_successions(before_successions * terms["lift"], moves)
        uplift = np.maximum(uplift, carried)
        carried_dip, _ = apply_successions(before_successions * terms["dip"], moves)
        dip = np.minimum(dip, np.where(terms["promoted"], 0.0, carried_dip))
        caused = (baseline + np.maximum(0.0, -transfer)) * terms["lift"]
    siblings = sibling_terms(history.product_ids, weeks, caused)
    taken, taken_by = np.maximum(siblings.taken, -(baseline + dip)), siblings.taken_by
    halo, halo_from = siblings.added, siblings.added_from
    final = np.maximum(
        0.0, baseline + uplift + dip + taken + halo + terms["firm"] + terms["adjustment"]
    )
    methods = [str(m) for m in result.method[:n]]
    # Columns as plain Python lists (one conversion per array, not per value), streamed
    # through COPY on PostgreSQL: a large line writes thousands of rows per recompute.
    columns = {
        "baseline": np.round(baseline, 3),
        "promotion_uplift": np.round(uplift, 3),
        "promotion_dip": np.minimum(0.0, np.round(dip, 3)),
        "cannibalization": np.minimum(0.0, np.round(taken, 3)),
        "halo": np.maximum(0.0, np.round(halo, 3)),
        "from_likes": np.round(from_likes, 3),
        "successor_transfer": np.round(transfer, 3),
        "firm_orders": np.asarray(terms["firm"], dtype=float),
        "adjustment": np.asarray(terms["adjustment"], dtype=float),
        "final": np.round(final, 3),
    }
    # Rows as columns in row order (product by product, week by week), each value column
    # one conversion of its array; the text columns blank but where a name is stored.
    n_products, n_weeks = len(history.product_ids), len(weeks)
    cells = n_products * n_weeks

    def named(names: dict) -> list[str]:
        column = [""] * cells
        for (i, k), name in names.items():
            if i < n_products and k < n_weeks:
                column[i * n_weeks + k] = name[:200]
        return column

    transferred = [""] * cells
    for i, k in zip(
        *(a.tolist() for a in np.nonzero(transfer[:n_products, :n_weeks])), strict=True
    ):
        transferred[i * n_weeks + k] = transferred_with.get(i, "")
    written = insert_columns(
        DemandForecast,
        (
            "product_id",
            "week",
            "run_id",
            *columns,
            "cannibalized_by",
            "halo_from",
            "transferred_with",
            "method",
        ),
        [
            [pk for pk in history.product_ids for _ in range(n_weeks)],
            list(weeks) * n_products,
            [run.pk] * cells,
            *(np.asarray(array).ravel().tolist() for array in columns.values()),
            named(taken_by),
            named(halo_from),
            transferred,
            [method for method in methods for _ in range(n_weeks)],
        ],
    )
    history_lengths = (~np.isnan(history.units)).sum(axis=1)
    ForecastFit.objects.bulk_create(
        ForecastFit(
            run=run,
            product_id=pk,
            method=methods[i],
            sigma=float(sigma[i]),
            history_weeks=int(history_lengths[i]),
            used_predecessor=bool(history.used_predecessor[i]),
            likes_weight=likes_weight.get(pk, 0.0),
        )
        for i, pk in enumerate(history.product_ids)
    )
    ChannelForecast.objects.filter(product_id__in=list(product_ids), week__gte=this_week).delete()
    if by_channel is not None:
        by_channel.write(run, history.product_ids, weeks, baseline, all_channels, terms)
    names, counts = np.unique(np.asarray(methods, dtype=str), return_counts=True)
    run.methods = {str(name): int(count) for name, count in zip(names, counts, strict=True)}
    return _finish(run, written)


@dataclass
class ChannelBaselines:
    """The channel series of the products forecast per channel: the engine's baseline
    of each (product, channel) series and the product's engine baseline (their sum)."""

    rows: np.ndarray  # int, the product's row of each series
    channels: list[str]
    baseline: np.ndarray  # (series, h)
    engine_total: np.ndarray  # (products, h): the sum of each product's channel baselines
    methods: list[str]  # the engine's method of each series

    def channels_of(self) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for i, channel in zip(self.rows.tolist(), self.channels, strict=True):
            found.setdefault(i, set()).add(channel)
        return found

    def shares(self) -> np.ndarray:
        """(series, h): each channel's share of its product's engine baseline."""
        total = self.engine_total[self.rows]
        return np.divide(self.baseline, total, out=np.zeros_like(total), where=total > 0)

    def _channel_terms(self, own: dict, whole: np.ndarray, pick) -> np.ndarray:
        """(series, h): the fractions that apply to each channel: its own promotions'
        against those of all channels (pick: np.maximum for lifts, np.minimum for dips)."""
        return np.array(
            [
                pick(whole[i], own[(i, channel)]) if (i, channel) in own else whole[i]
                for i, channel in zip(self.rows.tolist(), self.channels, strict=True)
            ]
        ).reshape(len(self.channels), whole.shape[1])

    def promotion_fractions(self, terms: dict) -> None:
        """Turn the lift and dip of the products with a channel's promotion into the
        share-weighted fractions of their channels' (in place): a promotion lifts only
        its channel's part of the baseline."""
        touched = {i for i, _ in terms["channel_lift"]} | {i for i, _ in terms["channel_dip"]}
        if not touched:
            return
        shares = self.shares()
        for name, pick in (("lift", np.maximum), ("dip", np.minimum)):
            whole = terms[name]
            weighted = shares * self._channel_terms(terms[f"channel_{name}"], whole, pick)
            combined = np.zeros_like(whole)
            np.add.at(combined, self.rows, weighted)
            for i in touched:
                whole[i] = combined[i]

    def write(self, run, product_ids, weeks, baseline, all_channels: dict, terms) -> int:
        """Store each channel's baseline (its share of the product's final baseline, so
        the channels always add up to the product), uplift, dip, final and method.
        `all_channels`: the "lift" and "dip" fractions of the promotions of all channels
        (terms' before promotion_fractions). The channels' uplifts and dips add up to the
        product's, as both are the channels' fractions of their shares of its baseline."""
        total = self.engine_total[self.rows]
        scale = np.divide(baseline[self.rows], total, out=np.zeros_like(total), where=total > 0)
        channel_baseline = np.maximum(0.0, self.baseline * scale)
        lift = self._channel_terms(terms["channel_lift"], all_channels["lift"], np.maximum)
        uplift = channel_baseline * lift
        dip = channel_baseline * self._channel_terms(
            terms["channel_dip"], all_channels["dip"], np.minimum
        )
        final = np.maximum(0.0, channel_baseline + uplift + dip)
        values = [np.round(a, 3).tolist() for a in (channel_baseline, uplift, final)]
        values.insert(2, np.minimum(0.0, np.round(dip, 3)).tolist())
        return insert_rows(
            ChannelForecast,
            (
                "product_id",
                "channel",
                "week",
                "run_id",
                "baseline",
                "promotion_uplift",
                "promotion_dip",
                "final",
                "method",
            ),
            (
                (
                    product_ids[i],
                    channel,
                    week,
                    run.pk,
                    *(column[j][k] for column in values),
                    self.methods[j],
                )
                for j, (i, channel) in enumerate(
                    zip(self.rows.tolist(), self.channels, strict=True)
                )
                for k, week in enumerate(weeks)
            ),
        )


def _sum_channels(
    channels: ChannelHistory | None, result, baseline: np.ndarray, sigma: np.ndarray, *, products
) -> ChannelBaselines | None:
    """Replace the baseline of each product forecast per channel by the sum of its
    channels' baselines, and its sigma by sqrt(sum of their sigma^2) (in place; the
    channels' errors taken as independent). Returns the breakdown of the first
    `products` rows (the others are like products, read but not written)."""
    if channels is None:
        return None
    first = len(baseline)
    channel_baseline = np.array(result.mean[first:], dtype=float)
    channel_sigma = np.array(result.sigma[first:], dtype=float)
    summed = np.zeros_like(baseline)
    np.add.at(summed, channels.rows, channel_baseline)
    variance = np.zeros_like(sigma)
    np.add.at(variance, channels.rows, channel_sigma**2)
    split = np.unique(channels.rows)
    baseline[split] = summed[split]
    sigma[split] = np.sqrt(variance[split])
    keep = channels.rows < products
    if not keep.any():
        return None
    return ChannelBaselines(
        rows=channels.rows[keep],
        channels=[c for c, kept in zip(channels.channels, keep.tolist(), strict=True) if kept],
        baseline=channel_baseline[keep],
        engine_total=summed[:products].copy(),
        methods=[
            str(m) for m, kept in zip(result.method[first:], keep.tolist(), strict=True) if kept
        ],
    )


def _launch_terms(
    launches, history: History, baseline: np.ndarray, sigma: np.ndarray, *, this_week, weeks
) -> tuple[np.ndarray, dict[int, float]]:
    """Blend each launch product's own baseline with its likes' (in place, with its
    sigma); returns the likes' part per row and week, and the likes' weight per product."""
    from_likes = np.zeros_like(baseline)
    weights: dict[int, float] = {}
    if not launches:
        return from_likes, weights
    row = {pk: i for i, pk in enumerate(history.product_ids)}
    levels = usable_level(history.units, history.promo_mask)
    engine = baseline.copy()  # likes are read as the engine forecast them
    own_weeks = own_history_weeks(list(launches), end_week=this_week)
    for product_id, plan in launches.items():
        i = row[product_id]
        like_rows = [row[like] for like, _ in plan.likes]
        like_weights = np.array([weight for _, weight in plan.likes], dtype=float)
        baseline[i], from_likes[i], profile, weight = launch_forecast(
            baseline[i],
            engine[like_rows],
            levels[like_rows],
            like_weights,
            launch_volume=plan.launch_volume,
            weeks_since_launch=np.array([(week - plan.launch_week).days // 7 for week in weeks]),
            ramp_weeks=plan.ramp_weeks,
            ramp_shape=plan.ramp_shape,
            own_history_weeks=own_weeks[product_id],
        )
        # The likes' one-week error, scaled as their demand is; at least Poisson
        # variation of the launch volume when the likes say nothing.
        combined = float((like_weights @ engine[like_rows]).mean()) if like_rows else 0.0
        scale = float(profile.mean()) / combined if combined > 0 else 0.0
        likes_sigma = max(
            float(like_weights @ sigma[like_rows]) * scale if like_rows else 0.0,
            float(np.sqrt(max(profile.mean(), 0.0))),
        )
        sigma[i] = weight * sigma[i] + (1 - weight) * likes_sigma
        weights[product_id] = 1.0 - weight
    return from_likes, weights


def _succession_terms(
    product_ids: list[int], successions, baseline: np.ndarray, sigma, weeks: list[dt.date]
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Move replaced products' baselines to their successors from the switch weeks:
    (baseline, transfer, the other SKUs per row, the moves as apply_successions takes
    them). A successor taking over within the horizon takes over the uncertainty too:
    sigma = sqrt(own^2 + replaced^2) (in place)."""
    pairs = {old: (new, week) for old, new, week in successions}
    if not pairs:
        return baseline, np.zeros_like(baseline), {}, []
    row = {pk: i for i, pk in enumerate(product_ids)}
    order = chain_order({old: new for old, (new, _) in pairs.items()})
    moves = [(row[old], row[pairs[old][0]], (pairs[old][1] - weeks[0]).days // 7) for old in order]
    moved, transfer = apply_successions(baseline, moves)
    for old, new, first in moves:
        if first < len(weeks):
            sigma[new] = float(np.hypot(sigma[new], sigma[old]))
    skus = dict(Product.objects.filter(pk__in=list(row)).values_list("pk", "sku"))
    others: dict[int, list[str]] = {}
    for old in order:
        new = pairs[old][0]
        others.setdefault(row[new], []).append(skus[old])
        others.setdefault(row[old], []).append(skus[new])
    others_text = {i: ", ".join(names)[:200] for i, names in others.items()}
    return moved, transfer, others_text, moves


def _finish(run: ForecastRun, rows: int) -> ForecastRun:
    run.rows_written = rows
    run.status = ForecastRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["rows_written", "status", "finished_at", "methods"])
    return run
