"""Capable-to-promise: how much of a customer's order a line can deliver, and when
(pure numpy/scipy, no Django).

    from production.engine.promise import LineState, promise, PromiseRefused

The model is the planner's (see the package docstring): products of one line, weeks of the
horizon, stock on hand now (negative = owed), lead times (units made in week s arrive in
week s + lead time), hours per unit and the line's hours per week; held products make
nothing. On top of it a promise keeps:

- the frozen window: weeks before `frozen_weeks` keep the current plan's production, of
  every product (nothing is added, moved or removed there);
- every firm order: for each product and week, stock on hand plus everything that has
  arrived covers the firm orders due so far (owed stock counts as firm), first come, first
  served. Where the line cannot meet its firm orders anyway (before anything new can
  arrive, or firm orders above the line's hours), their total lateness is not made worse.

Forecast demand and safety stock are not protected: a promise may take the hours that would
have made them (that is what it *displaces*).

Promised quantity. The request is a delivery schedule O(t): cumulative units wanted by week
t (one week, or a quantity per week). Delivering its first x units (O_x = min(O, x)) is
possible exactly when a production plan exists that keeps all the above and also covers
O_x on top of the product's firm orders. The promise is the largest such x - the maximum
the planner could add, which tests/production/test_promise_properties.py checks against a
linear program with the order added as firm demand.

Why it is fast and exact. With the frozen window fixed, every non-held product may be made
in any week from the first unfrozen week W up to the last week whose output arrives in the
horizon, so the line is one machine with a common start: a set of cumulative requirements
R_p(d) (units of p to have made from W through production week d) can be met iff, for every
d, the hours they need by d fit in the hours of weeks W..d (a Hall condition):

    sum_p hours_per_unit[p] * R_p(d) <= C(d).

The firm requirements alone give slack(d) = C(d) - sum_p h_p R_p(d). The order adds
max(0, n(d) + O_x(d + L)) - max(0, n(d)) to the product's requirement (n: its firm need net
of stock, nondecreasing from W), so each week gives one bound b(t) with min(O(t), x) <= b(t),
and before the first week whose production can arrive, stock net of firm orders must cover
the order. x is the smallest b(t) among the weeks whose O(t) exceeds it: O(P x T) numpy.
When the firm orders alone break the condition (the line is over-committed after W), the
answer comes from two linear programs instead (_promise_lp): least firm lateness, then the
largest order that keeps it.

What it uses and displaces. The plan with the order is rebuilt from the first unfrozen week
by a backward fill (as the planner's fast path does): per product the target is to cover
the demand the current plan covers (and at least its firm orders), plus the order; each
week first makes what the firm orders and the order still need so that the earlier weeks
can finish them (always possible while the Hall condition holds), then fills its remaining
hours with the rest, products with the fewest hours per unit kept latest. What no week has
hours for is forecast demand given up (safety stock is not a target). `displaces` compares
the backlog of that plan with the current plan's, product by product and week by week.
With no order, the current plan itself shows the hours suffice for the target, so when it
meets the firm orders every unit reported is due to the order (where it does not, the
rebuilt plan gives them their hours first and the forecast they take shows too).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np

from production.engine._netting import to_arrival
from production.engine._promise_lp import LineLP, OrderLP
from production.engine._validate import _float_array, _int_array

# Relative tolerance (of the line's largest cumulative figure) below which units are noise.
_TOLERANCE = 1e-9


class PromiseRefused(ValueError):
    """A request the engine will not answer. `field` names the input at fault ("product",
    "quantity" or "week"), `code` says why in a word a service can map to its own message."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True)
class WeekUnits:
    week: int  # index into the horizon
    units: float


@dataclass(frozen=True)
class Displaced:
    """Forecast demand of `product` that becomes short: `units` more backlog at the end of
    arrival week `week` than the current plan has (units waiting, not new units per week)."""

    product: Hashable
    week: int
    units: float


