"""Demand's downloads as workbook sheets (demand.xlsx writes them)."""

from __future__ import annotations

from coordination.models import Product
from coordination.weeks import iso_label
from demand.xlsx import XlsxColumn, XlsxSheet, week_columns

# Every term of a forecast row (DemandForecast), in the forecast page's order: the field
# and its column. A test holds this to the model's fields, so a new term reaches the sheet.
FORECAST_TERMS = (
    ("baseline", XlsxColumn("Baseline", "units")),
    ("from_likes", XlsxColumn("From like products", "units", 18)),
    ("successor_transfer", XlsxColumn("Successor transfer", "units", 18)),
    ("transferred_with", XlsxColumn("Transferred with", "text", 16)),
    ("promotion_uplift", XlsxColumn("Promotion uplift", "units", 16)),
    ("promotion_dip", XlsxColumn("Dip after promotion", "units", 19)),
    ("cannibalization", XlsxColumn("Cannibalization", "units", 16)),
    ("cannibalized_by", XlsxColumn("Cannibalized by", "text", 16)),
    ("halo", XlsxColumn("Halo", "units", 10)),
    ("halo_from", XlsxColumn("Halo from", "text", 16)),
    ("firm_orders", XlsxColumn("Firm orders", "units", 12)),
    ("adjustment", XlsxColumn("Adjustment", "units", 12)),
    ("final", XlsxColumn("Final", "units")),
    ("method", XlsxColumn("Method", "text", 14)),
)
FORECAST_COLUMNS = (
    *week_columns("Week"),
    XlsxColumn("Actual", "units"),
    *(column for _, column in FORECAST_TERMS),
    XlsxColumn("Adjustment reason", "text", 30),
    XlsxColumn("Promotions", "text", 30),
)


def forecast_sheet(product: Product, data: dict) -> XlsxSheet:
    """A product's weeks as its forecast page has them (product_forecast): the actual
    sales of past weeks, and every term of the forecast (units, unrounded). From like
    products is the part of the baseline a new product owes to its likes; successor
    transfer what a succession moves into (+) or out of (-) the baseline, with the other
    products in "Transferred with"."""

    def row(week: dict) -> list:
        forecast, adjustment = week["forecast"], week["adjustment"]
        return [
            week["week"],
            iso_label(week["week"]),
            week["actual"],
            *(getattr(forecast, field) if forecast else None for field, _ in FORECAST_TERMS),
            adjustment.reason if adjustment else "",
            ", ".join(promotion.name for promotion in week["promotions"]),
        ]

    return XlsxSheet(
        title=f"Forecast {product.sku}",
        columns=FORECAST_COLUMNS,
        rows=(row(week) for week in data["rows"]),
    )


# Every term of a channel's forecast (ChannelForecast), held to the model's fields by a
# test as FORECAST_TERMS is.
CHANNEL_TERMS = (
    ("baseline", XlsxColumn("Baseline", "units")),
    ("promotion_uplift", XlsxColumn("Promotion uplift", "units", 16)),
    ("promotion_dip", XlsxColumn("Dip after promotion", "units", 19)),
    ("final", XlsxColumn("Final", "units")),
    ("method", XlsxColumn("Method", "text", 14)),
)


def channel_sheet(product: Product, breakdown: dict) -> XlsxSheet:
    """A product's forecast per sales channel (product_forecast's "channels"): a row per
    week and channel, with every term of its channel forecast."""
    labels = dict(breakdown["channels"])
    return XlsxSheet(
        title=f"By channel {product.sku}"[:31],
        columns=(
            *week_columns("Week"),
            XlsxColumn("Channel", "text", 14),
            *(column for _, column in CHANNEL_TERMS),
        ),
        rows=(
            [
                row["week"],
                iso_label(row["week"]),
                labels[cell.channel],
                *(getattr(cell, field) for field, _ in CHANNEL_TERMS),
            ]
            for row in breakdown["rows"]
            for cell in row["cells"]
            if cell is not None
        ),
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
