"""The measuring kernels of demand.engine.effects keep their results to the bit when made
faster: _measure_one against the form it had (kept here as the reference), line_fit
against np.polyfit, on random series with gaps, promotions at the edges and level
shifts, and on a whole line's measure_all against the same reference."""

from __future__ import annotations

import numpy as np
import pytest

from demand.engine import effects
from demand.engine.effects import (
    DIP_WEEKS,
    LOCAL_WEEKS,
    MIN_CLEAN_WEEKS,
    MeasuredEffect,
    PromotionSpan,
    line_fit,
    measure_all,
)


def reference_measure_one(units, season, deseasoned, multiplicative, span, promo_weeks):
    """One promotion against season + the local level (and slope, with clean weeks on
    both sides) of the deseasoned clean weeks around it."""
    n_weeks = len(units)
    if span.start < 0 or span.end >= n_weeks:
        return None
    during = slice(span.start, span.end + 1)
    if not np.all(np.isfinite(units[during])):
        return None
    after_dip = span.end + 1 + DIP_WEEKS
    near = [
        w
        for w in (
            *range(span.start - LOCAL_WEEKS, span.start),
            *range(after_dip, after_dip + LOCAL_WEEKS),
        )
        if 0 <= w < n_weeks and np.isfinite(deseasoned[w])
    ]
    if len(near) < MIN_CLEAN_WEEKS:
        return None
    weeks = np.asarray(near, dtype=np.float64)
    values = deseasoned[near]
    before, after = (weeks < span.start).sum(), (weeks > span.end).sum()
    center = (span.start + span.end) / 2
    if before >= 2 and after >= 2:
        slope, level = np.polyfit(weeks - center, values, 1)
    else:
        slope, level = 0.0, float(values.mean())
    local = level + slope * (np.arange(n_weeks) - center)
    # How far a clean week strays from this local counterfactual, in % of it.
    spread = float(np.std(values - local[near]))
    if multiplicative:
        noise = spread * 100
    else:
        noise = spread / max(abs(float(np.mean(season[near] + local[near]))), 1e-12) * 100
    expected = np.exp(season + local) if multiplicative else season + local
    base = float(expected[during].mean())
    if base <= 0:
        return None
    lift = (float(units[during].mean()) / base - 1) * 100
    profile = []
    for k in range(1, DIP_WEEKS + 1):
        w = span.end + k
        ok = w < n_weeks and np.isfinite(units[w]) and not promo_weeks[w] and expected[w] > 0
        profile.append((float(units[w]) / float(expected[w]) - 1) * 100 if ok else None)
    return MeasuredEffect(
        counterfactual=base, lift_pct=lift, dip_profile=tuple(profile), noise_pct=noise
    )


def series(rng, n_weeks=200):
    units = rng.gamma(5, 20, n_weeks) * (1 + 0.3 * np.sin(np.arange(n_weeks) / 8))
    units[rng.random(n_weeks) < 0.05] = np.nan
    if rng.random() < 0.3:
        units[: rng.integers(1, 40)] = np.nan
    return units


@pytest.mark.parametrize("seed", range(40))
def test_measure_one_is_what_it_was(seed):
    rng = np.random.default_rng(seed)
    n_weeks = 160
    units = series(rng, n_weeks)
    season = rng.normal(0, 0.2, n_weeks)
    deseasoned = np.log(np.where(np.isfinite(units), units, 1.0)) + rng.normal(0, 0.1)
    deseasoned[rng.random(n_weeks) < 0.3] = np.nan
    promo_weeks = rng.random(n_weeks) < 0.1
    for _ in range(30):
        start = int(rng.integers(-2, n_weeks + 2))
        span = PromotionSpan(0, start, start + int(rng.integers(0, 4)), 20.0)
        for multiplicative in (True, False):
            args = (units, season, deseasoned, multiplicative, span, promo_weeks)
            assert effects._measure_one(*args) == reference_measure_one(*args)


@pytest.mark.parametrize("seed", range(20))
def test_line_fit_is_polyfit_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.choice(np.arange(-30, 30), size=int(rng.integers(2, 17)), replace=False))
    x = x.astype(np.float64) - rng.choice([0.0, 0.5, -0.0])
    y = rng.normal(rng.normal(0, 100), rng.gamma(2, 5), x.size)
    slope, level = np.polyfit(x, y, 1)
    assert line_fit(x, y) == (slope, level)
    assert [type(value) for value in line_fit(x, y)] == [np.float64, np.float64]


def test_a_line_is_measured_as_it_was(monkeypatch):
    rng = np.random.default_rng(7)
    history = np.array([series(rng, 180) for _ in range(12)])
    spans = [
        PromotionSpan(int(s), int(w), int(w) + int(rng.integers(0, 3)), float(d))
        for s, w, d in zip(
            rng.integers(0, 12, 30),
            rng.integers(0, 178, 30),
            rng.choice([10, 20, 30], 30),
            strict=True,
        )
    ]
    groups = [k % 2 for k in range(12)]
    fast = measure_all(history, spans, 52, groups)
    monkeypatch.setattr(effects, "_measure_one", reference_measure_one)
    assert fast == measure_all(history, spans, 52, groups)
    assert sum(effect is not None for effect in fast[0]) > 10 and fast[1]
