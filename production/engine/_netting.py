"""One line's planning problem after netting: what is fixed, what is needed, what is free.

Arrays are indexed (product, week). A *production week* s is when units are made; they arrive
in week s + lead_time. `need_backlog[p, t]` is the number of units that free (not frozen)
production must have delivered by the end of arrival week t for product p to have no
backlog in week t; `need_safety` adds the safety stock (as far as the shelf-life cap lets
stock rise: min(safety stock, cap)).

Shelf life. `usable_weeks[p]` = u is how long a unit may wait in stock after it arrives and
still ship with the customer's minimum remaining life. With FIFO, stock at the end of week t
ships in weeks t+1.. first, so it is all fresh enough exactly when it does not exceed the
demand of weeks t+1..t+u (demand past the horizon = mean of the last min(4, T) weeks).
Where the stock with no new production (opening stock + frozen arrivals) already exceeds
that, the cap for the week is that stock: production cannot undo it, and adds nothing there.
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
    # (P, T) effective shelf-life cap on the net stock at the end of each arrival week
    # (np.inf where none); None = no cap anywhere.
    cap: np.ndarray | None = None

    @property
    def stock_cap(self) -> np.ndarray:
        """The cap as an array (np.inf where there is none)."""
        if self.cap is None:
            return np.full(self.need_backlog.shape, np.inf)
        return self.cap

    @property
    def capped(self) -> bool:
        return self.cap is not None and bool(np.isfinite(self.cap).any())

    @property
    def capacitated(self) -> np.ndarray:
        """Products whose production uses line hours and may be planned."""
        return (self.hours_per_unit > 0) & ~self.hold

    @property
    def free_with_capacity(self) -> np.ndarray:
        """Free production weeks that still have hours left (what capacitated products use)."""
        return self.free & (self.capacity > 0)[None, :]


def shelf_life_cap(demand: np.ndarray, usable_weeks: np.ndarray) -> np.ndarray:
    """(P, T) demand and (P,) usable weeks (np.inf = no limit) -> (P, T) the FIFO cap:
    demand of weeks t+1..t+u, weeks past the horizon at the mean of the last min(4, T)."""
    n_products, n_weeks = demand.shape
    cap = np.full((n_products, n_weeks), np.inf)
    limited = np.isfinite(usable_weeks)
    if n_weeks == 0 or not limited.any():
        return cap
    rows = demand[limited]
    # Past the horizon every week counts the tail mean, so a huge u only scales it (2**40
    # weeks keeps the integer arithmetic exact and is as good as no limit).
    u = np.minimum(usable_weeks[limited], 2.0**40).astype(np.int64)[:, None]
    tail = rows[:, -min(4, n_weeks) :].mean(axis=1)[:, None]
    cumulative = np.cumsum(rows, axis=1)
    week = np.arange(n_weeks)[None, :]
    last = np.minimum(week + u, n_weeks - 1)
    inside = np.take_along_axis(cumulative, last, axis=1) - cumulative
    beyond = np.maximum(week + u - (n_weeks - 1), 0)
    cap[limited] = inside + tail * beyond
    return cap


def net_line(
    demand: np.ndarray,
    on_hand: np.ndarray,
    safety_stock: np.ndarray,
    lead_time: np.ndarray,
    hours_per_unit: np.ndarray,
    capacity: np.ndarray,
    frozen: np.ndarray,
    hold: np.ndarray,
    cap: np.ndarray | None = None,
) -> LineProblem:
    """cap: (P, T) shelf-life cap (shelf_life_cap) or None; made effective here."""
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
    safety = np.broadcast_to(safety_stock[:, None], need_backlog.shape)
    if cap is not None and np.isfinite(cap).any():
        # Stock with no new production is -need_backlog: where it already exceeds the cap,
        # that stock is the cap (nothing new may arrive by then).
        cap = np.maximum(cap, -need_backlog)
        safety = np.minimum(safety, cap)
    else:
        cap = None
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
        need_safety=need_backlog + safety,
        cap=cap,
    )


def latest_plan(need: np.ndarray, slots: np.ndarray, most: np.ndarray | None = None) -> np.ndarray:
    """The latest production that meets `need` wherever it can, with no capacity limit.

    `slots[p, t]` marks the arrival weeks into which product p may deliver. The cumulative
    delivery Y must cover need[t] for every week from the first slot on; the pointwise
    smallest such Y is, at each slot, the running maximum of the need over the weeks up to
    the next slot. Returns the deliveries by arrival week (non-negative, only at slots).

    most: (P, T) the most that may have been delivered by the end of each week (the shelf
    -life cap); Y never rises above its minimum over the weeks still to come, and where
    that is below the need the need is met only up to it.
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
    if most is None:
        ceiling = np.full((n_products, n_weeks), np.inf)
    else:
        ceiling = np.minimum.accumulate(most[:, ::-1], axis=1)[:, ::-1]
    cumulative = np.zeros(n_products)
    for week in range(n_weeks):
        target = np.minimum(window_max[:, week], ceiling[:, week])
        reached = np.where(slots[:, week], np.maximum(cumulative, target), cumulative)
        delivered[:, week] = reached - cumulative
        cumulative = reached
    return delivered


def uncapacitated_plan(problem: LineProblem) -> np.ndarray:
    """Production (by production week) of the optimal plan if the line had unlimited hours."""
    slots = to_arrival(problem.free.astype(float), problem.lead_time) > 0
    most = None if problem.cap is None else problem.need_backlog + problem.cap
    arrivals = latest_plan(problem.need_safety, slots, most)
    return to_production(arrivals, problem.lead_time)
