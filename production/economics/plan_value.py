"""What a line's plan costs, week by week (pure, Decimal money, no ORM).

Per week t, over the line's products p:
    holding cost of pre-build = sum of units held because built ahead(p, t) x unit cost(p)
                                x holding rate / 52      (one week of holding)
    margin lost to shortages  = sum of new units short(p, t) x margin lost per unit(p)
where units held because built ahead is capacity.stock_built_ahead, and new units short is
the growth of the product's highest backlog so far: over the horizon they add up to its
peak backlog, the measure the promotion's economics use. A product without a price that
holds or loses units cannot be valued: the week's figure is None and the SKU is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from production.economics.capacity import stock_built_ahead
from production.economics.terms import HUNDRED, WEEKS_A_YEAR

UNIT = 3  # planner output is valued to the thousandth of a unit


@dataclass(frozen=True)
class WeekValue:
    held_units: Decimal
    holding_cost: Decimal | None
    new_short_units: Decimal
    lost_margin: Decimal | None


@dataclass(frozen=True)
class PlanValue:
    weeks: list[WeekValue]
    holding_cost: Decimal | None
    lost_margin: Decimal | None
    no_price: list[str] = field(default_factory=list)


def _units(value: float) -> Decimal:
    return Decimal(str(round(float(value), UNIT)))


def new_short_units(shortage: np.ndarray) -> np.ndarray:
    """(P, T) growth of each product's highest backlog so far."""
    peak = np.maximum.accumulate(np.maximum(np.nan_to_num(shortage), 0.0), axis=1)
    return np.diff(peak, axis=1, prepend=0.0)


def _total(values) -> Decimal | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values, Decimal(0))


def plan_value(
    *,
    skus: list[str],
    production: np.ndarray,
    uncapacitated: np.ndarray,
    shortage: np.ndarray,
    unit_cost: list[Decimal | None],
    shortage_margin: list[Decimal | None],
    holding_rate_pct: Decimal,
) -> PlanValue:
    held = stock_built_ahead(production, uncapacitated)
    short = new_short_units(shortage)
    no_price: set[str] = set()
    holding_factor = holding_rate_pct / HUNDRED / WEEKS_A_YEAR

    def week_sum(units_column, prices, factor) -> tuple[Decimal, Decimal | None]:
        """(units, their money) over the products in one week; None if one is unpriced."""
        total_units, money = Decimal(0), Decimal(0)
        for sku, value, price in zip(skus, units_column, prices, strict=True):
            units = _units(value)
            if not units:
                continue
            total_units += units
            if price is None:
                no_price.add(sku)
                money = None
            elif money is not None:
                money += units * price * factor
        return total_units, money

    weeks = [
        WeekValue(
            *week_sum(held[:, k], unit_cost, holding_factor),
            *week_sum(short[:, k], shortage_margin, Decimal(1)),
        )
        for k in range(held.shape[1])
    ]
    return PlanValue(
        weeks=weeks,
        holding_cost=_total(w.holding_cost for w in weeks),
        lost_margin=_total(w.lost_margin for w in weeks),
        no_price=sorted(no_price),
    )
