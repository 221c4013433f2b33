"""New products and successors in the forecast: the likes' scaled profile, the ramp-up,
the blend with the product's own model, successions; and the bad inputs the services
refuse (nothing saved, the exact message)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coordination.models import ActivityEvent, Product, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.engine import forecast_baseline
from demand.engine.effects import DipEstimate
from demand.models import (
    DemandForecast,
    ForecastFit,
    LaunchPlan,
    LikeProduct,
    SalesActual,
    Succession,
)
from demand.selectors import promotions as promotion_selectors
from demand.selectors.launches import launch_page, suggested_likes
from demand.selectors.promotions import promotion_net_effect
from demand.services import forecasting
from demand.services.forecasting import (
    HISTORY_WEEKS,
    SEASON_LENGTH,
    forecast_products,
    load_history,
)
from demand.services.launches import (
    launch_plan_remove,
    launch_plan_set,
    succession_remove,
    succession_set,
)
from tests.factories import (
    ProductFactory,
    ProductLineFactory,
    PromotionFactory,
    PromotionItemFactory,
    SpecificationFactory,
)

pytestmark = pytest.mark.django_db


def week(k: int):
    return add_weeks(current_week(), k)


def sell(product, units, *, weeks: int, until: int = 0):
    """`units` a week in the `weeks` weeks before week `until` (0: this week)."""
    SalesActual.objects.bulk_create(
        SalesActual(product=product, week=week(until - weeks + k), units=units)
        for k in range(weeks)
    )


def forecast(product, count: int, field: str = "final") -> list[float]:
    return list(
        DemandForecast.objects.filter(product=product)
        .order_by("week")
        .values_list(field, flat=True)[:count]
    )


@pytest.fixture
def family():
    line = ProductLineFactory(name="Iced tea")
    lemon = ProductFactory(sku="TEA-LEM-05", product_line=line)
    peach = ProductFactory(sku="TEA-PEA-05", product_line=line)
    sell(lemon, 100, weeks=60)
    sell(peach, 50, weeks=60)
    mint = ProductFactory(sku="TEA-MIN-05", product_line=line, lifecycle="concept")
    return {"line": line, "lemon": lemon, "peach": peach, "mint": mint}


def plan(product, *, likes, launch=0, volume=None, ramp=8, shape="linear"):
    """A launch plan written directly (the services are tested below)."""
    launch_plan = LaunchPlan.objects.create(
        product=product,
        launch_week=week(launch),
        launch_volume=volume,
        ramp_weeks=ramp,
        ramp_shape=shape,
    )
    for like, weight in likes:
        LikeProduct.objects.create(product=product, like=like, weight=Decimal(weight))
    return launch_plan


def test_a_launch_is_forecast_from_its_likes_scaled_to_the_launch_volume_and_ramped(family):
    # Likes sell 100 and 50 a week; peach counts twice: 200 a week combined, scaled to
    # 400 a week at full volume, reached linearly over 8 weeks from the launch (week 2).
    plan(
        family["mint"], likes=[(family["lemon"], "1"), (family["peach"], "2")], launch=2, volume=400
    )
    forecast_products(product_ids=[family["mint"].pk], trigger="test", horizon=12)
    mint = family["mint"]
    assert forecast(mint, 12) == [0, 0, 50, 100, 150, 200, 250, 300, 350, 400, 400, 400]
    assert forecast(mint, 12, "from_likes") == forecast(mint, 12)
    assert forecast(mint, 12, "baseline") == forecast(mint, 12)
    fit = ForecastFit.objects.get(product=mint)
    assert (fit.likes_weight, fit.method) == (1.0, "no_history")
    # The likes' own rows are not written by the run.
    assert DemandForecast.objects.count() == 12
    # The likes' sigma (0: they are constant) scaled, at least Poisson noise of the full
    # volume: sqrt(400).
    assert fit.sigma == 20.0


def test_without_a_launch_volume_the_likes_count_with_their_weights(family):
    plan(
        family["mint"],
        likes=[(family["lemon"], "0.5"), (family["peach"], "1")],
        ramp=2,
        shape="s_curve",
    )
    forecast_products(product_ids=[family["mint"].pk], trigger="test", horizon=4)
    # 0.5 x 100 + 50 = 100 at full volume; an S-curve over 2 weeks: 50 %, then 100 %.
    assert forecast(family["mint"], 4) == [50, 100, 100, 100]


def test_the_likes_seasonal_profile_is_kept_and_scaled(family):
    line = family["line"]
    berry = ProductFactory(sku="TEA-BER-05", product_line=line)
    # A season of 4 weeks would not be learned; a flat history with a known forecast is
    # what the engine gives exactly: the profile is the likes' forecast, so a like whose
    # forecast rises gives a rising launch forecast (engine tests cover the season).
    sell(berry, 80, weeks=60)
    plan(family["mint"], likes=[(berry, "1")], volume=40, ramp=1)
    forecast_products(product_ids=[family["mint"].pk], trigger="test", horizon=3)
    assert forecast(family["mint"], 3) == [40, 40, 40]


def test_own_history_takes_over_by_weeks_of_history(family):
    mint = family["mint"]
    mint.lifecycle = "active"
    mint.save()
    # Launched 4 weeks ago, selling 60 a week; the likes say 400 at full volume in 8 weeks.
    sell(mint, 60, weeks=4)
    plan(mint, likes=[(family["lemon"], "1")], launch=-4, volume=400)
    forecast_products(product_ids=[mint.pk], trigger="test", horizon=5)
    own = 4 / 52
    likes = [400 * min(1, (4 + k + 1) / 8) for k in range(5)]
    assert forecast(mint, 5, "baseline") == [
        round(own * 60 + (1 - own) * value, 3) for value in likes
    ]
    assert forecast(mint, 5, "from_likes") == [round((1 - own) * value, 3) for value in likes]
    assert ForecastFit.objects.get(product=mint).likes_weight == pytest.approx(1 - own)


def test_after_the_blend_weeks_the_likes_no_longer_count(family):
    mint = family["mint"]
    sell(mint, 60, weeks=52)
    plan(mint, likes=[(family["lemon"], "1")], launch=-52, volume=400)
    forecast_products(product_ids=[mint.pk], trigger="test", horizon=3)
    assert forecast(mint, 3) == [60, 60, 60]
    assert forecast(mint, 3, "from_likes") == [0, 0, 0]


def test_a_succession_moves_the_old_baseline_to_the_successor_from_the_switch_week(family):
    lemon, peach = family["lemon"], family["peach"]
    Succession.objects.create(product=lemon, successor=peach, switch_week=week(3))
    # Asked for the old product only: its successor is forecast with it.
    forecast_products(product_ids=[lemon.pk], trigger="test", horizon=6)
    assert forecast(lemon, 6) == [100, 100, 100, 0, 0, 0]
    assert forecast(peach, 6) == [50, 50, 50, 150, 150, 150]
    assert forecast(lemon, 6, "successor_transfer") == [0, 0, 0, -100, -100, -100]
    assert forecast(peach, 6, "successor_transfer") == [0, 0, 0, 100, 100, 100]
    assert forecast(lemon, 4, "transferred_with") == ["", "", "", "TEA-PEA-05"]
    assert forecast(peach, 4, "transferred_with") == ["", "", "", "TEA-LEM-05"]


def test_a_promotion_of_the_replaced_product_lifts_the_demand_its_successor_took(family):
    lemon, peach = family["lemon"], family["peach"]
    Succession.objects.create(product=lemon, successor=peach, switch_week=week(3))
    promotion = PromotionFactory(status="planned", start_week=week(2), end_week=week(4))
    PromotionItemFactory(promotion=promotion, product=lemon, expected_lift_pct=Decimal("30"))
    forecast_products(product_ids=[lemon.pk], trigger="test", horizon=6)
    # Week 2 lifts lemon itself; from the switch, the 100 lemon hands over, lifted 30 %.
    assert forecast(lemon, 6, "promotion_uplift") == [0, 0, 30, 0, 0, 0]
    assert forecast(peach, 6, "promotion_uplift") == [0, 0, 0, 30, 30, 0]
    assert forecast(peach, 6) == [50, 50, 50, 180, 180, 150]
    # Peach's own, larger promotion counts on all its demand, not both.
    own = PromotionFactory(status="planned", start_week=week(4), end_week=week(4))
    PromotionItemFactory(promotion=own, product=peach, expected_lift_pct=Decimal("40"))
    forecast_products(product_ids=[lemon.pk], trigger="test", horizon=6)
    assert forecast(peach, 6, "promotion_uplift") == [0, 0, 0, 30, 60, 0]


@pytest.fixture
def replaced_promotion(family, monkeypatch):
    """Lemon (100 a week) hands over to a new recipe from week 3; a +30 % promotion of
    lemon runs in weeks 2 to 4. Lemon dips 20 % for 2 weeks after a promotion and peach,
    its sibling, loses a fifth of lemon's extra units (learned, here given)."""
    lemon, peach = family["lemon"], family["peach"]
    recipe = ProductFactory(sku="TEA-LEMV2-05", product_line=family["line"])
    Succession.objects.create(product=lemon, successor=recipe, switch_week=week(3))
    promotion = PromotionFactory(status="planned", start_week=week(2), end_week=week(4))
    PromotionItemFactory(promotion=promotion, product=lemon, expected_lift_pct=Decimal("30"))
    dips = lambda ids: {lemon.pk: DipEstimate(-20.0, 2)} if lemon.pk in set(ids) else {}  # noqa: E731
    monkeypatch.setattr(forecasting, "learned_dips", dips)
    monkeypatch.setattr(promotion_selectors, "learned_dips", dips)
    monkeypatch.setattr(forecasting, "learned_shares", lambda lines: {(lemon.pk, peach.pk): 0.2})
    return lemon, peach, recipe, promotion


