"""Input checking for plan_quotas: shapes, types and ranges, with messages a caller can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlanInputs:
    """The validated, copied inputs of one plan_quotas call (see plan_quotas for meanings)."""

    demand: np.ndarray  # (P, T) float
    on_hand: np.ndarray  # (P,) float
    safety_stock: np.ndarray  # (P,) float
    lead_time: np.ndarray  # (P,) int
    line_of: np.ndarray  # (P,) int
    hours_per_unit: np.ndarray  # (P,) float
    capacity_hours: np.ndarray  # (L, T) float
    frozen: np.ndarray  # (P, T) float, NaN where not frozen
    hold: np.ndarray  # (P,) bool
    lines: tuple[int, ...]  # the lines to plan, ascending
    usable_weeks: np.ndarray  # (P,) float, whole numbers >= 0 or np.inf (no shelf-life limit)
    batch_size: np.ndarray  # (P,) int >= 1
    minimum_run: np.ndarray  # (P,) int >= 0

    @property
    def n_products(self) -> int:
        return self.demand.shape[0]

    @property
    def n_weeks(self) -> int:
        return self.demand.shape[1]

    @property
    def n_lines(self) -> int:
        return self.capacity_hours.shape[0]


def _float_array(name: str, value, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    return array


def _int_array(name: str, value, n: int) -> np.ndarray:
    array = _float_array(name, value, 1)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"{name} must hold whole numbers")
    return array.astype(np.int64)


def _vector(name: str, value, n: int) -> np.ndarray:
    array = _float_array(name, value, 1)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return array


def _usable_weeks(value, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, np.inf)
    array = _float_array("usable_weeks", value, 1)
    if array.shape != (n,):
        raise ValueError(f"usable_weeks must have shape ({n},), got {array.shape}")
    if np.any(np.isnan(array)):
        raise ValueError("usable_weeks must not be NaN (use np.inf for no shelf-life limit)")
    if np.any(array < 0):
        raise ValueError(
            "usable_weeks must not be negative: the shelf life must cover the lead time "
            "and the minimum remaining life"
        )
    finite = array[np.isfinite(array)]
    if np.any(finite != np.round(finite)):
        raise ValueError("usable_weeks must hold whole numbers of weeks (or np.inf)")
    return array


def _whole_counts(name: str, value, n: int, default: int, least: int) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=np.int64)
    array = _int_array(name, value, n)
    if np.any(array < least):
        raise ValueError(f"{name} must be at least {least}")
    return array


def validate_inputs(
    demand,
    on_hand,
    safety_stock,
    lead_time,
    line_of,
    hours_per_unit,
    capacity_hours,
    frozen,
    hold,
    lines: Iterable[int] | None,
    usable_weeks=None,
    batch_size=None,
    minimum_run=None,
) -> PlanInputs:
    demand = _float_array("demand", demand, 2)
    n_products, n_weeks = demand.shape
    if np.any(np.isnan(demand)):
        raise ValueError("demand contains NaN; use 0 for weeks without demand")
    if not np.all(np.isfinite(demand)):
        raise ValueError("demand must be finite")
    if np.any(demand < 0):
        raise ValueError("demand must not be negative")

    on_hand = _vector("on_hand", on_hand, n_products)
    safety_stock = _vector("safety_stock", safety_stock, n_products)
    if np.any(safety_stock < 0):
        raise ValueError("safety_stock must not be negative")
    lead_time = _int_array("lead_time", lead_time, n_products)
    if np.any(lead_time < 0):
        raise ValueError("lead_time must not be negative")
    hours_per_unit = _vector("hours_per_unit", hours_per_unit, n_products)
    if np.any(hours_per_unit < 0):
        raise ValueError("hours_per_unit must not be negative")

    capacity_hours = _float_array("capacity_hours", capacity_hours, 2)
    if capacity_hours.shape[1] != n_weeks:
        raise ValueError(
            f"capacity_hours must have shape (lines, {n_weeks}) to match demand, "
            f"got {capacity_hours.shape}"
        )
    if not np.all(np.isfinite(capacity_hours)):
        raise ValueError("capacity_hours must be finite (no NaN or infinity)")
    if np.any(capacity_hours < 0):
        raise ValueError("capacity_hours must not be negative")
    n_lines = capacity_hours.shape[0]

    line_of = _int_array("line_of", line_of, n_products)
    if np.any((line_of < 0) | (line_of >= n_lines)):
        raise ValueError(f"line_of must be in 0..{n_lines - 1} (one row of capacity_hours each)")

    if frozen is None:
        frozen = np.full((n_products, n_weeks), np.nan)
    else:
        frozen = _float_array("frozen", frozen, 2)
        if frozen.shape != (n_products, n_weeks):
            raise ValueError(
                f"frozen must have shape {(n_products, n_weeks)} like demand, got {frozen.shape}"
            )
        kept = frozen[~np.isnan(frozen)]
        if not np.all(np.isfinite(kept)) or np.any(kept < 0):
            raise ValueError("frozen values must be finite and not negative (NaN = not frozen)")

    if hold is None:
        hold = np.zeros(n_products, dtype=bool)
    else:
        raw = np.asarray(hold)
        if raw.shape != (n_products,):
            raise ValueError(f"hold must have shape ({n_products},), got {raw.shape}")
        if raw.dtype != bool and not np.all(np.isin(raw, (0, 1))):
            raise ValueError("hold must be boolean")
        hold = raw.astype(bool)

    if lines is None:
        chosen = tuple(range(n_lines))
    else:
        chosen_list = [int(line) for line in lines]
        if any(line < 0 or line >= n_lines for line in chosen_list):
            raise ValueError(f"lines must be in 0..{n_lines - 1}")
        chosen = tuple(sorted(set(chosen_list)))

    return PlanInputs(
        demand=demand,
        on_hand=on_hand,
        safety_stock=safety_stock,
        lead_time=lead_time,
        line_of=line_of,
        hours_per_unit=hours_per_unit,
        capacity_hours=capacity_hours,
        frozen=frozen,
        hold=hold,
        lines=chosen,
        usable_weeks=_usable_weeks(usable_weeks, n_products),
        batch_size=_whole_counts("batch_size", batch_size, n_products, 1, 1),
        minimum_run=_whole_counts("minimum_run", minimum_run, n_products, 0, 0),
    )
