"""Promotion effects: measured against a counterfactual, learned, and carried by forecasts.

Engine (demand.engine.effects) on known synthetic truth, the learned dip in the forecast
(demand.services.forecasting), and the dip in the quota waterfall and sentence."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordination.models import RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.engine.effects import (
    NO_DIP,
    DipEstimate,
    MeasuredEffect,
    PromotionSpan,
    fit_counterfactuals,
    fit_lift_curve,
    learn_dip,
    learn_lift_curves,
    measure_cannibalization,
    measure_effects,
)
from demand.models import DemandForecast, Promotion, PromotionItem, SalesActual
from demand.selectors.lift import learned_dips
from demand.services.forecasting import forecast_products
from demand.services.promotions import promotion_set_status
from production.selectors.dashboard import explanation_steps
from production.selectors.schedule import recommendation_explanation
from tests.factories import (
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    QuotaRecommendationFactory,
    SalesActualFactory,
    UserFactory,
)


def week(k: int):
    return add_weeks(current_week(), k)


# ---------------------------------------------------------------------------- engine


def seasonal_line(weeks=156, products=3, amplitude=0.4, peak=10):
    t = np.arange(weeks)
    season = 1 + amplitude * np.cos(2 * math.pi * (t - peak) / 52)
    levels = np.array([100.0, 250.0, 400.0][:products])
    return levels[:, None] * season[None, :]


def test_a_promotion_on_a_seasonal_peak_is_not_credited_with_the_season():
    base = seasonal_line()
    units = base.copy()
    # Product 0: +50 % on the peak of year 2 and in the trough of year 3, then -20 % for
    # 2 weeks; product 1: +30 % two weeks before the peak of year 1.
    spans = [PromotionSpan(0, 62, 63, 20.0), PromotionSpan(0, 140, 141, 20.0)]
    for span in spans:
        units[0, span.start : span.end + 1] *= 1.5
        units[0, span.end + 1 : span.end + 3] *= 0.8
    spans.append(PromotionSpan(1, 8, 9, 10.0))
    units[1, 8:10] *= 1.3

    peak, trough, early = measure_effects(units, spans, 52, groups=[7, 7, 7])

    assert peak.lift_pct == pytest.approx(50.0, abs=0.5)
    assert trough.lift_pct == pytest.approx(50.0, abs=0.5)
    assert early.lift_pct == pytest.approx(30.0, abs=0.5)
    assert peak.counterfactual == pytest.approx(base[0, 62:64].mean(), rel=0.005)
    assert [round(v) for v in peak.dip_profile] == [-20, -20, 0, 0]
    # Against the 8 weeks before it (the previous method) the peak promotion is credited
    # with the season's rise as well.
    before = units[0, 54:62].mean()
    assert (units[0, 62:64].mean() / before - 1) * 100 == pytest.approx(57.8, abs=0.05)


def test_too_few_clean_weeks_or_missing_sales_measure_nothing():
    units = np.full((1, 12), 100.0)
    units[0, 5] = np.nan
    spans = [PromotionSpan(0, 1, 2, 10.0), PromotionSpan(0, 5, 5, 10.0)]
    assert measure_effects(units, spans, 52) == [None, None]


def test_the_lift_line_without_a_prior_holds_its_slope_toward_zero():
    curve = fit_lift_curve([10.0, 30.0], [20.0, 60.0])
    # Centred on 20: (a, b) solve [[2, 0], [0, 200 + 1 * 100]] (a, b) = (80, 400).
    assert (curve.center, curve.intercept) == (20.0, 40.0)
    assert curve.slope == pytest.approx(400 / 300)
    assert curve.at(35.0) == pytest.approx(40 + 15 * 400 / 300)


def test_one_product_promotion_leans_on_the_line():
    line = fit_lift_curve([10.0, 30.0], [20.0, 60.0])
    own = fit_lift_curve([20.0], [70.0], prior=line)
    # [[1 + 2, 0], [0, 0 + 2 * 100]] (a, b) = (70 + 2 * 40, 2 * 100 * slope).
    assert own.intercept == pytest.approx(50.0)
    assert own.slope == pytest.approx(line.slope)
    assert fit_lift_curve([], [], prior=None) is None


def test_the_dip_in_the_weeks_after_a_promotion_does_not_move_the_shared_season():
    # The weeks after a promotion count for the line's season with an effect of their
    # own per product and week after: how deep the dip is changes nothing else.
    rng = np.random.default_rng(5)
    base = seasonal_line() * np.exp(0.05 * rng.standard_normal((3, 156)))
    clean = np.ones(base.shape, dtype=bool)
    after = np.zeros(base.shape, dtype=np.int64)
    for start in (60, 110):
        clean[0, start : start + 6] = False
        after[0, start + 2 : start + 6] = [1, 2, 3, 4]
    seasons = []
    for depth in (1.0, 0.8, 0.5):
        units = base.copy()
        units[0, after[0] == 1] *= depth
        units[0, after[0] == 2] *= depth**2
        fit = fit_counterfactuals(units, clean, [1, 1, 1], 52, None, after)
        seasons.append(fit.season)
    assert np.allclose(seasons[0], seasons[1], atol=1e-9)
    assert np.allclose(seasons[0], seasons[2], atol=1e-9)
    # Without those weeks (the season fitted to clean weeks only) it is another fit.
    without = fit_counterfactuals(base, clean, [1, 1, 1], 52).season
    assert not np.allclose(seasons[0], without, atol=1e-6)


def test_a_product_keeps_more_of_its_own_factor_the_more_precise_its_promotions():
    # Lemon's and mint's promotions say their factors differ (x1.3 and x0.7 of the line
    # at every discount), measured precisely or noisily.
    discounts = [10.0, 20.0, 30.0] * 2
    lifts = [26.0, 52.0, 78.0, 14.0, 28.0, 42.0]
    products = ["lemon"] * 3 + ["mint"] * 3
    precise = learn_lift_curves(discounts, lifts, products, [1.0] * 6)
    noisy = learn_lift_curves(discounts, lifts, products, [15.0] * 6)
    assert precise.line.at(20) == pytest.approx(noisy.line.at(20))
    line = precise.line.at(20)
    # Each keeps a part of its own, between the line's and its own measured lifts, and
    # more of it where its promotions are precise.
    assert line < noisy.curve("lemon").at(20) < precise.curve("lemon").at(20) < 52.0
    assert 28.0 < precise.curve("mint").at(20) < noisy.curve("mint").at(20) < line
    assert precise.between_pct > 0
    # Products that answer alike get the same line (the line's, but for its slope prior).
    alike = learn_lift_curves(discounts, [20.0, 40.0, 60.0] * 2, products)
    assert alike.curve("lemon") == alike.curve("mint")
    assert alike.curve("lemon").at(20) == pytest.approx(alike.line.at(20), abs=0.5)


def effect(profile, noise=0.0):
    return MeasuredEffect(100.0, 50.0, tuple(profile), noise)


def test_the_dip_is_a_step_of_its_depth_and_length():
    assert learn_dip([effect([-20, -20, 0, 0])], []) == DipEstimate(-20.0, 2)
    # Shrunk toward the line's: (1 x own + 2 x line) / 3 per week.
    learned = learn_dip([effect([-30, 0, 0, 0])], [effect([-15, 0, 0, 0])] * 3)
    assert learned == DipEstimate(-20.0, 1)
    assert learned.fractions() == [-0.2]


def test_a_rise_noise_or_nothing_is_no_dip():
    assert learn_dip([effect([10, 5, 0, 0])], []) == NO_DIP
    assert learn_dip([effect([-4, -4, 0, 0], noise=10.0)], []) == NO_DIP
    assert learn_dip([effect([None, None, None, None])], []) == NO_DIP
    assert learn_dip([], []) == NO_DIP


# ---------------------------------------------------------------------------- forecast


@pytest.fixture
def dipping_product(db):
    """30 weeks of 100 a week; a confirmed promotion in weeks -20/-19 sold 160, then 80
    for two weeks: +60 % and a dip of -20 % for 2 weeks against a flat counterfactual."""
    product = ProductFactory(sku="TEA-DIP-01")
    past = PromotionFactory(status="confirmed", start_week=week(-20), end_week=week(-19))
    PromotionItemFactory(promotion=past, product=product, expected_lift_pct=60)
    units = {-20: 160, -19: 160, -18: 80, -17: 80}
    for k in range(-30, 0):
        SalesActualFactory(product=product, week=week(k), units=units.get(k, 100))
    return product


def rows(product) -> dict:
    return {
        f.week: (f.baseline, f.promotion_uplift, f.promotion_dip, f.final)
        for f in DemandForecast.objects.filter(product=product)
    }


def test_a_planned_promotion_puts_the_learned_dip_after_it(dipping_product):
    product = dipping_product
    assert learned_dips([product.pk]) == {product.pk: DipEstimate(pytest.approx(-20.0), 2)}
    planned = PromotionFactory(status="planned", start_week=week(3), end_week=week(4))
    PromotionItemFactory(promotion=planned, product=product, expected_lift_pct=50)

    forecast_products(product_ids=[product.pk], trigger="test")

    by_week = rows(product)
    for k, (baseline, uplift, dip, final) in enumerate(by_week[week(k)] for k in range(10)):
        expected_uplift = baseline * 0.5 if k in (3, 4) else 0.0
        expected_dip = baseline * -0.2 if k in (5, 6) else 0.0
        assert uplift == pytest.approx(expected_uplift, abs=1e-3), k
        assert dip == pytest.approx(expected_dip, abs=1e-3), k
        assert final == pytest.approx(baseline + uplift + dip, abs=2e-3)
    assert by_week[week(5)][2] < 0


def test_cancelling_the_promotion_takes_its_uplift_and_dip_away(dipping_product):
    product = dipping_product
    forecast_products(product_ids=[product.pk], trigger="before")
    before = rows(product)
    planned = PromotionFactory(status="planned", start_week=week(3), end_week=week(4))
    PromotionItemFactory(promotion=planned, product=product, expected_lift_pct=50)
    forecast_products(product_ids=[product.pk], trigger="planned")
    assert rows(product) != before

    promotion_set_status(
        actor=UserFactory(is_superuser=True),
        promotion_id=planned.pk,
        expected_version=planned.version,
        status="cancelled",
    )
    forecast_products(product_ids=[product.pk], trigger="cancelled")

    assert rows(product) == before
    assert not DemandForecast.objects.filter(product=product, promotion_dip__lt=0).exists()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    units=st.lists(st.integers(min_value=0, max_value=500), min_size=6, max_size=40),
    start=st.integers(min_value=0, max_value=20),
    weeks=st.integers(min_value=1, max_value=4),
    lift=st.integers(min_value=-50, max_value=300),
)
def test_without_promotions_the_forecast_is_the_baseline_and_a_cancelled_one_vanishes(
    db, units, start, weeks, lift
):
    product = ProductFactory()
    for k, sold in enumerate(units):
        SalesActualFactory(product=product, week=week(k - len(units)), units=sold)
    forecast_products(product_ids=[product.pk], trigger="no promotions")
    plain = rows(product)
    assert all(u == 0 and d == 0 and f == b for b, u, d, f in plain.values())

    promotion = PromotionFactory(
        status="planned", start_week=week(start), end_week=week(start + weeks - 1)
    )
    PromotionItemFactory(promotion=promotion, product=product, expected_lift_pct=lift)
    forecast_products(product_ids=[product.pk], trigger="planned")
    promotion.status = "cancelled"
    promotion.save(update_fields=["status"])
    forecast_products(product_ids=[product.pk], trigger="cancelled")

    assert rows(product) == plain


# ---------------------------------------------------------------------------- the plan


def test_the_waterfall_and_the_sentence_name_the_dip(db):
    rec = QuotaRecommendationFactory(
        baseline=300.0, promotion_uplift=0.0, promotion_dip=-60.0, safety_stock=20.0
    )

    assert [(s["label"], s["value"]) for s in explanation_steps(rec)] == [
        ("Baseline demand", 300),
        ("Dip after promotion", -60),
        ("Safety stock target", 20),
    ]
    assert recommendation_explanation(rec) == (
        f"for {iso_label(rec.covers_week)}: demand 240 = baseline 300 - dip after promotion "
        "60; safety stock 20; recommended 260"
    )


# ---------------------------------------------------------------------------- cannibalization


def solo_line(shares=(0.25,), promotions=(20, 60, 100)):
    """Series 0 promoted alone (+60 %) at these weeks; series 1.. lose `shares` of its
    extra units; flat levels 200 and 400, no noise."""
    units = np.array([[200.0] * 156, [400.0] * 156, [300.0] * 156])
    spans = []
    for start in promotions:
        extra = 200.0 * 0.6
        units[0, start : start + 2] += extra
        for k, share in enumerate(shares, start=1):
            units[k, start : start + 2] -= share * extra
        spans.append(PromotionSpan(0, start, start + 1, 20.0))
    return units, spans


def test_a_sibling_that_loses_a_share_of_the_extra_units_is_learned():
    units, spans = solo_line(shares=(0.25, 0.0))
    taken, untouched = measure_cannibalization(units, spans, 52, groups=[1, 1, 1])

    assert (taken.promoted, taken.sibling, taken.promotions, taken.learned) == (0, 1, 3, True)
    assert taken.share == pytest.approx(0.25, abs=1e-6)
    assert (untouched.sibling, untouched.share, untouched.learned) == (2, 0.0, False)


def test_a_sibling_that_gains_a_share_of_the_extra_units_is_a_halo():
    units, spans = solo_line(shares=(-0.1, 0.25))
    lifted, taken = measure_cannibalization(units, spans, 52, groups=[1, 1, 1])

    assert (lifted.sibling, lifted.promotions, lifted.learned, lifted.halo) == (1, 3, True, True)
    assert lifted.share == pytest.approx(-0.1, abs=1e-6)
    assert (taken.sibling, taken.learned, taken.halo) == (2, True, False)
    assert taken.share == pytest.approx(0.25, abs=1e-6)


def test_one_promotion_is_too_little_to_learn_cannibalization_from():
    units, spans = solo_line(shares=(0.25,), promotions=(40,))
    (taken, _) = measure_cannibalization(units, spans, 52, groups=[1, 1, 1])

    assert (taken.share, taken.learned, taken.promotions) == (0.0, False, 1)
    assert taken.measured_share == pytest.approx(0.25, abs=1e-6)


def test_promotions_that_overlap_another_of_the_line_say_nothing():
    units, spans = solo_line(shares=(0.25,))
    spans.append(PromotionSpan(2, 20, 21, 10.0))
    spans.append(PromotionSpan(2, 60, 61, 10.0))
    pairs = {
        (c.promoted, c.sibling): c
        for c in measure_cannibalization(units, spans, 52, groups=[1, 1, 1])
    }
    # Only the promotion in week 100 ran alone: one promotion, not enough.
    assert (pairs[0, 1].promotions, pairs[0, 1].learned) == (1, False)
    # Separate product lines never cannibalize each other.
    assert measure_cannibalization(units, spans[:3], 52, groups=[1, 2, 3]) == []


def promoted_alone_twice(lemon_sku: str, sibling_sku: str, sibling_during: int):
    """Lemon tea (100 a week) promoted alone twice (+50 %) in the last 40 weeks, its
    sibling selling 200 a week and `sibling_during` while it runs."""
    lemon = ProductFactory(sku=lemon_sku)
    sibling = ProductFactory(sku=sibling_sku, product_line=lemon.product_line)
    for start in (-30, -15):
        past = PromotionFactory(
            status="confirmed", start_week=week(start), end_week=week(start + 1)
        )
        PromotionItemFactory(promotion=past, product=lemon)
    promoted = {week(k) for start in (-30, -15) for k in (start, start + 1)}
    for k in range(-40, 0):
        w = week(k)
        SalesActualFactory(product=lemon, week=w, units=150 if w in promoted else 100)
        SalesActualFactory(product=sibling, week=w, units=sibling_during if w in promoted else 200)
    return lemon, sibling


@pytest.fixture
def tea_line(db):
    """Peach losing a fifth of lemon tea's extra units (200 -> 190)."""
    return promoted_alone_twice("TEA-LEM-05", "TEA-PEA-05", 190)