def test_the_successor_carries_the_dip_and_siblings_keep_losing_to_the_promotion(
    replaced_promotion,
):
    lemon, peach, recipe, _ = replaced_promotion
    forecast_products(product_ids=[lemon.pk, peach.pk], trigger="test", horizon=8)
    assert forecast(lemon, 8, "promotion_uplift") == [0, 0, 30, 0, 0, 0, 0, 0]
    assert forecast(lemon, 8, "promotion_dip") == [0] * 8
    assert forecast(lemon, 8) == [100, 100, 130, 0, 0, 0, 0, 0]
    # The uplift from the switch, and the dip after the promotion, on the new recipe.
    assert forecast(recipe, 8, "promotion_uplift") == [0, 0, 0, 30, 30, 0, 0, 0]
    assert forecast(recipe, 8, "promotion_dip") == [0, 0, 0, 0, 0, -20, -20, 0]
    assert forecast(recipe, 8) == [0, 0, 0, 130, 130, 80, 80, 100]
    # Peach loses a fifth of the 30 extra units in every week of the promotion, also
    # those after the switch, where the recipe carries them.
    assert forecast(peach, 8, "cannibalization") == [0, 0, -6, -6, -6, 0, 0, 0]
    assert forecast(peach, 8, "cannibalized_by") == ["", "", *["TEA-LEM-05"] * 3, "", "", ""]
    assert forecast(peach, 8) == [50, 50, 44, 44, 44, 50, 50, 50]
    # Forecast alone, peach reads lemon's stored rows: the same.
    forecast_products(product_ids=[peach.pk], trigger="sibling only", horizon=8)
    assert forecast(peach, 8, "cannibalization") == [0, 0, -6, -6, -6, 0, 0, 0]


