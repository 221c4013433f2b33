"""Whole units, batches and minimum runs on top of the continuous plan of a line.

The relaxation (the continuous plan: fast path or LP) is exact and fast; production must
then be whole multiples of each product's batch size, and in each free week 0 or at least
its minimum run. Three ways there, cheapest first (planner._plan_line picks):

- whole: the relaxation already is such a plan (up to solver noise): it is optimal.
- mip (_mip.solve_line_mip): small lines, the exact lexicographic mixed-integer optimum.
- rounded (round_plan, here): larger lines. Week by week, earliest first, each product's
  cumulative production is rounded UP to the next batch multiple (and a run below the
  minimum up to the minimum) of the relaxation's cumulative production, so no product is
  behind the relaxation - backlog is the first objective - unless a hard constraint says
  otherwise: never more than the shelf-life cap allows (rounded down to a batch, or 0
  under the minimum run), and where a week's hours are exceeded, batches are taken back
  from the products furthest ahead of the relaxation first, until the week fits; hours
  left over then go, a batch at a time, to the products furthest behind it. What is
  still owed to the relaxation is caught up by the following weeks' rounding, and what
  they cannot catch up (a later run the cap has no room for) by a larger run in the
  latest earlier week that can take it (_catch_up_earlier).
  Every hard constraint holds by construction; the objectives' distance to the
  relaxation is reported as the plan's relaxation gap.
"""

from __future__ import annotations

import numpy as np

from production.engine._netting import LineProblem

# Differences below this fraction of a product's largest need are solver noise.
_NOISE = 1e-6
_MOST_NOISE = 1e-3
# Relative slack allowed on a week's hours (float sums of whole units).
_HOURS_SLACK = 1e-13


def smallest_run(batch: np.ndarray, minimum_run: np.ndarray) -> np.ndarray:
    """The least positive production: the minimum run rounded up to a whole batch."""
    return np.maximum(batch, np.ceil(minimum_run / batch) * batch)


def cumulative_ceiling(problem: LineProblem, rows: np.ndarray) -> np.ndarray:
    """(rows, T) the most free production may have made by the end of each production week
    without taking stock over the shelf-life cap in any later week (np.inf without cap)."""
    shape = (rows.size, problem.demand.shape[1])
    if not problem.capped or rows.size == 0:
        return np.full(shape, np.inf)
    most = problem.need_backlog[rows] + problem.cap[rows]
    ceiling = np.minimum.accumulate(most[:, ::-1], axis=1)[:, ::-1]
    lead = problem.lead_time[rows]
    target = np.arange(shape[1])[None, :] + lead[:, None]
    values = np.take_along_axis(ceiling, np.clip(target, 0, shape[1] - 1), axis=1)
    return np.where(target < shape[1], values, 0.0)


def allowed_cells(problem: LineProblem, rows: np.ndarray) -> np.ndarray:
    """(rows, T) where free production may be planned: free weeks, and for products that
    use hours only weeks with hours left."""
    uses_hours = problem.hours_per_unit[rows] > 0
    return np.where(uses_hours[:, None], problem.free_with_capacity[rows], problem.free[rows])


def noise(problem: LineProblem, rows: np.ndarray) -> np.ndarray:
    """(rows,) units below which a difference is solver noise."""
    scale = np.abs(problem.need_safety[rows]).max(axis=1, initial=0.0)
    # Never as much as half a unit: 10.4 is not 10 whatever the scale.
    return np.minimum(_NOISE * np.maximum(1.0, scale), _MOST_NOISE)


def as_whole(problem, rows, continuous, batch, minimum_run) -> np.ndarray | None:
    """The relaxation's plan in whole batches if it already is one (up to noise) and
    still fits every week's hours; else None."""
    counts = np.round(continuous / batch[:, None])
    whole = counts * batch[:, None]
    if np.any(np.abs(whole - continuous) > noise(problem, rows)[:, None]):
        return None
    if np.any((whole > 0) & (whole < minimum_run[:, None])):
        return None
    if not fits_hours(problem, rows, whole):
        return None
    return whole


def fits_hours(problem: LineProblem, rows: np.ndarray, production: np.ndarray) -> bool:
    used = problem.hours_per_unit[rows] @ production
    return bool(np.all(used <= problem.capacity * (1 + _HOURS_SLACK)))


