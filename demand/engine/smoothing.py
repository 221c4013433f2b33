"""Vectorized smoothing recursions: every series and every parameter candidate at once.

Each pass walks the weeks once (a Python loop over ~156 time steps) while the state of
all series x all candidates is updated as (n_series, n_candidates) arrays. One pass
yields, for every candidate:

- the sum of squared one-step-ahead errors (SSE) after the warm-up, by which the
  parameters are chosen;
- at each holdout origin, the multi-step forecast of the candidate with the least SSE on
  the weeks before that origin (per group of candidates: a group is one model), i.e. the
  forecast the model would have made had it been fitted then (rolling-origin evaluation,
  used to choose between models);
- the final state, from which the forecast is made.

Weeks that are not usable (missing, or promotion) are treated as missing observations of
a state-space model: the model's own one-step forecast stands in for them, so the error
is zero and the states move on as forecast. Their values are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from demand.engine.history import Panel

# Floor for the multiplicative model's divisors (data are scaled to a mean of ~1), so a
# collapsing level or a seasonal index of 0 cannot divide by zero.
_TINY = 1e-6
_MIN_SEASONAL_INDEX = 1e-3


@dataclass(frozen=True)
class Candidates:
    """Smoothing parameters to try, one entry per candidate; phi == 0 means no trend."""

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    phi: np.ndarray

    @classmethod
    def grid(
        cls,
        alphas: Sequence[float],
        trends: Sequence[tuple[float, float]] = ((0.0, 0.0),),
        gammas: Sequence[float] = (0.0,),
    ) -> Candidates:
        """Every (alpha, (beta, phi), gamma) combination with beta <= alpha, as ETS requires."""
        rows = [
            (alpha, beta, gamma, phi)
            for alpha in alphas
            for beta, phi in trends
            for gamma in gammas
            if beta <= alpha and gamma <= 1 - alpha + 1e-12
        ]
        columns = (np.array(column, dtype=np.float64) for column in zip(*rows, strict=True))
        return cls(*columns)

    def __len__(self) -> int:
        return len(self.alpha)


@dataclass(frozen=True)
class PassResult:
    """What one pass over the weeks measured, per series (rows) and candidate (columns).

    sse: (n, K) sum of squared one-step errors after the warm-up, whole history.
    error_count: (n,) how many one-step errors `sse` sums.
    holdout_forecast: (n_groups, n_origins, n, horizon) the forecast made at each origin
        by each group's candidate with the least SSE before that origin.
    state: final state arrays, (n, K) each, plus `season` (m, n, K) for seasonal models.
    """

    sse: np.ndarray
    error_count: np.ndarray
    holdout_forecast: np.ndarray
    state: dict[str, np.ndarray]


class _HoldoutRecorder:
    """Keeps, at each origin, the forecast of each group's best candidate so far."""

    def __init__(self, groups: Sequence[slice], origins: Sequence[int], n: int, horizon: int):
        self.groups = groups
        self.origin_index = {origin: k for k, origin in enumerate(origins)}
        self.forecast = np.zeros((len(groups), len(origins), n, horizon))

    def record(self, week: int, sse: np.ndarray, forecast: np.ndarray) -> None:
        """forecast: (steps, n, K) made at origin `week`; sse: (n, K) before it."""
        k = self.origin_index[week]
        steps = forecast.shape[0]
        for g, columns in enumerate(self.groups):
            best = np.argmin(sse[:, columns], axis=1) + (columns.start or 0)
            chosen = np.take_along_axis(forecast, best[None, :, None], axis=2)[..., 0]
            self.forecast[g, k, :, :steps] = chosen.T


def counted_mask(panel: Panel, warmup: int) -> np.ndarray:
    """Usable weeks whose one-step error counts: those at least `warmup` weeks after launch."""
    week = np.arange(panel.n_weeks)[None, :]
    return panel.usable & (week >= panel.start[:, None] + warmup)


def damped_sums(phi: np.ndarray, steps: int) -> np.ndarray:
    """(steps, K): phi + phi^2 + ... + phi^h for h = 1..steps (0 when phi is 0)."""
    powers = phi[None, :] ** np.arange(1, steps + 1)[:, None]
    return np.cumsum(powers, axis=0)