def test_the_net_effect_counts_what_the_successor_carries(replaced_promotion):
    lemon, peach, _, promotion = replaced_promotion
    forecast_products(product_ids=[lemon.pk, peach.pk], trigger="test", horizon=8)
    (line,) = promotion_net_effect(promotion)
    # Uplift 30 on lemon in week 2 and 30 + 30 on the recipe; the recipe's dip 2 x -20;
    # peach's 3 x -6.
    assert {k: line[k] for k in ("uplift", "dip", "taken", "net", "kept_pct")} == {
        "uplift": 90.0,
        "dip": -40.0,
        "taken": -18.0,
        "net": 32.0,
        "kept_pct": 36,
    }
    assert line["taken_from"] == [("TEA-PEA-05", -18.0)]


def test_the_carried_effect_follows_the_forecast_when_the_successor_is_promoted_too(
    replaced_promotion, monkeypatch
):
    """The new recipe runs its own +50 % promotion in weeks 3 to 5 (it dips 50 % for a
    week after one). Promotions do not stack: on the units it took over from lemon the
    larger lift counts (+50 %, not lemon's +30 %), there is no dip in week 5 (the recipe
    is promoted) and in week 6 the deeper dip (-50 %, not lemon's -20 %) counts."""
    lemon, peach, recipe, promotion = replaced_promotion
    learned = {lemon.pk: DipEstimate(-20.0, 2), recipe.pk: DipEstimate(-50.0, 1)}
    dips = lambda ids: {pk: learned[pk] for pk in set(ids) & set(learned)}  # noqa: E731
    monkeypatch.setattr(forecasting, "learned_dips", dips)
    monkeypatch.setattr(promotion_selectors, "learned_dips", dips)
    own = PromotionFactory(status="confirmed", start_week=week(3), end_week=week(5))
    PromotionItemFactory(promotion=own, product=recipe, expected_lift_pct=Decimal("50"))
    forecast_products(product_ids=[lemon.pk, peach.pk, recipe.pk], trigger="test", horizon=8)
    assert forecast(lemon, 8, "promotion_uplift") == [0, 0, 30, 0, 0, 0, 0, 0]
    assert forecast(recipe, 8, "promotion_uplift") == [0, 0, 0, 50, 50, 50, 0, 0]
    assert forecast(recipe, 8, "promotion_dip") == [0, 0, 0, 0, 0, 0, -50, 0]

    (line,) = promotion_net_effect(promotion)

    # Lemon's 30 in week 2, the recipe's 50 + 50 on lemon's units in weeks 3 and 4 (all
    # of its units are lemon's: it has no history of its own); the recipe's -50 in week
    # 6; peach's 3 x -6. Exactly the forecast's rows.
    assert {k: line[k] for k in ("uplift", "dip", "taken", "net", "kept_pct")} == {
        "uplift": 130.0,
        "dip": -50.0,
        "taken": -18.0,
        "net": 62.0,
        "kept_pct": 48,
    }
    assert line["uplift"] == sum(forecast(lemon, 5, "promotion_uplift")) + sum(
        forecast(recipe, 5, "promotion_uplift")
    )
    assert line["dip"] == sum(forecast(recipe, 8, "promotion_dip")[5:7])


