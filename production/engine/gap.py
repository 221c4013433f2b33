"""What would close a plan's gap (pure numpy, no Django).

Where the plan is short, a planning review wants to know what would fix it: extra hours
on the line (overtime, an extra shift) and, where the plan already builds ahead, how many
weeks ahead it builds.

Extra units. shortage[p, t] is the backlog of product p at the end of the week production
week t serves. Extra units arriving by then lower that backlog and every later one, so the
least extra production that removes all backlog makes, by week t, the running maximum of
the backlog so far; week t's share is that maximum's growth. (Summing the backlog would
count units still waiting from last week twice.)

Weeks ahead. The engine moves work a full week cannot take to the latest earlier weeks
with room. Comparing the plan with the plan that has unlimited hours shows, for each
unit built ahead, the week it would otherwise have been made in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFT_HOURS = 8.0  # one extra shift on a line
WEEK_HOURS = 168.0  # no week has more


def extra_units_to_close(shortage: np.ndarray) -> np.ndarray:
    """(P, T) backlog per production week -> (P, T) extra units to make in each week."""
    backlog = np.maximum(np.nan_to_num(np.asarray(shortage, dtype=float)), 0.0)
    if backlog.size == 0:
        return backlog
    needed_by = np.maximum.accumulate(backlog, axis=-1)
    return np.diff(needed_by, axis=-1, prepend=0.0)


def extra_hours_to_close(shortage: np.ndarray, hours_per_unit: np.ndarray) -> np.ndarray:
    """(P, T) backlog and (P,) hours per unit -> (T,) extra line hours needed per week."""
    units = extra_units_to_close(shortage)
    if units.size == 0:
        return np.zeros(units.shape[-1] if units.ndim else 0)
    return (units * np.asarray(hours_per_unit, dtype=float)[:, None]).sum(axis=0)


@dataclass(frozen=True)
class ExtraHours:
    week: int  # index of the week the hours are added to
    for_week: int  # index of the week whose shortage they close
    hours: float

    @property
    def weeks_earlier(self) -> int:
        return self.for_week - self.week


def place_extra_hours(
    needed: np.ndarray,
    capacity: np.ndarray,
    week_hours: float = WEEK_HOURS,
    open_weeks: np.ndarray | None = None,
) -> tuple[list[ExtraHours], np.ndarray]:
    """(T,) extra hours each week needs and (T,) hours the line has -> where to add them.

    A week takes at most `week_hours`; what does not fit is built earlier, in the latest
    earlier weeks with hours left (units made earlier wait in stock). Weeks where
    `open_weeks` (T,) is False take nothing: their quotas are frozen, so extra hours
    there would change nothing. Returns the placements, week by week, and (T,) hours
    that fit nowhere (no earlier open week has room).
    """
    needed = np.maximum(np.nan_to_num(np.asarray(needed, dtype=float)), 0.0)
    room = np.maximum(week_hours - np.nan_to_num(np.asarray(capacity, dtype=float)), 0.0)
    if open_weeks is not None:
        room = np.where(np.asarray(open_weeks, dtype=bool), room, 0.0)
    placed: list[ExtraHours] = []
    unplaced = np.zeros_like(needed)
    for target in range(needed.size):
        left = needed[target]
        week = target
        while left > 1e-9 and week >= 0:
            take = min(left, room[week])
            if take > 1e-9:
                placed.append(ExtraHours(week, target, float(take)))
                room[week] -= take
                left -= take
            week -= 1
        unplaced[target] = left if left > 1e-9 else 0.0
    return sorted(placed, key=lambda p: (p.for_week, -p.week)), unplaced


@dataclass(frozen=True)
class BuildAhead:
    built_week: int  # index of the week the units are made in
    for_week: int  # index of the week they would be made in with unlimited hours
    units: float

    @property
    def weeks_ahead(self) -> int:
        return self.for_week - self.built_week


def build_ahead(production: np.ndarray, uncapacitated: np.ndarray) -> list[BuildAhead]:
    """One product's (T,) planned production and production with unlimited hours -> the
    units built ahead, the week each would otherwise be made in, and how far ahead.

    The lead E(t) = max(0, cumulative plan - cumulative unlimited plan) grows in the weeks
    that build ahead and shrinks in the weeks that use the stock built for them; each
    week's use is matched to the latest earlier build, the way the planner placed it."""
    planned = np.cumsum(np.maximum(np.nan_to_num(np.asarray(production, dtype=float)), 0.0))
    wanted = np.cumsum(np.maximum(np.nan_to_num(np.asarray(uncapacitated, dtype=float)), 0.0))
    lead = np.maximum(planned - wanted, 0.0)
    lead[lead < 1e-6 * max(1.0, float(wanted[-1]) if wanted.size else 1.0)] = 0.0
    change = np.diff(lead, prepend=0.0)
    built = np.maximum(change, 0.0)
    moves: list[BuildAhead] = []
    for target in range(lead.size):
        need = max(0.0, -change[target])
        source = target - 1
        while need > 1e-9 and source >= 0:
            take = min(need, built[source])
            if take > 1e-9:
                moves.append(BuildAhead(source, target, float(take)))
                built[source] -= take
                need -= take
            source -= 1
    return sorted(moves, key=lambda m: (m.built_week, m.for_week))
