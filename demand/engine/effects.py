"""Promotion effects measured against a counterfactual baseline, and learned from them.

Pure numpy, no Django. A past promotion is measured against what the product would have
sold without it, estimated from the product's own weeks without promotions:

    counterfactual(t) = level + slope x t + bend x t^2 + season(t) + local(t)

fitted by least squares to every *clean* week of the product (no promotion of its own,
not in the DIP_WEEKS weeks after one); the season, shared by the product line, also to
the weeks after a promotion, each with an effect of its own per product and week after
(the dip), so the phases of the year where promotions sit keep more of their weeks.
season(t) is a yearly Fourier profile with
SEASON_HARMONICS harmonics, used only when the clean weeks span a whole season (with less,
a season cannot be told from a trend); local(t) is the level (and slope) of the clean
weeks' residuals within LOCAL_WEEKS before the promotion and after its dip window, taken
as far as the series' residuals show a wandering level (_local_weight, empirical Bayes):
it takes up level shifts the smooth trend misses without adding the noise of 16 weeks to
a series whose level does not wander. A promotion sitting on a seasonal peak is thus no
longer credited with the season's rise, nor one on a falling trend blamed for its fall.

    lift   = units during the promotion / counterfactual during it - 1   (with lift_se)
    dip_k  = units in week k after it / counterfactual that week - 1     (k = 1..DIP_WEEKS)

Learning, per product and pooled toward its product line:

    lift(d) = m x (a + b x (d - d0))      elasticity: lift as a straight line in discount d
        The line's (a, b) come from all its promotions (weighted least squares, each by
        1 / its standard error squared; the slope held toward 0 by LIFT_SLOPE_PRIOR
        promotions' worth, so a line whose promotions all had one discount gets a flat
        line). A product's factor m is its own weighted least-squares estimate pulled
        toward 1 by how far the line's products differ, a spread the data say more or
        less surely: the shrinkage is averaged over it (learn_lift_curves).
    dip: the week-by-week dip profile averaged over the product's promotions, shrunk
        toward the line's with LINE_PRIOR_WEIGHT promotions' worth, fitted by a step:
        `depth` for the first `weeks` weeks, 0 after; `weeks` is the length with the
        least squared error. A dip not distinguishable from noise (|depth| < 2 standard
        errors) or a rise is no dip.
    sibling share: what a sibling loses (> 0, cannibalization) or gains (< 0, halo) of
        the promoted product's extra units, a weighted regression through 0 over every
        promotion of the pair that ran alone in the line; learned where it is more than
        SHARE_SIGNIFICANCE standard errors from 0 over MIN_CANNIBALIZATION_PROMOTIONS
        promotions or more, 0 otherwise (_cannibalization).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

DIP_WEEKS = 4
LOCAL_WEEKS = 8
MIN_CLEAN_WEEKS = 4
SEASON_HARMONICS = (1, 2, 3, 4, 6, 8, 12, 16, 20, 26)
LINE_PRIOR_WEIGHT = 2.0
LINE_SLOPE_PRIOR = 1.0
LIFT_SLOPE_PRIOR = 0.1
DISCOUNT_SCALE = 10.0


@dataclass(frozen=True)
class PromotionSpan:
    """A past promotion of series `series`: weeks start..end (column indices, inclusive)."""

    series: int
    start: int
    end: int
    discount_pct: float


@dataclass(frozen=True)
class MeasuredEffect:
    """What one promotion did, against its counterfactual (units per week)."""

    counterfactual: float  # mean counterfactual units per promotion week
    lift_pct: float
    dip_profile: tuple[float | None, ...]  # dip_k in %, None where not measurable
    noise_pct: float  # std. deviation of the clean weeks around it from the counterfactual, %
    lift_se: float = 0.0  # standard error of lift_pct (points): the weeks' noise and the level's

    @property
    def dip_pct(self) -> float | None:
        """Mean dip over the measurable weeks after the promotion (in %)."""
        known = [v for v in self.dip_profile if v is not None]
        return sum(known) / len(known) if known else None


def clean_mask(n_weeks: int, spans: Sequence[PromotionSpan]) -> np.ndarray:
    """Weeks of one series that no promotion or post-promotion window touches."""
    clean = np.ones(n_weeks, dtype=bool)
    for span in spans:
        clean[max(span.start, 0) : min(span.end + 1 + DIP_WEEKS, n_weeks)] = False
    return clean


def _fourier(t: np.ndarray, harmonics: int, season_length: int) -> list[np.ndarray]:
    columns = []
    for k in range(1, min(harmonics, season_length // 2) + 1):
        angle = 2 * math.pi * k * t / season_length
        columns += [np.sin(angle), np.cos(angle)]
    return columns


def _aic(rss: float, points: int, parameters: int) -> float:
    return points * math.log(max(rss / points, 1e-12)) + 2 * parameters


def _bic(rss: float, points: int, parameters: int) -> float:
    return points * math.log(max(rss / points, 1e-12)) + parameters * math.log(points)


def _harmonic_choices(points: int, cols: np.ndarray, season_length: int) -> list[int]:
    """Harmonic counts a fit may try: none below a whole season of clean weeks; above,
    as many as the weeks can pin down: a stretch of g phases of the year never seen
    clean limits the profile to what a gap of g + 1 weeks can resolve (m / 2(g + 1)
    harmonics), so a curve cannot swing freely through weeks nobody observed."""
    m = season_length
    if m < 2 or cols.size == 0 or cols.max() - cols.min() + 1 < m:
        return [0]
    seen = np.zeros(m, dtype=bool)
    seen[cols % m] = True
    # The longest run of unseen phases around the year: between seen ones, twice round.
    seen_at = np.flatnonzero(np.concatenate([seen, seen]))
    gap = min(int(np.diff(seen_at, prepend=-1, append=2 * m).max()) - 1, m)
    limit = m // (2 * (gap + 1))
    return [0, *(k for k in SEASON_HARMONICS if k <= limit and 2 * k + 3 <= points // 3)]


# How far from least squares' rank cut-off (in singular value) _NestedFits stays: a
# column whose own part (what the columns before it leave of it) is less than
# NESTED_MARGIN times the cut-off, or less than NESTED_MIN_SHARE of its squared norm
# (near-collinear), is left to least squares; a column below the cut-off by NESTED_DROP
# (next to nothing: zeros, or the sine of the 26th yearly harmonic, 0 at every week but
# for rounding) gets coefficient 0, as the cut-off gives it.
NESTED_MARGIN = 1e4
NESTED_DROP = 10.0
NESTED_MIN_SHARE = 1e-4


class _NestedFits:
    """Least squares of y on every column prefix X[:, :p] from one Cholesky factor of the
    widest Gram matrix X'X = L L': with z = L^-1 X'y, the first p columns' residual sum of
    squares is y'y - ||z[:p]||^2 and their coefficients solve L[:p, :p]' c = z[:p].

    `cutoff` is the rank cut-off of the np.linalg.lstsq call this replaces, as a share of
    the largest squared singular value of X (eps x max(rows, columns) squared for lstsq
    on X; eps x columns for lstsq on the Gram matrix). A column below it by NESTED_DROP
    (a column of zeros: a series without any sibling promotion) gets coefficient 0, as
    lstsq gives it; `ok` is False where a column is near the cut-off or near-collinear
    with the columns before it: the caller then solves each prefix by least squares."""

    def __init__(self, gram: np.ndarray, moment: np.ndarray, total: float, cutoff: float):
        diag = np.diag(gram)
        widest = float(diag.max()) if diag.size else 0.0
        self.kept = np.flatnonzero(diag > cutoff / NESTED_DROP**2 * widest)
        self.ok = self.kept.size > 0
        if not self.ok:
            return
        kept_gram = gram[np.ix_(self.kept, self.kept)]
        try:
            factor = np.linalg.cholesky(kept_gram)
        except np.linalg.LinAlgError:
            self.ok = False
            return
        own = np.diag(factor) ** 2
        floor = np.maximum(
            NESTED_MIN_SHARE * np.diag(kept_gram), cutoff * NESTED_MARGIN**2 * widest
        )
        if np.any(own < floor):
            self.ok = False
            return
        self.factor = factor
        self.z = solve_triangular(factor, moment[self.kept], lower=True, check_finite=False)
        self.explained = np.cumsum(self.z**2)
        self.total = total

    def rss(self, p: int) -> float:
        """Residual sum of squares of the first p columns' fit (>= 0)."""
        q = int(np.searchsorted(self.kept, p))
        return max(self.total - (float(self.explained[q - 1]) if q else 0.0), 0.0)

    def coef(self, p: int) -> np.ndarray:
        """The first p columns' coefficients (0 for a column of zeros)."""
        q = int(np.searchsorted(self.kept, p))
        coef = np.zeros(p)
        if q:
            coef[self.kept[:q]] = solve_triangular(
                self.factor[:q, :q], self.z[:q], lower=True, trans="T", check_finite=False
            )
        return coef