def test_a_chain_of_successors_carries_the_promotion_to_the_last(replaced_promotion, monkeypatch):
    """Lemon hands over to the new recipe in week 3, which hands over to a third recipe
    in week 4; the third runs its own +50 % promotion in weeks 4 and 5 (it dips 50 % for
    a week after one). Lemon's units sit on the recipe in week 3 (+30 %) and on the third
    from week 4: there the larger lift (+50 %) counts, no dip in week 5 (promoted) and
    the deeper dip (-50 %) in week 6. The net effect reads them where they are."""
    lemon, peach, recipe, promotion = replaced_promotion
    third = ProductFactory(sku="TEA-LEMV3-05", product_line=lemon.product_line)
    Succession.objects.create(product=recipe, successor=third, switch_week=week(4))
    learned = {lemon.pk: DipEstimate(-20.0, 2), third.pk: DipEstimate(-50.0, 1)}
    dips = lambda ids: {pk: learned[pk] for pk in set(ids) & set(learned)}  # noqa: E731
    monkeypatch.setattr(forecasting, "learned_dips", dips)
    monkeypatch.setattr(promotion_selectors, "learned_dips", dips)
    own = PromotionFactory(status="confirmed", start_week=week(4), end_week=week(5))
    PromotionItemFactory(promotion=own, product=third, expected_lift_pct=Decimal("50"))
    forecast_products(product_ids=[lemon.pk, peach.pk], trigger="test", horizon=8)
    assert forecast(lemon, 8, "promotion_uplift") == [0, 0, 30, 0, 0, 0, 0, 0]
    assert forecast(recipe, 8, "promotion_uplift") == [0, 0, 0, 30, 0, 0, 0, 0]
    assert forecast(third, 8, "promotion_uplift") == [0, 0, 0, 0, 50, 50, 0, 0]
    assert forecast(third, 8, "promotion_dip") == [0, 0, 0, 0, 0, 0, -50, 0]
    assert forecast(recipe, 8, "promotion_dip") == [0] * 8

    (line,) = promotion_net_effect(promotion)

    # Lemon's 30 in week 2, the recipe's 30 in week 3, the third's 50 in week 4; the
    # third's -50 in week 6 (none in week 5); peach's 3 x -6.
    assert {k: line[k] for k in ("uplift", "dip", "taken", "net", "kept_pct")} == {
        "uplift": 110.0,
        "dip": -50.0,
        "taken": -18.0,
        "net": 42.0,
        "kept_pct": 38,
    }
    assert line["uplift"] == sum(
        sum(forecast(product, 5, "promotion_uplift")) for product in (lemon, recipe, third)
    )
    assert line["dip"] == sum(forecast(third, 8, "promotion_dip")[5:7])


