"""Production's downloads as workbook sheets (demand.xlsx writes them)."""

from __future__ import annotations

from coordination.models import Line
from coordination.weeks import iso_label
from demand.xlsx import XlsxColumn, XlsxSheet, week_columns
from production.engine.explain import whole_units

QUOTA_COLUMNS = (
    XlsxColumn("SKU", "text", 12),
    XlsxColumn("Product", "text", 28),
    *week_columns("Week"),
    XlsxColumn("Recommended", "units", 13),
    XlsxColumn("Accepted", "units"),
    XlsxColumn("Baseline demand", "units", 16),
    XlsxColumn("Promotion uplift", "units", 16),
    XlsxColumn("Dip after promotion", "units", 19),
    XlsxColumn("Cannibalization", "units", 16),
    XlsxColumn("Cannibalized by", "text", 16),
    XlsxColumn("Halo", "units", 10),
    XlsxColumn("Halo from", "text", 16),
    XlsxColumn("Firm orders", "units", 12),
    XlsxColumn("Marketing adjustment", "units", 21),
    XlsxColumn("Demand", "units"),
    XlsxColumn("Safety stock", "units", 13),
    XlsxColumn("Stock before arrival", "units", 20),
    XlsxColumn("Net requirement", "units", 16),
    XlsxColumn("Built ahead", "units", 12),
    XlsxColumn("Capacity cut", "units", 13),
    XlsxColumn("Shortage", "units"),
    XlsxColumn("Projected on hand", "units", 18),
    XlsxColumn("Hold", "text", 30),
)


def quota_grid_sheet(line: Line, rows) -> XlsxSheet:
    """The quota grid of `line`, one row per product and week: the recommendation in
    whole units (as the grid shows it), the accepted quota, and every term of its
    explanation (units, as planned: the cells show them rounded)."""
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
                rec.baseline,
                rec.promotion_uplift,
                rec.promotion_dip,
                rec.cannibalization,
                rec.cannibalized_by,
                rec.halo,
                rec.halo_from,
                rec.firm_orders,
                rec.adjustment,
                rec.demand,
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