def plan_and_forecast(lemon, sibling, lift_pct):
    """Lemon tea planned at `lift_pct` in weeks 3-4, both products forecast."""
    planned = PromotionFactory(status="draft", start_week=week(3), end_week=week(4))
    PromotionItemFactory(promotion=planned, product=lemon, expected_lift_pct=lift_pct)
    promotion_set_status(
        actor=UserFactory(is_superuser=True),
        promotion_id=planned.pk,
        expected_version=planned.version,
        status="planned",
    )
    # The promotion asks for the sibling's forecast as well.
    request = RecomputeRequest.objects.latest("pk")
    assert sorted(request.product_ids) == sorted([lemon.pk, sibling.pk])
    forecast_products(product_ids=[lemon.pk, sibling.pk], trigger="test")
    return planned


def test_a_planned_promotion_takes_its_learned_share_from_the_sibling(tea_line):
    lemon, peach = tea_line
    plan_and_forecast(lemon, peach, 50)

    lemon_rows = {f.week: f for f in DemandForecast.objects.filter(product=lemon)}
    for f in DemandForecast.objects.filter(product=peach):
        if f.week in (week(3), week(4)):
            assert f.cannibalization == pytest.approx(-0.2 * lemon_rows[f.week].promotion_uplift)
            assert f.cannibalization < 0
            assert f.cannibalized_by == "TEA-LEM-05"
        else:
            assert (f.cannibalization, f.cannibalized_by) == (0.0, "")
        assert f.final == pytest.approx(
            f.baseline + f.promotion_uplift + f.promotion_dip + f.cannibalization, abs=2e-3
        )

    # Forecast alone, the sibling reads the promoted product's stored uplift.
    before = {f.week: f.cannibalization for f in DemandForecast.objects.filter(product=peach)}
    forecast_products(product_ids=[peach.pk], trigger="sibling only")
    after = {f.week: f.cannibalization for f in DemandForecast.objects.filter(product=peach)}
    assert after == before