def test_a_successor_does_not_also_inherit_the_history_it_takes_over(family):
    # The new recipe names the old one as predecessor (its history would seed the
    # forecast) and takes its demand over by succession: counted once, from the switch.
    lemon = family["lemon"]
    recipe = ProductFactory(sku="TEA-LEMV2-05", product_line=family["line"], predecessor=lemon)
    Succession.objects.create(product=lemon, successor=recipe, switch_week=week(2))
    forecast_products(product_ids=[recipe.pk], trigger="test", horizon=4)
    assert forecast(recipe, 4) == [0, 0, 100, 100]
    assert forecast(lemon, 4) == [100, 100, 0, 0]
    assert ForecastFit.objects.get(product=recipe).used_predecessor is False


def test_a_chain_of_successions_hands_demand_on(family):
    lemon, peach, mint = family["lemon"], family["peach"], family["mint"]
    Succession.objects.create(product=lemon, successor=peach, switch_week=week(1))
    Succession.objects.create(product=peach, successor=mint, switch_week=week(2))
    forecast_products(product_ids=[mint.pk], trigger="test", horizon=3)
    assert forecast(lemon, 3) == [100, 0, 0]
    assert forecast(peach, 3) == [50, 150, 0]
    assert forecast(mint, 3) == [0, 0, 150]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_launch_plans_or_successions_the_forecast_is_the_engine_baseline(family, seed):
    # Random histories: with no launch plan and no succession the stored baseline is the
    # engine's, exactly, even with another product's launch plan in the same run.
    rng = np.random.default_rng(seed)
    products = [family["lemon"], family["peach"]]
    SalesActual.objects.all().delete()
    for product in products:
        SalesActual.objects.bulk_create(
            SalesActual(product=product, week=week(k - 80), units=int(units))
            for k, units in enumerate(rng.poisson(40 + 20 * seed, 80))
        )
    plan(family["mint"], likes=[(family["lemon"], "1")], volume=100)
    ids = [p.pk for p in products]
    history = load_history(products, end_week=current_week(), weeks=HISTORY_WEEKS)
    expected = forecast_baseline(
        history.units, 6, season_length=SEASON_LENGTH, promo_mask=history.promo_mask
    )
    forecast_products(product_ids=[*ids, family["mint"].pk], trigger="test", horizon=6)
    for i, product in enumerate(products):
        assert forecast(product, 6, "baseline") == [round(float(v), 3) for v in expected.mean[i]]
        assert forecast(product, 6, "from_likes") == [0.0] * 6
        assert forecast(product, 6, "successor_transfer") == [0.0] * 6
        fit = ForecastFit.objects.get(product=product)
        assert (fit.sigma, fit.likes_weight) == (float(expected.sigma[i]), 0.0)