def smoothing_forecast(
    level: np.ndarray,
    trend: np.ndarray,
    season: np.ndarray | None,
    phi: np.ndarray,
    first_week: int,
    steps: int,
    seasonal: str | None,
) -> np.ndarray:
    """(steps, n, K) forecasts for weeks first_week.. from states (n, K), clipped at 0.

    `season` is indexed by absolute week modulo the season length, so the phase of week t
    is simply t % m for every series."""
    forecast = level[None] + damped_sums(phi, steps)[:, None, :] * trend[None]
    if seasonal is not None:
        phases = (first_week + np.arange(steps)) % season.shape[0]
        if seasonal == "additive":
            forecast = forecast + season[phases]
        else:
            forecast = forecast * season[phases]
    return np.maximum(forecast, 0.0)


def run_exponential_smoothing(
    panel: Panel,
    candidates: Candidates,
    *,
    level_flat: np.ndarray,
    level_trend: np.ndarray | None = None,
    slope: np.ndarray | None = None,
    season: np.ndarray | None = None,
    seasonal: str | None = None,
    warmup: int = 1,
    origins: Sequence[int] = (),
    horizon: int = 1,
    groups: Sequence[slice] = (slice(None),),
) -> PassResult:
    """Damped-trend exponential smoothing (ETS A,Ad,N / A,Ad,A / A,Ad,M) for all candidates.

    Initial state per series: `level_flat` for candidates without trend (phi == 0);
    `level_trend` and `slope` (trend line at launch, per-week slope) for the others;
    `season` (n, m) initial seasonal indices by absolute phase (week % m), additive
    (summing to 0) or multiplicative (averaging 1). Recursions, error e = y - forecast:

        additive:        forecast = l + phi*b + s
                         l <- l + phi*b + alpha*e;  b <- phi*b + beta*e;  s <- s + gamma*e
        multiplicative:  forecast = (l + phi*b) * s
                         l <- l + phi*b + alpha*e/s;  b <- phi*b + beta*e/s;
                         s <- s + gamma*e/(l + phi*b)
    """
    n, n_weeks = panel.values.shape
    alpha, beta, gamma, phi = (
        getattr(candidates, name)[None, :] for name in ("alpha", "beta", "gamma", "phi")
    )
    has_trend = phi > 0
    if level_trend is None or slope is None:
        level_trend, slope = level_flat, np.zeros(n)
    trend = np.where(has_trend, slope[:, None], 0.0)
    level = np.where(has_trend, level_trend[:, None] - phi * trend, level_flat[:, None])
    seasons = None
    if seasonal is not None:
        # (m, n, K): the slice for one phase is contiguous, the hot path of the loop.
        seasons = np.repeat(season.T[:, :, None], len(candidates), axis=2)

    usable = panel.usable.astype(np.float64)
    counted = counted_mask(panel, warmup).astype(np.float64)
    sse = np.zeros((n, len(candidates)))
    holdout = _HoldoutRecorder(groups, origins, n, horizon)
    last_launch = int(panel.start.max(initial=0))
    first_week = int(panel.start.min(initial=n_weeks))

    for week in range(first_week, n_weeks):
        if week in holdout.origin_index:
            steps = min(horizon, n_weeks - week)
            forecast = smoothing_forecast(level, trend, seasons, phi[0], week, steps, seasonal)
            holdout.record(week, sse, forecast)

        damped_trend = phi * trend
        base = level + damped_trend
        if seasonal is None:
            forecast_now = base
        else:
            phase = week % seasons.shape[0]
            season_now = seasons[phase]
            forecast_now = base + season_now if seasonal == "additive" else base * season_now
        error = (panel.values[:, week, None] - forecast_now) * usable[:, week, None]
        sse += error * error * counted[:, week, None]

        if seasonal == "multiplicative":
            season_safe = np.maximum(season_now, _MIN_SEASONAL_INDEX)
            new_level = np.maximum(base + alpha * error / season_safe, _TINY)
            new_trend = damped_trend + beta * error / season_safe
            new_season = np.maximum(
                season_now + gamma * error / np.maximum(base, _TINY), _MIN_SEASONAL_INDEX
            )
        else:
            new_level = base + alpha * error
            new_trend = damped_trend + beta * error
            new_season = season_now + gamma * error if seasonal else None

        if week < last_launch:
            # Series not launched yet keep their initial state until their first week.
            waiting = (week < panel.start)[:, None]
            new_level = np.where(waiting, level, new_level)
            new_trend = np.where(waiting, trend, new_trend)
            if seasonal:
                new_season = np.where(waiting, season_now, new_season)
        level, trend = new_level, new_trend
        if seasonal:
            seasons[phase] = new_season

    state = {"level": level, "trend": trend}
    if seasonal:
        state["season"] = seasons
    return PassResult(
        sse=sse,
        error_count=counted.sum(axis=1),
        holdout_forecast=holdout.forecast,
        state=state,
    )


