"""The fast path: fill weeks from the last to the first, cheapest-to-hold work first.

backward_fill works on a relaxation of the line's problem; is_exact says whether its answer
is provably the exact optimum of the real problem (see the package docstring, "Why the fast
path is exact"). When it is not, the caller solves the linear programs instead, started
from that answer.
"""

from __future__ import annotations

import numpy as np

from production.engine._netting import LineProblem, to_arrival, to_production

# Requirements left unscheduled below this fraction of the line's largest need count as met.
_PENDING_TOLERANCE = 1e-9


def requirements(problem: LineProblem, products: np.ndarray) -> np.ndarray:
    """Cumulative units each product must have made by the end of each production week.

    From the first week r the product can be made in (free, with hours left) up to the last
    week whose output arrives in the horizon: the running maximum of what must have arrived
    (demand, safety stock, net of stock and frozen arrivals). Needs before r cannot be
    influenced and are left out, as the uncapacitated plan leaves them out.
    """
    lead = problem.lead_time[products]
    usable = problem.free_with_capacity[products]
    n_weeks = usable.shape[1]
    week = np.arange(n_weeks)[None, :]
    first = np.where(usable.any(axis=1), usable.argmax(axis=1), n_weeks)[:, None]
    in_horizon = week + lead[:, None] < n_weeks
    need = to_production(problem.need_safety[products], lead)
    counted = (week >= first) & in_horizon
    # Past the last useful week the running maximum simply carries on: nothing more is due.
    return np.maximum(np.maximum.accumulate(np.where(counted, need, -np.inf), axis=1), 0.0)


def backward_fill(problem: LineProblem, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill weeks from the last to the first (the relaxation described in the module
    docstring): the production (products x weeks) and the units each product still had
    pending when week 0 was filled. Always a plan of the relaxation; the caller decides
    whether it is exact (is_exact) or only a starting point (the LP's crash start)."""
    hours = problem.hours_per_unit[products]
    usable = problem.free_with_capacity[products]
    # A week in which none of these products may be made (a frozen window that covers them
    # all, a shutdown) is closed for everyone; only product-specific restrictions are relaxed.
    capacity = np.where(usable.any(axis=0), problem.capacity, 0.0)
    required = requirements(problem, products)
    n, n_weeks = required.shape
    due = np.diff(required, axis=1, prepend=0.0)
    # Ahead of time, units of cheap-per-hour products cost more unit-weeks of stock per hour
    # of capacity: keep them late (smallest hours_per_unit first), build the others ahead.
    order = np.argsort(hours, kind="stable")
    hours_sorted = hours[order]
    production = np.zeros((n, n_weeks))
    pending = np.zeros(n)
    for week in range(n_weeks - 1, -1, -1):
        pending += due[order, week]
        if capacity[week] <= 0:
            continue
        cumulative = np.cumsum(hours_sorted * pending)
        whole = int(np.searchsorted(cumulative, capacity[week], side="right"))
        made = pending.copy()
        made[whole:] = 0.0
        if whole < n:
            used = cumulative[whole - 1] if whole else 0.0
            made[whole] = min(pending[whole], max(capacity[week] - used, 0.0) / hours_sorted[whole])
        production[order, week] = made
        pending = np.maximum(pending - made, 0.0)
    unmet = np.zeros(n)
    unmet[order] = pending
    scale = max(1.0, float(np.abs(required).max(initial=0.0)))
    return production, np.where(unmet > _PENDING_TOLERANCE * scale, unmet, 0.0)


def is_exact(problem: LineProblem, products: np.ndarray, production, unmet) -> bool:
    """Whether backward_fill's answer is the exact optimum of the real problem."""
    if unmet.any():
        return False  # some requirement cannot be met on time: backlog trade-offs, use the LP
    # The relaxation used a frozen week: not a plan of the real problem.
    if np.any(production[~problem.free_with_capacity[products]] > 0):
        return False
    # Shelf life: the fill meets min(safety stock, cap) as late as it can, so its stock is the
    # least any plan without backlog can have; if that is over a cap somewhere, trade-offs
    # between products decide (the LP). Otherwise the argument of the package docstring holds.
    return not exceeds_cap(problem, products, production)


def exceeds_cap(problem: LineProblem, products: np.ndarray, production) -> bool:
    """Whether free production (products x weeks) takes stock over the shelf-life cap."""
    if not problem.capped:
        return False
    lead = problem.lead_time[products]
    stock = np.cumsum(to_arrival(production, lead), axis=1) - problem.need_backlog[products]
    cap = problem.cap[products]
    scale = max(1.0, float(np.abs(problem.need_safety[products]).max(initial=0.0)))
    return bool(np.any(stock > cap + _PENDING_TOLERANCE * scale))
