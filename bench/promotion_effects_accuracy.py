"""How close learned promotion effects come to a known truth, beside the previous method.

Builds synthetic product lines with KNOWN effects and measures them both ways in one run:

    new       demand.engine.effects: each promotion against a counterfactual baseline
              (level + bending trend + yearly season, the local level around it where
              the series' level wanders; the season shared by the line, fitted to the
              weeks after promotions too), lift as a line in discount depth per
              product (the line's scaled by the product's factor, pooled toward 1 as
              far as the line's factors say its products differ),
              the dip as a step (depth, weeks) shrunk toward the line, signed sibling
              shares (cannibalization > 0, halo < 0) regressed over the pair's promotions
    pooled    the same, the sibling shares read against the company's prior fitted to
              all families' pairs at once (demand.engine.pooling: every family a
              product line of one company)
    previous  the method Tandem used before: lift = units during / mean of the 8 weeks
              before - 1, dip = mean of the 4 weeks after / that baseline - 1,
              suggestions weighted by discount similarity exp(-|d - d_i| / 10) and
              shrunk toward the line with weight 2, no dip, no sibling effects

Each family (product line) has 4 products over 156 weeks: a level, a trend, a yearly
season (a smooth wave plus, in half the families, a sharp 3-week peak), multiplicative
noise. Three products are promoted 4 times each, 2 weeks at a time, half of the
promotions starting within 3 weeks of a seasonal peak and half of a trough, never two
products of a line at once, at discounts of 10-40 %; the true
lift is elasticity x discount; after each, a dip of a known depth for 1-3 weeks. The
fourth product loses a known share of the promoted first product's extra units
(cannibalization), which the lift learning must not be thrown by; in every second
family the second product gains a known share of them (halo).

Printed per method: mean absolute error and bias (mean signed error) in points of
  measured lift      each past promotion's measured lift against its true lift
  learned lift       each product's learned lift at the discount of each of its
                     promotions (all promotions known), against the true lift
  suggested lift     leave one out: each promotion's lift predicted from all the others
                     of its line, against its true lift
  dip depth          each product's learned dip against its true depth
  cannibalization    the signed share of a promoted product's extra units each sibling
  and halo           lost, learned (0 where the data do not support it) against the
                     truth: 20 % for the cannibalized pair, -10 % for the halo pair, 0
                     for the others
  forecast MASE      the last 26 weeks of each line forecast from the weeks before (the
                     engine's baseline), the promotions that start in them planned at
                     their discount: the new method's suggested lift, dip and sibling
                     shares, or the previous method's lift; per product mean |error| /
                     mean |weekly change| of its history, over all 26 weeks and over the
                     weeks the promotions touch (theirs and the 4 after)
and the split of the suggested lift between promotions on peaks and in troughs.

    PYTHONPATH=. .venv/bin/python bench/promotion_effects_accuracy.py [--families 60]
        [--seed 7] [--noise 0.06] [--sharp-peaks 0.5] [--line-spread 0]

--line-spread s (0: every family from one distribution) makes the lines really differ,
so that pooling them is not tuned to one truth: each line's elasticity is scaled by
exp(s x N(0, 1) / 2) and its cannibalized and halo shares by 1 + s x U(-1, 1).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from demand.engine import forecast_baseline
from demand.engine.effects import (
    DIP_WEEKS,
    MeasuredEffect,
    PromotionSpan,
    learn_dip,
    learn_lift_curves,
    measure_all,
    measure_cannibalization,
    measure_effects,
)
from demand.engine.pooling import fit_share_prior, pool_shares

WEEKS = 156
SEASON = 52
PRODUCTS = 4
PROMOTED = 3
PROMOTIONS_EACH = 4
PROMOTION_WEEKS = 2
DISCOUNTS = (10.0, 20.0, 30.0, 40.0)
CANNIBAL_SHARE = 0.2
HALO_SHARE = 0.1  # in every second family the second product gains this share
HOLDOUT_WEEKS = 26
SHARP_PEAK_SHARE = 0.5


@dataclass
class TruePromotion:
    product: int
    start: int
    discount: float
    lift_pct: float
    on_peak: bool


def make_family(
    rng: np.random.Generator,
    noise: float,
    sharp_share: float = SHARP_PEAK_SHARE,
    halo=False,
    spread_rng: np.random.Generator | None = None,
    line_spread: float = 0.0,
):
    """A family's units, promotions, dips, base and its true (cannibalized, halo) shares.
    With `line_spread` > 0 (its draws from `spread_rng`, so the families stay those of
    the default run otherwise) the line's elasticity is scaled by exp(spread x N(0, 1) / 2)
    and its shares drawn from (1 +- spread) x the defaults: lines that really differ."""
    cannibal_share, halo_share, scale = CANNIBAL_SHARE, HALO_SHARE, 1.0
    if line_spread > 0 and spread_rng is not None:
        scale = math.exp(line_spread * spread_rng.standard_normal() / 2)
        cannibal_share *= 1 + line_spread * spread_rng.uniform(-1, 1)
        halo_share *= 1 + line_spread * spread_rng.uniform(-1, 1)
    t = np.arange(WEEKS)
    peak_phase = rng.integers(0, SEASON)
    amplitude = rng.uniform(0.25, 0.45)
    season = amplitude * np.cos(2 * math.pi * (t - peak_phase) / SEASON)
    if rng.random() < sharp_share:
        sharp = np.zeros(SEASON)
        for k in (-1, 0, 1):
            sharp[(peak_phase + k) % SEASON] = 0.3 if k == 0 else 0.15
        season = season + sharp[t % SEASON]
    line_elasticity = rng.uniform(1.2, 3.0) * scale
    base = np.empty((PRODUCTS, WEEKS))
    levels = rng.uniform(80, 800, PRODUCTS)
    # The cannibalized sibling sells at least as much as the product taking its sales,
    # so that what it loses is never cut off at zero sales.
    levels[-1] = levels[0] * rng.uniform(1.0, 2.0)
    for p in range(PRODUCTS):
        level = levels[p]
        trend = rng.uniform(-0.003, 0.004)
        base[p] = level * (1 + trend * (t - WEEKS / 2)) * (1 + season)
    base = np.maximum(base, 1.0)
    units = base.copy()
    promotions: list[TruePromotion] = []
    dips = {}
    # Promotions start within 3 weeks of the seasonal peak or trough.
    near_peak = {(k % SEASON) for k in range(-3, 3)}
    near_trough = {((SEASON // 2 + k) % SEASON) for k in range(-3, 3)}
    peaks = [w for w in range(8, WEEKS - 10) if (w - peak_phase) % SEASON in near_peak]
    troughs = [w for w in range(8, WEEKS - 10) if (w - peak_phase) % SEASON in near_trough]
    line_taken: list[int] = []  # the line's products take turns: no two promoted at once
    for p in range(PROMOTED):
        elasticity = line_elasticity * rng.uniform(0.8, 1.2)
        dip_depth, dip_weeks = rng.uniform(-30, -10), int(rng.integers(1, 4))
        dips[p] = (dip_depth, dip_weeks)
        taken: list[int] = []
        for k in range(PROMOTIONS_EACH):
            pool = peaks if k % 2 == 0 else troughs
            options = [
                w
                for w in pool
                if all(abs(w - o) >= 14 for o in taken)
                and all(abs(w - o) >= PROMOTION_WEEKS for o in line_taken)
            ]
            if not options:
                continue
            start = int(rng.choice(options))
            taken.append(start)
            line_taken.append(start)
            discount = float(rng.choice(DISCOUNTS))
            lift = elasticity * discount
            promotions.append(TruePromotion(p, start, discount, lift, k % 2 == 0))
            during = slice(start, start + PROMOTION_WEEKS)
            extra = base[p, during] * lift / 100
            units[p, during] += extra
            if p == 0:
                units[PRODUCTS - 1, during] -= cannibal_share * extra
                if halo:
                    units[1, during] += halo_share * extra
            after = slice(start + PROMOTION_WEEKS, start + PROMOTION_WEEKS + dip_weeks)
            units[p, after] += base[p, after] * dip_depth / 100
    units = np.maximum(units, 0) * (1 + noise * rng.standard_normal(units.shape))
    shares = (cannibal_share, halo_share if halo else 0.0)
    return np.round(np.maximum(units, 0)), promotions, dips, base, shares


def previous_measure(units: np.ndarray, promo: TruePromotion, promo_weeks: set[int]):
    before = [
        units[w] for w in range(promo.start - 8, promo.start) if w >= 0 and w not in promo_weeks
    ]
    if len(before) < 4:
        return None
    baseline = sum(before) / len(before)
    during = units[promo.start : promo.start + PROMOTION_WEEKS].mean()
    end = promo.start + PROMOTION_WEEKS - 1
    after = [units[w] for w in range(end + 1, min(end + 5, len(units))) if w not in promo_weeks]
    dip = (sum(after) / len(after) / baseline - 1) * 100 if after else None
    return (during / baseline - 1) * 100, dip


def previous_suggestion(own, line, discount):
    def weighted(effects):
        weights = [math.exp(-abs(d - discount) / 10) for d, _ in effects]
        total = sum(weights)
        return sum(w * lift for w, (_, lift) in zip(weights, effects, strict=True)) / total, total

    line_avg, _ = weighted(line)
    if not own:
        return line_avg
    own_avg, weight = weighted(own)
    return (weight * own_avg + 2 * line_avg) / (weight + 2)


def new_suggestion(line, product, discount):
    """line: (product, discount, measured effect) of the line's promotions."""
    learned = learn_lift_curves(
        [d for _, d, _ in line],
        [e.lift_pct for _, _, e in line],
        [p for p, _, _ in line],
        [e.lift_se for _, _, e in line],
    )
    return learned.curve(product).at(discount)


