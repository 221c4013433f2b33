"""production/economics: the money terms to the cent on hand-computed cases, and the
capacity effect's invariants on generated lines (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from production.economics import (
    DisplacedProduct,
    HeldStock,
    PromotedProduct,
    capacity_effect,
    present_money,
    present_pct,
    promotion_economics,
)
from production.economics.plan_value import plan_value

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def amounts(economics) -> dict:
    return {t.key: t.amount for t in economics.terms}


def test_a_promotion_that_displaces_another_product_by_hand():
    """A: 1,000 baseline units at 2.50 (cost 1.00), +40 %, 20 % off; 300 units built ahead
    for 900 unit-weeks at 20 % a year; B 150 units short at 0.80 margin; a learned -10 %
    dip over 400 baseline units.
        extra units      400 x (2.00 - 1.00)        =  400.00
        discount         1,000 x 2.50 x 0.20        = -500.00
        holding          900 x 1.00 x 0.20 / 52     =   -3.461538...
        displaced        150 x 0.80                 = -120.00
        dip              400 x 0.10 x (2.50 - 1.00) =  -60.00
        net                                         = -283.461538...
        break-even       (500 + 3.4615 + 120 + 60) / (1,000 x 1.00) = 68.346 %"""
    economics = promotion_economics(
        discount_pct=D("20"),
        products=[
            PromotedProduct(
                sku="A", unit_price=D("2.50"), unit_cost=D("1.00"), baseline_units=D("1000"),
                lift_pct=D("40"), dip_pct=D("-10"), dip_baseline_units=D("400"),
                dip_evidence="3 weeks after it",
            )
        ],
        held=[HeldStock("A", D("1.00"), D("20"), units=D("300"), unit_weeks=D("900"))],
        displaced=[DisplacedProduct("B", D("150"), D("0.80"))],
        currency="EUR",
    )  # fmt: skip
    assert amounts(economics) == {
        "extra_units_margin": D("400"),
        "discount_given_away": D("-500"),
        "holding_cost": -D("900") * D("0.2") / 52,
        "displaced_margin": D("-120"),
        "post_promotion_dip": D("-60"),
    }
    assert economics.net == D("-683.4615384615384615384615385") + D("400")
    assert present_money(economics.net, "EUR") == "−283.46 EUR"
    assert (economics.incremental_units, economics.incremental_revenue) == (D("400"), D("800"))
    assert economics.incremental_margin == D("-100")
    assert present_pct(economics.break_even_lift_pct) == "+68.3 %"
    assert economics.break_even.startswith("pays from +68.3 % lift")
    assert economics.pays is False
    texts = {t.key: t.explanation for t in economics.terms}
    assert "A: 400 extra units × (2.00 EUR − 1.00 EUR) = 400.00 EUR" in texts["extra_units_margin"]
    assert "A: 1,000 baseline units × 2.50 EUR × 20 % = −500.00 EUR" in texts["discount_given_away"]
    assert "900 more unit-weeks × 1.00 EUR × 20 % / 52 = −3.46 EUR" in texts["holding_cost"]
    assert "B: 150 more units short × 0.80 EUR margin = −120.00 EUR" in texts["displaced_margin"]
    assert (
        "A: the forecast's learned dip of −10.0 % (3 weeks after it); 40 units not bought"
        in texts["post_promotion_dip"]
    )


def test_units_the_full_line_cannot_supply_earn_nothing_and_move_the_break_even():
    """600 baseline units at 4.00 (cost 2.50), +50 % = 300 extra of which 100 cannot be
    made: 200 x (3.60 - 2.50) = 220.00; discount 600 x 4.00 x 10 % = -240.00; net -20.00.
    Break-even: (240 + 100 x 1.10) / (600 x 1.10) = 53.03 %."""
    economics = promotion_economics(
        discount_pct=D("10"),
        products=[
            PromotedProduct(
                sku="A", unit_price=D("4.00"), unit_cost=D("2.50"), baseline_units=D("600"),
                lift_pct=D("50"), unsupplied_units=D("100"),
            )
        ],
        held=[],
        displaced=[],
        currency="EUR",
    )  # fmt: skip
    assert amounts(economics)["extra_units_margin"] == D("220.00")
    assert economics.net == D("-20.00")
    assert economics.break_even_lift_pct.quantize(D("0.01")) == D("53.03")
    text = economics.terms[0].explanation
    assert "A: 200 extra units (100 of the expected lift the plan cannot supply)" in text


def test_a_discount_below_cost_never_pays():
    """At 50 % off 2.00 a unit sells at 1.00, below its 1.20 cost: no lift makes it pay."""
    economics = promotion_economics(
        discount_pct=D("50"),
        products=[PromotedProduct("A", D("2.00"), D("1.20"), D("100"), D("300"))],
        held=[],
        displaced=[],
        currency="EUR",
    )
    assert economics.net == D("-160")  # 300 x (1.00 - 1.20) = -60, 100 x 2.00 x 0.5 = -100
    assert (economics.break_even_lift_pct, economics.break_even) == (
        None,
        "never pays at this discount: an extra unit sells at or below its cost",
    )


def test_a_product_without_a_price_is_not_valued_as_zero():
    economics = promotion_economics(
        discount_pct=D("20"),
        products=[PromotedProduct("A", None, None, D("100"), D("40"))],
        held=[HeldStock("C", None, D("20"), D("10"), D("30"))],
        displaced=[DisplacedProduct("B", D("5"), None)],
        currency="EUR",
    )
    assert set(amounts(economics).values()) == {None, D(0)}
    assert (economics.no_price, economics.net, economics.incremental_revenue) == (
        ["A", "B", "C"],
        None,
        None,
    )
    assert economics.break_even_lift_pct is None
    assert present_money(economics.net, "EUR") == "no price"
    assert "A: 40 extra units × no price = no price" in economics.terms[0].explanation


def test_no_dip_where_history_shows_none_or_a_rise():
    economics = promotion_economics(
        discount_pct=D("0"),
        products=[
            PromotedProduct("A", D("1"), D("0.5"), D("10"), D("10"), dip_pct=D("4.5")),
            PromotedProduct("B", D("1"), D("0.5"), D("10"), D("10")),
        ],
        held=[],
        displaced=[],
        currency="EUR",
    )
    dip = economics.terms[-1]
    assert dip.amount == D(0)
    assert "A: no dip (+4.5 %), 0" in dip.explanation
    assert "B: no dip after its promotions is learned; counted as 0" in dip.explanation
    assert economics.break_even_lift_pct == D(0)


def test_money_is_rounded_half_even_at_presentation_only():
    assert [present_money(D(v), "EUR") for v in ("0.125", "0.135", "-0.005", "1234.5")] == [
        "0.12 EUR",
        "0.14 EUR",
        "0.00 EUR",
        "1,234.50 EUR",
    ]
    assert (present_pct(D("23.45")), present_pct(D("23.55"))) == ("+23.4 %", "+23.6 %")


# ----------------------------------------------------------------- capacity effect


@st.composite
def lines(draw, *, ample: bool):
    n = draw(st.integers(2, 4))
    t = draw(st.integers(6, 12))
    demand = np.array(
        draw(st.lists(st.integers(0, 40), min_size=n * t, max_size=n * t)), dtype=float
    ).reshape(n, t)
    hours = np.array(draw(st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=n, max_size=n)))
    lead = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    on_hand = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)), dtype=float)
    start = draw(st.integers(0, t - 1))
    length = draw(st.integers(1, t - start))
    lift = draw(st.integers(10, 200)) / 100
    with_ = demand.copy()
    with_[0, start : start + length] *= 1 + lift
    with_[0, start : start + length] += draw(st.integers(1, 30))
    need = (with_ * hours[:, None]).sum(axis=0)
    if ample:
        capacity = np.full(t, float(need.sum()) * 2 + 10)
    else:
        share = draw(st.integers(30, 100)) / 100
        capacity = np.full(t, float(need.mean()) * share)
    return {
        "demand_without": demand,
        "demand_with": with_,
        "on_hand": on_hand,
        "safety_stock": np.zeros(n),
        "lead_time": lead,
        "hours_per_unit": hours,
        "capacity_hours": capacity,
    }


def _displaced_term(line) -> D:
    effect = capacity_effect(**line)
    displaced = [
        DisplacedProduct(f"P{i}", D(str(round(e.short_units, 3))), D("1.25"))
        for i, e in enumerate(effect.products)
        if i > 0
    ]
    economics = promotion_economics(
        discount_pct=D("15"),
        products=[PromotedProduct("P0", D("3.00"), D("1.75"), D("100"), D("30"))],
        held=[],
        displaced=displaced,
        currency="EUR",
    )
    return amounts(economics)["displaced_margin"], effect


@PROPERTY_SETTINGS
@given(lines(ample=True))
def test_with_ample_capacity_nothing_is_displaced(line):
    amount, effect = _displaced_term(line)
    assert amount == D(0)
    assert [e.short_units for e in effect.products[1:]] == [0.0] * (len(effect.products) - 1)
    assert [e.prebuild_unit_weeks for e in effect.products] == [0.0] * len(effect.products)


@PROPERTY_SETTINGS
@given(lines(ample=False))
def test_on_a_full_line_the_displaced_margin_is_never_a_gain(line):
    amount, effect = _displaced_term(line)
    assert amount <= 0
    if all(e.short_units == 0 for e in effect.products[1:]):
        assert amount == 0
    assert all(
        e.short_units == 0 or e.short_units == e.short_with - e.short_without
        for e in effect.products
    )


def test_a_reshuffle_of_who_waits_is_no_gain_but_a_net_loss_counts():
    """On a full line the planner may leave B 30 units more short and C 40 fewer: at
    margins 1.00 and 0.50 that nets to -30 + 20 = -10.00 lost. With C 80 fewer it would
    net +10.00: counted as 0, not as a gain."""

    def displaced(c_units):
        return promotion_economics(
            discount_pct=D("0"),
            products=[PromotedProduct("A", D("1"), D("0.5"), D("10"), D("10"))],
            held=[],
            displaced=[
                DisplacedProduct("B", D("30"), D("1.00")),
                DisplacedProduct("C", D(c_units), D("0.50")),
            ],
            currency="EUR",
        ).terms[3]

    assert displaced("-40").amount == D("-10.00")
    gain = displaced("-80")
    assert gain.amount == D(0)
    assert "C: 80 fewer units short × 0.50 EUR margin = 40.00 EUR" in gain.explanation
    assert gain.explanation.endswith("no margin is lost overall.")


def test_a_plan_is_valued_week_by_week_by_hand():
    """Two products, three weeks. P0 (cost 2.00, margin 1.50) is built 10 ahead in week 0
    and used in week 2: held 10, 10, 0. P1 (no price) never holds; its backlog 0, 4, 3
    grows its peak by 4 in week 1: lost margin cannot be valued that week.
        holding: 10 x 2.00 x 26 % / 52 = 0.10 in weeks 0 and 1."""
    value = plan_value(
        skus=["P0", "P1"],
        production=np.array([[20.0, 10.0, 0.0], [5.0, 5.0, 6.0]]),
        uncapacitated=np.array([[10.0, 10.0, 10.0], [5.0, 5.0, 6.0]]),
        shortage=np.array([[0.0, 0.0, 0.0], [0.0, 4.0, 3.0]]),
        unit_cost=[D("2.00"), None],
        shortage_margin=[D("1.50"), None],
        holding_rate_pct=D("26"),
    )
    assert [(w.held_units, w.holding_cost) for w in value.weeks] == [
        (D("10.0"), D("0.1")),
        (D("10.0"), D("0.1")),
        (D("0"), D("0")),
    ]
    assert [(w.new_short_units, w.lost_margin) for w in value.weeks] == [
        (D("0"), D("0")),
        (D("4.0"), None),
        (D("0"), D("0")),
    ]
    assert (value.holding_cost, value.lost_margin, value.no_price) == (D("0.2"), None, ["P1"])
