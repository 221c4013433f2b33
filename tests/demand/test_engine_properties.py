"""Invariants of forecast_baseline over generated histories (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demand.engine import METHODS, forecast_baseline

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def histories(draw):
    """Weekly sales of a few series: mixtures of level, season, trend, noise, zeros,
    huge values, gaps and late launches, in lengths around one and two seasons."""
    n_series = draw(st.integers(1, 4))
    n_weeks = draw(st.sampled_from([0, 1, 2, 5, 13, 30, 56, 60, 100, 108, 120, 156]))
    season_length = draw(st.sampled_from([1, 4, 13, 52]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    week = np.arange(n_weeks)
    level = 10.0 ** rng.uniform(-1, 12, (n_series, 1))
    amplitude = rng.uniform(0, 0.8, (n_series, 1))
    trend = rng.uniform(-0.02, 0.02, (n_series, 1))
    shape = 1 + amplitude * np.sin(2 * np.pi * week / max(season_length, 2)) + trend * week
    history = level * shape * rng.lognormal(0, rng.uniform(0, 0.6, (n_series, 1)))
    kind = draw(st.sampled_from(["smooth", "integer", "intermittent", "constant", "signed"]))
    if kind == "integer":
        history = np.round(history)
    elif kind == "intermittent":
        history = np.round(history * (rng.random(history.shape) < rng.uniform(0.05, 0.6)))
    elif kind == "constant":
        history = np.broadcast_to(np.round(level), history.shape).copy()
    elif kind == "signed":
        history = history - level  # returns above sales: negative weeks
    if n_weeks:
        gaps = rng.random(history.shape) < draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
        history[gaps] = np.nan
        launch = rng.integers(0, n_weeks + 1, n_series) * draw(st.booleans())
        history[week[None, :] < launch[:, None]] = np.nan
    promo = rng.random(history.shape) < draw(st.sampled_from([0.0, 0.1, 0.5]))
    return history, promo, season_length


@PROPERTY_SETTINGS
@given(data=histories(), horizon=st.sampled_from([0, 1, 13, 52]))
def test_output_shape_and_values_are_sane(data, horizon):
    history, promo, season_length = data

    result = forecast_baseline(history, horizon, season_length, promo)

    n_series = history.shape[0]
    assert result.mean.shape == (n_series, horizon)
    assert np.all(np.isfinite(result.mean)) and np.all(result.mean >= 0)
    assert result.sigma.shape == (n_series,)
    assert np.all(np.isfinite(result.sigma)) and np.all(result.sigma >= 0)
    assert set(result.method) <= set(METHODS)
    assert all(
        component in METHODS for combined in result.components for component in combined.split("+")
    )
    launched = np.isfinite(history) | promo
    for row, weeks in enumerate(result.history_weeks):
        launch_weeks = np.flatnonzero(launched[row])
        expected = history.shape[1] - launch_weeks[0] if launch_weeks.size else 0
        assert weeks == expected


@PROPERTY_SETTINGS
@given(data=histories(), factor=st.sampled_from([0.0, 3.0, 1e9, np.nan, -5.0]))
def test_promotion_week_values_never_change_the_output(data, factor):
    history, promo, season_length = data

    base = forecast_baseline(history, 13, season_length, promo)
    changed = forecast_baseline(
        np.where(promo, history * factor, history), 13, season_length, promo
    )

    np.testing.assert_array_equal(changed.mean, base.mean)
    np.testing.assert_array_equal(changed.sigma, base.sigma)
    np.testing.assert_array_equal(changed.method, base.method)
    np.testing.assert_array_equal(changed.alpha, base.alpha)


@PROPERTY_SETTINGS
@given(data=histories())
def test_same_input_gives_the_same_output(data):
    history, promo, season_length = data

    first = forecast_baseline(history, 13, season_length, promo)
    second = forecast_baseline(history.copy(), 13, season_length, promo.copy())

    np.testing.assert_array_equal(second.mean, first.mean)
    np.testing.assert_array_equal(second.sigma, first.sigma)
    np.testing.assert_array_equal(second.method, first.method)


@PROPERTY_SETTINGS
@given(data=histories(), power=st.sampled_from([-20, 10, 30]))
def test_scaling_the_history_by_a_power_of_two_scales_the_forecast(data, power):
    # Powers of two scale floats exactly, so the engine's own per-series scaling makes
    # every internal number identical and the forecast exactly proportional.
    history, promo, season_length = data
    factor = 2.0**power

    base = forecast_baseline(history, 13, season_length, promo)
    scaled = forecast_baseline(history * factor, 13, season_length, promo)

    np.testing.assert_array_equal(scaled.method, base.method)
    np.testing.assert_array_equal(scaled.mean, base.mean * factor)
