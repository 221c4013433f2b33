"""Production's downloads as workbook sheets (demand.xlsx writes them)."""

from __future__ import annotations

from coordination.models import Line
from coordination.weeks import iso_label
from demand.spreadsheets import FORECAST_TERMS
from demand.xlsx import XlsxColumn, XlsxSheet, week_columns
from production.engine.explain import whole_units

# Every demand term of a recommendation, in the explanation's order: the forecast's
# terms (its final is the plan's demand; its method is no term), the field and its
# column. The baseline's parts (BASELINE_PARTS) are the covers week's forecast's (as the
# explanation's note reads them); the others the recommendation's. A test holds this to
# the forecast's and the recommendation's fields.
_QUOTA_HEADERS = {
    "baseline": XlsxColumn("Baseline demand", "units", 16),
    "adjustment": XlsxColumn("Marketing adjustment", "units", 21),
    "final": XlsxColumn("Demand", "units"),
}
QUOTA_TERMS = tuple(
    ("demand" if field == "final" else field, _QUOTA_HEADERS.get(field, column))
    for field, column in FORECAST_TERMS
    if field != "method"
)
BASELINE_PARTS = ("from_likes", "successor_transfer", "transferred_with")
QUOTA_COLUMNS = (
    XlsxColumn("SKU", "text", 12),
    XlsxColumn("Product", "text", 28),
    *week_columns("Week"),
    XlsxColumn("Recommended", "units", 13),
    XlsxColumn("Accepted", "units"),
    *(column for _, column in QUOTA_TERMS),
    XlsxColumn("Safety stock", "units", 13),
    XlsxColumn("Stock before arrival", "units", 20),
    XlsxColumn("Net requirement", "units", 16),
    XlsxColumn("Built ahead", "units", 12),
    XlsxColumn("Capacity cut", "units", 13),
    XlsxColumn("Shortage", "units"),
    XlsxColumn("Projected on hand", "units", 18),
    XlsxColumn("Hold", "text", 30),
)


def quota_grid_sheet(line: Line, rows, parts: dict) -> XlsxSheet:
    """The quota grid of `line`, one row per product and week: the recommendation in
    whole units (as the grid shows it), the accepted quota, and every term of its
    explanation (units, as planned: the cells show them rounded). `parts`: the baseline's
    parts of each (product id, covers week) from its forecast (blank without one)."""

    def term(rec, field):
        if field in BASELINE_PARTS:
            return parts.get((rec.product_id, rec.covers_week), {}).get(field)
        return getattr(rec, field)

    return XlsxSheet(
        title=f"Quotas {line.name}",
        columns=QUOTA_COLUMNS,
        rows=(
            [
                rec.product.sku,
                rec.product.name,
                rec.week,
                iso_label(rec.week),
                whole_units(rec.recommended_units),
                accepted,
                *(term(rec, field) for field, _ in QUOTA_TERMS),
                rec.safety_stock,
                rec.stock_before_arrival,
                rec.net_requirement,
                rec.prebuild_units,
                rec.capacity_cut_units,
                rec.shortage_units,
                rec.projected_on_hand,
                rec.hold_reason,
            ]
            for rec, accepted in rows
        ),
    )
