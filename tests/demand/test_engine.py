"""demand.engine: recursions checked against hand computation, and forecast_baseline's
behaviour on series of known shape. Pure numpy: no database."""

import dataclasses
import json

import numpy as np
import pytest

from demand.engine import (
    CONSTANT,
    CROSTON_TSB,
    HOLT_DAMPED,
    HOLT_WINTERS_ADDITIVE,
    HOLT_WINTERS_MULTIPLICATIVE,
    METHODS,
    NO_HISTORY,
    SEASONAL_NAIVE,
    SES,
    ZERO,
    forecast_baseline,
)
from demand.engine.history import Panel
from demand.engine.models import SES_CANDIDATES
from demand.engine.smoothing import (
    Candidates,
    run_exponential_smoothing,
    run_tsb,
    seasonal_naive_profile,
    smoothing_forecast,
)

SEASONAL = {SEASONAL_NAIVE, HOLT_WINTERS_ADDITIVE, HOLT_WINTERS_MULTIPLICATIVE}


def unscaled_panel(values, usable=None) -> Panel:
    """A one-series panel in original units, every week launched from week 0."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    usable = np.isfinite(values) if usable is None else np.atleast_2d(usable)
    return Panel(
        values=np.where(usable, values, 0.0),
        usable=usable,
        start=np.zeros(len(values), dtype=np.int64),
        scale=np.ones(len(values)),
    )


def single(alpha, beta=0.0, gamma=0.0, phi=0.0) -> Candidates:
    return Candidates(*(np.array([value]) for value in (alpha, beta, gamma, phi)))


# --------------------------------------------------------------------- hand computations


def test_ses_recursion_matches_hand_computation():
    # alpha 0.5, initial level 1 on 1..5. Week by week (forecast, error, new level):
    # (1, 0, 1) (1, 1, 1.5) (1.5, 1.5, 2.25) (2.25, 1.75, 3.125) (3.125, 1.875, 4.0625)
    result = run_exponential_smoothing(
        unscaled_panel([1, 2, 3, 4, 5]), single(0.5), level_flat=np.array([1.0])
    )

    assert result.state["level"][0, 0] == 4.0625
    assert result.state["trend"][0, 0] == 0.0
    # Errors after the one-week warm-up: 1 + 1.5^2 + 1.75^2 + 1.875^2.
    assert result.sse[0, 0] == 9.828125
    assert result.error_count[0] == 4


def test_ses_passes_over_a_missing_week_with_its_own_forecast():
    # Week 2 is missing: error 0, level unchanged (1.5); week 3: error 2.5 -> 2.75.
    result = run_exponential_smoothing(
        unscaled_panel([1, 2, np.nan, 4]), single(0.5), level_flat=np.array([1.0])
    )

    assert result.state["level"][0, 0] == 2.75
    assert result.sse[0, 0] == 1 + 2.5**2
    assert result.error_count[0] == 2


def test_damped_holt_matches_hand_computation():
    # Trend line at launch 10, slope 2, phi 0.5: l0 = 10 - 0.5*2 = 9, b0 = 2.
    # Week 0: forecast 9 + 1 = 10, error 0 -> l 10, b 1.
    # Week 1: forecast 10 + 0.5 = 10.5, error 2.5 -> l 11.75, b 0.5 + 1.25 = 1.75.
    result = run_exponential_smoothing(
        unscaled_panel([10, 13]),
        single(0.5, beta=0.5, phi=0.5),
        level_flat=np.array([0.0]),
        level_trend=np.array([10.0]),
        slope=np.array([2.0]),
    )
    level, trend = result.state["level"], result.state["trend"]
    assert (level[0, 0], trend[0, 0]) == (11.75, 1.75)

    forecast = smoothing_forecast(level, trend, None, np.array([0.5]), 2, 3, None)
    # 11.75 + 1.75 * (0.5, 0.75, 0.875)
    assert forecast[:, 0, 0].tolist() == [12.625, 13.0625, 13.28125]


def test_holt_winters_additive_matches_hand_computation():
    # Season length 2, level 10, indices (+2, -2), alpha = gamma = 0.5, no trend.
    # Weeks 0, 1 are forecast exactly (12, 8). Week 2: forecast 12, error 1 ->
    # level 10.5, index0 2.5. Week 3: forecast 8.5, error 0.5 -> level 10.75, index1 -1.75.
    result = run_exponential_smoothing(
        unscaled_panel([12, 8, 13, 9]),
        single(0.5, gamma=0.5),
        level_flat=np.array([10.0]),
        season=np.array([[2.0, -2.0]]),
        seasonal="additive",
        warmup=2,
    )
    season = result.state["season"]
    assert result.state["level"][0, 0] == 10.75
    assert season[:, 0, 0].tolist() == [2.5, -1.75]
    assert result.sse[0, 0] == 1 + 0.25

    forecast = smoothing_forecast(
        result.state["level"], result.state["trend"], season, np.array([0.0]), 4, 3, "additive"
    )
    assert forecast[:, 0, 0].tolist() == [13.25, 9.0, 13.25]


def test_holt_winters_multiplicative_matches_hand_computation():
    # Season length 2, level 10, indices (1.2, 0.8), alpha = gamma = 0.5, no trend.
    result = run_exponential_smoothing(
        unscaled_panel([12, 8, 11, 9]),
        single(0.5, gamma=0.5),
        level_flat=np.array([10.0]),
        season=np.array([[1.2, 0.8]]),
        seasonal="multiplicative",
        warmup=2,
    )
    # Weeks 0, 1 are forecast exactly. Week 2: forecast 10 * 1.2 = 12, error -1.
    level2 = 10 + 0.5 * -1 / 1.2
    index0 = 1.2 + 0.5 * -1 / 10
    # Week 3: forecast level2 * 0.8.
    error3 = 9 - level2 * 0.8
    level3 = level2 + 0.5 * error3 / 0.8
    index1 = 0.8 + 0.5 * error3 / level2

    assert result.state["level"][0, 0] == pytest.approx(level3, rel=1e-15)
    assert result.state["season"][:, 0, 0] == pytest.approx([index0, index1], rel=1e-15)
    assert result.sse[0, 0] == pytest.approx(1 + error3**2, rel=1e-15)
    forecast = smoothing_forecast(
        result.state["level"],
        result.state["trend"],
        result.state["season"],
        np.array([0.0]),
        4,
        2,
        "multiplicative",
    )
    assert forecast[:, 0, 0] == pytest.approx([level3 * index0, level3 * index1], rel=1e-15)


def test_tsb_matches_hand_computation():
    # Initial window of two weeks (0, 4): probability 0.5, size 4. alpha = beta = 0.5.
    # week y  forecast error  probability            size
    #  0   0  2        -2     0.25                   4
    #  1   4  1         3     0.625                  4
    #  2   0  2.5      -2.5   0.3125                 4
    #  3   0  1.25     -1.25  0.15625                4
    #  4   2  0.625     1.375 0.578125               3
    result = run_tsb(
        unscaled_panel([0, 4, 0, 0, 2]), np.array([0.5]), np.array([0.5]), init_weeks=2
    )

    assert result.state["probability"][0, 0] == 0.578125
    assert result.state["size"][0, 0] == 3.0
    assert result.state["probability"][0, 0] * result.state["size"][0, 0] == 1.734375
    assert result.sse[0, 0] == 3**2 + 2.5**2 + 1.25**2 + 1.375**2


def test_tsb_starts_the_size_at_the_first_demand_when_the_window_has_none():
    # No demand in the two-week window: size unknown until week 2 sets it to 6.
    result = run_tsb(unscaled_panel([0, 0, 6]), np.array([0.5]), np.array([0.5]), init_weeks=2)

    # probability: 0 -> 0 -> 0 -> 0.5
    assert result.state["probability"][0, 0] == 0.5
    assert result.state["size"][0, 0] == 6.0


def test_seasonal_naive_profile_is_the_last_season():
    panel = unscaled_panel(np.arange(1.0, 13.0))

    assert seasonal_naive_profile(panel, 12, 4).tolist() == [[9, 10, 11, 12]]
    assert seasonal_naive_profile(panel, 10, 4).tolist() == [[7, 8, 9, 10]]


def test_seasonal_naive_profile_fills_a_masked_week_from_the_season_before():
    # Weeks 0..11 hold 1..12; the last season is weeks 8..11.
    usable = np.ones(12, dtype=bool)
    usable[10] = False  # a promotion: week 6 (value 7) stands in
    usable[[5, 9]] = False  # masked in both seasons: mean of the usable weeks 4..11
    panel = unscaled_panel(np.arange(1.0, 13.0), usable)

    mean_of_last_two_seasons = np.mean([5, 7, 8, 9, 12])
    assert seasonal_naive_profile(panel, 12, 4).tolist() == [[9, mean_of_last_two_seasons, 7, 12]]


def test_candidate_grid_keeps_beta_at_most_alpha_and_gamma_at_most_one_minus_alpha():
    grid = Candidates.grid(alphas=(0.1, 0.9), trends=((0.0, 0.0), (0.5, 0.9)), gammas=(0, 0.5))

    rows = list(zip(grid.alpha, grid.beta, grid.gamma, grid.phi, strict=True))
    assert rows == [
        (0.1, 0.0, 0.0, 0.0),
        (0.1, 0.0, 0.5, 0.0),
        (0.9, 0.0, 0.0, 0.0),
        (0.9, 0.5, 0.0, 0.9),
    ]


# --------------------------------------------------------------------- forecast_baseline


def test_forecast_baseline_ses_equals_a_plain_loop_over_the_grid():
    rng = np.random.default_rng(11)
    history = 40 + rng.normal(0, 6, (3, 30)).round(1)

    result = forecast_baseline(history, 4, methods={SES})

    for row, series in enumerate(history):
        best = None
        for alpha in SES_CANDIDATES.alpha:
            level, sse = series[:4].mean(), 0.0
            for week, value in enumerate(series):
                error = value - level
                sse += error * error if week >= 1 else 0.0
                level += alpha * error
            if best is None or sse < best[0]:
                best = (sse, alpha, level)
        assert result.method[row] == SES
        assert result.alpha[row] == best[1]
        np.testing.assert_allclose(result.mean[row], best[2], rtol=1e-12)
        np.testing.assert_allclose(result.sigma[row], np.sqrt(best[0] / 29), rtol=1e-12)


def test_seasonal_naive_repeats_the_last_season():
    history = np.array([[10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42]], dtype=float)

    result = forecast_baseline(
        history, 6, season_length=4, methods={SEASONAL_NAIVE}, selection_horizon=4
    )

    assert result.method.tolist() == [SEASONAL_NAIVE]
    np.testing.assert_allclose(result.mean, [[12, 22, 32, 42, 12, 22]], rtol=1e-15)
    # One-step errors y_t - y_(t-4) are all 1 (eight of them): sigma 1.
    np.testing.assert_allclose(result.sigma, [1.0], rtol=1e-15)


def test_clean_seasonal_series_is_recovered():
    week = np.arange(156 + 52)
    truth = 100 + 30 * np.sin(2 * np.pi * week / 52)

    result = forecast_baseline(truth[None, :156], 52)

    assert result.method[0] in SEASONAL
    # Tolerance: one thousandth of the level, for every one of the 52 weeks.
    assert np.abs(result.mean[0] - truth[156:]).max() < 0.1
    assert result.sigma[0] < 0.1


def test_noisy_seasonal_series_is_forecast_closer_than_the_noise():
    rng = np.random.default_rng(3)
    week = np.arange(156 + 52)
    truth = 100 + 30 * np.sin(2 * np.pi * week / 52)
    history = truth[:156] + rng.normal(0, 3, (20, 156))

    result = forecast_baseline(history, 52)

    assert set(result.components) <= {
        HOLT_WINTERS_ADDITIVE,
        HOLT_WINTERS_MULTIPLICATIVE,
        f"{HOLT_WINTERS_ADDITIVE}+{HOLT_WINTERS_MULTIPLICATIVE}",
        f"{HOLT_WINTERS_MULTIPLICATIVE}+{HOLT_WINTERS_ADDITIVE}",
    }
    # Noise sd 3: the mean absolute error against the truth is well below it (~1.0),
    # and sigma, the one-step error, is close to it.
    assert np.abs(result.mean - truth[156:]).mean() < 1.5
    assert np.all((result.sigma > 2.5) & (result.sigma < 4))


def test_many_zero_weeks_select_croston_tsb():
    rng = np.random.default_rng(5)
    history = ((rng.random((20, 156)) < 0.2) * rng.poisson(5, (20, 156))).astype(float)

    result = forecast_baseline(history, 13)

    assert result.method.tolist() == [CROSTON_TSB] * 20
    assert np.all(np.isnan(result.gamma) & np.isnan(result.phi))
    # A flat rate per series, around the true mean demand of 0.2 * 5 = 1 per week.
    assert np.all(result.mean == result.mean[:, :1])
    assert np.all((result.mean > 0.2) & (result.mean < 3))
    assert 0.8 < result.mean.mean() < 1.25


@pytest.mark.parametrize("weeks", [40, 90])
def test_short_series_uses_a_non_seasonal_method(weeks):
    rng = np.random.default_rng(weeks)
    history = 50 + rng.normal(0, 5, (20, weeks))

    result = forecast_baseline(history, 13)

    used = {model for pair in result.components for model in pair.split("+")}
    assert used <= {SES, HOLT_DAMPED}
    assert np.all(np.isnan(result.gamma))


def test_holt_winters_needs_two_seasons_of_history():
    week = np.arange(103)
    history = 100 + 30 * np.sin(2 * np.pi * week / 52)

    result = forecast_baseline(history[None], 13)

    assert result.method[0] not in {HOLT_WINTERS_ADDITIVE, HOLT_WINTERS_MULTIPLICATIVE}


def test_constant_series_forecasts_its_value_with_zero_sigma():
    result = forecast_baseline(np.full((2, 156), 7.0), 5)

    assert result.method.tolist() == [CONSTANT, CONSTANT]
    assert result.mean.tolist() == [[7.0] * 5] * 2
    assert result.sigma.tolist() == [0.0, 0.0]


def test_all_zero_series_forecasts_zero():
    result = forecast_baseline(np.zeros((1, 156)), 5)

    assert result.method.tolist() == [ZERO]
    assert result.mean.tolist() == [[0.0] * 5]
    assert result.sigma.tolist() == [0.0]


def test_one_week_series_forecasts_that_week_with_the_fallback_sigma():
    result = forecast_baseline(np.array([[5.0]]), 3)

    assert result.method.tolist() == [CONSTANT]
    assert result.mean.tolist() == [[5.0, 5.0, 5.0]]
    # Too few errors to measure: sqrt of the level (Poisson), see _fallback_sigma.
    assert result.sigma.tolist() == [np.sqrt(5.0)]
    assert result.history_weeks.tolist() == [1]


def test_short_history_sigma_falls_back_to_week_to_week_changes():
    result = forecast_baseline(np.array([[10.0, 20.0, 10.0, 20.0]]), 2)

    assert result.method.tolist() == [SES]
    # Changes of 10 each week: RMS 10 > sqrt(15).
    assert result.sigma.tolist() == [10.0]


def test_huge_values_are_forecast_like_their_scaled_down_copy():
    rng = np.random.default_rng(8)
    week = np.arange(156)
    history = 100 + 30 * np.sin(2 * np.pi * week / 52) + rng.normal(0, 5, (5, 156))

    small = forecast_baseline(history, 13)
    huge = forecast_baseline(history * 2.0**40, 13)  # ~1.1e14, a power of two: exact

    assert np.all(np.isfinite(huge.mean)) and np.all(np.isfinite(huge.sigma))
    assert huge.method.tolist() == small.method.tolist()
    np.testing.assert_array_equal(huge.mean, small.mean * 2.0**40)
    np.testing.assert_array_equal(huge.sigma, small.sigma * 2.0**40)


def test_values_of_1e12_give_finite_forecasts_of_that_size():
    history = 1e12 * (1 + 0.1 * np.random.default_rng(2).random((3, 156)))

    result = forecast_baseline(history, 13)

    assert np.all((result.mean > 0.9e12) & (result.mean < 1.2e12))
    assert np.all(np.isfinite(result.sigma) & (result.sigma > 0))


def test_nan_prefix_is_a_product_not_yet_launched():
    rng = np.random.default_rng(4)
    recent = 80 + rng.normal(0, 8, (4, 60))
    prefixed = np.concatenate([np.full((4, 100), np.nan), recent], axis=1)

    alone = forecast_baseline(recent, 13)
    result = forecast_baseline(prefixed, 13)

    assert result.history_weeks.tolist() == [60] * 4
    assert result.method.tolist() == alone.method.tolist()
    np.testing.assert_allclose(result.mean, alone.mean, rtol=1e-12)
    np.testing.assert_allclose(result.sigma, alone.sigma, rtol=1e-12)


def test_interior_gaps_are_tolerated():
    rng = np.random.default_rng(6)
    history = 60 + rng.normal(0, 4, (3, 156))
    history[:, 50:60] = np.nan
    history[1, ::7] = np.nan
    history[2, -1] = np.inf

    result = forecast_baseline(history, 13)

    assert np.all(np.isfinite(result.mean)) and np.all(result.mean > 40)
    assert np.all(np.isfinite(result.sigma))


def test_rows_without_any_value_get_zeros():
    history = np.full((3, 30), np.nan)
    history[1] = 9.0

    result = forecast_baseline(history, 4)

    assert result.method.tolist() == [NO_HISTORY, CONSTANT, NO_HISTORY]
    assert result.mean.tolist() == [[0.0] * 4, [9.0] * 4, [0.0] * 4]
    assert result.sigma.tolist() == [0.0, 0.0, 0.0]
    assert result.history_weeks.tolist() == [0, 30, 0]


def test_zero_weeks_of_history_give_zeros():
    result = forecast_baseline(np.zeros((3, 0)), 4)

    assert result.method.tolist() == [NO_HISTORY] * 3
    assert result.mean.tolist() == [[0.0] * 4] * 3
    assert result.sigma.tolist() == [0.0] * 3


def test_horizon_zero_still_measures_sigma():
    history = 20 + np.random.default_rng(1).normal(0, 2, (2, 156))

    result = forecast_baseline(history, 0)

    assert result.mean.shape == (2, 0)
    assert np.all(result.sigma > 0)


def test_no_series_at_all():
    result = forecast_baseline(np.zeros((0, 156)), 4)

    assert result.mean.shape == (0, 4)
    assert result.method.shape == (0,)
    assert result.method_counts() == {}


def test_forecasts_are_never_negative():
    week = np.arange(156)
    falling = 500 - 4.0 * week + np.random.default_rng(0).normal(0, 3, (3, 156))
    negative = np.random.default_rng(1).normal(0, 1, (2, 156))

    result = forecast_baseline(np.concatenate([falling, negative]), 52)

    assert np.all(result.mean >= 0)
    assert np.all(result.mean[:3, -1] == 0)  # the falling trends are cut at zero


def test_promotion_weeks_do_not_change_the_forecast():
    rng = np.random.default_rng(9)
    week = np.arange(156)
    history = 100 + 30 * np.sin(2 * np.pi * week / 52) + rng.normal(0, 5, (6, 156))
    promo = np.zeros_like(history, dtype=bool)
    promo[:, [10, 11, 60, 100, 140, 150, 155]] = True
    promo[3, :40] = True  # a long launch promotion
    promo[4, 52:104] = True  # a whole season

    base = forecast_baseline(history, 52, promo_mask=promo)
    tripled = forecast_baseline(np.where(promo, history * 3, history), 52, promo_mask=promo)
    missing = forecast_baseline(np.where(promo, np.nan, history), 52, promo_mask=promo)

    for other in (tripled, missing):
        np.testing.assert_array_equal(other.mean, base.mean)
        np.testing.assert_array_equal(other.sigma, base.sigma)
        np.testing.assert_array_equal(other.method, base.method)
    # ... while without the mask the tripled weeks do move the forecast.
    unmasked = forecast_baseline(np.where(promo, history * 3, history), 52)
    assert not np.allclose(unmasked.mean, base.mean)


def test_same_input_gives_identical_output_in_any_chunking():
    rng = np.random.default_rng(10)
    history = rng.gamma(2, 20, (25, 156))
    history[:5, :80] = np.nan

    first = forecast_baseline(history, 13)
    again = forecast_baseline(history.copy(), 13)
    chunked = forecast_baseline(history, 13, chunk_size=4)

    for other in (again, chunked):
        for field in dataclasses.fields(first):
            np.testing.assert_array_equal(getattr(other, field.name), getattr(first, field.name))


def test_methods_restricts_the_candidates():
    rng = np.random.default_rng(12)
    week = np.arange(156)
    history = 100 + 30 * np.sin(2 * np.pi * week / 52) + rng.normal(0, 5, (4, 156))

    result = forecast_baseline(history, 13, methods={HOLT_WINTERS_ADDITIVE})

    assert result.method.tolist() == [HOLT_WINTERS_ADDITIVE] * 4
    assert np.all(np.isfinite(result.alpha) & np.isfinite(result.gamma))


def test_result_is_frozen_and_read_only():
    result = forecast_baseline(np.arange(1.0, 40.0)[None], 4)

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.mean = np.zeros((1, 4))
    with pytest.raises(ValueError, match="read-only"):
        result.mean[0, 0] = 1.0


def test_method_counts_and_fit_record_are_json_ready():
    history = np.array([[np.nan] * 3, [2.0] * 3, [1.0, 2.0, 3.0]])

    result = forecast_baseline(history, 2)

    assert result.method_counts() == {NO_HISTORY: 1, CONSTANT: 1, SES: 1}
    record = result.fit_record(2)
    assert json.loads(json.dumps(record)) == record
    assert record["method"] == SES
    assert record["components"] == SES
    assert record["beta"] is None and record["holdout_mae"] is None
    assert record["history_weeks"] == 3
    assert set(result.method) <= set(METHODS)


@pytest.mark.parametrize(
    ("history", "kwargs", "message"),
    [
        (np.zeros(10), {}, "2-D"),
        (np.zeros((2, 10)), {"promo_mask": np.zeros((2, 9), dtype=bool)}, "promo_mask"),
        (np.zeros((2, 10)), {"horizon": -1}, "horizon"),
        (np.zeros((2, 10)), {"season_length": 0}, "season length"),
        (np.zeros((2, 10)), {"methods": {"arima"}}, "unknown methods"),
    ],
)
def test_invalid_input_is_refused(history, kwargs, message):
    arguments = {"horizon": 4} | kwargs
    with pytest.raises(ValueError, match=message):
        forecast_baseline(history, **arguments)


def test_every_method_has_a_label_for_the_pages():
    from demand.engine.forecast import METHOD_LABELS, METHODS
    from demand.models import ForecastFit

    assert set(METHOD_LABELS) == set(METHODS)
    assert ForecastFit(method="holt_winters_multiplicative").method_label == (
        "Holt-Winters, multiplicative seasonality"
    )
    assert ForecastFit(method="some_new_model").method_label == "Some new model"
