"""The measuring kernels of demand.engine.effects keep their results when made faster:
near_weeks against the list _measure_one built before (kept here as the reference) and
line_fit against np.polyfit, to the bit; the nested fits of one Cholesky factor against
np.linalg.lstsq of every column prefix, the counterfactuals against the former
per-candidate least squares, and every sibling measured at once against _measure_one
and the former _cannibalization (kept here), to floating-point rounding (rtol 1e-9),
on random series with gaps and promotions at the edges. (The whole night's forecasts and
recommendations were compared as well: bench/nightly_cpu.py --fingerprint.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demand.engine import effects
from demand.engine.effects import (
    DIP_WEEKS,
    LOCAL_WEEKS,
    PromotionSpan,
    _harmonic_choices,
    _NestedFits,
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


# The counterfactual fits' nested column prefixes solved from one Cholesky factor
# (_NestedFits) against what they were: np.linalg.lstsq per prefix. Where the factor is
# refused (NESTED_MIN_SHARE) the former per-candidate least squares runs itself, so
# forcing that path gives the former results of fit_counterfactuals and _shared_season.


EPS = np.finfo(np.float64).eps


@st.composite
def designs(draw):
    """A design of 1 to 12 columns and 1 to 60 rows (fewer rows than columns too), with
    columns of zeros, of next to nothing and near-collinear columns now and then, and a
    target."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    width = draw(st.integers(1, 12))
    rows = draw(st.integers(1, 60))
    x = rng.normal(0, rng.gamma(1, 3, width), (rows, width))
    x[:, 0] = 1.0
    for column in draw(st.lists(st.integers(1, max(width - 1, 1)), max_size=2)):
        if column < width:
            x[:, column] = 0.0
    if width > 2 and draw(st.booleans()):
        x[:, -1] = x[:, 1] + draw(st.sampled_from([0.0, 1e-12, 1e-6, 1e-3])) * rng.normal(
            0, 1, rows
        )
    if width > 1 and draw(st.booleans()):
        x[:, draw(st.integers(1, width - 1))] *= draw(st.sampled_from([1e-12, 1e-17]))
    y = x @ rng.normal(0, 2, width) + rng.normal(0, draw(st.sampled_from([0.0, 0.1, 1.0])), rows)
    return x, y


@settings(max_examples=300, deadline=None)
@given(designs())
def test_nested_fits_are_least_squares_of_every_prefix(design):
    x, y = design
    nested = _NestedFits(x.T @ x, x.T @ y, float(y @ y), (EPS * max(x.shape)) ** 2)
    if not nested.ok:
        return  # the caller solves each prefix by least squares
    total = float(y @ y)
    for p in range(1, x.shape[1] + 1):
        coef, *_ = np.linalg.lstsq(x[:, :p], y, rcond=None)
        rss = float(np.sum((y - x[:, :p] @ coef) ** 2))
        assert nested.rss(p) == pytest.approx(rss, rel=1e-9, abs=1e-9 * max(total, 1e-300))
        np.testing.assert_allclose(
            x[:, :p] @ nested.coef(p), x[:, :p] @ coef, rtol=1e-9, atol=1e-9 * math.sqrt(total)
        )
        # A column of next to nothing (a harmonic sampled at its zeros) has no coefficient
        # to speak of: least squares gives it any, which it multiplies by next to nothing.
        scale = np.sqrt((x[:, :p] ** 2).sum(axis=0))
        real = scale > 1e-6 * scale.max()
        np.testing.assert_allclose(nested.coef(p)[real], coef[real], rtol=1e-7, atol=1e-9)


def test_a_column_of_zeros_gets_0_and_collinear_columns_go_to_least_squares():
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(30), rng.normal(0, 1, 30), np.zeros(30), rng.normal(0, 1, 30)])
    y = x @ [1.0, 2.0, 5.0, -1.0] + rng.normal(0, 0.1, 30)
    cutoff = (EPS * 30) ** 2
    nested = _NestedFits(x.T @ x, x.T @ y, float(y @ y), cutoff)
    assert nested.ok and nested.kept.tolist() == [0, 1, 3]
    assert nested.coef(4)[2] == 0.0
    np.testing.assert_allclose(nested.coef(4), np.linalg.lstsq(x, y, rcond=None)[0], rtol=1e-9)
    x[:, 3] = 2 * x[:, 1]
    assert not _NestedFits(x.T @ x, x.T @ y, float(y @ y), cutoff).ok
    assert not _NestedFits(np.zeros((0, 0)), np.zeros(0), 0.0, cutoff).ok