def _array(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    array = _float_array(name, value, len(shape))
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class LineState:
    """The current plan of one line and the inputs it was planned from. P products, T weeks.

    products: (P,) keys (product ids), unique. demand (P, T): the plan's demand per week
    (forecast + firm orders + adjustments). firm (P, T): the firm orders in it. on_hand (P,):
    stock now, negative when owed. lead_time (P,) whole weeks. hours_per_unit (P,).
    capacity_hours (T,) the line's hours per week. production (P, T): the current plan's
    production per week. frozen_weeks: the first unfrozen week's index (weeks before it keep
    their production). hold_reason: product key -> why it is held (stop-ship, discontinued);
    held products make nothing and are refused.
    """

    products: tuple
    demand: np.ndarray
    firm: np.ndarray
    on_hand: np.ndarray
    lead_time: np.ndarray
    hours_per_unit: np.ndarray
    capacity_hours: np.ndarray
    production: np.ndarray
    frozen_weeks: int
    hold_reason: Mapping = field(default_factory=dict)

    def __post_init__(self):
        products = tuple(self.products)
        if len(set(products)) != len(products):
            raise ValueError("products must be unique")
        n = len(products)
        demand = np.array(self.demand, dtype=float)
        if demand.ndim != 2 or demand.shape[0] != n:
            raise ValueError(f"demand must have shape ({n}, weeks), got {demand.shape}")
        weeks = demand.shape[1]
        set_ = object.__setattr__
        set_(self, "products", products)
        for name in ("demand", "firm", "production"):
            set_(self, name, _array(name, getattr(self, name), (n, weeks)))
        for name in ("on_hand", "hours_per_unit"):
            set_(self, name, _array(name, getattr(self, name), (n,)))
        lead_time = _int_array("lead_time", self.lead_time, n)
        lead_time.setflags(write=False)
        set_(self, "lead_time", lead_time)
        set_(self, "capacity_hours", _array("capacity_hours", self.capacity_hours, (weeks,)))
        for name in ("demand", "firm", "production", "hours_per_unit", "capacity_hours"):
            if np.any(getattr(self, name) < 0):
                raise ValueError(f"{name} must not be negative")
        if np.any(self.lead_time < 0):
            raise ValueError("lead_time must not be negative")
        frozen = int(self.frozen_weeks)
        if frozen != self.frozen_weeks or not 0 <= frozen <= weeks:
            raise ValueError(f"frozen_weeks must be a whole number in 0..{weeks}")
        set_(self, "frozen_weeks", frozen)
        unknown = [key for key in self.hold_reason if key not in set(products)]
        if unknown:
            raise ValueError(f"hold_reason names products not on the line: {unknown[:3]}")
        set_(self, "hold_reason", dict(self.hold_reason))
        set_(self, "_index", {key: i for i, key in enumerate(products)})

    @property
    def n_weeks(self) -> int:
        return self.demand.shape[1]

    @property
    def held(self) -> np.ndarray:
        return np.array([key in self.hold_reason for key in self.products], dtype=bool)

    def index(self, product) -> int:
        return self._index[product]


@dataclass(frozen=True)
class Promise:
    """The answer to a request. Weeks are indices into the line's horizon.

    requested: the deliveries asked for; quantity their total; week the last of them (the
        wanted week). available: units deliverable by their requested weeks (the first
        `available` units of the schedule) without breaking a firm order or the frozen window.
    earliest_week: the earliest week by which the whole quantity can be delivered (the
        schedule moved later as a block), or None: not within the plan's horizon (`reason`).
    delivers: the deliveries the figures below describe - the full schedule at the earliest
        week, or, if there is none, the `available` part at the requested weeks.
    uses: weeks in which the plan with the order makes more of the product than the current
        plan, and how many more (none when stock no firm order needs covers the order).
    displaces: forecast demand (of any product) that becomes short.
    production: (P, T) the plan with the order (read-only). method: "fast" or "lp".
    """

    product: Hashable
    requested: tuple[WeekUnits, ...]
    quantity: float
    week: int
    available: float
    earliest_week: int | None
    reason: str
    delivers: tuple[WeekUnits, ...]
    uses: tuple[WeekUnits, ...]
    displaces: tuple[Displaced, ...]
    production: np.ndarray
    method: str

    @property
    def full(self) -> bool:
        """The whole quantity by the wanted week."""
        return self.earliest_week == self.week

    def displaced_units(self) -> dict:
        """Per product, the most units of its demand waiting at once because of the order."""
        peak: dict = {}
        for item in self.displaces:
            peak[item.product] = max(peak.get(item.product, 0.0), item.units)
        return peak


def _line_lp(line: LineState, net: _Netted) -> LineLP:
    """Level 1 of an over-committed line, solved once per LineState (it is immutable)."""
    model = line.__dict__.get("_line_lp")
    if model is None:
        model = LineLP(line, net)
        object.__setattr__(line, "_line_lp", model)
    return model


def _request(line: LineState, product, quantity, week, per_week) -> tuple[int, np.ndarray]:
    """Validate the request; returns the product's row and the cumulative schedule O (T,)."""
    if not isinstance(product, Hashable) or product not in line._index:
        raise PromiseRefused("product", "unknown", f"{product!r} is not made on this line.")
    if product in line.hold_reason:
        reason = line.hold_reason[product] or "held"
        raise PromiseRefused("product", "held", f"{product!r} cannot be promised: {reason}.")
    if per_week is None:
        if quantity is None or week is None:
            raise ValueError("give quantity and week, or per_week")
        schedule = {week: quantity}
    else:
        if quantity is not None or week is not None:
            raise ValueError("give quantity and week, or per_week, not both")
        schedule = dict(per_week)
        if not schedule:
            raise PromiseRefused("quantity", "empty", "Give at least one week and quantity.")
    n_weeks = line.n_weeks
    wanted = np.zeros(n_weeks)
    for when, units in schedule.items():
        if isinstance(when, bool) or not isinstance(when, int | np.integer):
            raise PromiseRefused("week", "invalid", "Weeks are whole numbers (horizon indices).")
        try:
            if isinstance(units, bool | str):
                raise TypeError(units)
            units = float(units)
        except (TypeError, ValueError):
            raise PromiseRefused("quantity", "invalid", "Quantity must be a number.") from None
        if not np.isfinite(units) or units <= 0:
            raise PromiseRefused("quantity", "not_positive", "Quantity must be more than 0.")
        if when < line.frozen_weeks:
            raise PromiseRefused(
                "week",
                "frozen" if when >= 0 else "past",
                "The week is inside the frozen window; the first week open to new orders "
                f"is week {line.frozen_weeks}."
                if when >= 0
                else "The week is in the past.",
            )
        if when >= n_weeks:
            raise PromiseRefused(
                "week",
                "beyond_horizon",
                f"The week is beyond the plan's horizon (weeks 0..{n_weeks - 1}).",
            )
        wanted[when] += units
    return line.index(product), np.cumsum(wanted)


@dataclass(frozen=True)
class _Netted:
    """The line's firm requirements in production-week terms, weeks W..T-1 (d = W + j)."""

    need_arrival: np.ndarray  # (P, T) firm units still to arrive by week t, net of stock
    rows: np.ndarray  # capacitated, non-held products that can be made in the horizon
    need: np.ndarray  # (P, nW) n_p(d), carried past the product's last production week
    cover: np.ndarray  # (P, nW) the same for the demand the current plan covers
    makeable: np.ndarray  # (P,) the product has a production week in the horizon
    hours_left: np.ndarray  # (nW,) capacity of weeks W..T-1
    slack: np.ndarray  # (nW,) C(d) - sum_p h_p R_p(d)
    scale: float


def _net(line: LineState) -> _Netted:
    n_weeks, first = line.n_weeks, line.frozen_weeks
    lead = line.lead_time
    fixed = np.zeros_like(line.production)
    fixed[:, :first] = line.production[:, :first]
    need_arrival = (
        np.cumsum(line.firm, axis=1)
        - line.on_hand[:, None]
        - np.cumsum(to_arrival(fixed, lead), axis=1)
    )
    held = line.held
    last = n_weeks - 1 - lead  # last production week whose output arrives in the horizon
    makeable = (last >= first) & ~held
    n_free = n_weeks - first
    day = first + np.arange(n_free)[None, :]
    arrival = np.minimum(np.minimum(day, last[:, None]) + lead[:, None], n_weeks - 1)
    supply = line.on_hand[:, None] + np.cumsum(to_arrival(line.production, lead), axis=1)
    covered = (
        np.minimum(np.cumsum(line.demand, axis=1), supply)
        - line.on_hand[:, None]
        - np.cumsum(to_arrival(fixed, lead), axis=1)
    )
    at = np.maximum(arrival, 0)

    def by_day(arrays):
        if not n_free:
            return np.zeros((len(line.products), 0))
        return np.where(makeable[:, None], np.take_along_axis(arrays, at, axis=1), 0.0)

    need, cover = by_day(need_arrival), by_day(covered)
    rows = np.nonzero(makeable & (line.hours_per_unit > 0))[0]
    hours_left = np.array(line.capacity_hours[first:], dtype=float)
    required_hours = (line.hours_per_unit[rows, None] * np.maximum(need[rows], 0.0)).sum(axis=0)
    slack = np.cumsum(hours_left) - required_hours
    scale = max(
        1.0,
        float(np.abs(need_arrival).max(initial=0.0)),
        float(np.abs(line.production).sum(axis=1).max(initial=0.0)),
    )
    return _Netted(need_arrival, rows, need, cover, makeable, hours_left, slack, scale)


def _bounds(line: LineState, net: _Netted, p: int) -> np.ndarray:
    """(T,) b(t): delivering O_x is possible iff min(O(t), x) <= b(t) for every week t."""
    n_weeks, first = line.n_weeks, line.frozen_weeks
    lead, hours = int(line.lead_time[p]), float(line.hours_per_unit[p])
    bound = -net.need_arrival[p].copy()  # weeks only stock and frozen arrivals can serve
    if not net.makeable[p]:
        return bound
    start = first + lead
    if hours == 0:
        bound[start:] = np.inf
        return bound
    need = net.need[p]
    room = np.maximum(need, 0.0) + net.slack / hours - need
    last = n_weeks - 1 - lead - first  # index j of the product's last production week
    bound[start:] = room[: last + 1]
    bound[n_weeks - 1] = room[last:].min()
    return bound


def _max_delivery(schedule: np.ndarray, bound: np.ndarray, tol: float) -> float:
    total = float(schedule[-1])
    binding = (schedule > 0) & (schedule > bound + tol)
    if not binding.any():
        return total
    return max(0.0, min(total, float(bound[binding].min())))


def _shifted(schedule: np.ndarray, weeks: int) -> np.ndarray:
    moved = np.zeros_like(schedule)
    moved[weeks:] = schedule[: schedule.size - weeks]
    return moved


def _fill(units: np.ndarray, hours: np.ndarray, budget: float) -> np.ndarray:
    """Make `units` (in priority order) within `budget` hours; the last one partly."""
    if budget <= 0 or units.size == 0:
        return np.zeros_like(units)
    cumulative = np.cumsum(hours * units)
    whole = int(np.searchsorted(cumulative, budget, side="right"))
    made = units.copy()
    made[whole:] = 0.0
    if whole < units.size:
        used = cumulative[whole - 1] if whole else 0.0
        made[whole] = min(units[whole], max(budget - used, 0.0) / hours[whole])
    return made


def _rebuild(line: LineState, net: _Netted, p: int, order: np.ndarray, hard=None) -> np.ndarray:
    """The plan with the order (see the module docstring, "What it uses and displaces").

    hard: (rows, weeks W..T-1) cumulative units that must be made, order included; by
    default each product's firm need and the order's. On an over-committed line the linear
    program gives it (firm lateness kept at its least)."""
    first = line.frozen_weeks
    production = np.array(line.production, dtype=float)
    if not net.makeable[p]:
        return production
    lead = int(line.lead_time[p])
    n_weeks = line.n_weeks
    day = first + np.arange(n_weeks - first)
    order_by_day = order[np.minimum(np.minimum(day, n_weeks - 1 - lead) + lead, n_weeks - 1)]
    extra = np.maximum(net.need[p] + order_by_day, 0.0) - np.maximum(net.need[p], 0.0)
    covered = np.maximum(net.cover[p] + order_by_day, 0.0) - np.maximum(net.cover[p], 0.0)
    if line.hours_per_unit[p] == 0:
        # No hours: make the order when it is due, on top of the current plan.
        production[p, first:] += np.diff(np.maximum(extra, covered), prepend=0.0)
        return production
    rows = net.rows
    at = int(np.nonzero(rows == p)[0][0])
    # Keep the demand the current plan covers covered, and deliver the order on top.
    planned = np.maximum(net.cover[rows], 0.0)
    planned[at] += covered
    if hard is None:
        hard = np.maximum(net.need[rows], 0.0)
        hard[at] += extra
    target = np.maximum(planned, hard)
    priority = np.argsort(line.hours_per_unit[rows], kind="stable")
    hard, target = hard[priority], target[priority]
    hours = line.hours_per_unit[rows][priority]
    capacity_before = np.concatenate(([0.0], np.cumsum(net.hours_left)))
    n_free = net.hours_left.size
    made = np.zeros((rows.size, n_free))
    need = np.zeros(rows.size)
    hard_need = np.zeros(rows.size)
    last_made = np.zeros(rows.size)
    for j in range(n_free - 1, -1, -1):
        need = np.maximum(target[:, j], need - last_made)
        hard_need = np.maximum(hard[:, j], hard_need - last_made)
        hard_before = hard[:, j - 1] if j else np.zeros(rows.size)
        target_before = target[:, j - 1] if j else np.zeros(rows.size)
        budget = float(net.hours_left[j])
        # Hours that must be made now so that weeks W..j-1 can still finish the hard work.
        late = float(hours @ np.maximum(hard_before, hard_need)) - capacity_before[j]
        week = np.zeros(rows.size)
        if late > 0:
            week = _fill(np.maximum(hard_need - hard_before, 0.0), hours, min(late, budget))
            budget -= float(hours @ week)
        week += _fill(np.maximum(need - target_before - week, 0.0), hours, budget)
        made[:, j] = week
        last_made = week
    production[rows[priority], first:] = made
    return production


def _backlog(line: LineState, production: np.ndarray, extra_demand: np.ndarray) -> np.ndarray:
    stock = (
        line.on_hand[:, None]
        + np.cumsum(to_arrival(production, line.lead_time), axis=1)
        - np.cumsum(line.demand + extra_demand, axis=1)
    )
    return np.maximum(-stock, 0.0)


def _describe(line, net, p, delivered, hard, tol):
    production = _rebuild(line, net, p, delivered, hard)
    production.setflags(write=False)
    order_demand = np.zeros_like(line.demand)
    order_demand[p] = np.diff(delivered, prepend=0.0)
    more = _backlog(line, production, order_demand) - _backlog(line, line.production, 0.0)
    displaces = tuple(
        Displaced(line.products[q], int(t), float(more[q, t]))
        for q, t in zip(*np.nonzero(more > tol), strict=True)
    )
    change = production[p] - line.production[p]
    uses = tuple(WeekUnits(int(s), float(change[s])) for s in np.nonzero(change > tol)[0])
    return production, uses, displaces


def _as_weeks(schedule: np.ndarray, tol: float) -> tuple[WeekUnits, ...]:
    step = np.diff(schedule, prepend=0.0)
    return tuple(WeekUnits(int(t), float(step[t])) for t in np.nonzero(step > tol)[0])


def promise(line: LineState, product, quantity=None, week=None, *, per_week=None) -> Promise:
    """Answer a request for `quantity` units of `product` by `week` (an index into the
    line's horizon), or for a schedule `per_week` {week: units}. Raises PromiseRefused for
    an unknown or held product, a quantity that is not a positive number, or a week in the
    past, inside the frozen window or beyond the horizon."""
    p, schedule = _request(line, product, quantity, week, per_week)
    net = _net(line)
    tol = _TOLERANCE * max(net.scale, float(schedule[-1]))
    total = float(schedule[-1])
    wanted = int(np.nonzero(np.diff(schedule, prepend=0.0) > 0)[0].max())
    bound = _bounds(line, net, p)
    firm_fits = bool(np.all(net.slack >= -tol * max(1.0, float(net.hours_left.sum()))))
    if firm_fits or line.hours_per_unit[p] == 0 or not net.makeable[p]:
        method = "fast"

        def deliverable(delivery):
            return _max_delivery(delivery, bound, tol)
    else:
        method = "lp"
        order_lp = OrderLP(_line_lp(line, net), line, p)

        def deliverable(delivery):
            return min(order_lp.max_order(delivery, bound, tol), total)

    available = deliverable(schedule)
    # Moving a schedule later never makes it harder: bisect on how many weeks later.
    reached = {0: available}

    def fits(later: int) -> bool:
        if later not in reached:
            reached[later] = deliverable(_shifted(schedule, later))
        return reached[later] >= total - tol

    earliest, reason, last_shift = None, "", line.n_weeks - 1 - wanted
    if fits(0):
        earliest = wanted
    elif last_shift and fits(last_shift):
        low, high = 0, last_shift
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if fits(middle) else (middle, high)
        earliest = wanted + high
    if earliest is None:
        fits(last_shift)
        at_end = reached[last_shift]
        lead = int(line.lead_time[p])
        if not net.makeable[p]:
            reason = (
                f"Nothing made from week {line.frozen_weeks} on arrives within the plan's "
                f"horizon (lead time {lead} weeks), and stock not promised to firm orders "
                f"covers {at_end:.0f} of {total:.0f} units."
            )
        else:
            reason = (
                f"The line can deliver at most {at_end:.0f} of {total:.0f} units by the "
                f"last week of the plan's horizon (week {line.n_weeks - 1}) without breaking "
                "a firm order."
            )
        delivered = np.minimum(schedule, available)
    else:
        delivered = _shifted(schedule, earliest - wanted)
    hard = order_lp.hard_requirements(delivered) if method == "lp" else None
    production, uses, displaces = _describe(line, net, p, delivered, hard, tol)
    return Promise(
        product=product,
        requested=_as_weeks(schedule, 0.0),
        quantity=total,
        week=wanted,
        available=max(0.0, available) if available < total - tol else total,
        earliest_week=earliest,
        reason=reason,
        delivers=_as_weeks(delivered, tol),
        uses=uses,
        displaces=displaces,
        production=production,
        method=method,
    )
