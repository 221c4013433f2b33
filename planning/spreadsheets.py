"""The planning report as a workbook: one sheet per table of the report, and every
figure as the CSV download has it (demand.xlsx writes them)."""

from __future__ import annotations

import datetime as dt

from demand.xlsx import XlsxColumn, XlsxSheet


def _month(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _part_sheet(title: str, rows: list[dict], figures: list[tuple[str, str, str]]) -> XlsxSheet:
    """Line x month rows of a signed part: `figures` are (key, header, kind)."""
    columns = [
        XlsxColumn("Line", "text", 18),
        XlsxColumn("Month", "month"),
        *(XlsxColumn(header, kind, max(11, len(header) + 2)) for _, header, kind in figures),
    ]
    return XlsxSheet(
        title=title,
        columns=columns,
        rows=(
            [row["line"], _month(row["month"]), *(row.get(key) for key, _, _ in figures)]
            for row in rows
        ),
    )


DEMAND_FIGURES = [
    ("baseline", "Baseline", "units"),
    ("uplift", "Promotion uplift", "units"),
    ("dip", "Dip after promotions", "units"),
    ("taken", "Taken by siblings", "units"),
    ("halo", "Added by siblings (halo)", "units"),
    ("firm", "Firm orders", "units"),
    ("adjustment", "Marketing adjustment", "units"),
    ("final", "Forecast", "units"),
    ("adjusted", "Meeting adjustment", "units"),
    ("agreed", "Agreed", "units"),
]
SUPPLY_FIGURES = [
    ("capacity_hours", "Capacity hours", "decimal"),
    ("needed_hours", "Needed hours", "decimal"),
    ("planned_hours", "Planned hours", "decimal"),
    ("prebuild_units", "Pre-build units", "units"),
    ("shortage_units", "Shortage units", "units"),
    ("extra_hours", "Extra hours", "decimal"),
    ("adjusted", "Meeting adjustment (hours)", "decimal"),
    ("agreed", "Agreed capacity hours", "decimal"),
]
ORDER_FIGURES = [
    ("firm", "Firm orders", "units"),
    ("adjusted", "Meeting adjustment", "units"),
    ("agreed", "Agreed", "units"),
]


def _money_sheet(money: dict) -> XlsxSheet:
    currency = money["currency"]
    figures = [
        ("plan_units", "Plan units", "units"),
        ("plan_revenue", f"Plan revenue ({currency})", "money"),
        ("plan_margin", f"Plan margin ({currency})", "money"),
        ("budget_units", "Budget units", "units"),
        ("budget_revenue", f"Budget revenue ({currency})", "money"),
        ("gap_units", "Gap units", "units"),
        ("gap_revenue", f"Gap revenue ({currency})", "money"),
    ]
    rows = [{**row, "line": row["product_line"]} for row in money["rows"]]
    sheet = _part_sheet("Plan vs budget", rows, figures)
    return XlsxSheet(
        title=sheet.title,
        columns=[XlsxColumn("Product line", "text", 18), *sheet.columns[1:]],
        rows=sheet.rows,
    )


DECISION_COLUMNS = (
    XlsxColumn("Kind", "text", 12),
    XlsxColumn("Status", "text", 10),
    XlsxColumn("Department", "text", 14),
    XlsxColumn("Due", "date"),
    XlsxColumn("Owner", "text", 20),
    XlsxColumn("Text", "text", 60),
)
FIGURE_COLUMNS = (
    XlsxColumn("Section", "text", 18),
    XlsxColumn("Subject", "text", 22),
    XlsxColumn("Period", "text", 14),
    XlsxColumn("Measure", "text", 24),
    XlsxColumn("Value", "decimal", 14),
)


def report_sheets(found: dict) -> list[XlsxSheet]:
    """The sheets of a cycle's report (planning.selectors.report.report_download)."""
    if found["snapshot"] is None:
        return [XlsxSheet("All figures", FIGURE_COLUMNS, [])]
    sheets = [
        _part_sheet("Demand", found["demand_rows"], DEMAND_FIGURES),
        _part_sheet("Supply", found["supply_rows"], SUPPLY_FIGURES),
        _part_sheet("Orders", found["order_rows"], ORDER_FIGURES),
    ]
    if found["money"]:
        sheets.append(_money_sheet(found["money"]))
    sheets.append(
        XlsxSheet(
            "Decisions",
            DECISION_COLUMNS,
            [
                [
                    item.get_kind_display(),
                    item.get_status_display(),
                    item.get_department_display(),
                    item.due_date,
                    str(item.owner or ""),
                    item.text,
                ]
                for item in found["decisions"]
            ],
        )
    )
    sheets.append(XlsxSheet("All figures", FIGURE_COLUMNS, found["figures"]))
    return sheets