def learned_lifts(promotions, effects):
    """Each promotion's product's learned lift at its discount, from all promotions."""
    new = isinstance(next((e for e in effects if e is not None), None), MeasuredEffect)
    if new:
        line = [(o.product, o.discount, e) for o, e in zip(promotions, effects, strict=True) if e]
        return [new_suggestion(line, p.product, p.discount) if line else None for p in promotions]
    pairs = [(o, e[0]) for o, e in zip(promotions, effects, strict=True) if e is not None]
    line = [(o.discount, lift) for o, lift in pairs]
    return [
        previous_suggestion(
            [(o.discount, lift) for o, lift in pairs if o.product == p.product], line, p.discount
        )
        if line
        else None
        for p in promotions
    ]


def holdout_measure(units, promotions):
    """What the holdout forecast learns from the weeks before the last HOLDOUT_WEEKS
    (None where no promotion starts in them or none ran before)."""
    cut = WEEKS - HOLDOUT_WEEKS
    past = [p for p in promotions if p.start + PROMOTION_WEEKS <= cut]
    ahead = [p for p in promotions if p.start >= cut]
    if not ahead or not past:
        return None
    spans = [
        PromotionSpan(p.product, p.start, p.start + PROMOTION_WEEKS - 1, p.discount) for p in past
    ]
    effects, shares = measure_all(units[:, :cut], spans, SEASON)
    return past, effects, shares