# --- the services: what is saved, what is refused ---------------------------------------


def set_plan(actor, product, **overrides):
    arguments = {
        "actor": actor,
        "product": product,
        "launch_week": week(2),
        "launch_volume": 400,
        "ramp_weeks": 8,
        "ramp_shape": "linear",
        "likes": [("TEA-LEM-05", "1"), ("TEA-PEA-05", "2")],
        "expected_version": 0,
    } | overrides
    return launch_plan_set(**arguments)


def test_setting_a_launch_plan_saves_it_asks_for_a_recompute_and_notes_it(marketing_user, family):
    mint = family["mint"]
    launch = set_plan(marketing_user, mint)
    assert (launch.launch_week, launch.launch_volume, launch.version) == (week(2), 400, 1)
    assert list(LikeProduct.objects.filter(product=mint).values_list("like__sku", "weight")) == [
        ("TEA-LEM-05", Decimal("1.00")),
        ("TEA-PEA-05", Decimal("2.00")),
    ]
    request = RecomputeRequest.objects.get()
    # The likes' forecasts feed the new product's; they are recomputed with it.
    assert (request.source, request.product_ids) == (
        "product",
        sorted([mint.pk]),
    )
    event = ActivityEvent.objects.get(object_id=mint.pk)
    assert event.message == (
        f"Launch plan: on sale from {iso_label(week(2))}, 400/week after a linear ramp-up of "
        "8 weeks, forecast from likes TEA-LEM-05, TEA-PEA-05 x2."
    )
    again = set_plan(marketing_user, mint, likes=[("TEA-LEM-05", "1.5")], expected_version=1)
    assert again.version == 2
    assert list(LikeProduct.objects.values_list("like__sku", "weight")) == [
        ("TEA-LEM-05", Decimal("1.50"))
    ]


# The refusals of the service, also asked of the REST API (tests/demand/test_api_launches.py).
BAD_LAUNCH_PLANS = [
    (
        {"likes": [("TEA-MIN-05", "1")]},
        {"likes": ["TEA-MIN-05 cannot be a like of itself: name products that already sell."]},
    ),
    (
        {"likes": [("TEA-OLD-05", "1")]},
        {"likes": ["TEA-OLD-05 is discontinued: its demand says nothing about a launch today."]},
    ),
    ({"likes": [("NOPE-1", "1")]}, {"likes": ["No product with SKU NOPE-1."]}),
    (
        {"likes": [("TEA-LEM-05", "1"), ("TEA-LEM-05", "2")]},
        {"likes": ["TEA-LEM-05 is named twice."]},
    ),
    (
        {"likes": [("TEA-LEM-05", "0")]},
        {"likes": ["The weight of TEA-LEM-05 must be a number from 0.01 to 100."]},
    ),
    (
        {"likes": [("TEA-LEM-05", "abc")]},
        {"likes": ["The weight of TEA-LEM-05 must be a number from 0.01 to 100."]},
    ),
    (
        {"likes": [], "launch_volume": None},
        {
            "likes": [
                "Name at least one like product, or set a launch volume: a forecast needs one."
            ]
        },
    ),
    ({"ramp_weeks": 0}, {"ramp_weeks": ["The ramp-up lasts 1 to 104 weeks."]}),
    ({"ramp_shape": "cubic"}, {"ramp_shape": ["Choose a linear or an S-curve ramp-up."]}),
    ({"launch_week": None}, {"launch_week": ["Choose the week the product goes on sale."]}),
    (
        {"launch_volume": 0},
        {
            "launch_volume": [
                "A launch volume is from 1 to 100,000,000 units a week (blank: the likes' "
                "own level)."
            ]
        },
    ),
    (
        {"expected_version": None},
        {"version": ["Send the version you read: without it a stale edit would go unnoticed."]},
    ),
]


