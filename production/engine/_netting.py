"""One line's planning problem after netting: what is fixed, what is needed, what is free.

Arrays are indexed (product, week). A *production week* s is when units are made; they arrive
in week s + lead_time. `need_backlog[p, t]` is the number of units that free (not frozen)
production must have delivered by the end of arrival week t for product p to have no
backlog in week t; `need_safety` adds the safety stock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def to_arrival(production: np.ndarray, lead_time: np.ndarray) -> np.ndarray:
    """Units arriving in week t: production[p, t - lead_time[p]] (0 before the lead time)."""
    n_weeks = production.shape[1]
    if production.size == 0:
        return np.zeros_like(production)
    source = np.arange(n_weeks)[None, :] - lead_time[:, None]
    arrived = np.take_along_axis(production, np.clip(source, 0, n_weeks - 1), axis=1)
    return np.where(source >= 0, arrived, 0.0)


def to_production(arrival: np.ndarray, lead_time: np.ndarray) -> np.ndarray:
    """Inverse of to_arrival for weeks whose arrival falls inside the horizon."""
    n_weeks = arrival.shape[1]
    if arrival.size == 0:
        return np.zeros_like(arrival)
    target = np.arange(n_weeks)[None, :] + lead_time[:, None]
    made = np.take_along_axis(arrival, np.clip(target, 0, n_weeks - 1), axis=1)
    return np.where(target < n_weeks, made, 0.0)


@dataclass(frozen=True)
class LineProblem:
    """One production line, netted. P = products on the line, T = weeks."""

    demand: np.ndarray  # (P, T)
    on_hand: np.ndarray  # (P,)
    safety_stock: np.ndarray  # (P,)
    lead_time: np.ndarray  # (P,)
    hours_per_unit: np.ndarray  # (P,)
    hold: np.ndarray  # (P,)
    fixed: np.ndarray  # (P, T) production that is given: frozen values, 0 when held
    free: np.ndarray  # (P, T) bool, production week the planner may use (ignoring capacity)
    capacity: np.ndarray  # (T,) hours left after fixed production, never negative
    need_backlog: np.ndarray  # (P, T) by arrival week
    need_safety: np.ndarray  # (P, T) by arrival week

    @property
    def capacitated(self) -> np.ndarray:
        """Products whose production uses line hours and may be planned."""
        return (self.hours_per_unit > 0) & ~self.hold

    @property
    def free_with_capacity(self) -> np.ndarray:
        """Free production weeks that still have hours left (what capacitated products use)."""
        return self.free & (self.capacity > 0)[None, :]


def net_line(
    demand: np.ndarray,
    on_hand: np.ndarray,
    safety_stock: np.ndarray,
    lead_time: np.ndarray,
    hours_per_unit: np.ndarray,
    capacity: np.ndarray,
    frozen: np.ndarray,
    hold: np.ndarray,
) -> LineProblem:
    n_weeks = demand.shape[1]
    # A stop-ship recall wins over an accepted (frozen) quota: held products make nothing.
    is_frozen = ~np.isnan(frozen) & ~hold[:, None]
    fixed = np.where(is_frozen, np.nan_to_num(frozen), 0.0)
    fixed_hours = (hours_per_unit[:, None] * fixed).sum(axis=0)
    remaining = np.maximum(capacity - fixed_hours, 0.0)
    # Production that would arrive after the horizon cannot serve its demand: not planned.
    in_horizon = np.arange(n_weeks)[None, :] + lead_time[:, None] < n_weeks
    free = ~is_frozen & ~hold[:, None] & in_horizon
    owed = np.cumsum(demand, axis=1) - on_hand[:, None]
    need_backlog = owed - np.cumsum(to_arrival(fixed, lead_time), axis=1)
    return LineProblem(
        demand=demand,
        on_hand=on_hand,
        safety_stock=safety_stock,
        lead_time=lead_time,
        hours_per_unit=hours_per_unit,
        hold=hold,
        fixed=fixed,
        free=free,
        capacity=remaining,
        need_backlog=need_backlog,
        need_safety=need_backlog + safety_stock[:, None],
    )


def latest_plan(need: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """The latest production that meets `need` wherever it can, with no capacity limit.

    `slots[p, t]` marks the arrival weeks into which product p may deliver. The cumulative
    delivery Y must cover need[t] for every week from the first slot on; the pointwise
    smallest such Y is, at each slot, the running maximum of the need over the weeks up to
    the next slot. Returns the deliveries by arrival week (non-negative, only at slots).
    """
    n_products, n_weeks = need.shape
    delivered = np.zeros((n_products, n_weeks))
    if need.size == 0:
        return delivered
    window_max = np.empty_like(need)
    window_max[:, -1] = need[:, -1]
    for week in range(n_weeks - 2, -1, -1):
        window_max[:, week] = np.where(
            slots[:, week + 1], need[:, week], np.maximum(need[:, week], window_max[:, week + 1])
        )
    cumulative = np.zeros(n_products)
    for week in range(n_weeks):
        reached = np.where(slots[:, week], np.maximum(cumulative, window_max[:, week]), cumulative)
        delivered[:, week] = reached - cumulative
        cumulative = reached
    return delivered


def uncapacitated_plan(problem: LineProblem) -> np.ndarray:
    """Production (by production week) of the optimal plan if the line had unlimited hours."""
    slots = to_arrival(problem.free.astype(float), problem.lead_time) > 0
    arrivals = latest_plan(problem.need_safety, slots)
    return to_production(arrivals, problem.lead_time)
