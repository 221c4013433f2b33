"""Demand's downloads as workbook sheets (demand.xlsx writes them)."""

from __future__ import annotations

from coordination.models import Product
from coordination.weeks import iso_label
from demand.xlsx import XlsxColumn, XlsxSheet, week_columns

FORECAST_COLUMNS = (
    *week_columns("Week"),
    XlsxColumn("Actual", "units"),
    XlsxColumn("Baseline", "units"),
    XlsxColumn("Promotion uplift", "units", 16),
    XlsxColumn("Dip after promotion", "units", 19),
    XlsxColumn("Cannibalization", "units", 16),
    XlsxColumn("Cannibalized by", "text", 16),
    XlsxColumn("Halo", "units", 10),
    XlsxColumn("Halo from", "text", 16),
    XlsxColumn("Firm orders", "units", 12),
    XlsxColumn("Adjustment", "units", 12),
    XlsxColumn("Final", "units"),
    XlsxColumn("Method", "text", 14),
    XlsxColumn("Adjustment reason", "text", 30),
    XlsxColumn("Promotions", "text", 30),
)


def forecast_sheet(product: Product, data: dict) -> XlsxSheet:
    """A product's weeks as its forecast page has them (product_forecast): the actual
    sales of past weeks, and every term of the forecast (units, unrounded)."""

    def row(week: dict) -> list:
        forecast, adjustment = week["forecast"], week["adjustment"]
        terms = (
            [
                forecast.baseline,
                forecast.promotion_uplift,
                forecast.promotion_dip,
                forecast.cannibalization,
                forecast.cannibalized_by,
                forecast.halo,
                forecast.halo_from,
                forecast.firm_orders,
                forecast.adjustment,
                forecast.final,
                forecast.method,
            ]
            if forecast
            else [None] * 11
        )
        return [
            week["week"],
            iso_label(week["week"]),
            week["actual"],
            *terms,
            adjustment.reason if adjustment else "",
            ", ".join(promotion.name for promotion in week["promotions"]),
        ]

    return XlsxSheet(
        title=f"Forecast {product.sku}",
        columns=FORECAST_COLUMNS,
        rows=(row(week) for week in data["rows"]),
    )


PROMOTION_COLUMNS = (
    XlsxColumn("Promotion", "text", 30),
    XlsxColumn("Status", "text", 11),
    XlsxColumn("Channel", "text", 14),
    XlsxColumn("Discount", "percent"),
    *week_columns("First week"),
    XlsxColumn("Last week", "week"),
    XlsxColumn("ISO last week", "text", 13),
    XlsxColumn("SKU", "text", 12),
    XlsxColumn("Product", "text", 28),
    XlsxColumn("Expected lift", "percent", 13),
    XlsxColumn("At risk", "text", 30),
    XlsxColumn("Notes", "text", 40),
)


def promotions_sheet(promotions) -> XlsxSheet:
    """One row per promotion and product (a promotion without products: one row), with
    the promotion's figures on each, so a filter on a SKU keeps whole rows."""

    def rows():
        for promotion in promotions:
            head = [
                promotion.name,
                promotion.get_status_display(),
                promotion.get_channel_display(),
                promotion.discount_pct / 100,
                promotion.start_week,
                iso_label(promotion.start_week),
                promotion.end_week,
                iso_label(promotion.end_week),
            ]
            tail = [promotion.at_risk_reason, promotion.notes]
            items = list(promotion.items.all())
            if not items:
                yield [*head, "", "", None, *tail]
            for item in items:
                lift = item.expected_lift_pct
                yield [
                    *head,
                    item.product.sku,
                    item.product.name,
                    None if lift is None else lift / 100,
                    *tail,
                ]

    return XlsxSheet(title="Promotions", columns=PROMOTION_COLUMNS, rows=rows())
