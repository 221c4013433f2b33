"""The quota grid of a line as .xlsx: every product and week with the recommendation,
the accepted quota and the explanation's terms; read back with openpyxl."""

import datetime as dt

import pytest
from django.urls import reverse

from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import DemandForecast
from demand.spreadsheets import FORECAST_TERMS
from production.models import QuotaRecommendation
from production.spreadsheets import BASELINE_PARTS, QUOTA_TERMS
from tests.factories import (
    DemandForecastFactory,
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    ScheduleEntryFactory,
)
from tests.workbooks import XLSX, read_back, row_values

pytestmark = pytest.mark.django_db


def test_the_quota_grid_downloads_with_its_terms(client, production_user):
    line = LineFactory(name="Bottling 1")
    other = LineFactory(name="Cans")
    cola = ProductFactory(sku="BEV-1001", name="Cola 1 l", production_line=line)
    juice = ProductFactory(sku="JCE-2002", name="Juice", production_line=line)
    week, later = current_week(), add_weeks(current_week(), 1)
    QuotaRecommendationFactory(
        product=cola,
        week=week,
        baseline=1000.0,
        promotion_uplift=200.0,
        firm_orders=50.5,
        safety_stock=100.0,
        stock_before_arrival=300.0,
        prebuild_units=20.0,
        hold_reason="=HOLD() quality check",
    )
    DemandForecastFactory(
        product=cola,
        week=add_weeks(week, cola.lead_time_weeks),  # the week the quota covers
        baseline=1000.0,
        from_likes=300.0,
        successor_transfer=120.5,
        transferred_with="=BEV-0901",
    )
    QuotaRecommendationFactory(product=juice, week=later, baseline=80.0, shortage_units=5.0)
    QuotaRecommendationFactory(product=ProductFactory(production_line=other), week=week)
    ScheduleEntryFactory(product=cola, week=week, units=1000)
    client.force_login(production_user)
    page = client.get(reverse("production_dashboard"), {"line": line.pk}).content.decode()
    url = f"{reverse('quota_grid_xlsx')}?line={line.pk}"
    assert f'href="{url}" download' in page

    response = client.get(url)
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == (
        f'attachment; filename="quotas-Bottling_1-{iso_label(week)}.xlsx"'
    )
    book = read_back(response.content)
    sheet = book.active
    assert sheet.title == "Quotas Bottling 1"
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 3  # the other line's product is not in it
    assert row_values(sheet, 1) == [
        "SKU",
        "Product",
        "Week",
        "ISO week",
        "Recommended",
        "Accepted",
        "Baseline demand",
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
        "Marketing adjustment",
        "Demand",
        "Safety stock",
        "Stock before arrival",
        "Net requirement",
        "Built ahead",
        "Capacity cut",
        "Shortage",
        "Projected on hand",
        "Hold",
    ]
    monday = dt.datetime.combine(week, dt.time())
    assert row_values(sheet, 2) == [
        "BEV-1001",
        "Cola 1 l",
        monday,
        iso_label(week),
        1071,  # 1250.5 + 100 - 300 + 20, in whole units as the grid shows it
        1000,
        1000,
        300,  # the baseline's parts, from the covers week's forecast
        120.5,
        "=BEV-0901",
        200,
        0,
        0,
        None,
        0,
        None,
        50.5,
        0,
        1250.5,
        100,
        300,
        1050.5,
        20,
        0,
        0,
        100,
        "=HOLD() quality check",
    ]
    assert sheet["AA2"].data_type == sheet["J2"].data_type == "s"  # text, never a formula
    assert [sheet.cell(row=2, column=c).number_format for c in (3, 5, 6, 8, 17)] == [
        "yyyy-mm-dd",
        "#,##0",
        "#,##0",
        "#,##0",
        "#,##0",
    ]
    assert row_values(sheet, 3)[:6] == [
        "JCE-2002",
        "Juice",
        dt.datetime.combine(add_weeks(week, 1), dt.time()),
        iso_label(add_weeks(week, 1)),
        80,
        None,  # not accepted
    ]
    assert row_values(sheet, 3)[7:10] == [None, None, None]  # no forecast: no parts
    assert sheet["Y3"].value == 5  # shortage


def test_the_quota_sheet_has_every_demand_term_of_the_forecast_and_the_plan():
    """Every term the covers week's forecast carries (its final is the plan's demand),
    and every demand term of the recommendation, is a column."""
    forecast = {field for field, _ in FORECAST_TERMS} - {"final", "method"}
    quota = {field.name for field in QuotaRecommendation._meta.concrete_fields}
    demand_terms = (forecast & quota) | {"demand"}
    assert {field for field, _ in QUOTA_TERMS} == forecast | demand_terms
    # What the recommendation does not carry is read from the forecast.
    assert set(BASELINE_PARTS) == forecast - quota
    assert set(BASELINE_PARTS) <= {field.name for field in DemandForecast._meta.concrete_fields}


def test_the_quota_grid_download_needs_the_dashboard_permission(client, make_user):
    LineFactory(name="Bottling 1")
    url = reverse("quota_grid_xlsx")
    assert client.get(url).status_code == 302  # signed out: to sign in
    client.force_login(make_user())  # no role
    assert client.get(url).status_code == 403