def _design(t, harmonics, season_length, *leading):
    return np.stack([*leading, *_fourier(t, harmonics, season_length)], axis=1)


def _shared_season(
    target: np.ndarray,
    usable: np.ndarray,
    sibling: np.ndarray,
    season_length: int,
    after: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The seasonal profile (T,) shared by the rows of `target` (logs), each row with its
    own level, trend and effect of a sibling's promotion (n_rows,), and where `after`
    (n_rows, T) names week k after a promotion of the row, an effect per k (those weeks
    count as usable), harmonics by least AIC (many series make a long sample, so a sharp
    peak is worth its harmonics).

    The rows' own terms are projected out row by row first (Frisch-Waugh-Lovell), so
    the shared fit is one small least-squares problem whatever the number of rows; the
    result is that of the joint fit."""
    n_rows, n_weeks = target.shape
    t = np.arange(n_weeks, dtype=np.float64)
    if after is None:
        after = np.zeros((n_rows, n_weeks), dtype=np.int64)
    usable = usable | (after > 0)
    rows, cols = np.nonzero(usable)
    choices = _harmonic_choices(rows.size, cols, season_length)
    seasonal_all = _design(t, max(choices), season_length, np.zeros(n_weeks))[:, 1:]
    y_parts, s_parts, projections = [], [], []
    own_parameters = 0
    for r in range(n_rows):
        idx = np.flatnonzero(usable[r])
        # An effect per week after a promotion is a dummy per k: projecting those out is
        # taking each k's weeks' mean off (then the other terms are projected out of
        # what is left, Frisch-Waugh-Lovell again), cheaper than a wider projection.
        groups = [np.flatnonzero(after[r, idx] == k) for k in range(1, DIP_WEEKS + 1)]
        groups = [g for g in groups if g.size]
        own = np.stack([np.ones(idx.size), (idx - n_weeks / 2) / n_weeks, sibling[r, idx]], axis=1)
        own = _demeaned(own, groups)
        pinv = np.linalg.pinv(own)
        y = _demeaned(target[r, idx], groups)
        season = _demeaned(seasonal_all[idx], groups)
        y_parts.append(y - own @ (pinv @ y))
        s_parts.append(season - own @ (pinv @ season))
        projections.append((idx, pinv, groups))
        own_parameters += 3 + len(groups)
    y_res = np.concatenate(y_parts)
    s_res = np.concatenate(s_parts)
    # The widths are nested column prefixes: one factor serves them all (_NestedFits).
    cutoff = (np.finfo(np.float64).eps * max(s_res.shape)) ** 2
    nested = _NestedFits(s_res.T @ s_res, s_res.T @ y_res, float(y_res @ y_res), cutoff)
    best = (math.inf, 0)
    for harmonics in choices:
        width = 2 * min(harmonics, season_length // 2)
        if not width:
            rss = float(np.sum(y_res**2))
        elif nested.ok:
            rss = nested.rss(width)
        else:
            coef, *_ = np.linalg.lstsq(s_res[:, :width], y_res, rcond=None)
            rss = float(np.sum((y_res - s_res[:, :width] @ coef) ** 2))
        score = _aic(rss, rows.size, own_parameters + width)
        if score < best[0]:
            best = (score, width)
    width = best[1]
    if width:
        if nested.ok:
            coef = nested.coef(width)
        else:
            coef, *_ = np.linalg.lstsq(s_res[:, :width], y_res, rcond=None)
        profile = seasonal_all[:, :width] @ coef
    else:
        profile = np.zeros(n_weeks)
    effect = np.zeros(n_rows)
    for r, (idx, pinv, groups) in enumerate(projections):
        effect[r] = (pinv @ _demeaned(target[r, idx] - profile[idx], groups))[2]
    return profile, effect


def _demeaned(values: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """`values` (rows along the first axis) with each group of rows' mean taken off;
    `values` itself where there are no groups."""
    if not groups:
        return values
    values = values.copy()
    for group in groups:
        values[group] -= values[group].mean(axis=0)
    return values


@dataclass(frozen=True)
class Counterfactuals:
    """fitted: (n, T) the counterfactual over all weeks (in logs where multiplicative),
    NaN for a series with fewer than MIN_CLEAN_WEEKS clean weeks. residual: (n, T) of
    the clean weeks, NaN elsewhere. multiplicative: (n,) bool. sibling_effect: (n,)
    change of a series while a sibling is promoted (log ratio, or units where additive).
    """

    fitted: np.ndarray
    residual: np.ndarray
    multiplicative: np.ndarray
    sibling_effect: np.ndarray
    season: np.ndarray  # (n, T) the seasonal part of `fitted` (0 where none)


def fit_counterfactuals(
    history: np.ndarray,
    clean: np.ndarray,
    groups: Sequence[int] | None = None,
    season_length: int = 52,
    sibling_promoted: np.ndarray | None = None,
    after_promotion: np.ndarray | None = None,
) -> Counterfactuals:
    """Level + trend + season fitted to the clean weeks of every series.

    Seasons are mostly multiplicative, so a series that sold in every clean week is
    fitted in logs, others additively. Series of one group (a product line) that are
    fitted in logs share one seasonal profile, fitted to all of them at once with a
    level and trend each: a peak that one product is always promoted on is seen in its
    siblings' weeks. The weeks a sibling was promoted (`sibling_promoted`, (n, T) bool)
    count, with an effect of their own per series, so that cannibalization does not
    pull the shared season down exactly where promotions sit; so do the weeks after a
    series' own promotion (`after_promotion`, (n, T): k in week k = 1..DIP_WEEKS after
    one, 0 elsewhere; where they sold) with an effect per series and k, the dip: the
    promotions sit where the season matters most (peaks), and leaving out their dip
    windows left those phases the fewest weeks. Each series then gets its
    own level, trend and seasonal correction, harmonics by least BIC (one series is a
    short sample: only a clear pattern is worth its harmonics)."""
    history = np.asarray(history, dtype=np.float64)
    n_series, n_weeks = history.shape
    usable = clean & np.isfinite(history)
    sibling = (
        np.zeros((n_series, n_weeks))
        if sibling_promoted is None
        else np.asarray(sibling_promoted, dtype=np.float64)
    )
    enough = usable.sum(axis=1) >= MIN_CLEAN_WEEKS
    multiplicative = enough & np.all((history > 0) | ~usable, axis=1)
    target = np.where(multiplicative[:, None], np.log(np.where(history > 0, history, 1.0)), history)
    groups = np.zeros(n_series, dtype=np.int64) if groups is None else np.asarray(groups)
    after = None
    if after_promotion is not None:
        # Weeks k after a promotion count for the shared season with an effect of their
        # own per series and k (the dip), where they sold: a logged 0 would be no dip.
        after = np.where(np.isfinite(history) & (history > 0), after_promotion, 0)
        after[~multiplicative] = 0
    shared = np.zeros((n_series, n_weeks))
    effect = np.zeros(n_series)
    for group in np.unique(groups[multiplicative]):
        members = np.flatnonzero(multiplicative & (groups == group))
        shared[members], effect[members] = _shared_season(
            target[members],
            usable[members],
            sibling[members],
            season_length,
            None if after is None else after[members],
        )
    fitted = np.full((n_series, n_weeks), np.nan)
    residual = np.full((n_series, n_weeks), np.nan)
    season = shared.copy()
    t = np.arange(n_weeks, dtype=np.float64)
    fourier_all = _design(t, season_length // 2, season_length, np.zeros(n_weeks))[:, 1:]
    for series in np.flatnonzero(enough):
        idx = np.flatnonzero(usable[series])
        y = target[series, idx] - shared[series, idx] - effect[series] * sibling[series, idx]
        choices = _harmonic_choices(idx.size, idx, season_length)
        width = 4 + 2 * min(max(choices), season_length // 2)
        # A trend may bend (a level growing by a fixed amount a week is no straight line
        # in logs): a quadratic term, centred on the clean weeks.
        u = (t - idx.mean()) / n_weeks
        bend = u**2 - float(np.mean(u[idx] ** 2))
        design = np.column_stack([np.ones(n_weeks), u, bend, sibling[series], fourier_all])[
            :, :width
        ]
        # The candidate models are nested column prefixes: one Gram matrix and its
        # factor serve them all (_NestedFits; a column of zeros, a series with no
        # sibling promotion, gets 0), least squares where the factor will not do.
        x = design[idx]
        gram, moment, total = x.T @ x, x.T @ y, float(y @ y)
        nested = _NestedFits(gram, moment, total, np.finfo(np.float64).eps * width)
        best = (math.inf, 0)
        for harmonics in choices:
            p = 4 + 2 * min(harmonics, season_length // 2)
            if nested.ok:
                rss = nested.rss(p)
            else:
                coef, *_ = np.linalg.lstsq(gram[:p, :p], moment[:p], rcond=None)
                rss = max(total - 2 * coef @ moment[:p] + coef @ gram[:p, :p] @ coef, 0.0)
            score = _bic(rss, idx.size, p)
            if score < best[0]:
                best = (score, p)
        p = best[1]
        if nested.ok:
            coef = nested.coef(p)
        else:
            coef, *_ = np.linalg.lstsq(gram[:p, :p], moment[:p], rcond=None)
        curve = design[:, [0, 1, 2, *range(4, p)]] @ coef[[0, 1, 2, *range(4, p)]]
        best = (best[0], curve, float(coef[3]), design[:, 4:p] @ coef[4:])
        fitted[series] = best[1] + shared[series]
        season[series] += best[3]
        effect[series] += best[2]
        explained = fitted[series, idx] + effect[series] * sibling[series, idx]
        residual[series, idx] = target[series, idx] - explained
    return Counterfactuals(fitted, residual, multiplicative, effect, season)


@dataclass(frozen=True)
class _Fitted:
    """The counterfactual fits of a set of series and where their promotions were."""

    history: np.ndarray
    fit: Counterfactuals
    deseasoned: np.ndarray
    promo_weeks: np.ndarray
    clean: np.ndarray
    groups: np.ndarray
    by_series: dict[int, list[int]]
    local_weight: np.ndarray  # (n,) _local_weight
    residual_variance: np.ndarray  # (n,) of the clean weeks from the fit (in logs or units)

    def measure(self, series: int, span: PromotionSpan) -> MeasuredEffect | None:
        if not np.isfinite(self.fit.fitted[series, 0]):
            return None
        return _measure_one(
            self.history[series],
            self.fit.season[series],
            self.deseasoned[series],
            self.fit.fitted[series] - self.fit.season[series],
            bool(self.fit.multiplicative[series]),
            span,
            self.promo_weeks[series],
            float(self.local_weight[series]),
            float(self.residual_variance[series]),
        )

    def measure_lift(self, series: np.ndarray, span: PromotionSpan):
        """measure(s, span)'s counterfactual, lift_pct and lift_se for every s of `series`
        at once, (len(series),) each, NaN where measure gives None: the same steps as
        _measure_one, the local line of every series fitted in closed form at once (a
        promotion's siblings, measured for cannibalization, are thousands a night)."""
        n_weeks = self.history.shape[1]
        nan = np.full(len(series), np.nan)
        if span.start < 0 or span.end >= n_weeks or len(series) == 0:
            return nan, nan.copy(), nan.copy()
        during = slice(span.start, span.end + 1)
        units = self.history[series, during]
        measurable = np.isfinite(self.fit.fitted[series, 0]) & np.isfinite(units).all(axis=1)
        after_dip = span.end + 1 + DIP_WEEKS
        near = np.concatenate((span.start + _BEFORE, after_dip + _AFTER))
        near = near[(near >= 0) & (near < n_weeks)]
        deseasoned = self.deseasoned[series][:, near]
        known = np.isfinite(deseasoned)  # (series, near): the weeks near_weeks keeps
        count = known.sum(axis=1)
        measurable &= count >= MIN_CLEAN_WEEKS
        count = np.maximum(count, 1)
        center = (span.start + span.end) / 2
        at = near - center
        values = np.where(known, deseasoned, 0.0)
        mean_at = (known * at).sum(axis=1) / count
        level = values.sum(axis=1) / count  # the mean; the line's value at center below
        sloped = ((known & (near < span.start)).sum(axis=1) >= 2) & (
            (known & (near > span.end)).sum(axis=1) >= 2
        )
        dx = np.where(known, at - mean_at[:, None], 0.0)
        sxx = (dx * dx).sum(axis=1)
        slope = np.where(
            sloped, (dx * (values - level[:, None])).sum(axis=1) / np.where(sloped, sxx, 1.0), 0.0
        )
        level = level - slope * mean_at
        local_near = level[:, None] + slope[:, None] * at
        residual = np.where(known, values - local_near, 0.0)
        mean_residual = residual.sum(axis=1) / count
        spread = np.sqrt(
            (np.where(known, residual - mean_residual[:, None], 0.0) ** 2).sum(axis=1) / count
        )
        weight = self.local_weight[series]
        spread = np.where(
            weight < 1,
            weight * spread + (1 - weight) * np.sqrt(self.residual_variance[series]),
            spread,
        )
        multiplicative = self.fit.multiplicative[series]
        season = self.fit.season[series]
        level_near = np.where(known, season[:, near] + local_near, 0.0).sum(axis=1) / count
        noise = np.where(
            multiplicative, spread * 100, spread / np.maximum(np.abs(level_near), 1e-12) * 100
        )
        weeks = span.end - span.start + 1
        local_during = level[:, None] + slope[:, None] * (
            np.arange(span.start, span.end + 1) - center
        )
        trend = self.fit.fitted[series, during] - season[:, during]
        local_during = weight[:, None] * local_during + (1 - weight[:, None]) * trend
        expected = season[:, during] + local_during
        with np.errstate(over="ignore", invalid="ignore"):
            expected = np.where(
                multiplicative[:, None], np.exp(expected + spread[:, None] ** 2 / 2), expected
            )
            base = expected.mean(axis=1)
            measurable &= base > 0
            lift = (units.mean(axis=1) / base - 1) * 100
            se = np.abs((100 + lift) * noise / 100 * np.sqrt(1 / weeks + weight / count))
        return (
            np.where(measurable, base, np.nan),
            np.where(measurable, lift, np.nan),
            np.where(measurable, se, np.nan),
        )


def _fit_all(history, spans, season_length, groups) -> _Fitted:
    history = np.asarray(history, dtype=np.float64)
    n_series, n_weeks = history.shape
    by_series: dict[int, list[int]] = {}
    for i, span in enumerate(spans):
        by_series.setdefault(span.series, []).append(i)
    clean = np.ones((n_series, n_weeks), dtype=bool)
    promo_weeks = np.zeros((n_series, n_weeks), dtype=bool)
    for series, members in by_series.items():
        own = [spans[i] for i in members]
        clean[series] = clean_mask(n_weeks, own)
        promo_weeks[series] = _promo_mask(n_weeks, own)
    group_of = np.zeros(n_series, dtype=np.int64) if groups is None else np.asarray(groups)
    sibling = np.zeros((n_series, n_weeks), dtype=bool)
    for group in np.unique(group_of):
        members = np.flatnonzero(group_of == group)
        count = promo_weeks[members].sum(axis=0)
        sibling[members] = (count[None, :] - promo_weeks[members]) > 0
    after = np.zeros((n_series, n_weeks), dtype=np.int64)
    for span in spans:
        for k in range(DIP_WEEKS, 0, -1):
            w = span.end + k
            if 0 <= w < n_weeks and not promo_weeks[span.series, w]:
                after[span.series, w] = k
    fit = fit_counterfactuals(history, clean, group_of, season_length, sibling, after)
    # The level and trend of a promotion's own neighbourhood: the clean weeks around it
    # without their season (and without a sibling's promotion's effect).
    deseasoned = fit.residual + fit.fitted - fit.season
    return _Fitted(
        history,
        fit,
        deseasoned,
        promo_weeks,
        clean,
        group_of,
        by_series,
        _local_weight(fit.residual),
        _residual_variance(fit.residual),
    )


def _residual_variance(residual: np.ndarray) -> np.ndarray:
    """Variance of each series' clean-week residuals (0 without any)."""
    known = np.isfinite(residual)
    count = known.sum(axis=1)
    values = np.where(known, residual, 0.0)
    mean = values.sum(axis=1) / np.maximum(count, 1)
    squares = np.where(known, (residual - mean[:, None]) ** 2, 0.0).sum(axis=1)
    return squares / np.maximum(count, 1)


def _local_weight(residual: np.ndarray) -> np.ndarray:
    """How far each series' local level (the mean residual of the 2 x LOCAL_WEEKS clean
    weeks around a promotion) is to be believed over the whole-history fit, (n,) in 0..1.

    Empirical Bayes: a window's mean residual is the true local shift (variance tau^2,
    what the straight trend and the season miss) plus noise (s^2 / window). tau^2 is
    estimated from the series' own clean weeks: the variance of the means of every
    window of that many consecutive clean weeks, less what white noise alone gives. A
    series whose level wanders keeps its local level (weight -> 1); one that follows its
    fit exactly leans on the fit, whose level comes from all its clean weeks, and is not
    thrown by the noise of 16 weeks (weight -> 0)."""
    window = 2 * LOCAL_WEEKS
    weights = np.ones(residual.shape[0])
    for series, row in enumerate(residual):
        values = row[np.isfinite(row)]
        if values.size < 2 * window:
            continue
        noise = float(values.var())
        if noise <= 1e-12:
            continue
        sums = np.cumsum(np.concatenate([[0.0], values]))
        means = (sums[window:] - sums[:-window]) / window
        shift = max(float(means.var()) - noise / window, 0.0)
        weights[series] = shift / (shift + noise / window)
    return weights


def measure_effects(
    history: np.ndarray,
    spans: Sequence[PromotionSpan],
    season_length: int = 52,
    groups: Sequence[int] | None = None,
) -> list[MeasuredEffect | None]:
    """The effect of each promotion in `spans` (None where it cannot be measured: too few
    clean weeks, a promotion week without sales data, or a counterfactual <= 0).

    history: (n_series, T) weekly units, NaN where unknown; rows without promotions
    (siblings) still help to fit their group's season. groups: (n_series,) product line
    of each series (one group when None)."""
    fitted = _fit_all(history, spans, season_length, groups)
    return [fitted.measure(span.series, span) for span in spans]


@dataclass(frozen=True)
class Cannibalization:
    """How much of a promoted series' extra units a sibling lost while it was promoted.

    share: lost sibling units / extra promoted units over the promotions measured (a
    weighted regression), in -1..1, below 0 where the sibling gained (a halo); 0 where
    `learned` is False: fewer than MIN_CANNIBALIZATION_PROMOTIONS promotions, or a share
    not distinguishable from the sibling's noise (SHARE_SIGNIFICANCE standard errors)."""

    promoted: int
    sibling: int
    share: float
    measured_share: float | None
    promotions: int
    learned: bool
    standard_error: float | None = None

    @property
    def halo(self) -> bool:
        """The sibling gained: the promotion lifts it (a share below 0)."""
        return self.learned and self.share < 0


MIN_CANNIBALIZATION_PROMOTIONS = 2
SHARE_SIGNIFICANCE = 2.0


def measure_cannibalization(
    history: np.ndarray,
    spans: Sequence[PromotionSpan],
    season_length: int = 52,
    groups: Sequence[int] | None = None,
) -> list[Cannibalization]:
    """For every promoted series and every other series of its group: the share of the
    promoted series' extra units (above its counterfactual) that the sibling lost (below
    its own counterfactual; a gain is a share below 0) during the promotion weeks,
    regressed over the promotions in which both could be measured, no other product of
    the group was promoted at the same time, and the sibling was not in the dip after one
    of its own promotions."""
    return measure_all(history, spans, season_length, groups)[1]


def measure_all(
    history: np.ndarray,
    spans: Sequence[PromotionSpan],
    season_length: int = 52,
    groups: Sequence[int] | None = None,
    cannibalization_from: Sequence[bool] | None = None,
) -> tuple[list[MeasuredEffect | None], list[Cannibalization]]:
    """measure_effects and measure_cannibalization from one fit; cannibalization only
    from the spans where `cannibalization_from` is True (all when None)."""
    fitted = _fit_all(history, spans, season_length, groups)
    effects = [fitted.measure(span.series, span) for span in spans]
    keep = [True] * len(spans) if cannibalization_from is None else cannibalization_from
    counted = [e if k else None for e, k in zip(effects, keep, strict=True)]
    return effects, _cannibalization(fitted, spans, counted)


def _solo_promotions(fitted: _Fitted, spans, effects):
    """(span, its weeks, the promoted product's extra units, the series of its line) of
    every measured promotion with extra units that ran alone in its line."""
    for span, own in zip(spans, effects, strict=True):
        if own is None:
            continue
        weeks = span.end - span.start + 1
        extra = own.counterfactual * own.lift_pct / 100 * weeks
        line = np.flatnonzero(fitted.groups == fitted.groups[span.series])
        others = fitted.promo_weeks[line[line != span.series], span.start : span.end + 1]
        # A promotion that overlapped another of the line cannot say who took what.
        if extra <= 0 or others.any():
            continue
        yield span, weeks, extra, line


def _cannibalization(fitted: _Fitted, spans, effects) -> list[Cannibalization]:
    # Per pair: sums over its promotions of x y / v, x^2 / v (x: the promoted product's
    # extra units, y: what the sibling lost, v: the variance of y), and the count.
    totals: dict[tuple[int, int], list[float]] = {}
    for span, weeks, extra, line in _solo_promotions(fitted, spans, effects):
        # Only weeks the sibling's own promotions and their dips leave untouched.
        siblings = line[
            (line != span.series) & fitted.clean[line, span.start : span.end + 1].all(1)
        ]
        base, lift, lift_se = fitted.measure_lift(siblings, span)
        for sibling, counterfactual, lift_pct, lift_se_pct in zip(
            siblings.tolist(), base.tolist(), lift.tolist(), lift_se.tolist(), strict=True
        ):
            if not math.isfinite(counterfactual):
                continue
            lost = -counterfactual * lift_pct / 100 * weeks
            # The sibling's weekly noise and its counterfactual's level error, in units.
            se = lift_se_pct / max(100 + lift_pct, 1e-12) * counterfactual * weeks
            variance = max(se**2, 1e-12)
            entry = totals.setdefault((span.series, sibling), [0.0, 0.0, 0])
            entry[0] += extra * lost / variance
            entry[1] += extra * extra / variance
            entry[2] += 1
    results = []
    for (promoted, sibling), (moment, information, count) in sorted(totals.items()):
        share = moment / information
        standard_error = 1 / math.sqrt(information)
        learned = (
            count >= MIN_CANNIBALIZATION_PROMOTIONS
            and abs(share) > SHARE_SIGNIFICANCE * standard_error
        )
        results.append(
            Cannibalization(
                promoted=promoted,
                sibling=sibling,
                share=min(max(share, -1.0), 1.0) if learned else 0.0,
                measured_share=share,
                promotions=count,
                learned=learned,
                standard_error=standard_error,
            )
        )
    return results


def _promo_mask(n_weeks: int, spans: Sequence[PromotionSpan]) -> np.ndarray:
    mask = np.zeros(n_weeks, dtype=bool)
    for span in spans:
        mask[max(span.start, 0) : min(span.end + 1, n_weeks)] = True
    return mask


_BEFORE = np.arange(-LOCAL_WEEKS, 0)
_AFTER = np.arange(LOCAL_WEEKS)


def near_weeks(span: PromotionSpan, deseasoned: np.ndarray) -> np.ndarray:
    """The weeks (indices, in order) within LOCAL_WEEKS before the promotion and after its
    dip window where `deseasoned` is known: what its local level is fitted to."""
    after_dip = span.end + 1 + DIP_WEEKS
    near = np.concatenate((span.start + _BEFORE, after_dip + _AFTER))
    near = near[(near >= 0) & (near < len(deseasoned))]
    return near[np.isfinite(deseasoned[near])]


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of np.polyfit(x, y, 1), the same operations on the same arrays
    (so the same bits) without its argument checks: measuring a line's promotions fits
    one per promotion and sibling, tens of thousands a night. x: at least 2 distinct
    values (polyfit would warn of a poor fit otherwise; measure callers have them)."""
    x = x + 0.0
    y = y + 0.0
    lhs = np.empty((x.size, 2))  # np.vander(x, 2): [x, 1]
    lhs[:, 0] = x
    lhs[:, 1] = 1.0
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    coef = np.linalg.lstsq(lhs, y, x.size * np.finfo(np.float64).eps)[0]
    coef = (coef.T / scale).T
    return coef[0], coef[1]


def _measure_one(
    units, season, deseasoned, trend, multiplicative, span, promo_weeks, local_weight, variance
):
    """One promotion against season + the level (and slope, with clean weeks on both
    sides) of the deseasoned clean weeks around it, taken as far as `local_weight` says
    (_local_weight) and the whole-history fit for the rest. In logs, exp(fit) is the
    median of a week's units: exp(spread^2 / 2) makes it their mean."""
    n_weeks = len(units)
    if span.start < 0 or span.end >= n_weeks:
        return None
    during = slice(span.start, span.end + 1)
    if not np.all(np.isfinite(units[during])):
        return None
    near = near_weeks(span, deseasoned)
    if len(near) < MIN_CLEAN_WEEKS:
        return None
    at = near.astype(np.float64)
    values = deseasoned[near]
    before, after = (at < span.start).sum(), (at > span.end).sum()
    center = (span.start + span.end) / 2
    if before >= 2 and after >= 2:
        slope, level = line_fit(at - center, values)
    else:
        slope, level = 0.0, float(values.mean())
    local = level + slope * (np.arange(n_weeks) - center)
    # How far a clean week strays from this local counterfactual, in % of it.
    spread = float(np.std(values - local[near]))
    if local_weight < 1:
        # The series' clean weeks as a whole say more about its noise than 16 weeks.
        spread = local_weight * spread + (1 - local_weight) * math.sqrt(variance)
    if multiplicative:
        noise = spread * 100
    else:
        noise = spread / max(abs(float(np.mean(season[near] + local[near]))), 1e-12) * 100
    # The whole-history fit's level and trend where the local level is not to be believed.
    local = local_weight * local + (1 - local_weight) * trend
    expected = np.exp(season + local + spread**2 / 2) if multiplicative else season + local
    base = float(expected[during].mean())
    if base <= 0:
        return None
    lift = (float(units[during].mean()) / base - 1) * 100
    profile = []
    for k in range(1, DIP_WEEKS + 1):
        w = span.end + k
        ok = w < n_weeks and np.isfinite(units[w]) and not promo_weeks[w] and expected[w] > 0
        profile.append((float(units[w]) / float(expected[w]) - 1) * 100 if ok else None)
    # Noise of the promotion's own weeks, and of the counterfactual's level (a mean of
    # len(near) weeks where local, of the whole history where not).
    weeks = span.end - span.start + 1
    se = (100 + lift) * noise / 100 * math.sqrt(1 / weeks + local_weight / len(near))
    return MeasuredEffect(
        counterfactual=base,
        lift_pct=lift,
        dip_profile=tuple(profile),
        noise_pct=noise,
        lift_se=abs(se),
    )


@dataclass(frozen=True)
class LiftCurve:
    """lift(d) = intercept + slope x (d - center), in % and % per discount point."""

    intercept: float
    slope: float
    center: float

    def at(self, discount_pct: float) -> float:
        return self.intercept + self.slope * (discount_pct - self.center)


def fit_lift_curve(
    discounts: Sequence[float],
    lifts: Sequence[float],
    *,
    prior: LiftCurve | None = None,
    prior_weight: float = LINE_PRIOR_WEIGHT,
) -> LiftCurve | None:
    """Least-squares lift line with a ridge prior: toward `prior` with `prior_weight`
    promotions' worth, or (without a prior) the slope toward 0 with LINE_SLOPE_PRIOR.
    None without any promotion and prior."""
    d = np.asarray(discounts, dtype=np.float64)
    y = np.asarray(lifts, dtype=np.float64)
    if d.size == 0:
        return prior
    center = prior.center if prior is not None else float(d.mean())
    x = d - center
    s = DISCOUNT_SCALE
    if prior is None:
        prior_a, prior_b, weight_a, weight_b = 0.0, 0.0, 0.0, LINE_SLOPE_PRIOR
    else:
        prior_a, prior_b = prior.intercept, prior.slope
        weight_a = weight_b = prior_weight
    # Normal equations of sum (y - a - b x)^2 + wa (a - pa)^2 + wb s^2 (b - pb)^2.
    matrix = np.array([[d.size + weight_a, x.sum()], [x.sum(), (x * x).sum() + weight_b * s * s]])
    rhs = np.array([y.sum() + weight_a * prior_a, (x * y).sum() + weight_b * s * s * prior_b])
    intercept, slope = np.linalg.solve(matrix, rhs)
    return LiftCurve(float(intercept), float(slope), center)


@dataclass(frozen=True)
class LearnedLift:
    """A product line's lift line and each product's (keyed as the products were given)."""

    line: LiftCurve | None
    products: dict
    between_pct: float  # how far the products' responses differ (std. dev. of the factor), %

    def curve(self, product) -> LiftCurve | None:
        return self.products.get(product, self.line)


def learn_lift_curves(discounts, lifts, products, standard_errors=None) -> LearnedLift:
    """Each product's lift line, partially pooled with its product line's (empirical Bayes).

    The line's lift(d) = a + b (d - d0) is fitted to all its promotions, each weighted by
    1 / its standard error squared (a noisy or short promotion counts less); the slope held
    toward 0 as in fit_lift_curve. A product's line is the line's scaled by its factor m:
    products of a line answer a discount alike in shape and differ in strength. Its own
    estimate m^ (weighted least squares through its promotions) has variance v = 1 / sum
    w L(d)^2, and each product gets m = 1 + B (m^ - 1), B = tau^2 / (tau^2 + v) averaged
    over what the line's factors say of their spread tau (_factor_shrinkage): a product
    whose evidence is precise against the spread keeps its own, a noisy one leans on
    the line.
    """
    d = np.asarray(discounts, dtype=np.float64)
    y = np.asarray(lifts, dtype=np.float64)
    keys = list(products)
    if d.size == 0:
        return LearnedLift(None, {}, 0.0)
    # A promotion's noise is proportional to its units (100 + lift): weights from the
    # relative error at the fitted lift, not the measured one (which would favour the
    # promotions whose noise happened to push them down).
    given = np.array(
        [
            math.nan if e is None or not e > 0 else float(e)
            for e in (standard_errors if standard_errors is not None else [None] * d.size)
        ]
    )
    # Unknown (or exactly 0: noise-free) errors count as the typical one.
    known = given[np.isfinite(given)]
    given[~np.isfinite(given)] = float(np.median(known)) if known.size else 1.0
    relative = given / np.maximum(100 + y, 1.0)
    center = float(d.mean())
    x = d - center
    s = DISCOUNT_SCALE
    fitted = np.full(d.size, float(y.mean()))
    for _ in range(2):
        raw_w = 1 / (relative * np.maximum(100 + fitted, 1.0)) ** 2
        w = raw_w / raw_w.mean()  # the slope prior keeps its meaning in promotions
        matrix = np.array(
            [
                [w.sum(), (w * x).sum()],
                [(w * x).sum(), (w * x * x).sum() + LIFT_SLOPE_PRIOR * s * s],
            ]
        )
        a, b = np.linalg.solve(matrix, np.array([(w * y).sum(), (w * x * y).sum()]))
        fitted = a + b * x
    line = LiftCurve(float(a), float(b), center)
    at = fitted
    own: dict = {}
    for key in dict.fromkeys(keys):
        mine = np.array([k == key for k in keys])
        information = float((raw_w[mine] * at[mine] ** 2).sum())
        if information <= 1e-12:
            continue
        own[key] = (float((raw_w[mine] * at[mine] * y[mine]).sum()) / information, 1 / information)
    estimates = np.array([m for m, _ in own.values()])
    variances = np.array([v for _, v in own.values()])
    keep, tau2 = _factor_shrinkage(estimates, variances)
    curves = {}
    for (key, (m_hat, _)), weight in zip(own.items(), keep, strict=True):
        m = 1 + weight * (m_hat - 1)
        curves[key] = LiftCurve(m * line.intercept, m * line.slope, center)
    return LearnedLift(line, curves, math.sqrt(tau2) * 100)


# The spread tau of the products' factors (their standard deviation) a line may have:
# from 0 (all alike) to FACTOR_SPREAD_MAX, on a grid of FACTOR_SPREAD_STEPS.
FACTOR_SPREAD_MAX = 1.0
FACTOR_SPREAD_STEPS = 201
_SPREADS = np.linspace(0.0, FACTOR_SPREAD_MAX, FACTOR_SPREAD_STEPS) ** 2


def _factor_shrinkage(estimates: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, float]:
    """How much of its own factor each product keeps, tau^2 / (tau^2 + v), averaged over
    what the factors say of tau (a flat prior on tau in 0..FACTOR_SPREAD_MAX), and the
    posterior mean of tau^2. Below 2 products: (0, 0).

    A line has a handful of products, and a spread estimated from a few factors is often
    0 by chance (the method-of-moments estimate is cut off there) although the products
    do differ; pooling them all onto the line then costs far more than keeping a little
    too much of each product's own. Averaging the shrinkage over the likelihood of tau
    rather than plugging in one estimate weighs that: m^_i ~ N(mu, tau^2 + v_i), with mu
    integrated out (restricted likelihood: the line was fitted to these same products,
    which spends one degree of freedom of their spread)."""
    if estimates.size < 2:
        return np.zeros(estimates.size), 0.0
    total = variances[:, None] + _SPREADS[None, :]  # (products, grid)
    weight = 1 / total
    mu = (weight * estimates[:, None]).sum(axis=0) / weight.sum(axis=0)
    log_likelihood = -0.5 * (
        np.log(total).sum(axis=0)
        + ((estimates[:, None] - mu) ** 2 * weight).sum(axis=0)
        + np.log(weight.sum(axis=0))
    )
    posterior = np.exp(log_likelihood - log_likelihood.max())
    posterior /= posterior.sum()
    keep = (_SPREADS[None, :] * weight) @ posterior
    return keep, float(_SPREADS @ posterior)


@dataclass(frozen=True)
class DipEstimate:
    """The learned post-promotion dip: `depth_pct` (<= 0) for `weeks` weeks after."""

    depth_pct: float
    weeks: int

    def fractions(self) -> list[float]:
        return [self.depth_pct / 100] * self.weeks


NO_DIP = DipEstimate(0.0, 0)


def mean_profile(effects: Sequence[MeasuredEffect]) -> tuple[np.ndarray, np.ndarray]:
    """Mean dip per week after (in %) over the effects, and how many measured each."""
    total, count = np.zeros(DIP_WEEKS), np.zeros(DIP_WEEKS)
    for effect in effects:
        for k, value in enumerate(effect.dip_profile):
            if value is not None:
                total[k] += value
                count[k] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0), count