@pytest.fixture
def halo_line(db):
    """Honey gaining a fifth of lemon tea's extra units (200 -> 210): a halo."""
    return promoted_alone_twice("TEA-LEM-07", "TEA-HON-07", 210)


def test_a_planned_promotion_adds_its_learned_halo_to_the_sibling(halo_line):
    lemon, honey = halo_line
    # The sibling it lifts is asked for as well (plan_and_forecast checks).
    planned = plan_and_forecast(lemon, honey, 40)

    lemon_rows = {f.week: f for f in DemandForecast.objects.filter(product=lemon)}
    honey_rows = {f.week: f for f in DemandForecast.objects.filter(product=honey)}
    assert len(honey_rows) == 26
    for w, f in honey_rows.items():
        if w in (week(3), week(4)):
            # The flat 100 a week of lemon tea, +40 %: 40 extra units, a fifth to honey.
            assert lemon_rows[w].promotion_uplift == pytest.approx(40.0, abs=1e-3)
            assert (f.halo, f.halo_from) == (pytest.approx(8.0, abs=1e-3), "TEA-LEM-07")
            assert f.final == pytest.approx(f.baseline + 8.0, abs=2e-3)
            assert f.statistical == pytest.approx(f.final, abs=2e-3)
        else:
            assert (f.halo, f.halo_from) == (0.0, "")
        assert (f.cannibalization, f.cannibalized_by) == (0.0, "")
    assert {(f.halo, f.halo_from) for f in lemon_rows.values()} == {(0.0, "")}

    # Cancelled, the promotion's halo vanishes at its recompute.
    promotion_set_status(
        actor=UserFactory(is_superuser=True),
        promotion_id=planned.pk,
        expected_version=Promotion.objects.get(pk=planned.pk).version,
        status="cancelled",
    )
    forecast_products(product_ids=[lemon.pk, honey.pk], trigger="cancelled")
    assert {
        (f.halo, f.halo_from, f.final == f.baseline)
        for f in DemandForecast.objects.filter(product=honey)
    } == {(0.0, "", True)}


