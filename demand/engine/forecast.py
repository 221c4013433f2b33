"""forecast_baseline: choose a method per series and forecast, all series at once.

See the package docstring (demand/engine/__init__.py) for how methods are chosen.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields

import numpy as np

from demand.engine.history import Panel, prepare_panel
from demand.engine.models import (
    MIN_SIGMA_ERRORS,
    fit_holt_winters,
    fit_nonseasonal,
    fit_seasonal_naive,
    fit_tsb,
)
from demand.engine.selection import COMBINATION, MIN_HOLDOUT_WEEKS, choose, make_holdout

NO_HISTORY = "no_history"
ZERO = "zero"
CONSTANT = "constant"
SES = "ses"
HOLT_DAMPED = "holt_damped"
SEASONAL_NAIVE = "seasonal_naive"
HOLT_WINTERS_ADDITIVE = "holt_winters_additive"
HOLT_WINTERS_MULTIPLICATIVE = "holt_winters_multiplicative"
CROSTON_TSB = "croston_tsb"
#: Models chosen by holdout error, in order of preference when two score the same.
MODELS = (
    SES,
    HOLT_DAMPED,
    SEASONAL_NAIVE,
    HOLT_WINTERS_ADDITIVE,
    HOLT_WINTERS_MULTIPLICATIVE,
    CROSTON_TSB,
)
METHODS = (NO_HISTORY, ZERO, CONSTANT, *MODELS, COMBINATION)
#: What each method is called on a page.
METHOD_LABELS = {
    NO_HISTORY: "No history yet",
    ZERO: "Zero (no sales in the history)",
    CONSTANT: "Constant level",
    SES: "Simple exponential smoothing",
    HOLT_DAMPED: "Damped trend (Holt)",
    SEASONAL_NAIVE: "Seasonal naive (same week last year)",
    HOLT_WINTERS_ADDITIVE: "Holt-Winters, additive seasonality",
    HOLT_WINTERS_MULTIPLICATIVE: "Holt-Winters, multiplicative seasonality",
    CROSTON_TSB: "Croston/TSB (intermittent demand)",
    COMBINATION: "Combination of the best models",
}

#: A series is intermittent when at least this share of its usable weeks had no sale.
INTERMITTENT_ZERO_SHARE = 0.3
#: On an intermittent series, another model replaces croston_tsb only with a holdout
#: squared error smaller by this factor (1 + margin): such holdouts are noisy.
INTERMITTENT_MARGIN = 0.25
#: Weeks of history a non-seasonal model needs before a holdout origin.
MIN_TRAIN_WEEKS = 8


@dataclass(frozen=True)
class BaselineForecast:
    """The engine's answer for n series. All arrays are read-only.

    mean: (n, horizon) baseline units per week, finite and >= 0.
    sigma: (n,) standard deviation of one-step-ahead errors in units/week, finite, >= 0.
    method: (n,) name of the method used, one of METHODS.
    components: (n,) the models whose forecasts make the mean: the method itself, or
        for a combination the best and the second-best model, "best+second".
    alpha, beta, gamma, phi: (n,) smoothing parameters of the method (of the best
        model for a combination), NaN where it has none. For croston_tsb, alpha smooths
        the demand size and beta the probability of demand (TSB's own notation);
        phi == 0 means a model without trend.
    history_weeks: (n,) weeks from launch (first non-missing week) to the end.
    holdout_mae: (n,) mean absolute error of the chosen method over the rolling-origin
        holdout, units/week; NaN where the history was too short for a holdout.
    season_length: the season length the forecast assumed.
    """

    mean: np.ndarray
    sigma: np.ndarray
    method: np.ndarray
    components: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    phi: np.ndarray
    history_weeks: np.ndarray
    holdout_mae: np.ndarray
    season_length: int

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def method_counts(self) -> dict[str, int]:
        """Series count per method, e.g. for ForecastRun.methods."""
        names, counts = np.unique(self.method, return_counts=True)
        return {str(name): int(count) for name, count in zip(names, counts, strict=True)}

    def fit_record(self, index: int) -> dict[str, object]:
        """JSON-ready description of how series `index` was forecast (NaN becomes None)."""

        def number(array: np.ndarray) -> float | None:
            value = float(array[index])
            return value if np.isfinite(value) else None

        return {
            "method": str(self.method[index]),
            "components": str(self.components[index]),
            "sigma": float(self.sigma[index]),
            "alpha": number(self.alpha),
            "beta": number(self.beta),
            "gamma": number(self.gamma),
            "phi": number(self.phi),
            "history_weeks": int(self.history_weeks[index]),
            "holdout_mae": number(self.holdout_mae),
            "season_length": self.season_length,
        }


def forecast_baseline(
    history: np.ndarray,
    horizon: int,
    season_length: int = 52,
    promo_mask: np.ndarray | None = None,
    *,
    methods: Collection[str] | None = None,
    selection_horizon: int = 13,
    selection_origins: int = 4,
    chunk_size: int = 1000,
) -> BaselineForecast:
    """Forecast the baseline of every series for `horizon` weeks after the last column.

    history: (n_series, n_weeks) floats, oldest week first; NaN where unknown (leading NaN:
        not launched yet). promo_mask: bool, same shape, weeks that had a promotion;
        their values are never read (see the package docstring).
    methods: restrict the models tried (names from MODELS); ses is always available as
        the fallback for series that none of the allowed models fits.
    selection_horizon, selection_origins: the rolling-origin holdout that chooses the
        method: `selection_origins` forecasts of `selection_horizon` weeks each, made from
        the last weeks of history backwards.
    chunk_size: series processed together; only memory and speed depend on it.
    """
    history = np.asarray(history, dtype=np.float64)
    if history.ndim != 2:
        raise ValueError(f"history must be 2-D (n_series, n_weeks), not {history.shape}")
    if promo_mask is not None:
        promo_mask = np.asarray(promo_mask)
        if promo_mask.shape != history.shape:
            raise ValueError(
                f"promo_mask must have the shape of the history {history.shape}, "
                f"not {promo_mask.shape}"
            )
        promo_mask = promo_mask.astype(bool)
    horizon, season_length = int(horizon), int(season_length)
    if horizon < 0 or season_length < 1 or selection_horizon < 1 or selection_origins < 0:
        raise ValueError("horizon must be >= 0; season length and selection horizon >= 1")
    allowed = set(MODELS if methods is None else methods)
    if unknown := allowed - set(MODELS):
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {MODELS}")

    settings = _Settings(horizon, season_length, allowed, selection_horizon, selection_origins)
    n_series = history.shape[0]
    parts = [
        _forecast_chunk(
            history[begin : begin + chunk_size],
            None if promo_mask is None else promo_mask[begin : begin + chunk_size],
            settings,
        )
        for begin in range(0, max(n_series, 1), max(chunk_size, 1))
    ]
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    return BaselineForecast(season_length=season_length, **merged)


@dataclass(frozen=True)
class _Settings:
    horizon: int
    season_length: int
    allowed: set[str]
    selection_horizon: int
    selection_origins: int


def _forecast_chunk(
    history: np.ndarray, promo_mask: np.ndarray | None, settings: _Settings
) -> dict[str, np.ndarray]:
    n = history.shape[0]
    horizon = settings.horizon
    panel = prepare_panel(history, promo_mask)
    usable_count = panel.usable.sum(axis=1)
    lowest = np.min(panel.values, axis=1, where=panel.usable, initial=np.inf)
    highest = np.max(panel.values, axis=1, where=panel.usable, initial=-np.inf)

    out = {
        "mean": np.zeros((n, horizon)),
        "sigma": np.zeros(n),
        "method": np.full(n, NO_HISTORY, dtype=object),
        "components": np.full(n, NO_HISTORY, dtype=object),
        "alpha": np.full(n, np.nan),
        "beta": np.full(n, np.nan),
        "gamma": np.full(n, np.nan),
        "phi": np.full(n, np.nan),
        "history_weeks": panel.history_weeks.astype(np.int64),
        "holdout_mae": np.full(n, np.nan),
    }
    has_data = usable_count > 0
    zero = has_data & (lowest == 0) & (highest == 0)
    constant = has_data & ~zero & (lowest == highest)
    for name, rows in ((ZERO, zero), (CONSTANT, constant)):
        out["method"][rows] = name
        out["components"][rows] = name
    out["mean"][constant] = np.maximum(lowest[constant] * panel.scale[constant], 0)[:, None]
    out["sigma"][constant] = np.where(usable_count[constant] > MIN_SIGMA_ERRORS, 0.0, np.nan)

    modelled = np.flatnonzero(has_data & ~zero & ~constant)
    if modelled.size:
        _fit_models(panel.take(modelled), modelled, settings, out)

    missing_sigma = ~np.isfinite(out["sigma"])
    if missing_sigma.any():
        out["sigma"][missing_sigma] = _fallback_sigma(panel.take(missing_sigma))
    out["sigma"] = np.maximum(out["sigma"], 0.0)
    out["method"] = out["method"].astype(str)
    out["components"] = out["components"].astype(str)
    return out


def _fit_models(panel: Panel, rows: np.ndarray, settings: _Settings, out: dict) -> None:
    """Fit every allowed model to the rows it applies to, pick one per series, write out."""
    m, h, horizon = settings.season_length, settings.selection_horizon, settings.horizon
    allowed = settings.allowed
    history_weeks = panel.history_weeks
    usable_count = panel.usable.sum(axis=1)
    zero_share = ((panel.values == 0) & panel.usable).sum(axis=1) / usable_count
    intermittent = zero_share >= INTERMITTENT_ZERO_SHARE
    positive = ~((panel.values <= 0) & panel.usable).any(axis=1)

    # Intermittent series are TSB's: a level model would chase single sales.
    level_models_ok = ~(intermittent & (CROSTON_TSB in allowed))
    seasonal_ok = (m >= 2) & (history_weeks >= 2 * m + min(h, MIN_HOLDOUT_WEEKS))
    eligible = {
        SES: level_models_ok,
        HOLT_DAMPED: level_models_ok
        & (history_weeks >= MIN_TRAIN_WEEKS + min(h, MIN_HOLDOUT_WEEKS)),
        SEASONAL_NAIVE: (m >= 2) & (history_weeks >= m + min(h, MIN_HOLDOUT_WEEKS)),
        HOLT_WINTERS_ADDITIVE: seasonal_ok,
        HOLT_WINTERS_MULTIPLICATIVE: seasonal_ok & positive,
        CROSTON_TSB: intermittent,
    }
    eligible = {name: mask & (name in allowed) for name, mask in eligible.items()}

    min_train = np.full(len(rows), MIN_TRAIN_WEEKS)
    min_train = np.where(eligible[SEASONAL_NAIVE], m, min_train)
    min_train = np.where(
        eligible[HOLT_WINTERS_ADDITIVE] | eligible[HOLT_WINTERS_MULTIPLICATIVE], 2 * m, min_train
    )
    holdout = make_holdout(panel, min_train, h, settings.selection_origins)
    origins = holdout.origins

    # SES is fitted to every series: it is also the fallback when nothing else applies.
    fits = fit_nonseasonal(
        panel, np.ones(len(rows), dtype=bool), eligible[HOLT_DAMPED], origins, h, horizon
    )
    if eligible[SEASONAL_NAIVE].any():
        fits[SEASONAL_NAIVE] = fit_seasonal_naive(
            panel, np.flatnonzero(eligible[SEASONAL_NAIVE]), m, origins, h, horizon
        )
    for name, kind in (
        (HOLT_WINTERS_ADDITIVE, "additive"),
        (HOLT_WINTERS_MULTIPLICATIVE, "multiplicative"),
    ):
        if eligible[name].any():
            fits[name] = fit_holt_winters(
                panel, np.flatnonzero(eligible[name]), kind, m, origins, h, horizon
            )
    if eligible[CROSTON_TSB].any():
        fits[CROSTON_TSB] = fit_tsb(
            panel, np.flatnonzero(eligible[CROSTON_TSB]), origins, h, horizon
        )

    default = np.where(eligible[CROSTON_TSB], CROSTON_TSB, SES).astype(object)
    choice = choose(
        fits,
        MODELS,
        eligible,
        intermittent,
        holdout,
        default,
        intermittent_model=CROSTON_TSB,
        intermittent_margin=INTERMITTENT_MARGIN,
    )

    # The first component (the best single model) gives the parameters; a combination
    # averages its forecast with the runner-up's. Its sigma is the mean of the two
    # sigmas, which the RMS of the averaged errors never exceeds (triangle inequality).
    n_rows = len(rows)
    forecast = {part: np.zeros((n_rows, horizon)) for part in ("first", "second")}
    sigma = {part: np.full(n_rows, np.nan) for part in ("first", "second")}
    for name, fit in fits.items():
        for part, picked_names in (("first", choice.first), ("second", choice.second)):
            pick = picked_names[fit.rows] == name
            local = fit.rows[pick]
            forecast[part][local] = fit.forecast[pick]
            sigma[part][local] = fit.sigma[pick]
            if part == "first":
                for param, values in fit.params.items():
                    out[param][rows[local]] = values[pick]
    combined = choice.method == COMBINATION
    scale = panel.scale
    mean = np.where(
        combined[:, None], (forecast["first"] + forecast["second"]) / 2, forecast["first"]
    )
    out["mean"][rows] = np.maximum(np.nan_to_num(mean * scale[:, None], nan=0.0, posinf=0.0), 0)
    out["sigma"][rows] = (
        np.where(combined, (sigma["first"] + sigma["second"]) / 2, sigma["first"]) * scale
    )
    out["method"][rows] = choice.method
    out["components"][rows] = np.where(combined, choice.first + "+" + choice.second, choice.method)
    points = holdout.points
    with np.errstate(invalid="ignore", divide="ignore"):
        out["holdout_mae"][rows] = np.where(points > 0, choice.error / points * scale, np.nan)


def _fallback_sigma(panel: Panel) -> np.ndarray:
    """Sigma for series with fewer than MIN_SIGMA_ERRORS one-step errors, original units.

    With so little data the spread of one-step errors cannot be measured, and zero would
    mean no safety stock at all. The fallback is the larger of the root mean square
    change between consecutive usable weeks (a random walk's one-step error) and the
    square root of the mean level (Poisson variation of unit sales)."""
    # Sort each row's usable weeks to the front, in order, so gaps are skipped.
    order = np.argsort(~panel.usable, axis=1, kind="stable")
    packed = np.take_along_axis(panel.values, order, axis=1)
    packed_usable = np.take_along_axis(panel.usable, order, axis=1)
    pairs = packed_usable[:, 1:] & packed_usable[:, :-1]
    changes = np.diff(packed, axis=1) * pairs
    change_rms = np.sqrt((changes * changes).sum(axis=1) / np.maximum(pairs.sum(axis=1), 1))
    usable_count = panel.usable.sum(axis=1)
    level = (panel.values * panel.usable).sum(axis=1) / np.maximum(usable_count, 1)
    return np.maximum(change_rms * panel.scale, np.sqrt(np.maximum(level * panel.scale, 0.0)))