def learn_dip(
    own: Sequence[MeasuredEffect],
    line: Sequence[MeasuredEffect],
    prior_weight: float = LINE_PRIOR_WEIGHT,
) -> DipEstimate:
    """The product's dip: its mean profile shrunk toward the line's, fitted by a step."""
    own_mean, own_count = mean_profile(own)
    line_mean, line_count = mean_profile(line)
    line_weight = np.where(line_count > 0, prior_weight, 0.0)
    weight = own_count + line_weight
    if not (weight > 0).any():
        return NO_DIP
    profile = np.where(
        weight > 0,
        (own_count * own_mean + line_weight * line_mean) / np.maximum(weight, 1e-12),
        0.0,
    )
    best, best_error = NO_DIP, float(np.sum(profile * profile))
    for weeks in range(1, DIP_WEEKS + 1):
        depth = float(profile[:weeks].mean())
        error = float(np.sum((profile[:weeks] - depth) ** 2) + np.sum(profile[weeks:] ** 2))
        if error < best_error:
            best, best_error = DipEstimate(depth, weeks), error
    if best.weeks == 0 or best.depth_pct >= 0:
        return NO_DIP
    noises = [e.noise_pct for e in (*own, *line)]
    noise = float(np.mean(noises)) if noises else 0.0
    evidence = float(weight[: best.weeks].sum())
    standard_error = noise / math.sqrt(max(evidence, 1e-12))
    if abs(best.depth_pct) < 2 * standard_error:
        return NO_DIP
    return DipEstimate(max(best.depth_pct, -100.0), best.weeks)