@pytest.mark.parametrize(("overrides", "errors"), BAD_LAUNCH_PLANS)
def test_bad_launch_plans_are_refused_and_save_nothing(marketing_user, family, overrides, errors):
    ProductFactory(sku="TEA-OLD-05", product_line=family["line"], lifecycle="discontinued")
    with pytest.raises(ValidationError) as refused:
        set_plan(marketing_user, family["mint"], **overrides)
    assert refused.value.message_dict == errors
    assert (LaunchPlan.objects.count(), LikeProduct.objects.count()) == (0, 0)
    assert (RecomputeRequest.objects.count(), ActivityEvent.objects.count()) == (0, 0)


def test_a_discontinued_product_gets_no_launch_plan(marketing_user, family):
    old = ProductFactory(sku="TEA-OLD-05", product_line=family["line"], lifecycle="discontinued")
    with pytest.raises(ValidationError) as refused:
        set_plan(marketing_user, old)
    assert refused.value.message_dict == {
        "__all__": [
            "TEA-OLD-05 is discontinued: only a product in concept or on sale can have a "
            "launch plan."
        ]
    }
    assert LaunchPlan.objects.count() == 0


def test_the_database_refuses_a_product_as_its_own_like(family):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LikeProduct.objects.create(product=family["mint"], like=family["mint"], weight=1)


def test_only_marketing_plans_launches(sales_user, family):
    with pytest.raises(PermissionDenied, match=r"Your role may not plan launches or successions\."):
        set_plan(sales_user, family["mint"])
    assert LaunchPlan.objects.count() == 0


def test_removing_a_launch_plan(marketing_user, family):
    set_plan(marketing_user, family["mint"])
    launch_plan_remove(actor=marketing_user, product=family["mint"], expected_version=1)
    assert (LaunchPlan.objects.count(), LikeProduct.objects.count()) == (0, 0)
    assert RecomputeRequest.objects.count() == 2


def test_a_succession_is_saved_on_both_timelines_and_recomputes_both(marketing_user, family):
    lemon, peach = family["lemon"], family["peach"]
    succession = succession_set(
        actor=marketing_user,
        product=lemon,
        successor_sku="TEA-PEA-05",
        switch_week=week(3),
        expected_version=0,
    )
    assert (succession.successor, succession.switch_week) == (peach, week(3))
    assert RecomputeRequest.objects.get().product_ids == sorted([lemon.pk, peach.pk])
    label = iso_label(week(3))
    assert list(
        ActivityEvent.objects.order_by("object_id").values_list("object_id", "message")
    ) == [
        (lemon.pk, f"Succeeded by TEA-PEA-05 from {label}: its demand moves there."),
        (peach.pk, f"Takes over the demand of TEA-LEM-05 from {label}."),
    ]
    succession_remove(actor=marketing_user, product=lemon, expected_version=1)
    assert Succession.objects.count() == 0