def round_plan(problem, rows, continuous, batch, minimum_run, capacity=None) -> np.ndarray:
    """Whole-batch free production (rows x T) from the relaxation's (see module docstring).
    capacity: (T,) hours to fit in (default: the line's hours left)."""
    n, n_weeks = continuous.shape
    production = np.zeros((n, n_weeks))
    if n == 0:
        return production
    hours = problem.hours_per_unit[rows]
    batch = batch.astype(float)
    smallest = smallest_run(batch, minimum_run)
    target = np.cumsum(continuous, axis=1)
    ceiling = cumulative_ceiling(problem, rows)
    allowed = allowed_cells(problem, rows)
    if capacity is None:
        capacity = problem.capacity
    else:
        allowed = problem.free[rows]
    tolerance = noise(problem, rows)
    made = np.zeros(n)
    for week in range(n_weeks):
        wanted = target[:, week] - made
        run = np.where(wanted > tolerance, np.ceil((wanted - tolerance) / batch) * batch, 0.0)
        run = np.where((run > 0) & (run < smallest), smallest, run)
        with np.errstate(invalid="ignore"):
            room = np.floor((ceiling[:, week] - made + tolerance) / batch) * batch
        room = np.where(np.isnan(room), np.inf, room)
        run = np.minimum(run, room)
        run = np.where(allowed[:, week] & (run >= smallest), run, 0.0)
        ahead = made + run - target[:, week]
        run = _fit_week(run, hours, capacity[week], ahead, batch, smallest)
        room = np.where(allowed[:, week], room, 0.0)
        run = _use_spare_hours(run, hours, capacity[week], ahead, batch, smallest, room, tolerance)
        production[:, week] = run
        made += run
    # Production arriving after the horizon has a ceiling of 0 there, which bounds that
    # week's own production, not the cumulative production of earlier weeks.
    arrives = np.arange(n_weeks)[None, :] + problem.lead_time[rows][:, None]
    # (NaN, as in the weeks above, is no ceiling.)
    ceiling = np.where((arrives < n_weeks) & ~np.isnan(ceiling), ceiling, np.inf)
    # Only what the relaxation made to leave no backlog is caught up (not safety stock):
    # the cumulative free production each week's arrivals need.
    need = np.take_along_axis(problem.need_backlog[rows], np.clip(arrives, 0, n_weeks - 1), axis=1)
    owed = np.minimum(target, np.where(arrives < n_weeks, need, -np.inf))
    return _catch_up_earlier(
        production, owed, target, ceiling, allowed, hours, capacity, batch, smallest, tolerance
    )


def _give_back(row, relaxed, start, batch, smallest) -> np.ndarray:
    """Take whole batches back from the runs from week `start` on (in place) while the
    product's cumulative production stays at or above the relaxation's in every later
    week, a run staying 0 or at least the smallest: what a larger earlier run made
    unnecessary later. Returns the units taken per week."""
    freed = np.zeros_like(row)
    ahead = np.cumsum(row) - relaxed
    slack = np.minimum.accumulate(ahead[::-1])[::-1]
    for week in range(start, row.size):
        if row[week] <= 0 or slack[week] < batch:
            continue
        take = min(np.floor(slack[week] / batch) * batch, row[week])
        if 0 < row[week] - take < smallest:
            take = row[week] - smallest
        if take <= 0:
            continue
        row[week] -= take
        freed[week] = take
        slack[week:] -= take
    return freed


def _catch_up_earlier(
    production, target, relaxed, ceiling, allowed, hours, capacity, batch, smallest, tolerance
):
    """Batches a product still owes the relaxation after the week-by-week rounding, made
    in the latest earlier week that can take them. `target`: the relaxation's cumulative
    production, where it serves backlog (not safety stock); `relaxed`: all of it.

    The rounding only looks forward: when a later run is held back (a minimum run the
    shelf-life cap has no room for, typically the last weeks before a product's demand
    ends), what the product is behind stays backlog, although an earlier run could have
    been larger. Here the first week a product is behind gets its deficit, in whole
    batches, from the latest week at or before it whose cell is free, whose hours left
    fit them and under whose cumulative shelf-life ceiling (from that week on) they stay;
    a week without a run must take at least the smallest run. Backlog is the first
    objective, so more stock earlier is the price of less backlog; the later runs it
    makes unnecessary are taken back (_give_back)."""
    spare = capacity - hours @ production
    behind_somewhere = (target - np.cumsum(production, axis=1) > tolerance[:, None]).any(axis=1)
    for i in np.flatnonzero(behind_somewhere):
        # Weeks that could take at least a batch of it at all (hours and free cells).
        usable = allowed[i] & (spare >= hours[i] * batch[i] * (1 - _HOURS_SLACK))
        done_through = dead = -1
        while usable.any():
            made = np.cumsum(production[i])
            behind = np.flatnonzero(target[i] - made > tolerance[i])
            behind = behind[behind > done_through]
            if behind.size == 0:
                break
            first = int(behind[0])
            deficit = target[i, first] - made[first]
            # What each week up to `first` may add: under the ceiling of every later week,
            # within its hours left, in whole batches; a new run at least the smallest.
            headroom = np.minimum.accumulate((ceiling[i] - made)[::-1])[::-1][: first + 1]
            if hours[i] > 0:
                headroom = np.minimum(headroom, spare[: first + 1] / hours[i])
            with np.errstate(invalid="ignore"):
                fits = np.floor((headroom + tolerance[i]) / batch[i]) * batch[i]
            need = np.ceil((deficit - tolerance[i]) / batch[i]) * batch[i]
            starting = production[i, : first + 1] == 0
            amount = np.minimum(np.where(starting, max(need, smallest[i]), need), fits)
            ok = usable[: first + 1] & (amount > 0) & ~(starting & (amount < smallest[i]))
            ok[: dead + 1] = False
            if not ok.any():
                # Nothing up to `first` can take it: left as backlog. Those weeks will not
                # take later deficits either (what they may add only shrinks), so the
                # next deficit worth a look lies at or after the next usable week.
                dead = first
                later = np.flatnonzero(usable[first + 1 :])
                if later.size == 0:
                    break
                done_through = first + int(later[0])
                continue
            week = int(np.flatnonzero(ok)[-1])
            production[i, week] += amount[week]
            spare[week] -= amount[week] * hours[i]
            usable[week] &= spare[week] >= hours[i] * batch[i] * (1 - _HOURS_SLACK)
            freed = _give_back(production[i], relaxed[i], first + 1, batch[i], smallest[i])
            spare += freed * hours[i]
    return production


