"""Capable-to-promise on the current plan: how much of an order for a product its line can
deliver by a week, and when the whole of it (production/engine/promise.py answers; this
reads its inputs and words its answer). Writes nothing.

    answer = promise_answer(sku="BEV-1001", quantity=800, week=date(2027, 3, 8))
    answer = promise_answer(sku="BEV-1001", per_week={date(2027, 3, 8): 400, ...})

The line's state is its inputs (selectors/line_inputs.py: demand, firm orders, stock, lead
times, run rates, capacity) with the plan of its latest recompute (the stored quota
recommendations) as the current production, and its frozen window. Weeks are Mondays in,
ISO week labels out.

Speed. Building the state reads the line (a few hundred ms on 500 products x 26 weeks), and
the engine's first promise on an over-committed line solves the line's least firm lateness
(about 1.5 s), which it keeps on the state. Both are kept per line and plan version in this
process (`_STATES`): the key is the line's latest recompute run (id and start time), the
line's version and frozen window, and the current week, so a new plan, a changed line or a
new week builds a new state. What can change between two plans without a recompute is
checked on every call instead: that the product is made on the line, not discontinued and
not held (a hold or a lifecycle change asks for a recompute, which the next plan carries).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError

from coordination.models import Line, Product
from coordination.weeks import add_weeks, current_week, iso_label, weeks_between
from production.engine.promise import LineState, PromiseRefused, promise
from production.models import ProductionHold, QuotaRecommendation
from production.selectors.line_inputs import load_line

# Lines whose state is kept (least recently used dropped first).
_KEEP = 16
_STATES: OrderedDict[tuple, LineState] = OrderedDict()
_LOCK = threading.Lock()
_UNITS = 3  # decimals of the units answered (as the quota recommendations store them)


@dataclass(frozen=True)
class WeekUnits:
    week: str
    units: float


@dataclass(frozen=True)
class DisplacedUnits:
    product: str
    week: str
    units: float


@dataclass(frozen=True)
class PromiseAnswer:
    """The engine's Promise in the API's words: SKUs, ISO weeks, units (see
    production.engine.promise.Promise for what each figure means)."""

    product: str
    line: str
    plan_run: int
    quantity: float
    week: str
    requested: list[WeekUnits]
    available: float
    full: bool
    earliest_week: str | None
    reason: str
    delivers: list[WeekUnits]
    uses: list[WeekUnits]
    displaces: list[DisplacedUnits]


def _refuse(field: str, message: str):
    raise ValidationError({field: [message]})


def _plan_version(line: Line):
    """(run id, run start) of the line's current plan, or None when it has none."""
    return (
        QuotaRecommendation.objects.filter(line=line)
        .order_by("-run_id")
        .values_list("run_id", "run__started_at")
        .first()
    )


def _build_state(line: Line, first_week: dt.date) -> LineState:
    inputs = load_line(line, first_week=first_week)
    row = {pid: i for i, pid in enumerate(inputs.product_ids)}
    production = np.zeros((len(inputs.product_ids), len(inputs.weeks)))
    for pid, week, units in QuotaRecommendation.objects.filter(
        line=line, product_id__in=inputs.product_ids, week__gte=first_week
    ).values_list("product_id", "week", "recommended_units"):
        k = weeks_between(first_week, week)
        if pid in row and k < len(inputs.weeks):
            production[row[pid], k] = units
    return LineState(
        products=tuple(inputs.product_ids),
        demand=inputs.demand,
        firm=inputs.firm,
        on_hand=inputs.on_hand,
        lead_time=inputs.lead_time,
        hours_per_unit=inputs.hours_per_unit,
        capacity_hours=inputs.capacity_hours,
        production=production,
        frozen_weeks=min(line.frozen_window_weeks, len(inputs.weeks)),
        hold_reason={pid: reason or "held" for pid, reason in inputs.hold_reason.items()},
    )


def line_state(line: Line, *, first_week: dt.date | None = None) -> tuple[LineState, int]:
    """The line's promise state on its current plan, and the plan's run id (kept per
    plan version, see the module docstring). ValidationError at `product` when the line
    has no plan yet."""
    first_week = first_week or current_week()
    version = _plan_version(line)
    if version is None:
        _refuse(
            "product",
            f"Line {line.name} has no plan yet: ask again after its first recompute.",
        )
    key = (line.pk, line.version, line.frozen_window_weeks, *version, first_week)
    with _LOCK:
        state = _STATES.get(key)
        if state is not None:
            _STATES.move_to_end(key)
            return state, version[0]
    state = _build_state(line, first_week)
    with _LOCK:
        # Plans a line no longer has are never asked for again: drop them first.
        for stale in [k for k in _STATES if k[0] == line.pk]:
            del _STATES[stale]
        _STATES[key] = state
        while len(_STATES) > _KEEP:
            _STATES.popitem(last=False)
    return state, version[0]


