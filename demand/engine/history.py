"""Preparing weekly histories for the forecasting engine.

Everything here works on whole arrays (n_series, n_weeks) of one calendar of weeks, the
last column being the most recent week. A week's value is *usable* when it is finite and
the week had no promotion; nothing downstream ever reads a value that is not usable, which
is what keeps promotions (and gaps) out of the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A predecessor's sales are rescaled to the new product by the ratio of the two products'
# sales over weeks where both sold; the ratio is kept within these bounds so that a
# couple of odd overlap weeks cannot blow the spliced history up or down by orders of
# magnitude.
SPLICE_SCALE_BOUNDS = (0.1, 10.0)


@dataclass(frozen=True)
class Panel:
    """Histories in the form the smoothing recursions read them.

    values: (n, T) float64, divided by each series' scale; 0.0 where not usable.
    usable: (n, T) bool, finite and not a promotion week.
    start: (n,) int, first week of the series' history (launch); T when it has none.
    scale: (n,) float64 > 0, mean absolute usable value in original units (1 if none).
    """

    values: np.ndarray
    usable: np.ndarray
    start: np.ndarray
    scale: np.ndarray

    @property
    def n_weeks(self) -> int:
        return self.values.shape[1]

    @property
    def history_weeks(self) -> np.ndarray:
        """Weeks from launch to the end of the history, gaps and promotion weeks included."""
        return self.n_weeks - self.start

    def take(self, rows: np.ndarray) -> Panel:
        return Panel(self.values[rows], self.usable[rows], self.start[rows], self.scale[rows])


def prepare_panel(history: np.ndarray, promo_mask: np.ndarray | None) -> Panel:
    """Split raw histories into scaled values and a mask of usable weeks.

    Leading NaN weeks mean the product was not launched yet; a promotion week counts as
    launched even when its value is missing. Values are divided by the series' mean
    absolute usable value so that the recursions run on numbers near 1 whatever the
    units (1e12 works as well as 3)."""
    finite = np.isfinite(history)
    promo = np.zeros_like(finite) if promo_mask is None else promo_mask
    usable = finite & ~promo
    launched = finite | promo
    start = _first_true(launched)

    usable_values = np.where(usable, history, 0.0)
    usable_count = usable.sum(axis=1)
    mean_abs = np.abs(usable_values).sum(axis=1) / np.maximum(usable_count, 1)
    scale = np.where(mean_abs > 0, mean_abs, 1.0)
    return Panel(
        values=usable_values / scale[:, None],
        usable=usable,
        start=start,
        scale=scale,
    )


def first_usable_mean(panel: Panel, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each series' first `weeks` usable values, and how many there were."""
    rank = np.cumsum(panel.usable, axis=1)
    window = panel.usable & (rank <= weeks)
    count = window.sum(axis=1)
    mean = (panel.values * window).sum(axis=1) / np.maximum(count, 1)
    return mean, count


@dataclass(frozen=True)
class SplicedHistory:
    """A history lengthened with a predecessor's weeks (see `splice_predecessor`).

    history, promo_mask: (n_series, n_weeks), ready for `forecast_baseline`.
    used_predecessor: (n_series,) bool, True where at least one week came from the
        predecessor.
    scale: (n_series,) factor applied to the predecessor's weeks; NaN where unused.
    """

    history: np.ndarray
    promo_mask: np.ndarray
    used_predecessor: np.ndarray
    scale: np.ndarray


def splice_predecessor(
    history: np.ndarray,
    predecessor_history: np.ndarray,
    *,
    promo_mask: np.ndarray | None = None,
    predecessor_promo_mask: np.ndarray | None = None,
    scale: np.ndarray | float | None = None,
    min_overlap_weeks: int = 4,
) -> SplicedHistory:
    """Give new products the sales history of the products they replace.

    Both histories cover the same calendar weeks, shape (n_series, n_weeks); a row of NaN
    in `predecessor_history` means that series has no predecessor. Weeks before a new
    product's first observed (or promoted) week are filled with its predecessor's sales
    times `scale`, together with the predecessor's promotion flags; from the launch week on
    the new product's own weeks are kept, gaps included. The forecast then sees one long
    history, so a product launched three weeks ago still gets a seasonal model.

    `scale` is the expected ratio new/predecessor (e.g. from marketing), per series or
    one number. Without it the ratio is estimated from weeks where both products sold
    without promotion (at least `min_overlap_weeks` of them, kept within
    SPLICE_SCALE_BOUNDS); with too little overlap it is 1 — a like-for-like replacement.
    """
    history = np.asarray(history, dtype=np.float64)
    predecessor_history = np.asarray(predecessor_history, dtype=np.float64)
    if history.ndim != 2 or predecessor_history.shape != history.shape:
        raise ValueError("history and predecessor_history must be 2-D arrays of one shape")
    n_series, n_weeks = history.shape
    promo = _bool_mask(promo_mask, history.shape, "promo_mask")
    predecessor_promo = _bool_mask(predecessor_promo_mask, history.shape, "predecessor_promo_mask")

    launch = _first_true(np.isfinite(history) | promo)
    before_launch = np.arange(n_weeks)[None, :] < launch[:, None]

    both_usable = (
        np.isfinite(history) & np.isfinite(predecessor_history) & ~promo & ~predecessor_promo
    )
    overlap = both_usable.sum(axis=1)
    new_sum = np.where(both_usable, history, 0.0).sum(axis=1)
    old_sum = np.where(both_usable, predecessor_history, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimated = np.clip(new_sum / old_sum, *SPLICE_SCALE_BOUNDS)
    estimable = (overlap >= min_overlap_weeks) & (old_sum > 0) & (new_sum > 0)
    if scale is None:
        factor = np.where(estimable, estimated, 1.0)
    else:
        factor = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n_series,)).copy()
        if not np.all(np.isfinite(factor) & (factor >= 0)):
            raise ValueError("scale must be finite and >= 0")

    take = before_launch & (np.isfinite(predecessor_history) | predecessor_promo)
    spliced = np.where(take, predecessor_history * factor[:, None], history)
    spliced_promo = np.where(take, predecessor_promo, promo)
    used = take.any(axis=1)
    return SplicedHistory(
        history=spliced,
        promo_mask=spliced_promo,
        used_predecessor=used,
        scale=np.where(used, factor, np.nan),
    )


def _bool_mask(mask: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray:
    if mask is None:
        return np.zeros(shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"{name} must have the shape of the history {shape}, not {mask.shape}")
    return mask.astype(bool)


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Column of each row's first True; the number of columns where there is none."""
    n_weeks = mask.shape[1]
    if n_weeks == 0:
        return np.zeros(mask.shape[0], dtype=np.int64)
    return np.where(mask.any(axis=1), mask.argmax(axis=1), n_weeks).astype(np.int64)
