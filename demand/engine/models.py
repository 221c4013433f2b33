"""The candidate models: each fitted to the series it applies to, all of them at once.

A fit returns, per series, the forecasts it would have made at the holdout origins (for
the choice between models), the forecast from the end of the history, sigma and its
parameters. Everything is in scaled units (see history.prepare_panel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from demand.engine.history import Panel, first_usable_mean
from demand.engine.smoothing import (
    Candidates,
    PassResult,
    run_exponential_smoothing,
    run_tsb,
    seasonal_naive_errors,
    seasonal_naive_profile,
)

# Parameter grids. Every candidate is run for every series in one vectorized pass; the
# grids are coarse on purpose: the one-step SSE surface is flat near its minimum, and a
# finer grid buys little accuracy for its cost in time.
SES_CANDIDATES = Candidates.grid(alphas=(0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0))
HOLT_CANDIDATES = Candidates.grid(
    alphas=(0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0),
    trends=((0.01, 0.8), (0.01, 0.9), (0.01, 0.98), (0.05, 0.8), (0.05, 0.9), (0.05, 0.98)),
)
HOLT_WINTERS_CANDIDATES = Candidates.grid(
    alphas=(0.02, 0.05, 0.1, 0.2, 0.35, 0.6),
    trends=((0.0, 0.0), (0.01, 0.9), (0.01, 0.98)),
    gammas=(0.0, 0.05, 0.15),
)
TSB_ALPHAS, TSB_BETAS = (
    np.array(column)
    for column in zip(
        *[(a, b) for a in (0.05, 0.1, 0.2, 0.35) for b in (0.02, 0.05, 0.1, 0.2, 0.35)],
        strict=True,
    )
)
# SES parameter for series without a single counted one-step error (tiny histories).
_DEFAULT_SES_INDEX = int(np.argmin(np.abs(SES_CANDIDATES.alpha - 0.2)))

#: Fewer one-step errors than this and a model reports no sigma (the caller falls back).
MIN_SIGMA_ERRORS = 8
#: Weeks averaged for the initial level of the non-seasonal models.
NONSEASONAL_INIT_WEEKS = 4
#: Half-widths (weeks) of the triangular kernel that may smooth a seasonal profile.
PROFILE_SMOOTHING_WIDTHS = (0, 1, 2, 4)


@dataclass(frozen=True)
class ModelFit:
    """One model fitted to some rows of the modelled panel; arrays are per fitted row.

    holdout: (n_origins, n_rows, h) forecasts made at the holdout origins.
    forecast: (n_rows, horizon) forecast from the end of the history, >= 0.
    sigma: (n_rows,) RMS one-step error; NaN with fewer than MIN_SIGMA_ERRORS errors.
    params: parameter name -> (n_rows,) values.
    """

    rows: np.ndarray
    holdout: np.ndarray
    forecast: np.ndarray
    sigma: np.ndarray
    params: dict[str, np.ndarray]


def _pick(array: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Row-wise candidate selection from an (n, K) array."""
    return np.take_along_axis(array, best[:, None], axis=1)[:, 0]


def _final_candidate(result: PassResult, columns: slice, default: int = 0) -> np.ndarray:
    """Per series, the candidate in `columns` with the least SSE over the whole history."""
    best = np.argmin(result.sse[:, columns], axis=1) + (columns.start or 0)
    return np.where(result.error_count > 0, best, default)


def _sigma(result: PassResult, best: np.ndarray) -> np.ndarray:
    count = result.error_count
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(_pick(result.sse, best) / count)
    return np.where(count >= MIN_SIGMA_ERRORS, sigma, np.nan)


def _trend_forecast(level, trend, phi, steps: int) -> np.ndarray:
    powers = phi[:, None] ** np.arange(1, steps + 1)[None, :]
    return level[:, None] + np.cumsum(powers, axis=1) * trend[:, None]


