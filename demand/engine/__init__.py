"""Demand forecasting engine: statistical baselines for many weekly series at once.

Pure numpy, no Django. `forecast_baseline(history, horizon, season_length, promo_mask)`
takes an array (n_series, n_weeks) of weekly sales, oldest week first, and returns a
frozen `BaselineForecast` with the baseline mean per future week, the standard deviation
of one-step-ahead errors (sigma, for safety stock) and the method and parameters used per
series. `splice_predecessor` gives a new product its predecessor's history first.

Preparing the history
    A week is usable when its value is finite and it had no promotion. Leading NaN weeks
    mean "not launched yet"; a later NaN is a gap. Promotion weeks and gaps are treated
    as missing observations of a state-space model: the model's own one-step forecast
    stands in for them (error zero), so their values are never read and a promotion
    cannot leak into the baseline. Each series is divided by its mean absolute usable
    value while fitting, so units from 0.1 to 1e12 behave alike.

Series that need no model
    no_history (no usable week: zeros), zero (every usable week 0: zeros), constant
    (every usable week the same value: that value).

Candidate models (a series gets those its history allows)
    ses                           simple exponential smoothing
    holt_damped                   damped additive trend, no season; >= 12 weeks
    seasonal_naive                the last season repeated; >= m + 4 weeks
    holt_winters_additive         damped (or no) trend + additive season; >= 2m + 4 weeks
    holt_winters_multiplicative   the same with multiplicative season; positive data only
    croston_tsb                   TSB, for intermittent series (>= 30% zero weeks), which
                                  then do not get ses / holt_damped (they chase single sales)
    (m = season_length.) Below one season (plus four weeks) only non-seasonal models are
    possible; Holt-Winters needs two full seasons to tell trend from season.

How a method is chosen, per series
    1. Each model runs once over the weeks for all series and a grid of smoothing
       parameters at once (see smoothing.py). Parameters are chosen per series by the
       sum of squared one-step-ahead errors (after a warm-up of one season for seasonal
       models), which is what ETS maximum likelihood amounts to with Gaussian errors.
       Holt-Winters starts from a classical decomposition of the first two seasons; its
       seasonal profile is smoothed over neighbouring weeks when that predicts one
       season from the other better (two-fold cross-validation).
    2. Rolling-origin holdout: from the origins T-h, T-2h, T-3h, T-4h (h =
       selection_horizon, 13 weeks by default) each model forecasts h weeks with the
       parameters it would have chosen on the weeks before that origin. A series uses an
       origin only when all its candidate models have enough history before it, so they
       are compared on the same weeks; a series too short for T-h gets one origin of its
       own, with a shorter window.
    3. The model with the smallest holdout error wins (absolute error; squared error for
       intermittent series, where absolute error would reward forecasting zero); ties go
       to the simpler model, in the order listed above. If the average of the best two
       models has a smaller holdout error still, the method is "combination" and the
       forecast is that average. A series too short for any holdout gets ses (croston_tsb
       if intermittent).
    4. The winner's forecast from the end of the history, with the parameters chosen on
       the whole history, is the baseline; it is clipped at zero.

sigma
    Root mean square of the chosen model's one-step-ahead errors after its warm-up (0 for
    constant and all-zero series; for a combination, the mean of its two models' sigmas,
    never below the RMS error of their average). With fewer than 8 such errors, the
    larger of the root mean square week-to-week change and sqrt(mean level) is used
    instead (see forecast._fallback_sigma): a short history should not get zero safety
    stock.
"""

from demand.engine.forecast import (
    CONSTANT,
    CROSTON_TSB,
    HOLT_DAMPED,
    HOLT_WINTERS_ADDITIVE,
    HOLT_WINTERS_MULTIPLICATIVE,
    METHODS,
    MODELS,
    NO_HISTORY,
    SEASONAL_NAIVE,
    SES,
    ZERO,
    BaselineForecast,
    forecast_baseline,
)
from demand.engine.history import SplicedHistory, splice_predecessor
from demand.engine.selection import COMBINATION

__all__ = [
    "COMBINATION",
    "CONSTANT",
    "CROSTON_TSB",
    "HOLT_DAMPED",
    "HOLT_WINTERS_ADDITIVE",
    "HOLT_WINTERS_MULTIPLICATIVE",
    "METHODS",
    "MODELS",
    "NO_HISTORY",
    "SEASONAL_NAIVE",
    "SES",
    "ZERO",
    "BaselineForecast",
    "SplicedHistory",
    "forecast_baseline",
    "splice_predecessor",
]