def test_the_waterfall_and_the_sentence_name_who_lifted_the_units(db):
    rec = QuotaRecommendationFactory(baseline=300.0, halo=24.0, halo_from="TEA-LEM-07")

    assert [(s["label"], s["value"]) for s in explanation_steps(rec)] == [
        ("Baseline demand", 300),
        ("Lifted by promotion of TEA-LEM-07", 24),
    ]
    assert recommendation_explanation(rec) == (
        f"for {iso_label(rec.covers_week)}: demand 324 = baseline 300 + lifted by promotion of "
        "TEA-LEM-07 24; recommended 324"
    )


def test_the_waterfall_and_the_sentence_name_who_took_the_units(db):
    rec = QuotaRecommendationFactory(
        baseline=300.0, cannibalization=-45.0, cannibalized_by="TEA-LEM-05"
    )

    assert [(s["label"], s["value"]) for s in explanation_steps(rec)] == [
        ("Baseline demand", 300),
        ("Taken by promotion of TEA-LEM-05", -45),
    ]
    assert recommendation_explanation(rec) == (
        f"for {iso_label(rec.covers_week)}: demand 255 = baseline 300 - taken by promotion of "
        "TEA-LEM-05 45; recommended 255"
    )


def test_what_a_line_learned_is_reused_until_its_history_changes(dipping_product, measured_lines):
    """The measures are cached under a fingerprint of what they are measured from: a
    second ask measures nothing, new sales or an edited promotion measure again."""
    from demand.selectors import lift

    product = dipping_product
    first = lift.suggest_lift(product=product, discount_pct=20)
    again = lift.suggest_lift(product=product, discount_pct=20)
    assert (len(measured_lines), again) == (1, first)
    SalesActualFactory(product=product, week=week(-31), units=100)
    lift.suggest_lift(product=product, discount_pct=20)
    assert len(measured_lines) == 2
    past = PromotionItem.objects.get(product=product).promotion
    Promotion.objects.filter(pk=past.pk).update(version=past.version + 1)
    lift.suggest_lift(product=product, discount_pct=20)
    assert len(measured_lines) == 3