def fit_nonseasonal(
    panel: Panel,
    ses_rows: np.ndarray,
    holt_rows: np.ndarray,
    origins: Sequence[int],
    selection_horizon: int,
    horizon: int,
) -> dict[str, ModelFit]:
    """SES and damped Holt in one pass (SES is the no-trend corner of the same model).

    ses_rows, holt_rows: boolean masks of the series each model is fitted to."""
    fit_holt = bool(holt_rows.any())
    candidates = SES_CANDIDATES
    groups = [slice(0, len(SES_CANDIDATES))]
    if fit_holt:
        candidates = Candidates(
            *(
                np.concatenate([getattr(SES_CANDIDATES, p), getattr(HOLT_CANDIDATES, p)])
                for p in ("alpha", "beta", "gamma", "phi")
            )
        )
        groups.append(slice(len(SES_CANDIDATES), len(candidates)))
    level, _ = first_usable_mean(panel, NONSEASONAL_INIT_WEEKS)
    result = run_exponential_smoothing(
        panel,
        candidates,
        level_flat=level,
        origins=origins,
        horizon=selection_horizon,
        groups=groups,
    )
    fits = {}
    for group, (name, rows, default) in enumerate(
        [("ses", ses_rows, _DEFAULT_SES_INDEX), ("holt_damped", holt_rows, 0)][: len(groups)]
    ):
        best = _final_candidate(result, groups[group], default)
        params = {"alpha": candidates.alpha[best]}
        if name == "holt_damped":
            params |= {"beta": candidates.beta[best], "phi": candidates.phi[best]}
        forecast = _trend_forecast(
            _pick(result.state["level"], best),
            _pick(result.state["trend"], best),
            candidates.phi[best],
            horizon,
        )
        index = np.flatnonzero(rows)
        fits[name] = ModelFit(
            rows=index,
            holdout=result.holdout_forecast[group][:, index],
            forecast=np.maximum(forecast[index], 0.0),
            sigma=_sigma(result, best)[index],
            params={p: v[index] for p, v in params.items()},
        )
    return fits


