"""The planning cycle report (tables and server-rendered charts, from the cycle's latest
snapshot and its own record), the same data as CSV rows, and a what-if scenario beside
the live plan."""

from __future__ import annotations

import datetime as dt

from coordination.charts import Chart, Series
from coordination.weeks import iso_label
from planning.models import PlanningCycle, PlanningScenario, SignedPart
from planning.selectors.cycles import (
    adjustments_of,
    cycle_items,
    latest_snapshot,
    month_label,
    part_rows,
    rounded,
    scenarios_of,
    sign_off_state,
)
from planning.selectors.money import plan_vs_budget
from planning.selectors.snapshot import DEMAND_TERMS


def _report_tables(cycle: PlanningCycle) -> dict:
    """What both the report page and its CSV show: the latest snapshot, the signed parts'
    rows with the meeting's adjustments, the sign-offs and the decisions."""
    snapshot = latest_snapshot(cycle)
    if snapshot is None:
        return {"snapshot": None}
    adjustments = adjustments_of(cycle)
    return {
        "snapshot": snapshot,
        "data": snapshot.data,
        "adjustments": adjustments,
        "demand_rows": part_rows(snapshot, SignedPart.DEMAND, adjustments),
        "supply_rows": part_rows(snapshot, SignedPart.SUPPLY, adjustments),
        "order_rows": part_rows(snapshot, SignedPart.ORDERS, adjustments),
        "sign_offs": sign_off_state(cycle, snapshot, adjustments),
        "decisions": list(cycle_items(cycle)),
        "money": plan_vs_budget(snapshot.data.get("money")),
    }


def report(cycle: PlanningCycle) -> dict:
    """The cycle report: every table and chart, from the latest snapshot only (plus the
    meeting's adjustments, sign-offs and decisions, which are the cycle's own record)."""
    tables = _report_tables(cycle)
    if tables["snapshot"] is None:
        return tables
    data = tables["data"]
    months = data["months"]
    labels = [month_label(m) for m in months]
    demand_rows = tables["demand_rows"]
    supply_rows = tables["supply_rows"]
    order_rows = tables["order_rows"]
    demand_totals = [
        {
            "month": m,
            "label": label,
            **{
                # .get: snapshots taken before the dip, cannibalization and halo terms
                # lack them.
                key: rounded(sum(r.get(key) or 0 for r in demand_rows if r["month"] == m))
                for key in (*DEMAND_TERMS, "agreed")
            },
        }
        for m, label in zip(months, labels, strict=True)
    ]
    demand_chart = Chart(
        title="Demand per month: the terms of the forecast",
        categories=labels,
        series=[
            Series("Baseline", [t["baseline"] for t in demand_totals], "s1"),
            Series("Promotion uplift", [t["uplift"] for t in demand_totals], "s2"),
            Series("Firm orders", [t["firm"] for t in demand_totals], "s3"),
            Series("Marketing adjustment", [t["adjustment"] for t in demand_totals], "s4"),
            Series("Agreed demand", [t["agreed"] for t in demand_totals], "ink", kind="line"),
        ],
        y_label="units",
    ).render_data()
    capacity_charts = []
    for line in data["lines"]:
        rows = [r for r in supply_rows if r["line_id"] == line["id"]]
        by_month = {r["month"]: r for r in rows}

        def series(key, by_month=by_month):
            return [by_month[m][key] if m in by_month else 0 for m in months]

        capacity_charts.append(
            {
                "line": line["name"],
                "chart_id": f"report-line-{line['id']}",
                "rows": rows,
                "chart": Chart(
                    title=f"{line['name']}: hours planned and needed against capacity",
                    categories=labels,
                    series=[
                        Series("Hours planned", series("planned_hours"), "s1"),
                        Series("Hours needed", series("needed_hours"), "s2", kind="line"),
                        Series("Capacity (agreed)", series("agreed"), "capacity", kind="line"),
                    ],
                    y_label="hours per month",
                    height=220,
                ).render_data(),
            }
        )
    accuracy = data["accuracy"]
    return {
        **tables,
        "months": [{"month": m, "label": label} for m, label in zip(months, labels, strict=True)],
        "demand_totals": demand_totals,
        "demand_chart": demand_chart,
        "supply_part": {"rows": supply_rows},
        "orders_part": {"rows": order_rows},
        "capacity_charts": capacity_charts,
        "accuracy": accuracy,
        "scenarios": list(scenarios_of(cycle)),
        "summary": {
            "demand": rounded(sum(r["agreed"] for r in demand_rows)),
            "capacity_hours": rounded(sum(r["agreed"] for r in supply_rows), 1),
            "needed_hours": rounded(sum(r["needed_hours"] or 0 for r in supply_rows), 1),
            "extra_hours": rounded(sum(g["extra_hours"] for g in data["supply"]["gap"]), 1),
            "short_products": len(data["supply"]["shortages"]),
            "orders": rounded(sum(r["agreed"] for r in order_rows)),
            "wmape": (accuracy["overall"] or {}).get("wmape"),
            "recalls": len(data["recalls"]),
        },
    }