def line_panel(seed, n_series=6, n_weeks=156):
    """A product line's weekly units (seasonal, trending, noisy, with gaps and zeros now
    and then) and promotions of most of its products, some at the edges, some at once."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_weeks)
    level = rng.gamma(4, 25, n_series)[:, None]
    season = 1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * (t - rng.integers(52)) / 52)
    units = level * season * (1 + rng.normal(0, 0.01, n_series)[:, None] * t / 52)
    units = units * rng.lognormal(0, rng.uniform(0.02, 0.2), units.shape)
    spans = []
    for series in range(n_series - 1):
        for _ in range(int(rng.integers(0, 6))):
            start = int(rng.integers(-2, n_weeks))
            end = start + int(rng.integers(0, 3))
            spans.append(PromotionSpan(series, start, end, float(rng.integers(10, 40))))
            units[series, max(start, 0) : end + 1] *= 1.5
            units[(series + 1) % n_series, max(start, 0) : end + 1] *= 0.9
    units[rng.random(units.shape) < 0.03] = np.nan
    if rng.random() < 0.3:
        units[rng.integers(n_series), : rng.integers(1, 60)] = np.nan
    if rng.random() < 0.3:
        units[rng.integers(n_series), rng.integers(n_weeks)] = 0.0
    groups = rng.integers(0, 2, n_series) if rng.random() < 0.3 else None
    return units, spans, groups


def former_fits(monkeypatch):
    """The former path: every candidate solved by least squares."""
    monkeypatch.setattr(effects, "NESTED_MIN_SHARE", math.inf)


@pytest.mark.parametrize("seed", range(25))
def test_the_counterfactuals_are_what_least_squares_gave(seed, monkeypatch):
    units, spans, groups = line_panel(seed, n_series=int(3 + seed % 5))
    now = effects._fit_all(units, spans, 52, groups).fit
    with monkeypatch.context() as patch:
        former_fits(patch)
        before = effects._fit_all(units, spans, 52, groups).fit
    for name in ("fitted", "residual", "season", "sibling_effect"):
        np.testing.assert_allclose(
            getattr(now, name), getattr(before, name), rtol=1e-9, atol=1e-11, err_msg=name
        )
    assert np.array_equal(now.multiplicative, before.multiplicative)


def reference_cannibalization(fitted, spans, effects_):
    """_cannibalization as it was: every sibling measured by _Fitted.measure (the
    promotions it learns from chosen as before, by _solo_promotions)."""
    totals = {}
    for span, weeks, extra, line in effects._solo_promotions(fitted, spans, effects_):
        for sibling in line:
            sibling = int(sibling)
            if sibling == span.series or not fitted.clean[sibling, span.start : span.end + 1].all():
                continue
            other = fitted.measure(sibling, span)
            if other is None:
                continue
            lost = -other.counterfactual * other.lift_pct / 100 * weeks
            se = other.lift_se / max(100 + other.lift_pct, 1e-12) * other.counterfactual * weeks
            totals.setdefault((span.series, sibling), []).append((extra, lost, max(se**2, 1e-12)))
    shares = {}
    for pair, terms in sorted(totals.items()):
        information = sum(x * x / v for x, _, v in terms)
        shares[pair] = (sum(x * y / v for x, y, v in terms) / information, information, len(terms))
    return {pair: (m, 1 / math.sqrt(i), n) for pair, (m, i, n) in shares.items()}


@pytest.mark.parametrize("seed", range(40))
def test_every_sibling_measured_at_once_is_measured_as_alone(seed):
    units, spans, groups = line_panel(seed, n_series=int(3 + seed % 6))
    fitted = effects._fit_all(units, spans, 52, groups)
    n_series, n_weeks = units.shape
    everyone = np.arange(n_series)
    probes = [*spans, PromotionSpan(0, -1, 1, 10.0), PromotionSpan(0, n_weeks - 1, n_weeks, 1.0)]
    for span in probes:
        base, lift, se = fitted.measure_lift(everyone, span)
        for series in everyone:
            alone = fitted.measure(int(series), span)
            if alone is None:
                assert np.isnan([base[series], lift[series], se[series]]).all()
                continue
            np.testing.assert_allclose(
                [base[series], lift[series], se[series]],
                [alone.counterfactual, alone.lift_pct, alone.lift_se],
                rtol=1e-9,
                atol=1e-9,
            )
    measured = [fitted.measure(span.series, span) for span in spans]
    now = effects._cannibalization(fitted, spans, measured)
    before = reference_cannibalization(fitted, spans, measured)
    assert [(c.promoted, c.sibling) for c in now] == list(before)
    for c, (share, standard_error, count) in zip(now, before.values(), strict=True):
        assert c.measured_share == pytest.approx(share, rel=1e-9, abs=1e-12)
        assert c.standard_error == pytest.approx(standard_error, rel=1e-9)
        assert c.promotions == count


def reference_harmonic_choices(points, cols, season_length):
    """_harmonic_choices as it was: the longest unseen stretch counted phase by phase."""
    m = season_length
    if m < 2 or cols.size == 0 or cols.max() - cols.min() + 1 < m:
        return [0]
    seen = np.zeros(m, dtype=bool)
    seen[cols % m] = True
    gap, run = 0, 0
    for phase in np.concatenate([seen, seen]):
        run = 0 if phase else run + 1
        gap = max(gap, min(run, m))
    limit = m // (2 * (gap + 1))
    return [0, *(k for k in effects.SEASON_HARMONICS if k <= limit and 2 * k + 3 <= points // 3)]


@settings(max_examples=500, deadline=None)
@given(
    st.integers(1, 60),
    st.lists(st.integers(0, 200), max_size=200),
    st.integers(0, 1000),
)
def test_harmonic_choices_are_what_they_were(season_length, cols, points):
    cols = np.unique(np.asarray(cols, dtype=np.int64))
    expected = reference_harmonic_choices(points, cols, season_length)
    assert _harmonic_choices(points, cols, season_length) == expected