def test_suggestions_for_many_equal_each_suggestion_alone(dipping_product):
    """suggested_lifts (the marketing home's many items at once, each line learned once)
    answers what suggest_lift answers for each pair: a promoted product by its own curve,
    a sibling never promoted by the line's, a product of a line with no history none."""
    from demand.selectors import lift

    promoted = dipping_product
    sibling = ProductFactory(sku="TEA-DIP-02", product_line=promoted.product_line)
    alone = ProductFactory(sku="TEA-NEW-01")
    pairs = [(promoted, 20), (sibling, 20), (promoted, 35), (alone, 20), (sibling, None)]

    suggested = lift.suggested_lifts(pairs)

    assert lift.suggested_lifts(pairs) == suggested  # again, from the curves it kept
    assert suggested == [
        lift.suggest_lift(product=product, discount_pct=discount).suggested_pct
        for product, discount in pairs
    ]
    # One promotion at one discount: a flat line at its +60 %, for every product of it.
    assert suggested == [Decimal("60.0"), Decimal("60.0"), Decimal("60.0"), None, Decimal("60.0")]


def test_suggestions_for_many_are_learned_again_when_the_history_changes(
    dipping_product, measured_lines
):
    from demand.selectors import lift

    assert lift.suggested_lifts([(dipping_product, 20)]) == [Decimal("60.0")]
    assert lift.suggested_lifts([(dipping_product, 20)]) == [Decimal("60.0")]
    assert len(measured_lines) == 1
    # The promotion's weeks sold 180, not 160: the line is measured and learned again.
    for k in (-20, -19):
        SalesActual.objects.filter(product=dipping_product, week=week(k)).update(units=180)
    SalesActualFactory(product=dipping_product, week=week(-31), units=100)
    assert lift.suggested_lifts([(dipping_product, 20)]) == [Decimal("80.0")]
    assert len(measured_lines) == 2
