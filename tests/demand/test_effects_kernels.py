"""The measuring kernels of demand.engine.effects keep their results to the bit when made
faster: near_weeks against the list _measure_one built before (kept here as the
reference), line_fit against np.polyfit, on random series with gaps and promotions at
the edges. (The whole night's forecasts and recommendations were compared as well:
bench/nightly_cpu.py --fingerprint, the same digest before and after.)"""

from __future__ import annotations

import numpy as np
import pytest

from demand.engine.effects import (
    DIP_WEEKS,
    LOCAL_WEEKS,
    PromotionSpan,
    line_fit,
    near_weeks,
)


def reference_near_weeks(span, deseasoned):
    """How _measure_one chose its neighbour weeks before near_weeks."""
    after_dip = span.end + 1 + DIP_WEEKS
    return [
        w
        for w in (
            *range(span.start - LOCAL_WEEKS, span.start),
            *range(after_dip, after_dip + LOCAL_WEEKS),
        )
        if 0 <= w < len(deseasoned) and np.isfinite(deseasoned[w])
    ]


def series(rng, n_weeks=200):
    units = rng.gamma(5, 20, n_weeks) * (1 + 0.3 * np.sin(np.arange(n_weeks) / 8))
    units[rng.random(n_weeks) < 0.05] = np.nan
    if rng.random() < 0.3:
        units[: rng.integers(1, 40)] = np.nan
    return units


@pytest.mark.parametrize("seed", range(40))
def test_near_weeks_are_what_they_were(seed):
    rng = np.random.default_rng(seed)
    deseasoned = rng.normal(0, 1, int(rng.integers(1, 80)))
    deseasoned[rng.random(deseasoned.size) < 0.3] = np.nan
    for _ in range(30):
        start = int(rng.integers(-12, deseasoned.size + 12))
        span = PromotionSpan(0, start, start + int(rng.integers(0, 4)), 20.0)
        near = near_weeks(span, deseasoned)
        assert near.tolist() == reference_near_weeks(span, deseasoned)
        # Indexing and float conversion as _measure_one does them, list or array alike.
        expected = reference_near_weeks(span, deseasoned)
        assert np.array_equal(near.astype(np.float64), np.asarray(expected, dtype=np.float64))
        assert np.array_equal(deseasoned[near], deseasoned[expected])


@pytest.mark.parametrize("seed", range(20))
def test_line_fit_is_polyfit_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.choice(np.arange(-30, 30), size=int(rng.integers(2, 17)), replace=False))
    x = x.astype(np.float64) - rng.choice([0.0, 0.5, -0.0])
    y = rng.normal(rng.normal(0, 100), rng.gamma(2, 5), x.size)
    slope, level = np.polyfit(x, y, 1)
    assert line_fit(x, y) == (slope, level)
    assert [type(value) for value in line_fit(x, y)] == [np.float64, np.float64]