def report_csv_rows(cycle: PlanningCycle) -> list[list]:
    """The report's data as rows of (section, line, period, measure, value)."""
    found = _report_tables(cycle)  # the report's tables, without its charts
    if found["snapshot"] is None:
        return []
    return _figure_rows(found)


def report_download(cycle: PlanningCycle) -> dict:
    """What the report's workbook holds: its tables (demand, supply and order rows,
    plan against budget, decisions) and every figure as the CSV has it (`figures`)."""
    found = _report_tables(cycle)
    return {**found, "figures": _figure_rows(found) if found["snapshot"] else []}


def _figure_rows(found: dict) -> list[list]:
    data = found["data"]
    rows: list[list] = []
    for row in found["demand_rows"]:
        for key in (*DEMAND_TERMS, "adjusted", "agreed"):
            if row.get(key) is not None:
                rows.append(["demand", row["line"], row["month"], key, row[key]])
    for row in found["supply_rows"]:
        for key in (
            "capacity_hours",
            "needed_hours",
            "planned_hours",
            "prebuild_units",
            "shortage_units",
            "extra_hours",
            "adjusted",
            "agreed",
        ):
            if row.get(key) is not None:
                rows.append(["supply", row["line"], row["month"], key, row[key]])
    for gap in data["supply"]["gap"]:
        rows.append(["capacity_gap", gap["line"], gap["week"], "extra_hours", gap["extra_hours"]])
    for item in data["supply"]["build_ahead"]:
        rows.append(["build_ahead", item["line"], item["sku"], "units", item["units"]])
        rows.append(
            ["build_ahead", item["line"], item["sku"], "weeks_ahead_max", item["weeks_ahead_max"]]
        )
    for item in data["supply"]["shortages"]:
        rows.append(["shortage", item["line"], item["week"], item["sku"], item["units"]])
    rows += _money_csv_rows(found["money"])
    for row in found["order_rows"]:
        for key in ("firm", "adjusted", "agreed"):
            rows.append(["orders", row["line"], row["month"], key, row[key]])
    for c in data["orders"]["commitments"]:
        rows.append(["commitment", c["customer"], c["week"], c["sku"], c["units"]])
    for a in data["accuracy"]["lines"]:
        for key in ("wmape", "bias", "fva"):
            rows.append(["accuracy", a["label"], data["accuracy"]["end"], key, a[key]])
    for spec in data["specifications"]:
        rows.append(
            ["specification", spec["sku"], spec["effective_from"], spec["status"], spec["number"]]
        )
    for row in data["voice"]["rows"]:
        rows.append(
            ["voice_of_customer", row["name"], data["voice"]["since"], "total", row["total"]]
        )
    for recall in data["recalls"]:
        rows.append(["recall", recall["code"], recall["status"], "stop_ship", recall["stop_ship"]])
    for state in found["sign_offs"]:
        sign_off = state["sign_off"]
        value = "stale" if state["stale"] else ("signed" if state["fresh"] else "missing")
        when = sign_off.signed_at.isoformat() if sign_off else ""
        rows.append(["sign_off", state["department"], when, state["part"], value])
    for item in found["decisions"]:
        rows.append(
            [
                item.kind,
                item.get_department_display(),
                item.due_date.isoformat() if item.due_date else "",
                str(item.owner or ""),
                item.text,
            ]
        )
    return rows


