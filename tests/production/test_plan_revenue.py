"""production/economics/plan_revenue.py: units sold, revenue and margin per group and
period, and the margin extra hours earn, to the cent by hand; properties with hypothesis."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from production.economics.capacity import plan_line
from production.economics.plan_revenue import margin_earned, sales_by_group, units_sold

TEA = (Decimal("2.00"), Decimal("1.25"))
TEA_LATER = (Decimal("2.15"), Decimal("1.30"))
WATER = (Decimal("0.90"), Decimal("0.50"))


def test_units_sold_is_demand_less_new_units_short():
    demand = np.array([[60.0, 60.0, 260.0, 60.0, 60.0]])
    # Backlog 80 in week 2, served in weeks 3 and 4: the peak (80) is lost once.
    shortage = np.array([[0.0, 0.0, 80.0, 40.0, 0.0]])
    assert units_sold(demand, shortage).tolist() == [[60.0, 60.0, 180.0, 60.0, 60.0]]


def test_sales_by_group_to_the_cent():
    sold = np.array([[10.0, 20.5, 0.0], [3.0, 0.0, 7.25]])
    prices = [[TEA, WATER], [TEA_LATER, WATER], [TEA_LATER, WATER]]
    found = sales_by_group(
        skus=["TEA", "SPW"],
        groups=["teas", "waters"],
        periods=["jan", "jan", "feb"],
        sold=sold,
        prices=prices,
    )
    teas = found[("teas", "jan")]
    # 10 x 2.00 + 20.5 x 2.15 = 64.075; margin 10 x 0.75 + 20.5 x 0.85 = 24.925
    assert (teas.units, teas.revenue, teas.margin) == (
        Decimal("30.5"),
        Decimal("64.075"),
        Decimal("24.925"),
    )
    assert ("teas", "feb") not in found  # nothing sold
    waters = found[("waters", "feb")]
    assert (waters.units, waters.revenue, waters.margin) == (
        Decimal("7.25"),
        Decimal("6.525"),
        Decimal("2.900"),
    )


def test_a_week_without_a_price_makes_the_money_none_never_zero():
    sold = np.array([[10.0, 5.0]])
    found = sales_by_group(
        skus=["TEA"], groups=["teas"], periods=["jan", "jan"], sold=sold, prices=[[TEA], [None]]
    )
    teas = found[("teas", "jan")]
    assert (teas.units, teas.revenue, teas.margin, teas.no_price) == (
        Decimal(15),
        None,
        None,
        {"TEA"},
    )


def test_margin_earned_by_extra_hours_by_hand():
    without = np.array([[60.0, 180.0, 60.0], [10.0, 10.0, 10.0]])
    with_ = np.array([[60.0, 260.0, 60.0], [10.0, 10.0, 10.0]])
    prices = [[TEA, None], [TEA, None], [TEA_LATER, None]]  # the unchanged product needs no price
    earned = margin_earned(
        skus=["TEA", "SPW"], sold_without=without, sold_with=with_, prices=prices
    )
    assert (earned.extra_units, earned.margin, earned.no_price) == (
        Decimal(80),
        Decimal("60.00"),
        [],
    )
    unpriced = margin_earned(
        skus=["TEA", "SPW"], sold_without=without, sold_with=with_, prices=[[None, None]] * 3
    )
    assert (unpriced.extra_units, unpriced.margin, unpriced.no_price) == (
        Decimal(80),
        None,
        ["TEA"],
    )


def _plan_sold(demand, capacity):
    n, h = demand.shape
    plan = plan_line(
        demand,
        on_hand=np.zeros(n),
        safety_stock=np.zeros(n),
        lead_time=np.zeros(n, dtype=int),
        hours_per_unit=np.ones(n),
        capacity_hours=np.full(h, capacity),
        frozen=None,
        hold=None,
    )
    return units_sold(demand, plan["shortage"])


demands = st.lists(
    st.lists(st.integers(min_value=0, max_value=200), min_size=6, max_size=6),
    min_size=1,
    max_size=3,
).map(lambda rows: np.array(rows, dtype=float))


@settings(max_examples=30, deadline=None)
@given(demand=demands, extra=st.integers(min_value=1, max_value=100))
def test_with_ample_capacity_extra_hours_earn_exactly_nothing(demand, extra):
    ample = float(demand.sum(axis=0).max()) + 1.0
    sold = _plan_sold(demand, ample)
    assert np.allclose(sold, demand)
    more = _plan_sold(demand, ample + extra)
    earned = margin_earned(
        skus=[f"P{i}" for i in range(demand.shape[0])],
        sold_without=sold,
        sold_with=more,
        prices=[[TEA] * demand.shape[0]] * demand.shape[1],
    )
    assert (earned.extra_units, earned.margin) == (Decimal(0), Decimal(0))


@settings(max_examples=30, deadline=None)
@given(demand=demands, capacity=st.integers(min_value=0, max_value=300))
def test_sold_units_never_exceed_demand_and_groups_add_up(demand, capacity):
    sold = _plan_sold(demand, float(capacity))
    assert (sold >= 0).all() and (sold <= demand + 1e-6).all()
    n, h = demand.shape
    found = sales_by_group(
        skus=[f"P{i}" for i in range(n)],
        groups=[i % 2 for i in range(n)],
        periods=[k // 3 for k in range(h)],
        sold=sold,
        prices=[[TEA] * n] * h,
    )
    units = sum((s.units for s in found.values()), Decimal(0))
    revenue = sum((s.revenue for s in found.values()), Decimal(0))
    assert revenue == units * Decimal("2.00")