def holdout_mase(units, promotions, measured, shares=None) -> dict[str, list[float]]:
    """Forecast the last HOLDOUT_WEEKS weeks of a line from the weeks before, with the
    promotions that start in them planned at their discount: the new method's lift
    suggestion, dip and signed sibling shares, or the previous method's lift alone.
    MASE of each product: mean |forecast - actual| / the mean |one-week change| of its
    history. Only lines with a promotion in the holdout count."""
    cut = WEEKS - HOLDOUT_WEEKS
    ahead = [p for p in promotions if p.start >= cut]
    if measured is None:
        return {"new": [], "old": [], "new_touched": [], "old_touched": []}
    past, effects, line_shares = measured
    shares = line_shares if shares is None else shares
    history = units[:, :cut]
    promo_mask = np.zeros(history.shape, dtype=bool)
    for p in past:
        promo_mask[p.product, p.start : p.start + PROMOTION_WEEKS] = True
    baseline = np.asarray(
        forecast_baseline(history, HOLDOUT_WEEKS, SEASON, promo_mask=promo_mask).mean, dtype=float
    )
    line = [(p.product, p.discount, e) for p, e in zip(past, effects, strict=True) if e]
    measured = [e for e in effects if e is not None]
    old_effects = []
    for p in past:
        weeks = {
            o.start + k for o in past if o.product == p.product for k in range(PROMOTION_WEEKS)
        }
        old_effects.append(previous_measure(history[p.product], p, weeks))
    old_line = [(p, e[0]) for p, e in zip(past, old_effects, strict=True) if e is not None]
    new, old = baseline.copy(), baseline.copy()
    for p in ahead:
        during = slice(p.start - cut, p.start - cut + PROMOTION_WEEKS)
        lift = new_suggestion(line, p.product, p.discount) / 100 if line else 0.0
        uplift = baseline[p.product, during] * lift
        new[p.product, during] += uplift
        for c in shares:
            if c.promoted == p.product and c.learned:
                new[c.sibling, during] -= c.share * np.maximum(uplift, 0)
        dip = learn_dip(
            [e for q, e in zip(past, effects, strict=True) if e and q.product == p.product],
            measured,
        )
        for k, fraction in enumerate(dip.fractions()):
            w = p.start - cut + PROMOTION_WEEKS + k
            if w < HOLDOUT_WEEKS:
                new[p.product, w] += baseline[p.product, w] * fraction
        if old_line:
            own = [(q.discount, lift) for q, lift in old_line if q.product == p.product]
            old_lift = previous_suggestion(own, [(q.discount, x) for q, x in old_line], p.discount)
            old[p.product, during] += baseline[p.product, during] * old_lift / 100
    actual = units[:, cut:]
    scale = np.nanmean(np.abs(np.diff(history, axis=1)), axis=1)
    # The weeks the promotions touch: theirs and the DIP_WEEKS after, every product.
    touched = np.zeros(HOLDOUT_WEEKS, dtype=bool)
    for p in ahead:
        touched[p.start - cut : p.start - cut + PROMOTION_WEEKS + DIP_WEEKS] = True
    return {
        "new": list(np.mean(np.abs(new - actual), axis=1) / scale),
        "old": list(np.mean(np.abs(old - actual), axis=1) / scale),
        "new_touched": list(np.mean(np.abs(new - actual)[:, touched], axis=1) / scale),
        "old_touched": list(np.mean(np.abs(old - actual)[:, touched], axis=1) / scale),
    }


