"""Lift learning: what past promotions actually did, and a suggested lift for a new one.

A past (finished, planned or confirmed) promotion is measured against its
counterfactual: what the product would have sold those weeks without it, from its weeks
without promotions — the season shared by its product line, and the product's own level
and trend around the promotion (demand.engine.effects explains the fit):

    lift  = mean weekly units during the promotion / counterfactual - 1
    dip_k = units in week k after it / counterfactual that week - 1   (k = 1..4)
    dip   = mean of the dip_k that could be measured (the post-promotion dip: customers
            bought ahead)

Weeks without a sales record are left out, not read as zero. The suggestion for a new
promotion comes from a lift line in discount depth (elasticity) per product: the product
line's line scaled by the product's factor, pooled toward the line by empirical Bayes
(demand.engine.effects.learn_lift_curves): thin or noisy history leans on the line,
precise history on the product. The learned dip (a depth for a number of
weeks) is shrunk toward the line's the same way; the forecast puts it after planned and
confirmed promotions (demand.services.forecasting).

A sibling's signed share of a promoted product's extra units (cannibalization, halo) is
measured per line and read against the company's prior over all lines' pairs
(demand.engine.pooling; company_share_prior), where the company has enough of them:
the prior is fitted nightly, once every line is measured, and stored
(demand.services.share_prior), so a reader measures only the lines it needs.

A promotion of one channel (retail, online, ...) on a product whose sales name that
channel is measured on the product's total and restated for the channel: its extra units
over the channel's share of the sales in the 13 weeks before it (lift, dip and noise
divided by the share), because the forecast applies its lift to that channel's baseline
only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

import numpy as np
from django.core.cache import caches
from django.db.models import Count, Max

from coordination.models import Product
from coordination.weeks import add_weeks, current_week
from demand.engine.effects import (
    DIP_WEEKS,
    MIN_CANNIBALIZATION_PROMOTIONS,
    NO_DIP,
    Cannibalization,
    DipEstimate,
    LearnedLift,
    MeasuredEffect,
    PromotionSpan,
    learn_dip,
    learn_lift_curves,
    measure_all,
)
from demand.engine.pooling import SharePrior, pool_shares
from demand.models import (
    Channel,
    Promotion,
    PromotionItem,
    SalesActual,
    SalesImport,
    SharePriorFit,
)
from demand.selectors.sales import channel_sales, sales_cells, weekly_sales

__all__ = [
    "DIP_WEEKS",
    "LiftSuggestion",
    "PastEffect",
    "learned_cannibalization",
    "learned_dips",
    "learned_halo",
    "learned_shares",
    "past_effects",
]

#: Weeks of history before a line's first promotion read to fit its counterfactuals.
HISTORY_BEFORE_WEEKS = 104
#: At most this many weeks are read in all.
MAX_HISTORY_WEEKS = 312
SEASON_LENGTH = 52


@dataclass(frozen=True)
class PastEffect:
    promotion_id: int
    promotion_name: str
    product_id: int
    start_week: dt.date
    end_week: dt.date
    discount_pct: float
    baseline: float  # mean weekly units of the counterfactual during the promotion
    lift_pct: float
    dip_pct: float | None
    measured: MeasuredEffect | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LiftSuggestion:
    suggested_pct: Decimal | None
    evidence: str
    product_count: int = 0
    product_avg: float | None = None
    line_count: int = 0
    line_avg: float | None = None
    effects: list[PastEffect] = field(default_factory=list)
    elasticity: float | None = None  # lift points per discount point, for this product
    dip_pct: float | None = None  # the learned dip depth (<= 0), None without evidence
    dip_weeks: int = 0
    cannibalization: list[SiblingShare] = field(default_factory=list)


@dataclass(frozen=True)
class SiblingShare:
    """The share of the promoted product's extra units a sibling lost in past promotions
    (below 0: it gained, a halo; 0 where the data do not support one; `note` says why)."""

    sibling_id: int
    sibling_sku: str
    share_pct: float
    measured_pct: float | None
    promotions: int
    learned: bool
    pooled: bool = False  # read against the company's prior (company_share_prior)

    @property
    def halo(self) -> bool:
        """The sibling gains when this product is promoted (a share below 0)."""
        return self.learned and self.share_pct < 0

    @property
    def note(self) -> str:
        if self.halo:
            return (
                f"gains {-self.share_pct:.0f}% of the extra units (halo), over "
                f"{self.promotions} promotions"
            )
        if self.learned:
            return f"{self.share_pct:.0f}% of the extra units, over {self.promotions} promotions"
        if self.promotions < MIN_CANNIBALIZATION_PROMOTIONS:
            return (
                f"0: measured in {self.promotions} promotion"
                f"{'s' if self.promotions != 1 else ''}, at least "
                f"{MIN_CANNIBALIZATION_PROMOTIONS} needed"
            )
        if self.pooled:
            return (
                "0: against the company's other sibling pairs, more likely no loss or gain than one"
            )
        return "0: no loss or gain distinguishable from the sibling's noise"


def company_share_prior() -> SharePrior | None:
    """The company's prior on signed sibling shares (demand.engine.pooling): the newest
    one stored by demand.services.share_prior.share_prior_refresh (the nightly re-plan,
    once every line is measured), one query and no measuring. None before the first
    refresh, or where it found too few lines or pairs: each line's pairs keep the per-line
    rule. A company-level prior: leaving a promotion out of a suggestion does not refit it."""
    stored = (
        SharePriorFit.objects.order_by("-pk")
        .values_list(
            "zero",
            "loss_weight",
            "loss_mean",
            "loss_width",
            "gain_weight",
            "gain_mean",
            "gain_width",
        )
        .first()
    )
    if stored is None or stored[0] is None:
        return None
    zero, *slabs = stored
    return SharePrior(zero=zero, loss=tuple(slabs[:3]), gain=tuple(slabs[3:]))


def every_line_pairs() -> list[list[Cannibalization]]:
    """Every product line's measured sibling pairs (a list per line, in line and pair
    order), what the company's share prior is fitted to: from the cached measures, every
    line not cached measured here (tens of seconds at 100 lines: the nightly re-plan's
    work, never a page's)."""
    lines = sorted(
        set(Product.objects.values_list("product_line_id", flat=True).order_by().distinct())
    )
    measured = _cached_measures(lines)
    return [
        [shares[pair] for pair in sorted(shares)]
        for _, shares in (measured[line] for line in lines)
    ]


def _pooled(shares: dict, prior: SharePrior | None) -> dict[tuple[int, int], Cannibalization]:
    """A line's pairs read against the company's share prior (as they are without one)."""
    pairs = sorted(shares)
    return dict(zip(pairs, pool_shares([shares[p] for p in pairs], prior), strict=True))


def _line_effects(line_ids, *, exclude_promotion: int | None = None) -> list[PastEffect]:
    """Measured effects of the finished planned/confirmed promotions of these product
    lines' products (the one being edited left out)."""
    return _each_line_measures(line_ids, exclude_promotion=exclude_promotion)[0]


def _each_line_measures(line_ids, *, exclude_promotion: int | None = None):
    """_line_measures of each product line on its own, put together. Lines share nothing
    (season and cannibalization are per line), so this equals measuring them at once,
    and each line's result is cached and reused by every caller that needs that line."""
    effects: list[PastEffect] = []
    shares: dict[tuple[int, int], Cannibalization] = {}
    measured = _cached_measures(sorted(set(line_ids)), exclude_promotion=exclude_promotion)
    for line_effects, line_shares in measured.values():
        effects.extend(line_effects)
        shares.update(line_shares)
    return effects, shares


# Measuring a product line's promotions fits every product's counterfactual: about half a
# second for 500 products. The result depends only on what the fingerprint below reads,
# so pages that ask again (the marketing home asks for each upcoming promotion) reuse it.
MEASURES_CACHE_SECONDS = 3600
# While another process measures a line (its claim in the shared cache), wait for its
# result rather than measure the same line twice; a claim that outlives MEASURES_CLAIM_
# SECONDS (its process died) lapses, and after MEASURES_WAIT_SECONDS the waiter measures.
MEASURES_CLAIM_SECONDS = 120
MEASURES_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.05


def _line_measures(
    line_ids, *, exclude_promotion: int | None = None
) -> tuple[list[PastEffect], dict[tuple[int, int], Cannibalization]]:
    """The effects as in _line_effects, and cannibalization per (promoted product id,
    sibling id), of these product lines measured together."""
    line_ids = tuple(sorted(set(line_ids)))
    return _cached_measures([line_ids], exclude_promotion=exclude_promotion)[line_ids]


def _measures_keys(groups, this_week, exclude_promotion, sales) -> dict:
    """Per group of product line ids: the cache key of its measures, a fingerprint of
    everything they are measured from — the week, the lines' products, their promotions
    (versions included) and the sales history (its last import and last row) — and the
    promotion left out (None where leaving it out changes nothing). Two queries for all
    the groups: a forecast asks for every product line its products' siblings are in."""
    all_lines = sorted({line for group in groups for line in group})
    promotions: dict[int, list] = defaultdict(list)
    for line_id, *item in (
        PromotionItem.objects.filter(
            product__product_line_id__in=all_lines,
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__start_week__lt=this_week,
        )
        .order_by("pk")
        .values_list(
            "product__product_line_id",
            "pk",
            "product_id",
            "promotion_id",
            "promotion__version",
            "promotion__end_week",
        )
    ):
        promotions[line_id].append(tuple(item))
    products = {
        row["product_line_id"]: (row["rows"], row["last"])
        for row in Product.objects.filter(product_line_id__in=all_lines)
        .values("product_line_id")
        .annotate(rows=Count("pk"), last=Max("pk"))
        .order_by()
    }
    keys = {}
    for group in groups:
        items = sorted(item for line in group for item in promotions[line])
        # Leaving out a promotion that has not finished changes nothing: it is not measured.
        excluded = exclude_promotion
        if not any(p == exclude_promotion and end < this_week for _, _, p, _, end in items):
            excluded = None
        counts = [products.get(line, (0, None)) for line in group]
        product_state = (
            sum(rows for rows, _ in counts),
            max((last for _, last in counts if last is not None), default=None),
        )
        fingerprint = repr((list(group), this_week, excluded, items, sales, product_state))
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()
        keys[group] = ("lift-measures:" + digest, excluded)
    return keys


def _sales_state() -> list:
    """Sales change through imports (CSV or API, each a SalesImport) or as new rows: the
    last of each, two index lookups whatever the size of the history."""
    return sorted(
        {
            "import": SalesImport.objects.aggregate(last=Max("pk"))["last"],
            "row": SalesActual.objects.aggregate(last=Max("pk"))["last"],
        }.items()
    )


_shared_down_until = 0.0
SHARED_RETRY_SECONDS = 5.0


def _shared(operation: str, *args):
    """An operation on the shared cache (Redis where CACHE_URL names it, so every worker
    and web process reuses a line measured once); None when that cache fails, and for
    SHARED_RETRY_SECONDS after: a lost Redis costs a measurement, never a page or a plan."""
    global _shared_down_until
    if time.monotonic() < _shared_down_until:
        return None
    try:
        return getattr(caches["default"], operation)(*args)
    except Exception:
        _shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
        return None


def _cached_measures(groups, *, exclude_promotion: int | None = None) -> dict:
    """The measures of each group of product line ids (an int is a group of one): from
    this process's cache, else the shared one, else measured here. A group another process
    is measuring (it claimed it in the shared cache) is taken from there when it is done,
    meanwhile this process measures the groups nobody has claimed, so workers planning at
    once split the measuring between them instead of each doing all of it."""
    this_week, sales = current_week(), _sales_state()
    lines_of = {
        group: (group,) if isinstance(group, int) else tuple(sorted(set(group))) for group in groups
    }
    group_keys = _measures_keys(set(lines_of.values()), this_week, exclude_promotion, sales)
    keys = {group: (lines, *group_keys[lines]) for group, lines in lines_of.items()}
    local = caches["local"]
    found, pending = {}, list(groups)
    deadline = time.monotonic() + MEASURES_WAIT_SECONDS
    while pending:
        waiting = []
        for group in pending:
            line_ids, key, excluded = keys[group]
            cached = local.get(key)
            if cached is None:
                cached = _shared("get", key)
                if cached is None:
                    # add() is atomic: one process wins the claim (or the cache is down).
                    claimed = _shared("add", key + ":claim", 1, MEASURES_CLAIM_SECONDS)
                    if claimed is False and time.monotonic() < deadline:
                        waiting.append(group)
                        continue
                    cached = _measure_lines(line_ids, exclude_promotion=excluded)
                    _shared("set", key, cached, MEASURES_CACHE_SECONDS)
                    _shared("delete", key + ":claim")
                # Kept here only when it came from elsewhere: a hit needs no rewrite.
                local.set(key, cached, MEASURES_CACHE_SECONDS)
            found[group] = cached
        pending = waiting
        if pending:
            time.sleep(_POLL_SECONDS)
    return {group: found[group] for group in groups}


def _measure_lines(
    line_ids, *, exclude_promotion: int | None = None
) -> tuple[list[PastEffect], dict[tuple[int, int], Cannibalization]]:
    this_week = current_week()
    products = list(
        Product.objects.filter(product_line_id__in=list(line_ids)).values_list(
            "pk", "product_line_id"
        )
    )
    if not products:
        return [], {}
    row = {pk: i for i, (pk, _) in enumerate(products)}
    items = list(
        PromotionItem.objects.filter(
            product_id__in=list(row),
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__start_week__lt=this_week,
        )
        .select_related("promotion")
        .order_by("promotion__start_week", "promotion_id", "product_id")
    )
    measurable = {
        i.pk
        for i in items
        if i.promotion.end_week < this_week and i.promotion_id != exclude_promotion
    }
    if not measurable:
        return [], {}
    first = add_weeks(min(i.promotion.start_week for i in items), -HISTORY_BEFORE_WEEKS)
    first = max(first, add_weeks(this_week, -MAX_HISTORY_WEEKS))
    n_weeks = (this_week - first).days // 7
    units = np.full((len(products), n_weeks), np.nan)
    # One record a (product, week): every cell set at once.
    sales = list(weekly_sales(product_id__in=list(row), week__gte=first, week__lt=this_week))
    units[sales_cells(sales, row, first)] = np.fromiter(
        map(itemgetter(2), sales), dtype=float, count=len(sales)
    )

    def column(week: dt.date) -> int:
        return (week - first).days // 7

    # Every promotion that ran keeps its weeks out of the counterfactual, the edited one
    # included; only finished ones are measured.
    spans = [
        PromotionSpan(
            row[i.product_id],
            column(i.promotion.start_week),
            min(column(i.promotion.end_week), n_weeks - 1),
            float(i.promotion.discount_pct),
        )
        for i in items
    ]
    # Cannibalization is measured over the finished promotions only.
    measured, cannibal = measure_all(
        units,
        spans,
        SEASON_LENGTH,
        groups=[line for _, line in products],
        cannibalization_from=[i.pk in measurable for i in items],
    )
    ids = [pk for pk, _ in products]
    shares = {(ids[c.promoted], ids[c.sibling]): c for c in cannibal}
    of_channel = _channel_shares([i for i in items if i.pk in measurable])
    effects = []
    for item, effect in zip(items, measured, strict=True):
        if effect is None or item.pk not in measurable:
            continue
        if item.pk in of_channel:
            effect = _in_channel(effect, of_channel[item.pk])
        promo = item.promotion
        effects.append(
            PastEffect(
                promotion_id=promo.pk,
                promotion_name=promo.name,
                product_id=item.product_id,
                start_week=promo.start_week,
                end_week=promo.end_week,
                discount_pct=float(promo.discount_pct),
                baseline=effect.counterfactual,
                lift_pct=effect.lift_pct,
                dip_pct=effect.dip_pct,
                measured=effect,
            )
        )
    return effects, shares


# A channel's share of a product's sales is read over these weeks before a promotion; a
# share below MIN_CHANNEL_SHARE is too small to scale a measured lift by.
CHANNEL_SHARE_WEEKS = 13
MIN_CHANNEL_SHARE = 0.1


def _channel_shares(items) -> dict[int, float]:
    """{promotion item id: the promotion's channel's share of the product's sales in the
    CHANNEL_SHARE_WEEKS before it} for the items of a one-channel promotion whose product
    sold in that channel then (products with channel history only)."""
    wanted = [i for i in items if i.promotion.channel != Channel.ALL]
    if not wanted:
        return {}
    first = add_weeks(min(i.promotion.start_week for i in wanted), -CHANNEL_SHARE_WEEKS)
    last = max(i.promotion.start_week for i in wanted)
    sales: dict[int, list] = defaultdict(list)
    for product_id, channel, week, units in channel_sales(
        product_id__in={i.product_id for i in wanted}, week__gte=first, week__lt=last
    ):
        sales[product_id].append((channel, week, units))
    found = {}
    for item in wanted:
        start = item.promotion.start_week
        before = [
            (channel, units)
            for channel, week, units in sales.get(item.product_id, ())
            if add_weeks(start, -CHANNEL_SHARE_WEEKS) <= week < start
        ]
        total = sum(units for _, units in before)
        own = sum(units for channel, units in before if channel == item.promotion.channel)
        if total > 0 and own / total >= MIN_CHANNEL_SHARE:
            found[item.pk] = own / total
    return found


def _in_channel(effect: MeasuredEffect, share: float) -> MeasuredEffect:
    """A promotion measured on the product's total sales, restated for its channel (a
    `share` of the product): the extra units are the channel's, so lift, dip, noise and
    the lift's standard error are `1/share` times the product's, against `share` of its
    counterfactual. The ratios that decide what is learned (dip against noise) do not
    change."""
    return dataclasses.replace(
        effect,
        counterfactual=effect.counterfactual * share,
        lift_pct=effect.lift_pct / share,
        # A dip takes at most all of the channel's baseline.
        dip_profile=tuple(
            None if v is None else max(-100.0, v / share) for v in effect.dip_profile
        ),
        noise_pct=effect.noise_pct / share,
        lift_se=effect.lift_se / share,
    )


def past_effects(product_ids, *, exclude_promotion: int | None = None) -> list[PastEffect]:
    """Measured effects of finished planned/confirmed promotions of these products."""
    product_ids = set(product_ids)
    lines = set(
        Product.objects.filter(pk__in=list(product_ids)).values_list("product_line_id", flat=True)
    )
    return [
        e
        for e in _line_effects(lines, exclude_promotion=exclude_promotion)
        if e.product_id in product_ids
    ]


def _dip(own: list[PastEffect], line: list[PastEffect]) -> DipEstimate:
    return learn_dip(
        [e.measured for e in own if e.measured], [e.measured for e in line if e.measured]
    )


def learned_dips(product_ids) -> dict[int, DipEstimate]:
    """The learned post-promotion dip of each product (only those with one)."""
    products = dict(
        Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "product_line_id")
    )
    effects = _line_effects(set(products.values()))
    by_line: dict[int, list[PastEffect]] = defaultdict(list)
    line_of = dict(
        Product.objects.filter(pk__in={e.product_id for e in effects}).values_list(
            "pk", "product_line_id"
        )
    )
    for effect in effects:
        by_line[line_of[effect.product_id]].append(effect)
    dips = {}
    for product_id, line_id in products.items():
        line = by_line.get(line_id, [])
        dip = _dip([e for e in line if e.product_id == product_id], line)
        if dip != NO_DIP:
            dips[product_id] = dip
    return dips


