"""Economics inputs: price and cost history, channel prices, the holding cost rate per line
and the shortage margin; bad input refused at the field with nothing saved."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from coordination.models import Line, Product, ProductPrice, RecomputeRequest
from coordination.selectors.products import prices_in_force
from coordination.services.products import product_create, product_price_set, product_update
from coordination.weeks import add_weeks, current_week, iso_label
from tests.factories import LineFactory, ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


def history(product) -> list[tuple]:
    return list(
        ProductPrice.objects.filter(product=product)
        .order_by("effective_from", "channel")
        .values_list("effective_from", "channel", "unit_price", "unit_cost")
    )


@pytest.fixture
def family():
    return ProductLineFactory(name="Iced Tea")


def test_every_price_change_through_the_service_is_kept_by_week(production_user, family):
    product = product_create(
        actor=production_user, sku="TEA-MIN-05", name="Mint tea", product_line=family,
        unit_price=Decimal("1.80"), unit_cost=Decimal("0.95"),
    )  # fmt: skip
    this_week = current_week()
    assert history(product) == [(this_week, "", Decimal("1.80"), Decimal("0.95"))]
    # An older row, as if the product had been priced three weeks ago.
    ProductPrice.objects.filter(product=product).update(effective_from=add_weeks(this_week, -3))
    product_update(
        actor=production_user, product_id=product.pk, expected_version=1,
        unit_price=Decimal("1.95"),
    )  # fmt: skip
    product_update(
        actor=production_user, product_id=product.pk, expected_version=2,
        unit_cost=Decimal("1.00"),
    )  # fmt: skip
    product.refresh_from_db()
    assert (product.unit_price, product.unit_cost, product.version) == (
        Decimal("1.95"),
        Decimal("1.00"),
        3,
    )
    assert history(product) == [
        (add_weeks(this_week, -3), "", Decimal("1.80"), Decimal("0.95")),
        (this_week, "", Decimal("1.95"), Decimal("1.00")),
    ]
    # A change of something else writes no price row.
    product_update(actor=production_user, product_id=product.pk, expected_version=3, name="Mint")
    assert len(history(product)) == 2
    # Old weeks keep their numbers.
    assert prices_in_force([product.pk], add_weeks(this_week, -1)) == {
        product.pk: (Decimal("1.80"), Decimal("0.95"))
    }
    assert prices_in_force([product.pk], add_weeks(this_week, -4)) == {}


def test_a_channel_price_beats_the_all_channels_one_from_its_week(production_user):
    product = ProductFactory(unit_price=Decimal("2.00"), unit_cost=Decimal("1.20"))
    ProductPrice.objects.create(
        product=product, effective_from=add_weeks(current_week(), -5), channel="",
        unit_price=Decimal("2.00"), unit_cost=Decimal("1.20"),
    )  # fmt: skip
    product_price_set(
        actor=production_user, product_id=product.pk, channel="online",
        effective_from=add_weeks(current_week(), 2),
        unit_price=Decimal("2.30"), unit_cost=Decimal("1.25"),
    )  # fmt: skip
    assert prices_in_force([product.pk], add_weeks(current_week(), 1), "online") == {
        product.pk: (Decimal("2.00"), Decimal("1.20"))
    }
    assert prices_in_force([product.pk], add_weeks(current_week(), 2), "online") == {
        product.pk: (Decimal("2.30"), Decimal("1.25"))
    }
    assert prices_in_force([product.pk], add_weeks(current_week(), 2), "retail") == {
        product.pk: (Decimal("2.00"), Decimal("1.20"))
    }
    product.refresh_from_db()
    assert (product.unit_price, product.version) == (Decimal("2.00"), 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": ""}, "channel"),
        ({"channel": "moon"}, "channel"),
        ({"effective_from": add_weeks(current_week(), -1)}, "effective_from"),
        ({"effective_from": add_weeks(current_week(), 1) + dt.timedelta(days=2)}, "effective_from"),
        ({"unit_price": Decimal("-0.01")}, "unit_price"),
        ({"unit_cost": Decimal("1000000.01")}, "unit_cost"),
    ],
)
def test_bad_channel_prices_are_refused_at_the_field(production_user, changes, field):
    product = ProductFactory()
    data = {
        "channel": "online",
        "effective_from": current_week(),
        "unit_price": Decimal("2.00"),
        "unit_cost": Decimal("1.00"),
        **changes,
    }
    with pytest.raises(ValidationError) as info:
        product_price_set(actor=production_user, product_id=product.pk, **data)
    assert list(info.value.message_dict) == [field]
    assert ProductPrice.objects.count() == 0


def test_the_migration_seeds_one_price_row_per_product():
    product = ProductFactory(unit_price=Decimal("3.10"), unit_cost=Decimal("1.40"))
    migration = importlib.import_module("coordination.migrations.0012_money_inputs")
    migration.seed_price_history(apps, None)
    day = product.created_at.date()
    monday = day - dt.timedelta(days=day.weekday())
    assert history(product) == [(monday, "", Decimal("3.10"), Decimal("1.40"))]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("1000000.01", "Ensure this value is less than or equal to 1000000.00."),
        ("lots", "Enter a number."),
    ],
)
def test_the_product_form_refuses_bad_money_at_the_field(client, production_user, value, message):
    product = ProductFactory(sku="TEA-LEM-05", unit_price=Decimal("2.00"))
    client.force_login(production_user)
    for field in ("unit_price", "unit_cost", "shortage_margin"):
        response = client.post(
            reverse("product_edit", args=[product.sku]), {field: value, "version": 1}
        )
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [message]
    product.refresh_from_db()
    assert (product.unit_price, product.version, ProductPrice.objects.count()) == (
        Decimal("2.00"),
        1,
        0,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("1000000.01", "Ensure this value is less than or equal to 1000000.00."),
        ("lots", "A valid number is required."),
    ],
)
def test_the_product_api_refuses_bad_money_at_the_field(production_user, value, message):
    product = ProductFactory(sku="TEA-LEM-05", unit_price=Decimal("2.00"))
    client = APIClient()
    client.force_authenticate(production_user)
    for field in ("unit_price", "unit_cost", "shortage_margin"):
        response = client.patch(
            f"/api/v1/products/{product.sku}/", {field: value, "version": 1}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {field: [message]}
    product.refresh_from_db()
    assert (product.unit_price, product.version, ProductPrice.objects.count()) == (
        Decimal("2.00"),
        1,
        0,
    )


@pytest.fixture
def line():
    line = LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("100.0"))
    ProductFactory(sku="BEV-1001", production_line=line)
    return line


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (101, "A holding cost rate is from 0 to 100 % a year."),
        (-1, "A holding cost rate is from 0 to 100 % a year."),
        ("lots", "A valid number is required."),
        ("12.345", "Give the rate to at most two decimal places."),
        ("1e999999", "A holding cost rate is from 0 to 100 % a year."),
        ("NaN", "A valid number is required."),
    ],
)
def test_the_line_api_refuses_a_bad_holding_rate(production_user, line, value, message):
    client = APIClient()
    client.force_authenticate(production_user)
    response = client.patch(
        f"/api/v1/lines/{line.pk}/", {"version": 1, "holding_cost_rate_pct": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"holding_cost_rate_pct": [message]}
    line.refresh_from_db()
    assert (line.holding_cost_rate_pct, line.version) == (None, 1)


def test_a_holding_rate_is_set_and_cleared_without_replanning(production_user, line):
    client = APIClient()
    client.force_authenticate(production_user)
    url = f"/api/v1/lines/{line.pk}/"
    response = client.patch(url, {"version": 1, "holding_cost_rate_pct": "12.5"}, format="json")
    assert (response.status_code, response.json()["holding_cost_rate_pct"]) == (200, "12.50")
    assert RecomputeRequest.objects.count() == 0
    # Leaving it out keeps it; null clears it.
    client.patch(url, {"version": 2, "frozen_window_weeks": 2}, format="json")
    assert Line.objects.get(pk=line.pk).holding_cost_rate_pct == Decimal("12.50")
    response = client.patch(url, {"version": 2, "holding_cost_rate_pct": None}, format="json")
    assert (response.status_code, response.json()["holding_cost_rate_pct"]) == (200, None)
    assert Line.objects.get(pk=line.pk).version == 3


def test_the_line_page_refuses_a_rate_over_100(client, production_user, marketing_user, line):
    client.force_login(production_user)
    data = {
        "form": "line",
        "version": "1",
        "weekly_capacity_hours": "100",
        "frozen_window_weeks": "2",
        "holding_cost_rate_pct": "150",
    }
    response = client.post(reverse("line_detail", args=[line.pk]), data)
    assert response.status_code == 200
    assert response.context["line_form"].errors["holding_cost_rate_pct"] == [
        "Ensure this value is less than or equal to 100."
    ]
    line.refresh_from_db()
    assert (line.holding_cost_rate_pct, line.version) == (None, 1)
    saved = client.post(
        reverse("line_detail", args=[line.pk]), {**data, "holding_cost_rate_pct": "15"}
    )
    assert saved.status_code == 302
    line.refresh_from_db()
    assert (line.holding_cost_rate_pct, line.version) == (Decimal("15.00"), 2)
    client.force_login(marketing_user)  # readers see the figures, not the form
    page = client.get(reverse("line_detail", args=[line.pk])).content.decode()
    assert "<dt>Holding cost rate</dt><dd>15 % a year</dd>" in page


def test_product_page_says_no_price_and_the_currency(client, marketing_user):
    priced = ProductFactory(sku="TEA-LEM-05", unit_price=Decimal("2.00"), unit_cost=Decimal("1.20"))
    unpriced = ProductFactory(sku="TEA-NEW-05", unit_price=Decimal("0.00"))
    client.force_login(marketing_user)
    html = client.get(reverse("product_detail", args=[priced.sku])).content.decode()
    assert "<dt>Unit price</dt><dd>2.00 EUR</dd>" in html
    assert "(margin 0.80 EUR)" in html
    html = client.get(reverse("product_detail", args=[unpriced.sku])).content.decode()
    assert "<dt>Unit price</dt><dd>no price</dd>" in html
    assert Product.objects.count() == 2


def test_the_product_page_lists_its_prices_by_week_and_channel(client, marketing_user):
    product = ProductFactory(sku="SPW-LIM-33")
    for week, channel, price in ((-52, "", "0.86"), (-12, "", "0.90"), (-12, "online", "0.94")):
        ProductPrice.objects.create(
            product=product, effective_from=add_weeks(current_week(), week), channel=channel,
            unit_price=Decimal(price), unit_cost=Decimal("0.50"),
        )  # fmt: skip
    client.force_login(marketing_user)
    html = client.get(reverse("product_detail", args=[product.sku])).content.decode()
    table = html.split('id="price-history"')[1].split("</table>")[0]
    rows = [
        [cell.split(">")[-1] for cell in row.split("</td>")[:-1]]
        for row in table.split("<tbody>")[1].split("</tr>")[:-1]
    ]
    label = lambda k: iso_label(add_weeks(current_week(), k))  # noqa: E731
    assert rows == [
        [label(-12), "All channels", "0.90", "0.50"],
        [label(-52), "All channels", "0.86", "0.50"],
        [label(-12), "Online", "0.94", "0.50"],
    ]
