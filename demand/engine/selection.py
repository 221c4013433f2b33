"""Choosing a model per series by rolling-origin holdout error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demand.engine.history import Panel
from demand.engine.models import ModelFit


@dataclass(frozen=True)
class Holdout:
    """The rolling-origin holdout of the modelled series.

    origins: weeks at which forecasts are made, latest first.
    actual: (n_origins, n, h) scaled values of the weeks after each origin.
    weight: (n_origins, n, h) 1 where that week is usable and the series uses the origin.
    """

    origins: list[int]
    actual: np.ndarray
    weight: np.ndarray

    @property
    def used(self) -> np.ndarray:
        """(n,) True where the series has at least one holdout week."""
        return self.weight.sum(axis=(0, 2)) > 0

    @property
    def points(self) -> np.ndarray:
        """(n,) number of holdout weeks per series."""
        return self.weight.sum(axis=(0, 2))


#: A holdout shorter than this many weeks says too little to choose a model by.
MIN_HOLDOUT_WEEKS = 4


def make_holdout(panel: Panel, min_train: np.ndarray, horizon: int, n_origins: int) -> Holdout:
    """Origins T-h, T-2h, ... (non-overlapping windows of the last weeks), plus one for
    series too short for any of those.

    A series uses an origin only when it has at least `min_train` weeks of history before
    it (the most any of its candidate models needs), so that all its candidates are
    compared on the same weeks. A series with fewer than min_train + h weeks gets the
    origin start + min_train instead, its window cut short by the end of the history
    (at least MIN_HOLDOUT_WEEKS weeks): a product with two seasons and a few weeks of
    history can then still be given a seasonal model."""
    n_weeks = panel.n_weeks
    regular = [n_weeks - horizon * (k + 1) for k in range(n_origins)]
    regular = [origin for origin in regular if origin > 0]
    own_origin = panel.start + min_train
    late = (own_origin > n_weeks - horizon) & (own_origin <= n_weeks - MIN_HOLDOUT_WEEKS)
    late = late & (n_origins > 0)
    origins = regular + sorted(set(own_origin[late].tolist()) - set(regular))
    n = len(panel.values)
    actual = np.zeros((len(origins), n, horizon))
    weight = np.zeros((len(origins), n, horizon))
    for k, origin in enumerate(origins):
        steps = min(horizon, n_weeks - origin)
        window = slice(origin, origin + steps)
        if k < len(regular):
            applies = origin - panel.start >= min_train
        else:
            applies = late & (own_origin == origin)
        actual[k, :, :steps] = panel.values[:, window]
        weight[k, :, :steps] = panel.usable[:, window] & applies[:, None]
    return Holdout(origins, actual, weight)


COMBINATION = "combination"


@dataclass(frozen=True)
class Choice:
    """Per series: method is the chosen model's name, or COMBINATION for the average of
    the two best models `first` and `second`; `first` is the best single model (the
    method itself when not combined), `second` the runner-up ('' when there is none);
    error is the holdout absolute error sum of the choice (scaled units; 0 without a
    holdout)."""

    method: np.ndarray
    first: np.ndarray
    second: np.ndarray
    error: np.ndarray


def choose(
    fits: dict[str, ModelFit],
    order: tuple[str, ...],
    eligible: dict[str, np.ndarray],
    squared: np.ndarray,
    holdout: Holdout,
    default: np.ndarray,
    intermittent_model: str = "",
    intermittent_margin: float = 0.0,
) -> Choice:
    """The eligible model with the least holdout error per series, or the average of the
    two best when that average has a smaller holdout error still.

    Error is absolute, or squared where `squared` (intermittent series: absolute error
    would reward forecasting zero, the median of such weeks); there any model other than
    `intermittent_model`, or a combination, must have an error smaller by the factor
    1 + `intermittent_margin`. Ties go to the model earlier in `order` (the simpler one).
    Series without holdout weeks get `default`.
    Averaging two models is the cheapest robust gain in forecasting practice; it is
    kept only where the holdout says so, since where one model is right it adds noise."""
    n = len(default)
    names = [name for name in order if name in fits]
    n_origins, _, h = holdout.actual.shape
    # (n, models, origins, h) holdout forecasts; NaN where a model does not apply.
    forecasts = np.full((n, len(names), n_origins, h), np.nan)
    for column, name in enumerate(names):
        fit = fits[name]
        ok = eligible[name][fit.rows]
        forecasts[fit.rows[ok], column] = np.maximum(fit.holdout[:, ok], 0.0).transpose(1, 0, 2)
    actual = holdout.actual.transpose(1, 0, 2)[:, None]
    weight = holdout.weight.transpose(1, 0, 2)[:, None]

    def errors(forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        miss = (actual - forecast) * weight
        absolute = np.abs(miss).sum(axis=(2, 3))
        return absolute, np.where(squared[:, None], (miss * miss).sum(axis=(2, 3)), absolute)

    absolute, score = errors(forecasts)
    applies = ~np.isnan(forecasts[:, :, 0, 0]) if n_origins else np.zeros((n, len(names)), bool)
    score = np.where(applies, score, np.inf)
    # On intermittent series the holdout error is mostly luck; a rival of the model made
    # for them has to beat it by a margin.
    rivals = squared[:, None] & (np.asarray(names) != intermittent_model)[None, :]
    score = score * np.where(rivals, 1 + intermittent_margin, 1.0)
    ranking = np.argsort(score, axis=1, kind="stable")
    first = ranking[:, 0]
    second = ranking[:, 1] if len(names) > 1 else first
    pair = np.take_along_axis(forecasts, np.stack([first, second], axis=1)[..., None, None], 1)
    pair_absolute, pair_score = errors(pair.mean(axis=1, keepdims=True))
    best_score = np.take_along_axis(score, first[:, None], axis=1)[:, 0]
    has_pair = np.isfinite(np.take_along_axis(score, second[:, None], axis=1)[:, 0])
    pair_score = pair_score * np.where(squared, 1 + intermittent_margin, 1.0)[:, None]
    combine = has_pair & (len(names) > 1) & (pair_score[:, 0] < best_score)

    decided = holdout.used & np.isfinite(best_score)
    labels = np.asarray(names, dtype=object)
    method = np.where(decided, np.where(combine, COMBINATION, labels[first]), default)
    first_name = np.where(decided, labels[first], default)
    second_name = np.where(decided & combine, labels[second], "")
    best_absolute = np.take_along_axis(absolute, first[:, None], axis=1)[:, 0]
    error = np.where(combine, pair_absolute[:, 0], best_absolute)
    return Choice(
        method=method,
        first=first_name,
        second=second_name.astype(object),
        error=np.where(decided, error, 0.0),
    )