def forget_line_states() -> None:
    """Drop every kept state (tests, and a benchmark measuring a cold start)."""
    with _LOCK:
        _STATES.clear()


def _product(sku: str) -> Product:
    product = (
        Product.objects.select_related("production_line")
        .filter(sku=sku.strip().upper() if isinstance(sku, str) else sku)
        .first()
    )
    if product is None:
        _refuse("product", f"No product with SKU {sku}.")
    if product.lifecycle == Product.Lifecycle.DISCONTINUED:
        _refuse("product", f"{product.sku} cannot be promised: it is discontinued.")
    if product.production_line is None:
        _refuse("product", f"{product.sku} is not made on any line yet.")
    holds = list(
        ProductionHold.objects.filter(product=product, released_at__isnull=True)
        .order_by("pk")
        .values_list("reason", flat=True)
    )
    if holds:
        _refuse("product", _held(product, "; ".join(holds)))
    return product


def _held(product: Product, reason: str) -> str:
    return f"{product.sku} cannot be promised: on hold ({reason})."


def _units(value: float) -> float:
    return round(float(value), _UNITS)


def promise_answer(
    *,
    sku: str,
    quantity: float | None = None,
    week: dt.date | None = None,
    per_week: dict[dt.date, float] | None = None,
) -> PromiseAnswer:
    """Answer a request for `quantity` of `sku` by `week` (a Monday), or for `per_week`
    {Monday: units}. Raises ValidationError per field ("product", "quantity", "week",
    "per_week") for an unknown, discontinued, held or unplanned product, a quantity that
    is not more than 0, or a week in the past, in the frozen window or beyond the plan's
    horizon. An order larger than the line can make in the horizon is answered: not full,
    no earliest week, and the reason says it is not within the plan's horizon."""
    product = _product(sku)
    line = product.production_line
    first_week = current_week()
    state, run_id = line_state(line, first_week=first_week)
    if product.pk not in state.products:
        # Made on the line since its plan (or moved to it): the next recompute plans it.
        _refuse(
            "product",
            f"{product.sku} is not in line {line.name}'s current plan yet: ask again after "
            "its next recompute.",
        )
    try:
        if per_week is None:
            result = promise(state, product.pk, quantity, weeks_between(first_week, week))
        else:
            schedule: dict[int, float] = {}
            for monday, units in per_week.items():
                at = weeks_between(first_week, monday)
                schedule[at] = schedule.get(at, 0.0) + units
            result = promise(state, product.pk, per_week=schedule)
    except PromiseRefused as refused:
        field = refused.field if per_week is None else "per_week"
        _refuse(field, _message(refused, product, first_week, state))

    def label(index: int) -> str:
        return iso_label(add_weeks(first_week, index))

    reason = result.reason
    if result.earliest_week is None:
        reason = f"Not within the plan's horizon (to {label(state.n_weeks - 1)}): {reason}"
    return PromiseAnswer(
        product=product.sku,
        line=line.name,
        plan_run=run_id,
        quantity=_units(result.quantity),
        week=label(result.week),
        requested=[WeekUnits(label(w.week), _units(w.units)) for w in result.requested],
        available=_units(result.available),
        full=result.full,
        earliest_week=None if result.earliest_week is None else label(result.earliest_week),
        reason=reason,
        delivers=[WeekUnits(label(w.week), _units(w.units)) for w in result.delivers],
        uses=[WeekUnits(label(w.week), _units(w.units)) for w in result.uses if _units(w.units)],
        displaces=_displaced(result.displaces, label),
    )


def _displaced(items, label) -> list[DisplacedUnits]:
    skus = dict(
        Product.objects.filter(pk__in={item.product for item in items}).values_list("pk", "sku")
    )
    return [
        DisplacedUnits(skus[item.product], label(item.week), _units(item.units))
        for item in sorted(items, key=lambda item: (skus[item.product], item.week))
        if _units(item.units) > 0
    ]


def _message(refused: PromiseRefused, product: Product, first_week, state: LineState) -> str:
    """The engine's refusal in SKUs and weeks a person reads (its own speaks indices)."""
    line = product.production_line
    if refused.code == "held":
        return _held(product, state.hold_reason[product.pk])
    if refused.code == "past":
        return f"The week is in the past; this week is {iso_label(first_week)}."
    if refused.code == "frozen":
        open_week = iso_label(add_weeks(first_week, state.frozen_weeks))
        weeks = f"{state.frozen_weeks} week{'' if state.frozen_weeks == 1 else 's'}"
        return (
            f"The week is inside line {line.name}'s frozen window of {weeks}; the first "
            f"week open to new orders is {open_week}."
        )
    if refused.code == "beyond_horizon":
        last = iso_label(add_weeks(first_week, state.n_weeks - 1))
        return f"The week is beyond the plan's horizon, which ends in {last}."
    return refused.message
