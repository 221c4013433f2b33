"""A promotion's economics from the live data: the line planned with and without it by the
pipeline's planner, valued to the cent; the page on the promotion and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from coordination.services import api_clients
from coordination.services.products import product_price_set
from coordination.weeks import add_weeks, current_week, iso_label
from demand.engine.effects import DipEstimate
from demand.models import (
    ChannelForecast,
    DemandForecast,
    ForecastRun,
    Promotion,
    PromotionItem,
    SalesActual,
)
from demand.selectors import lift
from demand.services.forecasting import forecast_products
from production.models import RunRate, ScheduleEntry
from production.selectors.economics import promotion_money
from tests.factories import LineFactory, ProductFactory, PromotionFactory

pytestmark = pytest.mark.django_db

HORIZON = 26


def forecast(product, weekly: float) -> None:
    run = ForecastRun.objects.create(
        trigger="test", horizon_weeks=HORIZON, first_week=current_week()
    )
    DemandForecast.objects.bulk_create(
        DemandForecast(
            product=product,
            week=add_weeks(current_week(), k),
            run=run,
            baseline=weekly,
            final=weekly,
            method="test",
        )
        for k in range(HORIZON)
    )


@pytest.fixture
def world():
    """Line of `capacity` hours; A (1 h a unit, sells 40 a week at 3.00, costs 1.00) and
    B (2 h a unit, 30 a week at 5.00, costs 2.00): 100 hours a week of baseline demand."""

    def build(capacity: str):
        line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal(capacity))
        a = ProductFactory(
            sku="TST-A", production_line=line, lead_time_weeks=0,
            unit_price=Decimal("3.00"), unit_cost=Decimal("1.00"),
        )  # fmt: skip
        b = ProductFactory(
            sku="TST-B", production_line=line, lead_time_weeks=0,
            unit_price=Decimal("5.00"), unit_cost=Decimal("2.00"),
        )  # fmt: skip
        RunRate.objects.create(product=a, hours_per_unit=Decimal("1"))
        RunRate.objects.create(product=b, hours_per_unit=Decimal("2"))
        forecast(a, 40)
        forecast(b, 30)
        return a

    return build


def promote(product, *, start: int, weeks: int = 2, lift="50", discount="20", status="draft"):
    promotion = PromotionFactory(
        start_week=add_weeks(current_week(), start),
        end_week=add_weeks(current_week(), start + weeks - 1),
        discount_pct=Decimal(discount),
        status=status,
    )
    PromotionItem.objects.create(
        promotion=promotion, product=product, expected_lift_pct=Decimal(lift)
    )
    return promotion


def money(user, promotion) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/promotions/{promotion.pk}/economics/")
    assert response.status_code == 200, response.content
    return response.json()


def terms(body) -> dict:
    return {t["key"]: t["amount"] for t in body["terms"]}


def test_a_promotion_on_a_full_line_displaces_the_other_product(world, marketing_user):
    """At capacity, +20 A a week for 2 weeks takes 20 hours a week from B (2 h a unit):
    B is 20 units short. A: 80 baseline units, 40 extra at 2.40 - 1.00 = 56.00; discount
    80 x 3.00 x 20 % = 48.00; B: 20 x (5.00 - 2.00) = 60.00; net 56 - 48 - 60 = -52.00.
    Break-even: (48 + 60) / (80 x 1.40) = 96.43 %."""
    a = world("100")
    promotion = promote(a, start=2)
    body = money(marketing_user, promotion)
    assert terms(body) == {
        "extra_units_margin": "56.00",
        "discount_given_away": "-48.00",
        "holding_cost": "0.00",
        "displaced_margin": "-60.00",
        "post_promotion_dip": "0.00",
    }
    assert (body["incremental_units"], body["incremental_revenue"]) == ("40.0", "96.00")
    assert (body["incremental_margin"], body["net"], body["pays"]) == ("8.00", "-52.00", False)
    assert body["break_even_lift_pct"] == "96.4"
    assert body["break_even"].startswith("pays from +96.4 % lift")
    assert (body["currency"], body["lines"], body["no_price"]) == ("EUR", ["Bottling"], [])
    displaced = next(t for t in body["terms"] if t["key"] == "displaced_margin")
    assert "TST-B: 20 more units short × 3.00 EUR margin = −60.00 EUR" in displaced["explanation"]
    dip = next(t for t in body["terms"] if t["key"] == "post_promotion_dip")
    assert "TST-A: no dip after its promotions is learned; counted as 0" in dip["explanation"]


def test_slack_before_the_promotion_is_used_to_build_ahead_and_costs_holding(
    world, marketing_user, settings
):
    """110 hours a week: 10 spare. The promotion (weeks 4-5) needs 20 more hours in each;
    the planner builds the 2 h-a-unit product B ahead in weeks 2 and 3 (5 units each), held
    5, 10, 5 unit-weeks: 20 unit-weeks x 2.00 x 26 % / 52 = 0.20. Nothing goes short."""
    settings.HOLDING_COST_RATE_PERCENT = 20
    a = world("110")
    a.production_line.holding_cost_rate_pct = Decimal("26")
    a.production_line.save()
    body = money(marketing_user, promote(a, start=4))
    assert terms(body) == {
        "extra_units_margin": "56.00",
        "discount_given_away": "-48.00",
        "holding_cost": "-0.20",
        "displaced_margin": "0.00",
        "post_promotion_dip": "0.00",
    }
    assert (body["net"], body["pays"], body["break_even_lift_pct"]) == ("7.80", True, "43.0")
    held = next(t for t in body["terms"] if t["key"] == "holding_cost")
    assert (
        "TST-B: 10 more units built ahead, 20 more unit-weeks × 2.00 EUR × 26 % / 52"
        in held["explanation"]
    )


def test_a_promotion_already_planned_is_valued_the_same_as_its_draft(world, marketing_user):
    """The forecast of a planned promotion carries its uplift; the economics take it out
    for the plan without it, so confirming changes nothing in the answer."""
    a = world("100")
    promotion = promote(a, start=2, status="planned")
    for week in (add_weeks(current_week(), 2), add_weeks(current_week(), 3)):
        DemandForecast.objects.filter(product=a, week=week).update(promotion_uplift=20, final=60)
    assert money(marketing_user, promotion)["net"] == "-52.00"


def test_a_channel_price_counts_for_a_channel_promotion(world, marketing_user, admin_user):
    """Online, A sells at 4.00 (cost 1.00): 40 x (3.20 - 1.00) = 88.00; 80 x 4.00 x 20 %
    = 64.00; net 88 - 64 - 60 = -36.00."""
    a = world("100")
    product_price_set(
        actor=admin_user, product_id=a.pk, channel="online", effective_from=current_week(),
        unit_price=Decimal("4.00"), unit_cost=Decimal("1.00"),
    )  # fmt: skip
    promotion = promote(a, start=2)
    promotion.channel = Promotion.Channel.ONLINE
    promotion.save()
    body = money(marketing_user, promotion)
    assert (terms(body)["extra_units_margin"], terms(body)["discount_given_away"]) == (
        "88.00",
        "-64.00",
    )
    assert body["net"] == "-36.00"


def test_a_product_without_a_price_shows_no_price(world, marketing_user, client):
    a = world("100")
    a.unit_price = Decimal("0.00")
    a.save()
    promotion = promote(a, start=2)
    body = money(marketing_user, promotion)
    assert (body["no_price"], body["net"], body["pays"], body["break_even_lift_pct"]) == (
        ["TST-A"],
        None,
        None,
        None,
    )
    assert terms(body)["extra_units_margin"] is None
    assert terms(body)["displaced_margin"] == "-60.00"
    client.force_login(marketing_user)
    html = client.get(
        f"/production/promotions/{promotion.pk}/economics/", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<strong>No price:</strong> TST-A has no list price" in html
    assert '<strong id="economics-net">no price</strong>' in html
    assert "0.00 EUR</td>" not in html.split("Margin on the extra units")[1].split("</tr>")[0]


def test_the_promotion_page_loads_the_economics_and_the_partial_says_its_currency(
    world, marketing_user, client
):
    a = world("100")
    promotion = promote(a, start=2)
    client.force_login(marketing_user)
    page = client.get(f"/promotions/{promotion.pk}/").content.decode()
    url = f"/production/promotions/{promotion.pk}/economics/"
    assert f'hx-get="{url}" hx-trigger="load"' in page
    partial = client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert '<strong id="economics-net">−52.00 EUR</strong>' in html
    assert '<span class="badge badge-err">Loses money</span>' in html
    assert "Pays from +96.4 % lift" in html
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.content.decode()


def test_nothing_is_written_while_valuing(world, marketing_user):
    a = world("100")
    promotion = promote(a, start=2)
    before = (DemandForecast.objects.count(), ScheduleEntry.objects.count(), promotion.version)
    money(marketing_user, promotion)
    promotion.refresh_from_db()
    assert (
        DemandForecast.objects.count(),
        ScheduleEntry.objects.count(),
        promotion.version,
    ) == before


def test_unknown_promotion_is_404_in_the_api_and_the_page(marketing_user, client):
    api = APIClient()
    api.force_authenticate(marketing_user)
    response = api.get("/api/v1/promotions/999999/economics/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    client.force_login(marketing_user)
    assert client.get("/production/promotions/999999/economics/").status_code == 404


def test_the_api_needs_the_promotions_read_scope(world):
    a = world("100")
    promotion = promote(a, start=2)
    url = f"/api/v1/promotions/{promotion.pk}/economics/"
    _, without = api_clients.client_create(name="shop", scopes=["quotas:read"])
    _, key = api_clients.client_create(name="bi", scopes=["promotions:read"])
    client = APIClient()
    assert client.get(url, headers={"Authorization": f"Bearer {without}"}).status_code == 403
    response = client.get(url, headers={"Authorization": f"Bearer {key}"})
    assert (response.status_code, response.json()["net"]) == (200, "-52.00")


def test_weeks_beyond_the_horizon_are_named_not_counted(world, marketing_user, settings):
    a = world("100")
    promotion = promote(a, start=HORIZON - 1, weeks=3)
    body = money(marketing_user, promotion)
    last = iso_label(add_weeks(current_week(), HORIZON - 1))
    assert body["weeks_not_counted"].startswith("Not counted: Weeks ")
    assert f"(to {last})" in body["weeks_not_counted"]
    # One week of 40 baseline units counted: 20 extra units x 1.40 = 28.00.
    assert terms(body)["extra_units_margin"] == "28.00"


def test_a_discontinued_or_unplanned_product_is_valued_without_a_capacity_effect(
    world, marketing_user
):
    """A product off every line, and a discontinued one, still have margins to count:
    40 extra A x 1.40 - 80 x 3.00 x 20 % = 8.00, and nothing planned for them."""
    a = world("100")
    a.lifecycle = "discontinued"
    a.save()
    body = money(marketing_user, promote(a, start=2))
    assert (terms(body)["extra_units_margin"], body["incremental_margin"]) == ("56.00", "8.00")
    assert terms(body)["displaced_margin"] == "0.00"
    a.lifecycle, a.production_line = "active", None
    a.save()
    body = money(marketing_user, promote(a, start=2))
    assert (body["net"], body["lines"]) == ("8.00", [])


# ------------------------------------------------------- the plan in money (dashboard)


def planned_uplift(a, *, start: int, weeks: int = 2) -> None:
    """A planned +50 % on A (40 a week): the forecast carries 20 more a week."""
    promote(a, start=start, weeks=weeks, status="planned")
    DemandForecast.objects.filter(
        product=a,
        week__gte=add_weeks(current_week(), start),
        week__lte=add_weeks(current_week(), start + weeks - 1),
    ).update(promotion_uplift=20, final=60)


def dashboard_money(client, user, line) -> str:
    client.force_login(user)
    html = client.get(f"/production/?line={line.pk}").content.decode()
    return html.split('id="plan-money"')[1].split("</section>")[0]


def test_the_dashboard_values_shortages_at_their_lost_margin_per_week(
    world, production_user, client
):
    """Full line, +20 A in weeks 2 and 3: B (2 h a unit) goes 10 short in each, so its
    backlog peaks at 20: 10 x 3.00 = 30.00 of margin lost in each week, 60.00 in all."""
    a = world("100")
    planned_uplift(a, start=2)
    card = dashboard_money(client, production_user, a.production_line)
    assert "holding the stock built ahead costs <strong>0.00 EUR</strong> (20 % of unit" in card
    assert "shortages lose <strong>60.00 EUR</strong> of margin" in card
    rows = [
        [cell.split(">")[-1] for cell in row.replace("</th>", "</td>").split("</td>")[:-1]]
        for row in card.split("<tbody>")[1].split("</tr>")[:-1]
    ]
    assert rows == [
        [iso_label(add_weeks(current_week(), 2)), "0", "0.00 EUR", "10", "30.00 EUR"],
        [iso_label(add_weeks(current_week(), 3)), "0", "0.00 EUR", "10", "30.00 EUR"],
    ]


def test_the_dashboard_values_the_stock_built_ahead_at_its_holding_cost(
    world, production_user, client
):
    """110 hours: B is built ahead 5 units in week 2 and 5 in week 3 for the promotion's
    weeks 4-5, held 5, 10, 5 units: 2.00 x 20 % / 52 a unit-week = 0.04, 0.08, 0.04
    (half-even, shown); 20 x 2.00 x 0.2 / 52 = 0.1538... = 0.15 in all."""
    a = world("110")
    planned_uplift(a, start=4)
    card = dashboard_money(client, production_user, a.production_line)
    assert "costs <strong>0.15 EUR</strong>" in card
    assert "shortages lose <strong>0.00 EUR</strong>" in card
    weeks = [iso_label(add_weeks(current_week(), k)) for k in (2, 3, 4)]
    for week, held, cost in zip(weeks, ("5", "10", "5"), ("0.04", "0.08", "0.04"), strict=True):
        assert (
            f'<tr><th scope="row">{week}</th><td class="num">{held}</td>'
            f'<td class="num">{cost} EUR</td>'
        ) in card
    assert card.count('<tr><th scope="row">') == 3


def test_a_retail_promotion_counts_only_retail_units_of_a_product_sold_per_channel(
    world, marketing_user
):
    """A sells 40 a week: 24 in retail, 16 online. A +50 % retail promotion for 2 weeks
    adds 24 units (50 % of 48 retail units), not 40, and gives the discount on the 48
    retail units only: 48 x 3.00 x 20 % = 28.80."""
    a = world("1000")
    run = DemandForecast.objects.filter(product=a).first().run
    ChannelForecast.objects.bulk_create(
        ChannelForecast(
            product=a,
            channel=channel,
            week=add_weeks(current_week(), k),
            run=run,
            baseline=units,
            final=units,
        )
        for channel, units in (("retail", 24.0), ("online", 16.0))
        for k in range(HORIZON)
    )
    promotion = promote(a, start=2)
    promotion.channel = "retail"
    promotion.save(update_fields=["channel"])
    body = money(marketing_user, promotion)
    assert body["incremental_units"] == "24.0"
    assert terms(body)["discount_given_away"] == "-28.80"
    promotion.channel = "all"
    promotion.save(update_fields=["channel"])
    everywhere = money(marketing_user, promotion)
    assert everywhere["incremental_units"] == "40.0"
    assert terms(everywhere)["discount_given_away"] == "-48.00"


def test_the_dip_is_the_forecasts_learned_dip_for_the_weeks_it_lasts(marketing_user, monkeypatch):
    """One source for the dip: the product's learned dip (-20 % for 3 weeks, set where
    demand learns it), as the forecast carries it. Retail 60 + online 40 a week, a +50 %
    retail promotion in weeks 2-3: the forecast rows' dip in weeks 4-6 is -12 each (20 %
    of retail's 60), and the economics count those 36 units at 3.00 - 1.00: -72.00. A
    planned promotion of the product in week 5 leaves no dip there: 24 units, -48.00."""
    monkeypatch.setattr(lift, "learn_dip", lambda own, line: DipEstimate(-20.0, 3))
    product = ProductFactory(sku="TST-SPLIT", unit_price=Decimal("3.00"), unit_cost=Decimal("1.00"))
    SalesActual.objects.bulk_create(
        SalesActual(
            product=product, channel=channel, week=add_weeks(current_week(), k), units=units
        )
        for channel, units in (("retail", 60), ("online", 40))
        for k in range(-104, 0)
    )
    promotion = promote(product, start=2, status="planned")
    promotion.channel = "retail"
    promotion.save(update_fields=["channel"])

    def both() -> tuple[list[float], dict, str]:
        forecast_products(product_ids=[product.pk], trigger="test")
        rows = DemandForecast.objects.filter(
            product=product,
            week__gt=promotion.end_week,
            week__lte=add_weeks(promotion.end_week, 3),
        ).order_by("week")
        body = money(marketing_user, promotion)
        dip = next(t for t in body["terms"] if t["key"] == "post_promotion_dip")
        (sold,) = promotion_money(promotion)["products"]
        return [r.promotion_dip for r in rows], sold, dip

    dips, sold, dip = both()
    assert dips == [-12.0, -12.0, -12.0]
    assert sold["dip_units"] == Decimal(str(-sum(dips)))
    assert (sold["dip_pct"], sold["dip_units"]) == (Decimal("-20.0"), Decimal("36"))
    assert dip["amount"] == "-72.00"
    assert (
        "TST-SPLIT: the forecast's learned dip of −20.0 % (3 weeks after it); 36 units"
        in (dip["explanation"])
    )

    promote(product, start=5, weeks=1, status="planned")
    dips, sold, dip = both()
    # Week 5: none (promoted); week 6: the week-5 promotion's deeper dip of the whole
    # product (dips do not stack), of which this promotion's is retail's 12.
    assert dips == [-12.0, 0.0, -20.0]
    assert (sold["dip_units"], dip["amount"]) == (Decimal("24"), "-48.00")
    assert "(3 weeks after it, 2 of them counted); 24 units" in dip["explanation"]