# Also asked of the REST API (tests/demand/test_api_launches.py).
BAD_SUCCESSIONS = [
    ("TEA-LEM-05", 3, {"successor": ["TEA-LEM-05 cannot succeed itself."]}),
    ("", 3, {"successor": ["Give the SKU of the product that takes over."]}),
    ("NOPE-1", 3, {"successor": ["No product with SKU NOPE-1."]}),
    (
        "TEA-OLD-05",
        3,
        {"successor": ["TEA-OLD-05 is discontinued: it cannot take over demand."]},
    ),
    (
        "TEA-PEA-05",
        -1,
        {
            "switch_week": [
                f"{iso_label(add_weeks(current_week(), -1))} is in the past: switch this "
                f"week ({iso_label(current_week())}) or later."
            ]
        },
    ),
    (
        "TEA-MIN-05",
        1,
        {
            "switch_week": [
                f"TEA-MIN-05 launches in {iso_label(add_weeks(current_week(), 2))}: the "
                "switch cannot come before it is on sale."
            ]
        },
    ),
    (
        "TEA-PEA-05",
        None,
        {"switch_week": ["Choose the first week the successor sells instead."]},
    ),
]


@pytest.mark.parametrize(("successor", "switch", "errors"), BAD_SUCCESSIONS)
def test_bad_successions_are_refused(marketing_user, family, successor, switch, errors):
    ProductFactory(sku="TEA-OLD-05", product_line=family["line"], lifecycle="discontinued")
    LaunchPlan.objects.create(product=family["mint"], launch_week=week(2), launch_volume=10)
    with pytest.raises(ValidationError) as refused:
        succession_set(
            actor=marketing_user,
            product=family["lemon"],
            successor_sku=successor,
            switch_week=None if switch is None else week(switch),
            expected_version=0,
        )
    assert refused.value.message_dict == errors
    assert (Succession.objects.count(), RecomputeRequest.objects.count()) == (0, 0)
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize("length", [2, 3, 4])
def test_successor_loops_are_refused_at_any_length(marketing_user, family, length):
    line = family["line"]
    chain = [ProductFactory(sku=f"TEA-C{k}-05", product_line=line) for k in range(length)]
    for old, new in itertools.pairwise(chain):
        Succession.objects.create(product=old, successor=new, switch_week=week(5))
    with pytest.raises(ValidationError) as refused:
        succession_set(
            actor=marketing_user,
            product=chain[-1],
            successor_sku=chain[0].sku,
            switch_week=week(6),
            expected_version=0,
        )
    loop = " → ".join([c.sku for c in chain[-1:]] + [c.sku for c in chain])
    assert refused.value.message_dict == {
        "successor": [f"That would make a loop: {loop}. A product cannot take over its own demand."]
    }
    assert Succession.objects.count() == length - 1


def test_suggested_likes_share_line_tier_and_package_size(family):
    line = family["line"]
    mint = family["mint"]
    SpecificationFactory(product=mint, package_sizes=["0.5 l"])
    SpecificationFactory(product=family["peach"], package_sizes=["0.5 l", "1 l"])
    premium = ProductFactory(sku="TEA-PRE-05", product_line=line, quality_tier="premium")
    sell(premium, 10, weeks=3)
    ProductFactory(sku="TEA-NEW-05", product_line=line)  # no sales: nothing to learn from
    other_line = ProductFactory(sku="COF-001")
    sell(other_line, 10, weeks=3)
    suggestions = [(s.product.sku, s.reasons) for s in suggested_likes(mint)]
    assert suggestions == [
        ("TEA-PEA-05", "same product line, standard tier, package 0.5 l"),
        ("TEA-LEM-05", "same product line, standard tier"),
        ("TEA-PRE-05", "same product line"),
    ]


def test_the_launch_page_summary_says_how_the_forecast_was_made(marketing_user, family):
    mint = family["mint"]
    plan(mint, likes=[(family["lemon"], "1"), (family["peach"], "2")], launch=-2, volume=400)
    forecast_products(product_ids=[mint.pk], trigger="test", horizon=4)
    assert launch_page(Product.objects.get(pk=mint.pk))["summary"] == (
        "Forecast from likes: TEA-LEM-05, TEA-PEA-05 x2 scaled to 400/week, ramp-up week 3 of 8"
    )
