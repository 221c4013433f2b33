"""What a line's plan sells and earns, and what extra hours earn (pure, Decimal money, no
ORM). The planning review holds it against the budget.

Per product p and week t (the demand's week):
    units sold(p, t) = demand(p, t) - new units short(p, t)
where new units short is the growth of the product's highest backlog so far (as in
plan_value.py: over the horizon they add up to its peak backlog, the units the plan loses).
Then, at the price and cost in force in week t:
    revenue = units sold x unit price        margin = units sold x (unit price - unit cost)
A product that sells units in a week without a price there cannot be valued: that
week's money is None (never 0) and its SKU is named.

Extra hours earn the margin of the units they let the plan sell:
    margin earned = margin(plan with the extra hours) - margin(plan without)
both valued week by week as above. Units are taken to the thousandth (UNIT) before any
money is computed, so every figure is a sum of exact Decimal products.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from production.economics.plan_value import UNIT, new_short_units

# (unit price, unit cost) in force, or None: no price.
Price = tuple[Decimal, Decimal] | None


def units_sold(demand: np.ndarray, shortage: np.ndarray) -> np.ndarray:
    """(P, T) units the plan sells each week: demand less the new units short."""
    demand = np.maximum(np.nan_to_num(np.asarray(demand, dtype=float)), 0.0)
    short = new_short_units(np.asarray(shortage, dtype=float))
    return np.maximum(demand - short, 0.0)


def as_units(value: float) -> Decimal:
    """Planner output (float units) as Decimal, to the thousandth of a unit."""
    return Decimal(str(round(float(value), UNIT)))


@dataclass
class Sales:
    """Units sold and their money over some product-weeks; money None once one of them
    sold without a price."""

    units: Decimal = Decimal(0)
    revenue: Decimal | None = Decimal(0)
    margin: Decimal | None = Decimal(0)
    no_price: set[str] = field(default_factory=set)

    def add(self, sku: str, units: Decimal, price: Price) -> None:
        if not units:
            return
        self.units += units
        if price is None:
            self.no_price.add(sku)
            self.revenue = self.margin = None
        elif self.revenue is not None and self.margin is not None:
            unit_price, unit_cost = price
            self.revenue += units * unit_price
            self.margin += units * (unit_price - unit_cost)

    def absorb(self, other: Sales) -> None:
        """Add another set of product-weeks' sales to these."""
        self.units += other.units
        self.no_price |= other.no_price
        if self.revenue is None or other.revenue is None:
            self.revenue = None
        else:
            self.revenue += other.revenue
        if self.margin is None or other.margin is None:
            self.margin = None
        else:
            self.margin += other.margin


def sales_by_group(
    *,
    skus: Sequence[str],
    groups: Sequence[Hashable],
    periods: Sequence[Hashable],
    sold: np.ndarray,
    prices: Sequence[Sequence[Price]],
) -> dict[tuple[Hashable, Hashable], Sales]:
    """Units sold, revenue and margin per (group of the product, period of the week).

    `sold` is (P, T); `prices[t][p]` the price in force for product p in week t; `groups`
    (P,) e.g. the product line of each product; `periods` (T,) e.g. each week's month."""
    totals: dict[tuple[Hashable, Hashable], Sales] = {}
    for p, (sku, group) in enumerate(zip(skus, groups, strict=True)):
        for t, period in enumerate(periods):
            units = as_units(sold[p, t])
            if units:
                totals.setdefault((group, period), Sales()).add(sku, units, prices[t][p])
    return totals


@dataclass(frozen=True)
class EarnedByHours:
    extra_units: Decimal  # units sold with the extra hours that the plan does not sell
    margin: Decimal | None  # None: some of those units have no price
    no_price: list[str]


def margin_earned(
    *,
    skus: Sequence[str],
    sold_without: np.ndarray,
    sold_with: np.ndarray,
    prices: Sequence[Sequence[Price]],
) -> EarnedByHours:
    """The margin the plan with extra hours earns over the plan without them."""
    without, with_ = Sales(), Sales()
    no_price: set[str] = set()
    for p, sku in enumerate(skus):
        for t in range(sold_without.shape[1]):
            before, after = as_units(sold_without[p, t]), as_units(sold_with[p, t])
            if before == after:
                continue  # the same units at the same price: nothing earned
            without.add(sku, before, prices[t][p])
            with_.add(sku, after, prices[t][p])
            if prices[t][p] is None:
                no_price.add(sku)
    margin = (
        None if with_.margin is None or without.margin is None else with_.margin - without.margin
    )
    return EarnedByHours(
        extra_units=with_.units - without.units, margin=margin, no_price=sorted(no_price)
    )