def learned_shares(line_ids) -> dict[tuple[int, int], float]:
    """(promoted product id, sibling id) -> the learned signed share (-1..1) of the
    promoted product's extra units the sibling loses (> 0, cannibalization) or gains
    (< 0, halo), for the pairs of these product lines where one was learned."""
    _, shares = _each_line_measures(line_ids)
    shares = _pooled(shares, company_share_prior())
    return {pair: c.share for pair, c in shares.items() if c.learned and c.share != 0}


def learned_cannibalization(line_ids) -> dict[tuple[int, int], float]:
    """The learned shares (0..1) the siblings lose (learned_shares above 0)."""
    return {pair: share for pair, share in learned_shares(line_ids).items() if share > 0}


def learned_halo(line_ids) -> dict[tuple[int, int], float]:
    """The learned shares (0..1) of the promoted product's extra units the siblings gain
    (learned_shares below 0, as gains)."""
    return {pair: -share for pair, share in learned_shares(line_ids).items() if share < 0}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def line_measures(product_line_id: int):
    """What a product line's past promotions measured: (effects, sibling shares by pair),
    as suggest_lift reads them (from the caches where they are)."""
    return _line_measures([product_line_id])


def suggested_lifts(pairs) -> list[Decimal | None]:
    """The suggested lift of each (product, discount %) pair, as suggest_lift's
    suggested_pct (no promotion left out: for promotions that have not finished), for a
    page that shows many (the marketing home asks for every upcoming promotion's items):
    each product line's lift curves learned once and kept in this process's cache under
    its measures' fingerprint, so a page reads a few numbers per line, not every
    measured promotion of it (a hundred lines' measures took 0.6 s to unpickle)."""
    lines = sorted({product.product_line_id for product, _ in pairs})
    keys = _measures_keys({(line,) for line in lines}, current_week(), None, _sales_state())
    local = caches["local"]
    learned = {line: local.get("lift-curves:" + keys[(line,)][0]) for line in lines}
    missing = [line for line, found in learned.items() if found is None]
    if missing:
        for line, (line_effects, _) in _cached_measures(missing).items():
            # () where the line has no measured promotion: nothing to suggest from.
            learned[line] = (
                (_learn(line_effects), frozenset(e.product_id for e in line_effects))
                if line_effects
                else ()
            )
            local.set("lift-curves:" + keys[(line,)][0], learned[line], MEASURES_CACHE_SECONDS)
    suggestions = []
    for product, discount_pct in pairs:
        if not learned[product.product_line_id]:
            suggestions.append(None)
            continue
        curves, promoted = learned[product.product_line_id]
        curve = curves.curve(product.pk) if product.pk in promoted else curves.line
        suggestions.append(_pct(curve.at(float(discount_pct or 0))))
    return suggestions