def summary(errors):
    errors = np.asarray(errors, dtype=float)
    return f"{np.mean(np.abs(errors)):6.2f} {np.mean(errors):+7.2f}   (n={errors.size})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", type=float, default=0.06)
    parser.add_argument(
        "--sharp-peaks", type=float, default=SHARP_PEAK_SHARE, help="share of families"
    )
    parser.add_argument(
        "--line-spread",
        type=float,
        default=0.0,
        help="lines' elasticities and shares differ by this much (0: one distribution)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    spread_rng = np.random.default_rng(args.seed + 1_000_003)
    families = []
    for family in range(args.families):
        halo = family % 2 == 1
        units, promotions, dips, _, truth = make_family(
            rng, args.noise, args.sharp_peaks, halo, spread_rng, args.line_spread
        )
        spans = [
            PromotionSpan(p.product, p.start, p.start + PROMOTION_WEEKS - 1, p.discount)
            for p in promotions
        ]
        new_effects: list[MeasuredEffect | None] = measure_effects(units, spans, SEASON)
        old_effects = []
        for p in promotions:
            weeks = {
                o.start + k
                for o in promotions
                if o.product == p.product
                for k in range(PROMOTION_WEEKS)
            }
            old_effects.append(previous_measure(units[p.product], p, weeks))
        families.append(
            (
                units,
                promotions,
                dips,
                truth,
                halo,
                new_effects,
                old_effects,
                measure_cannibalization(units, spans, SEASON),
                holdout_measure(units, promotions),
            )
        )
    # The company: every family is a product line of one company, pooled (pooling.py).
    share_prior = fit_share_prior([f[7] for f in families])
    holdouts = [f[8] for f in families if f[8] is not None]
    holdout_share_prior = fit_share_prior([h[2] for h in holdouts])

    methods = ("new", "pooled", "old")
    err = {
        f"{m}_{k}": [] for m in methods for k in ("measured", "learned", "dip", "peak", "trough")
    }
    dip_weeks_right = 0
    shares_err = {f"{m}_{k}": [] for m in ("new", "pooled") for k in ("pair", "halo", "others")}
    shares_learned = dict.fromkeys(shares_err, 0)
    dip_products = 0
    mase = {f"{m}{k}": [] for m in methods for k in ("", "_touched")}
    for units, promotions, dips, truth, halo, new_effects, old_effects, cannibal, held in families:
        for method, value in holdout_mase(units, promotions, held).items():
            mase[method].extend(value)
        if held is not None:
            pooled_mase = holdout_mase(
                units,
                promotions,
                held,
                pool_shares(held[2], holdout_share_prior),
            )
            mase["pooled"].extend(pooled_mase["new"])
            mase["pooled_touched"].extend(pooled_mase["new_touched"])
        for p, new, old in zip(promotions, new_effects, old_effects, strict=True):
            if new is not None:
                err["new_measured"].append(new.lift_pct - p.lift_pct)
                err["pooled_measured"].append(new.lift_pct - p.lift_pct)
            if old is not None:
                err["old_measured"].append(old[0] - p.lift_pct)
        for i, p in enumerate(promotions):
            new_line = [
                (o.product, o.discount, e)
                for j, (o, e) in enumerate(zip(promotions, new_effects, strict=True))
                if j != i and e is not None
            ]
            old_line = [
                (o.discount, e[0])
                for j, (o, e) in enumerate(zip(promotions, old_effects, strict=True))
                if j != i and e is not None
            ]
            old_own = [
                (o.discount, e[0])
                for j, (o, e) in enumerate(zip(promotions, old_effects, strict=True))
                if j != i and e is not None and o.product == p.product
            ]
            where = "peak" if p.on_peak else "trough"
            if new_line:
                # Pooling the lines' sibling shares leaves the lift as it is.
                error = new_suggestion(new_line, p.product, p.discount) - p.lift_pct
                err[f"new_{where}"].append(error)
                err[f"pooled_{where}"].append(error)
            if old_line:
                err[f"old_{where}"].append(
                    previous_suggestion(old_own, old_line, p.discount) - p.lift_pct
                )
        cannibal_share, halo_share = truth
        for method, found in (("new", cannibal), ("pooled", pool_shares(cannibal, share_prior))):
            for c in found:
                is_cannibal = c.promoted == 0 and c.sibling == PRODUCTS - 1
                lifted = halo and c.promoted == 0 and c.sibling == 1
                true = cannibal_share if is_cannibal else -halo_share if lifted else 0.0
                key = f"{method}_" + ("pair" if is_cannibal else "halo" if lifted else "others")
                shares_err[key].append((c.share - true) * 100)
                shares_learned[key] += c.learned
        for p, learned in zip(promotions, learned_lifts(promotions, new_effects), strict=True):
            if learned is not None:
                err["new_learned"].append(learned - p.lift_pct)
                err["pooled_learned"].append(learned - p.lift_pct)
        for p, learned in zip(promotions, learned_lifts(promotions, old_effects), strict=True):
            if learned is not None:
                err["old_learned"].append(learned - p.lift_pct)
        measured_new = [e for e in new_effects if e is not None]
        for product, (depth, weeks) in dips.items():
            own = [
                e
                for p, e in zip(promotions, new_effects, strict=True)
                if e is not None and p.product == product
            ]
            learned = learn_dip(own, measured_new)
            err["new_dip"].append(learned.depth_pct - depth)
            err["pooled_dip"].append(learned.depth_pct - depth)
            dip_products += 1
            dip_weeks_right += learned.weeks == weeks
            old = [
                e[1]
                for p, e in zip(promotions, old_effects, strict=True)
                if e is not None and p.product == product and e[1] is not None
            ]
            if old:
                err["old_dip"].append(sum(old) / len(old) - depth)

    print(
        f"{args.families} families x {PRODUCTS} products x {WEEKS} weeks, noise "
        f"{args.noise:.0%}, seed {args.seed}, sharp peaks in {args.sharp_peaks:.0%} of the "
        f"families, line spread {args.line_spread:g}; errors in points: mean |error|, bias"
    )
    print(f"{'':34}{'new (per line)':>22}   {'new, pooled':>22}   {'previous':>22}")

    def row(label, key):
        cells = "   ".join(
            summary(
                err[f"{m}_{key}"] if key != "suggested" else err[f"{m}_peak"] + err[f"{m}_trough"]
            )
            for m in methods
        )
        print(f"{label:34}{cells}")

    for label, key in (
        ("measured lift, each promotion", "measured"),
        ("learned lift at each discount", "learned"),
        ("suggested lift (leave one out)", "suggested"),
        ("  promotions on seasonal peaks", "peak"),
        ("  promotions in troughs", "trough"),
        ("dip depth per product", "dip"),
    ):
        row(label, key)
    for label, key in (
        ("cannibalization, the true pair", "pair"),
        ("halo (share < 0), the true pair", "halo"),
        ("share, the pairs without either", "others"),
    ):
        cells = "   ".join(
            f"{summary(shares_err[f'{m}_{key}'])} learned {shares_learned[f'{m}_{key}']}"
            for m in ("new", "pooled")
        )
        print(f"{label:34}{cells}   none")
    for label, key in (
        ("forecast MASE, promoted lines", ""),
        ("  in the weeks promotions touch", "_touched"),
    ):
        new_mase, pooled_mase, old_mase = (np.mean(mase[m + key]) for m in methods)
        print(
            f"{label:34}{new_mase:6.3f}{'':19}{pooled_mase:6.3f}{'':19}{old_mase:6.3f}   "
            f"new {new_mase / old_mase - 1:+.1%}, pooled {pooled_mase / old_mase - 1:+.1%} "
            f"(target -10 %, {len(mase['new' + key])} products)"
        )
    print(
        f"dip length right for {dip_weeks_right} of {dip_products} products "
        "(the previous method has no length: it averages 4 weeks)"
    )
    print(f"company prior on sibling shares: {share_prior}")


if __name__ == "__main__":
    main()