def _smooth_circular(
    weighted_sum: np.ndarray, weight: np.ndarray, half_width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Triangular-kernel sums over neighbouring phases (the profile wraps around).

    Inputs are (n, m) sums of values and of weights per phase; returns the kernel-
    weighted sums of both, so that value = sum / weight skips phases with no data."""
    if half_width == 0:
        return weighted_sum, weight
    total, support = np.zeros_like(weighted_sum), np.zeros_like(weight)
    for shift in range(-half_width, half_width + 1):
        kernel = half_width + 1 - abs(shift)
        total += kernel * np.roll(weighted_sum, shift, axis=1)
        support += kernel * np.roll(weight, shift, axis=1)
    return total, support


def _profile_smoothing(deviation: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per series, the kernel half-width that best predicts one season's profile from the
    other's (two-fold cross-validation over the first two seasons).

    With two seasons each seasonal index is the mean of two noisy weeks; when the true
    profile is smooth, borrowing from neighbouring weeks removes much of that noise,
    while a sharp profile (a Christmas peak) keeps width 0. deviation, weight: (n, 2, m).
    """
    errors = []
    for width in PROFILE_SMOOTHING_WIDTHS:
        error = np.zeros(len(deviation))
        for fit, check in ((0, 1), (1, 0)):
            total, support = _smooth_circular(deviation[:, fit], weight[:, fit], width)
            predicted = total / np.maximum(support, 1e-12)
            both = (support > 0) & (weight[:, check] > 0)
            miss = (deviation[:, check] - predicted) * both
            error += (miss * miss).sum(axis=1)
        errors.append(error)
    return np.asarray(PROFILE_SMOOTHING_WIDTHS)[np.argmin(np.stack(errors, axis=1), axis=1)]


def seasonal_init(panel: Panel, m: int, kind: str):
    """Initial level, slope and seasonal indices from each series' first two seasons.

    Classical decomposition: the two seasonal means give a straight trend line; the
    seasonal index of a phase is the mean deviation from (additive) or ratio to
    (multiplicative) that line, smoothed over neighbouring weeks where that predicts
    better (see _profile_smoothing). Returns (level without trend, trend line at launch,
    slope per week, (n, m) indices by absolute phase week % m)."""
    offsets = np.arange(2 * m)
    index = panel.start[:, None] + offsets[None, :]
    values = np.take_along_axis(panel.values, index, axis=1)
    usable = np.take_along_axis(panel.usable, index, axis=1)
    counts = usable.reshape(-1, 2, m).sum(axis=2)
    means = (values * usable).reshape(-1, 2, m).sum(axis=2) / np.maximum(counts, 1)
    # A season with no usable week borrows the other's mean (then there is no slope).
    means = np.where(counts > 0, means, means[:, ::-1])
    slope = (means[:, 1] - means[:, 0]) / m
    line = means[:, :1] + (offsets[None, :] - (m - 1) / 2) * slope[:, None]
    if kind == "additive":
        deviation, neutral = values - line, 0.0
    else:
        # Scaled data average ~1; the floor only guards seasons with no usable week.
        floor = np.maximum(1e-6 * means.max(axis=1)[:, None], 1e-9)
        deviation, neutral = values / np.maximum(line, floor), 1.0
    deviation = np.where(usable, deviation, 0.0).reshape(-1, 2, m)
    weight = usable.reshape(-1, 2, m).astype(np.float64)
    half_width = _profile_smoothing(deviation, weight)
    total, support = np.zeros_like(deviation[:, 0]), np.zeros_like(deviation[:, 0])
    for width in np.unique(half_width):
        rows = half_width == width
        total[rows], support[rows] = _smooth_circular(
            deviation[rows].sum(axis=1), weight[rows].sum(axis=1), int(width)
        )
    indices = np.where(support > 0, total / np.maximum(support, 1e-12), neutral)
    if kind == "additive":
        indices = indices - indices.mean(axis=1, keepdims=True)
    else:
        indices = indices / indices.mean(axis=1, keepdims=True)
    # Store by absolute phase (week % m) so every series shares one phase clock.
    phase = (panel.start[:, None] + np.arange(m)[None, :]) % m
    season = np.empty_like(indices)
    np.put_along_axis(season, phase, indices, axis=1)
    return means[:, 0], line[:, 0], slope, season


def fit_holt_winters(
    panel: Panel,
    rows: np.ndarray,
    kind: str,
    season_length: int,
    origins: Sequence[int],
    selection_horizon: int,
    horizon: int,
) -> ModelFit:
    """Damped Holt-Winters, `kind` 'additive' or 'multiplicative', on the given rows."""
    m = season_length
    sub = panel.take(rows)
    level_flat, level_trend, slope, season = seasonal_init(sub, m, kind)
    candidates = HOLT_WINTERS_CANDIDATES
    result = run_exponential_smoothing(
        sub,
        candidates,
        level_flat=level_flat,
        level_trend=level_trend,
        slope=slope,
        season=season,
        seasonal=kind,
        warmup=m,
        origins=origins,
        horizon=selection_horizon,
    )
    best = _final_candidate(result, slice(None))
    phi = candidates.phi[best]
    forecast = _trend_forecast(
        _pick(result.state["level"], best), _pick(result.state["trend"], best), phi, horizon
    )
    seasons = np.take_along_axis(result.state["season"], best[None, :, None], axis=2)[..., 0]
    profile = seasons[(panel.n_weeks + np.arange(horizon)) % m].T
    forecast = forecast + profile if kind == "additive" else forecast * profile
    return ModelFit(
        rows=rows,
        holdout=result.holdout_forecast[0],
        forecast=np.maximum(forecast, 0.0),
        sigma=_sigma(result, best),
        params={p: getattr(candidates, p)[best] for p in ("alpha", "beta", "gamma", "phi")},
    )


def fit_seasonal_naive(
    panel: Panel,
    rows: np.ndarray,
    season_length: int,
    origins: Sequence[int],
    selection_horizon: int,
    horizon: int,
) -> ModelFit:
    m, h = season_length, selection_horizon
    sub = panel.take(rows)
    holdout = np.zeros((len(origins), len(rows), h))
    for k, origin in enumerate(origins):
        if origin >= m:
            steps = min(h, panel.n_weeks - origin)
            holdout[k, :, :steps] = seasonal_naive_profile(sub, origin, m)[:, np.arange(steps) % m]
    profile = seasonal_naive_profile(sub, panel.n_weeks, m)
    sse, count = seasonal_naive_errors(sub, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(count >= MIN_SIGMA_ERRORS, np.sqrt(sse / count), np.nan)
    return ModelFit(
        rows=rows,
        holdout=holdout,
        forecast=np.maximum(profile[:, np.arange(horizon) % m], 0.0),
        sigma=sigma,
        params={},
    )


def fit_tsb(
    panel: Panel,
    rows: np.ndarray,
    origins: Sequence[int],
    selection_horizon: int,
    horizon: int,
) -> ModelFit:
    sub = panel.take(rows)
    result = run_tsb(sub, TSB_ALPHAS, TSB_BETAS, origins=origins, horizon=selection_horizon)
    best = _final_candidate(result, slice(None))
    rate = _pick(result.state["probability"] * result.state["size"], best)
    return ModelFit(
        rows=rows,
        holdout=result.holdout_forecast[0],
        forecast=np.repeat(np.maximum(rate, 0.0)[:, None], horizon, axis=1),
        sigma=_sigma(result, best),
        params={"alpha": TSB_ALPHAS[best], "beta": TSB_BETAS[best]},
    )