def run_tsb(
    panel: Panel,
    alpha: np.ndarray,
    beta: np.ndarray,
    *,
    init_weeks: int = 8,
    origins: Sequence[int] = (),
    horizon: int = 1,
) -> PassResult:
    """Teunter-Syntetos-Babai (TSB) smoothing for intermittent demand, all candidates.

    Two states: the probability p that a week has demand and the size z of a non-zero
    demand; forecast = p*z for every future week. Each usable week:
        p <- p + beta*(1[y > 0] - p)         (every week, so p decays while nothing sells)
        z <- z + alpha*(y - z)               (only in weeks with demand)
    p starts at the share of weeks with demand among the first `init_weeks` usable
    weeks, z at the mean of their non-zero values (or at the first demand, if none)."""
    n, n_weeks = panel.values.shape
    alpha, beta = alpha[None, :], beta[None, :]
    rank = np.cumsum(panel.usable, axis=1)
    window = panel.usable & (rank <= init_weeks)
    demand_weeks = window & (panel.values > 0)
    probability = np.repeat(
        (demand_weeks.sum(axis=1) / np.maximum(window.sum(axis=1), 1))[:, None],
        alpha.shape[1],
        axis=1,
    )
    size_known = demand_weeks.any(axis=1)[:, None]
    size0 = (panel.values * demand_weeks).sum(axis=1) / np.maximum(demand_weeks.sum(axis=1), 1)
    size = np.repeat(size0[:, None], alpha.shape[1], axis=1)

    usable = panel.usable.astype(np.float64)
    counted = counted_mask(panel, 1).astype(np.float64)
    sse = np.zeros_like(probability)
    holdout = _HoldoutRecorder((slice(None),), origins, n, horizon)

    for week in range(int(panel.start.min(initial=n_weeks)), n_weeks):
        if week in holdout.origin_index:
            steps = min(horizon, n_weeks - week)
            forecast = np.broadcast_to(probability * size, (steps, *size.shape))
            holdout.record(week, sse, forecast)
        value = panel.values[:, week, None]
        use = usable[:, week, None]
        error = (value - probability * size) * use
        sse += error * error * counted[:, week, None]
        demand = (value > 0) & (use > 0)
        probability = probability + beta * (demand - probability) * use
        size = np.where(demand, np.where(size_known, size + alpha * (value - size), value), size)
        size_known = size_known | demand

    return PassResult(
        sse=sse,
        error_count=counted.sum(axis=1),
        holdout_forecast=holdout.forecast,
        state={"probability": probability, "size": size},
    )


def seasonal_naive_profile(panel: Panel, end: int, season_length: int) -> np.ndarray:
    """(n, m): the season before week `end`, the forecast of seasonal naive from `end` on.

    Column j holds week end - m + j, so week end + h is forecast by column h % m. A week
    that is not usable takes the same week one season earlier; failing that, the mean of
    the usable weeks of the last two seasons (0 if there are none)."""
    m = season_length
    last = slice(end - m, end)
    values, usable = panel.values[:, last], panel.usable[:, last]
    if end - 2 * m >= 0:
        earlier = slice(end - 2 * m, end - m)
        values = np.where(usable, values, panel.values[:, earlier])
        usable = usable | panel.usable[:, earlier]
    recent = slice(max(end - 2 * m, 0), end)
    recent_count = panel.usable[:, recent].sum(axis=1)
    recent_mean = panel.values[:, recent].sum(axis=1) / np.maximum(recent_count, 1)
    return np.where(usable, values, recent_mean[:, None])


def seasonal_naive_errors(panel: Panel, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of squared one-step errors y_t - y_{t-m} over pairs of usable weeks, and count."""
    m = season_length
    if panel.n_weeks <= m:
        return np.zeros(len(panel.values)), np.zeros(len(panel.values))
    both = panel.usable[:, m:] & panel.usable[:, :-m]
    change = (panel.values[:, m:] - panel.values[:, :-m]) * both
    return (change * change).sum(axis=1), both.sum(axis=1).astype(np.float64)