def _learn(line_effects: list[PastEffect]) -> LearnedLift:
    return learn_lift_curves(
        [e.discount_pct for e in line_effects],
        [e.lift_pct for e in line_effects],
        [e.product_id for e in line_effects],
        [e.measured.lift_se if e.measured else None for e in line_effects],
    )


def suggest_lift(*, product: Product, discount_pct, exclude_promotion: int | None = None):
    """The lift to expect for `product` at `discount_pct`, with its evidence (for many
    products at once, suggested_lifts). The sibling shares are read against the
    company's stored prior, which `exclude_promotion` leaves as it is
    (company_share_prior)."""
    discount = float(discount_pct or 0)
    line_effects, shares = _line_measures(
        [product.product_line_id], exclude_promotion=exclude_promotion
    )
    share_prior = company_share_prior()
    shares = _pooled(shares, share_prior)
    skus = dict(
        Product.objects.filter(product_line_id=product.product_line_id).values_list("pk", "sku")
    )
    cannibalization = [
        SiblingShare(
            sibling_id=sibling,
            sibling_sku=skus.get(sibling, ""),
            share_pct=c.share * 100,
            measured_pct=None if c.measured_share is None else c.measured_share * 100,
            promotions=c.promotions,
            learned=c.learned,
            pooled=share_prior is not None,
        )
        for (promoted, sibling), c in sorted(shares.items())
        if promoted == product.pk
    ]
    own = [e for e in line_effects if e.product_id == product.pk]
    line_name = product.product_line.name
    if not line_effects:
        return LiftSuggestion(
            None, "No finished promotions in this product line yet: enter your own estimate."
        )
    learned = _learn(line_effects)
    line_curve = learned.line
    line_avg = line_curve.at(discount)
    dip = _dip(own, line_effects)
    dip_text = (
        f"dip {dip.depth_pct:+.0f}% for {_plural(dip.weeks, 'week')}" if dip.weeks else "no dip"
    )
    if not own:
        return LiftSuggestion(
            _pct(line_avg),
            f"No past promotions of {product.sku}; {line_name} averaged {line_avg:+.0f}% "
            f"over {_plural(len(line_effects), 'promotion')} against the counterfactual; "
            f"{dip_text}.",
            line_count=len(line_effects),
            line_avg=line_avg,
            effects=[],
            elasticity=line_curve.slope,
            dip_pct=dip.depth_pct if dip.weeks else None,
            dip_weeks=dip.weeks,
            cannibalization=cannibalization,
        )
    curve = learned.curve(product.pk)
    own_avg = sum(e.lift_pct for e in own) / len(own)
    return LiftSuggestion(
        _pct(curve.at(discount)),
        f"{_plural(len(own), 'past promotion')}, avg {own_avg:+.0f}% against the "
        f"counterfactual; {dip_text}; {line_name} {line_avg:+.0f}%.",
        product_count=len(own),
        product_avg=own_avg,
        line_count=len(line_effects),
        line_avg=line_avg,
        effects=own,
        elasticity=curve.slope,
        dip_pct=dip.depth_pct if dip.weeks else None,
        dip_weeks=dip.weeks,
        cannibalization=cannibalization,
    )


def _pct(value: float) -> Decimal:
    bounded = min(max(value, float(PromotionItem.MIN_LIFT)), float(PromotionItem.MAX_LIFT))
    return Decimal(str(round(bounded, 1)))
