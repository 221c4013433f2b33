"""The forecast and promotion list downloads: real workbooks read back with openpyxl,
exact cells and formats; user text (names, notes, reasons) is never a formula."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import ChannelForecast, DemandForecast
from demand.spreadsheets import CHANNEL_TERMS, FORECAST_TERMS
from tests.factories import (
    DemandForecastFactory,
    MarketingAdjustmentFactory,
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)
from tests.workbooks import XLSX, read_back, row_values

pytestmark = pytest.mark.django_db


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def test_a_products_forecast_downloads_with_every_term(client, marketing_user):
    this_week = current_week()
    last_week, next_week = add_weeks(this_week, -1), add_weeks(this_week, 1)
    product = ProductFactory(sku="BEV-1001", name="Cola 1 l")
    SalesActualFactory(product=product, week=last_week, units=1234)
    DemandForecastFactory(
        product=product,
        week=next_week,
        baseline=1000.4,
        promotion_uplift=250.0,
        promotion_dip=-10.0,
        cannibalization=-5.5,
        cannibalized_by="JCE-2002",
        from_likes=300.0,
        successor_transfer=120.0,
        transferred_with="BEV-0901",
        halo=3.0,
        halo_from="BEV-3003",
        firm_orders=40.0,
        adjustment=50.0,
    )
    MarketingAdjustmentFactory(product=product, week=next_week, reason="=1+1 trade fair")
    promotion = PromotionFactory(
        name="@Summer", start_week=next_week, end_week=next_week, status="planned"
    )
    PromotionItemFactory(promotion=promotion, product=product)
    client.force_login(marketing_user)
    page = client.get(reverse("forecast_detail", args=["BEV-1001"])).content.decode()
    url = reverse("forecast_xlsx", args=["BEV-1001"])
    assert f'href="{url}" download' in page

    response = client.get(url)
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="forecast-BEV-1001.xlsx"'
    sheet = read_back(response.content).active
    assert sheet.title == "Forecast BEV-1001"
    assert sheet.freeze_panes == "A2"
    assert row_values(sheet, 1) == [
        "Week",
        "ISO week",
        "Actual",
        "Baseline",
        "From like products",
        "Successor transfer",
        "Transferred with",
        "Promotion uplift",
        "Dip after promotion",
        "Cannibalization",
        "Cannibalized by",
        "Halo",
        "Halo from",
        "Firm orders",
        "Adjustment",
        "Final",
        "Method",
        "Adjustment reason",
        "Promotions",
    ]
    assert sheet.max_row == 1 + 52 + 26  # a year of history, half a year ahead
    assert row_values(sheet, 2)[:2] == [
        midnight(add_weeks(this_week, -52)),
        iso_label(add_weeks(this_week, -52)),
    ]
    assert row_values(sheet, 53) == [midnight(last_week), iso_label(last_week), 1234] + [None] * 16
    assert row_values(sheet, 55) == [
        midnight(next_week),
        iso_label(next_week),
        None,
        1000.4,
        300,
        120,
        "BEV-0901",
        250,
        -10,
        -5.5,
        "JCE-2002",
        3,
        "BEV-3003",
        40,
        50,
        1327.9,
        "ses",
        "=1+1 trade fair",
        "@Summer",
    ]
    assert [cell.number_format for cell in sheet[55]] == [
        "yyyy-mm-dd",
        "General",
        "General",  # no actual: an empty cell carries no format
        *["#,##0"] * 3,
        "General",
        *["#,##0"] * 3,
        "General",
        "#,##0",
        "General",
        *["#,##0"] * 3,
        "General",
        "General",
        "General",
    ]
    assert sheet["R55"].data_type == "s"
    assert sheet.column_dimensions["A"].width == 12


def test_an_unknown_sku_is_404(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get(reverse("forecast_xlsx", args=["NOPE"])).status_code == 404


def test_the_promotion_list_downloads_one_row_per_product(client, marketing_user):
    week = add_weeks(current_week(), 2)
    spring = PromotionFactory(
        name="=Spring deal",
        start_week=week,
        end_week=add_weeks(week, 1),
        status="confirmed",
        channel="retail",
        discount_pct=Decimal("15.0"),
        notes="+1 free with every crate",
    )
    PromotionItemFactory(
        promotion=spring,
        product=ProductFactory(sku="BEV-1001", name="Cola 1 l"),
        expected_lift_pct=Decimal("30.0"),
    )
    PromotionItemFactory(
        promotion=spring,
        product=ProductFactory(sku="JCE-2002", name="Juice"),
        expected_lift_pct=Decimal("12.5"),
    )
    PromotionFactory(name="Bare", start_week=current_week(), end_week=current_week())
    client.force_login(marketing_user)
    page = client.get(reverse("promotion_calendar")).content.decode()
    assert f'href="{reverse("promotion_list_xlsx")}" download>Download .xlsx</a>' in page

    response = client.get(reverse("promotion_list_xlsx"))
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="promotions-')
    sheet = read_back(response.content)["Promotions"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M4"
    assert row_values(sheet, 1) == [
        "Promotion",
        "Status",
        "Channel",
        "Discount",
        "First week",
        "ISO week",
        "Last week",
        "ISO last week",
        "SKU",
        "Product",
        "Expected lift",
        "At risk",
        "Notes",
    ]
    spring_head = [
        "=Spring deal",
        "Confirmed",
        "Retail",
        0.15,
        midnight(week),
        iso_label(week),
        midnight(add_weeks(week, 1)),
        iso_label(add_weeks(week, 1)),
    ]
    assert row_values(sheet, 2) == [
        *spring_head,
        "BEV-1001",
        "Cola 1 l",
        0.3,
        None,
        "+1 free with every crate",
    ]
    assert row_values(sheet, 3) == [
        *spring_head,
        "JCE-2002",
        "Juice",
        0.125,
        None,
        "+1 free with every crate",
    ]
    assert row_values(sheet, 4)[:4] == ["Bare", "Draft", "All channels", 0.2]
    assert row_values(sheet, 4)[8:] == [None, None, None, None, None]
    assert sheet["A2"].data_type == "s"
    assert sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].number_format == "yyyy-mm-dd"


def test_the_forecast_sheet_has_every_term_of_the_forecast():
    terms = {field.name for field in DemandForecast._meta.concrete_fields} - {
        "id",
        "product",
        "week",
        "run",
    }
    assert {field for field, _ in FORECAST_TERMS} == terms


def test_the_channel_sheet_has_every_term_of_a_channel_forecast():
    terms = {field.name for field in ChannelForecast._meta.concrete_fields} - {
        "id",
        "product",
        "channel",
        "week",
        "run",
    }
    assert {field for field, _ in CHANNEL_TERMS} == terms