def _money_csv_rows(money: dict | None) -> list[list]:
    """The plan against the budget and the valued gaps, as the report shows them (the
    same rounded figures; money columns name the currency)."""
    if money is None:
        return []
    currency = money["currency"]
    rows: list[list] = []
    for row in money["rows"]:
        values = {
            "plan_units": row["plan_units"],
            f"plan_revenue_{currency}": row["plan_revenue"],
            f"plan_margin_{currency}": row["plan_margin"],
            "budget_units": row["budget_units"],
            f"budget_revenue_{currency}": row["budget_revenue"],
            "gap_units": row["gap_units"],
            f"gap_revenue_{currency}": row["gap_revenue"],
        }
        for measure, value in values.items():
            if value is None:  # no price for the plan's figures, else no budget
                value = "no price" if measure.startswith("plan_") else "no budget"
                if measure.startswith("gap_revenue"):
                    value = row["shown"]["gap_revenue"]
            rows.append(["plan_vs_budget", row["product_line"], row["month"], measure, value])
        if row["partial"] and row["has_budget"]:  # the budgets above are pro rata
            for measure, value in (
                ("weeks_planned", f"{row['weeks_planned']} of {row['weeks_in_month']}"),
                ("month_budget_units", row["month_budget_units"]),
                (f"month_budget_revenue_{currency}", row["month_budget_revenue"]),
            ):
                rows.append(["plan_vs_budget", row["product_line"], row["month"], measure, value])
    total = money["total"]
    if total:
        for measure in ("plan_revenue", "budget_revenue", "gap_revenue"):
            value = total[measure] if total[measure] is not None else total["shown"][measure]
            rows.append(
                [
                    "plan_vs_budget",
                    "All product lines",
                    "budgeted months",
                    f"{measure}_{currency}",
                    value,
                ]
            )
    for gap in money["gaps"]:
        period = f"{gap['first_week']}/{gap['last_week']}"
        rows.append(["capacity_gap_value", gap["line"], period, "extra_hours", gap["hours"]])
        rows.append(["capacity_gap_value", gap["line"], period, "extra_units", gap["units"]])
        margin = "no price" if gap["margin_cents"] is None else gap["margin_cents"]
        rows.append(["capacity_gap_value", gap["line"], period, f"margin_{currency}", margin])
    return rows


def scenario_comparison(scenario: PlanningScenario) -> dict:
    """The live plan and the scenario side by side: charts, a table per week, totals."""
    result = scenario.result
    days = [dt.date.fromisoformat(w) for w in result["weeks"]]
    weeks = [iso_label(day) for day in days]
    short = [f"W{day:%V}" for day in days]  # axis labels that fit under 26 weeks
    live, what_if = result["live"], result["scenario"]
    hours_chart = Chart(
        title="Hours used per week: live plan against the scenario",
        categories=short,
        series=[
            Series("Live: hours used", live["hours_used"], "s1", kind="line"),
            Series("Scenario: hours used", what_if["hours_used"], "s2", kind="line"),
            Series("Live capacity", live["capacity_hours"], "capacity", kind="line"),
            Series("Scenario capacity", what_if["capacity_hours"], "ink", kind="line", dashed=True),
        ],
        y_label="hours",
    ).render_data()
    shortage_chart = Chart(
        title="Units short per week: live plan against the scenario",
        categories=short,
        series=[
            Series("Live: units short", live["shortage_units"], "s6", kind="line"),
            Series("Scenario: units short", what_if["shortage_units"], "s3", kind="line"),
        ],
        y_label="units",
    ).render_data()
    rows = [
        {
            "week": label,
            "changed": live["capacity_hours"][k] != what_if["capacity_hours"][k],
            **{f"live_{key}": live[key][k] for key in _SCENARIO_KEYS},
            **{f"scenario_{key}": what_if[key][k] for key in _SCENARIO_KEYS},
        }
        for k, label in enumerate(weeks)
    ]
    totals = [
        ("Peak units short (summed over products)", "peak_shortage"),
        ("Units built ahead", "prebuild_total"),
        ("Hours used", "hours_total"),
    ]
    return {
        "hours_chart": hours_chart,
        "shortage_chart": shortage_chart,
        "rows": rows,
        "totals": [
            {
                "label": label,
                "live": live[key],
                "scenario": what_if[key],
                "delta": rounded(what_if[key] - live[key], 1),
            }
            for label, key in totals
        ],
        "changed_cells": result["changed_cells"],
    }


_SCENARIO_KEYS = ("capacity_hours", "hours_used", "shortage_units", "prebuild_units")