def _fit_week(run, hours, capacity, ahead, batch, smallest) -> np.ndarray:
    """Take batches back until the week's hours fit, furthest ahead first."""
    run = run.copy()
    limit = capacity * (1 + _HOURS_SLACK)
    while float(hours @ run) > limit:
        over = float(hours @ run) - capacity
        candidates = np.nonzero((run > 0) & (hours > 0))[0]
        cut = np.where(
            run[candidates] - batch[candidates] >= smallest[candidates],
            batch[candidates],
            run[candidates],
        )
        order = np.argsort(-ahead[candidates], kind="stable")
        saved = np.cumsum(hours[candidates][order] * cut[order])
        take = min(int(np.searchsorted(saved, over, side="left")) + 1, order.size)
        chosen = candidates[order[:take]]
        run[chosen] -= cut[order[:take]]
        ahead[chosen] -= cut[order[:take]]
    return run


def _use_spare_hours(run, hours, capacity, ahead, batch, smallest, room, tolerance):
    """Hours a week has left after whole batches were taken back go, a batch at a time, to
    the products furthest behind the relaxation (their deficit would become backlog)."""
    behind = np.nonzero((ahead < -tolerance) & (hours > 0))[0]
    if behind.size == 0:
        return run
    spare = capacity - float(hours @ run)
    for i in behind[np.argsort(ahead[behind], kind="stable")]:
        while ahead[i] < -tolerance[i]:
            step = batch[i] if run[i] > 0 else smallest[i]
            if step * hours[i] > spare or run[i] + step > room[i]:
                break
            run[i] += step
            ahead[i] += step
            spare -= step * hours[i]
    return run


def unplannable(
    problem: LineProblem,
    rows: np.ndarray,
    batch: np.ndarray,
    minimum_run: np.ndarray,
    line_capacity: np.ndarray,
) -> list[str | None]:
    """Per row, a sentence when the product can never be made although it has demand to
    meet: its smallest run needs more hours than any week of the line has, or is more
    than its shelf life lets it sell. None otherwise."""
    sentences: list[str | None] = [None] * rows.size
    if rows.size == 0:
        return sentences
    smallest = smallest_run(batch.astype(float), minimum_run)
    hours = problem.hours_per_unit[rows]
    allowed = problem.free[rows]
    ceiling = cumulative_ceiling(problem, rows)
    needs = problem.need_backlog[rows].max(axis=1, initial=0.0) > 0
    most_hours = float(line_capacity.max(initial=0.0))
    for i in range(rows.size):
        if not needs[i] or not allowed[i].any():
            continue
        what = _run_name(int(batch[i]), int(minimum_run[i]), smallest[i])
        if hours[i] > 0 and smallest[i] * hours[i] > most_hours * (1 + _HOURS_SLACK):
            sentences[i] = (
                f"{what} needs {smallest[i] * hours[i]:,.1f} hours; "
                f"the line never has more than {most_hours:,.1f} in a week"
            )
            continue
        room = ceiling[i][allowed[i]].max(initial=0.0)
        if np.isfinite(room) and smallest[i] > room + noise(problem, rows[i : i + 1])[0]:
            sentences[i] = (
                f"{what} is more than it can sell within its shelf life: "
                f"at most {max(room, 0.0):,.0f} units fit under the cap"
            )
    return sentences


def _run_name(batch: int, minimum_run: int, smallest: float) -> str:
    if minimum_run > batch:
        if smallest != minimum_run:
            return (
                f"a minimum run of {minimum_run:,} units ({smallest:,.0f} in batches of {batch:,})"
            )
        return f"a minimum run of {minimum_run:,} units"
    return f"a batch of {batch:,} units"
