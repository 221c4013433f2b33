"""Production's answer reports what a promotion does to its whole product line: the
uplift of its products, their dip after it and what it takes from their siblings."""

import pytest
from django.urls import reverse

from coordination.models import Product
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Succession
from demand.selectors.promotions import promotion_net_effect
from tests.factories import (
    DemandForecastFactory,
    ProductFactory,
    ProductLineFactory,
    PromotionFactory,
    PromotionItemFactory,
)

pytestmark = pytest.mark.django_db


def week(k):
    return add_weeks(current_week(), k)


@pytest.fixture
def promotion():
    teas, juices = ProductLineFactory(name="Teas"), ProductLineFactory(name="Juices")
    lemon = ProductFactory(sku="TEA-LEM", product_line=teas)
    peach = ProductFactory(sku="TEA-PEA", product_line=teas)
    mint = ProductFactory(sku="TEA-MIN", product_line=teas)
    apple = ProductFactory(sku="JUI-APP", product_line=juices)
    promotion = PromotionFactory(
        name="Spring", status="planned", start_week=week(2), end_week=week(3)
    )
    for product in (lemon, apple):
        PromotionItemFactory(promotion=promotion, product=product)
    rows = [
        (lemon, 2, {"promotion_uplift": 100.0}),
        (lemon, 3, {"promotion_uplift": 80.0}),
        (lemon, 4, {"promotion_dip": -30.0}),
        (lemon, 7, {"promotion_dip": -10.0}),
        (lemon, 8, {"promotion_dip": -5.0}),  # after the dip window: another promotion's
        (peach, 2, {"cannibalization": -25.0, "cannibalized_by": "TEA-LEM"}),
        (peach, 3, {"cannibalization": -15.0, "cannibalized_by": "TEA-LEM, TEA-XYZ"}),
        (mint, 2, {"halo": 12.0, "halo_from": "TEA-LEM"}),  # lifted by it
        (mint, 3, {"cannibalization": -10.0, "cannibalized_by": "TEA-XYZ"}),  # not this one
        (mint, 4, {"halo": 6.0, "halo_from": "TEA-LEM"}),  # after it
        (mint, 5, {"cannibalization": -7.0, "cannibalized_by": "TEA-LEM"}),  # after it
        (apple, 2, {"promotion_uplift": 50.0}),
    ]
    for product, k, terms in rows:
        DemandForecastFactory(product=product, week=week(k), baseline=100.0, **terms)
    return promotion


def test_the_net_effect_per_product_line(promotion):
    juices, teas = promotion_net_effect(promotion)
    assert (juices["product_line"].name, teas["product_line"].name) == ("Juices", "Teas")
    assert {k: teas[k] for k in ("uplift", "dip", "taken", "halo", "net", "kept_pct")} == {
        "uplift": 180.0,
        "dip": -40.0,
        "taken": -40.0,
        "halo": 12.0,
        "net": 112.0,
        "kept_pct": 62,
    }
    assert teas["taken_from"] == [("TEA-PEA", -40.0)]
    assert teas["halo_to"] == [("TEA-MIN", 12.0)]
    assert teas["dip_weeks"] == (week(4), week(7))
    assert {k: juices[k] for k in ("uplift", "dip", "taken", "halo", "net", "kept_pct")} == {
        "uplift": 50.0,
        "dip": 0.0,
        "taken": 0.0,
        "halo": 0.0,
        "net": 50.0,
        "kept_pct": 100,
    }


def test_the_dip_is_dated_by_the_weeks_the_forecast_carries_it(promotion):
    """A learned dip of 2 weeks is stated as those 2 weeks, not the 4 weeks looked at."""
    lemon = Product.objects.get(sku="TEA-LEM")
    lemon.forecasts.filter(week=week(7)).delete()
    DemandForecastFactory(product=lemon, week=week(5), baseline=100.0, promotion_dip=-10.0)

    teas = promotion_net_effect(promotion)[1]

    assert (teas["dip"], teas["dip_weeks"]) == (-40.0, (week(4), week(5)))


def test_a_cancelled_promotion_has_no_effect(promotion):
    promotion.status = "cancelled"
    promotion.save()
    assert promotion_net_effect(promotion) == []


def test_production_s_answer_states_the_net_effect(client, marketing_user, promotion):
    client.force_login(marketing_user)
    html = client.get(reverse("promotion_impact", args=[promotion.pk])).content.decode()
    assert (
        "<h3>Net effect on Teas</h3>\n    <p>180 units from the promotion, -40 in the dip after "
        f"it ({iso_label(week(4))} to {iso_label(week(7))}), -40 taken from the line's other "
        "products (TEA-PEA -40), +12 added to the line's other products by its halo (TEA-MIN "
        "+12): <strong>net +112 units</strong> for the line, 62 % of the uplift.</p>"
    ) in html
    assert (
        "<h3>Net effect on Juices</h3>\n    <p>50 units from the promotion: <strong>net +50 "
        'units</strong> for the line, 100 % of the uplift.</p>\n    <p class="muted">No dip '
        "after promotions and no cannibalization or halo of siblings is learned for these "
        "products: "
        "the line keeps the whole uplift.</p>"
    ) in html
    assert html.count("Net effect on") == 2


def test_production_s_answer_names_the_successor_of_a_replaced_product(
    client, marketing_user, promotion
):
    lemon = Product.objects.get(sku="TEA-LEM")
    successor = ProductFactory(sku="TEA-LEM-V2", product_line=lemon.product_line)
    Succession.objects.create(product=lemon, successor=successor, switch_week=week(3))
    client.force_login(marketing_user)
    html = client.get(reverse("promotion_impact", args=[promotion.pk])).content.decode()
    assert html.count('<span class="badge badge-warn">Replaced</span>') == 1
    assert (
        f"TEA-LEM-V2 takes over its demand from {iso_label(week(3))}, and with it this "
        "promotion's lift and the dip after it from then on (counted in the net effect "
        "below): see TEA-LEM-V2's forecast and plan."
    ) in html
