"""The snapshot a planning cycle discusses, built from the demand, production, recall and
coordination selectors (never their views): forecast per line and month, capacity needed
against available with what would close the gap, firm orders and key commitments,
forecast accuracy of the last cycle, pending specification changes, the voice of the
customer, open recalls, and the plan in money against the budget (selectors/money.py).

Plain JSON (dates as ISO text, numbers rounded), so it is stored once and never drifts
when the live data changes."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.conf import settings
from django.db.models import Q

from coordination.models import CustomerRequest, Line, Specification
from coordination.selectors.customer_requests import firm_orders, voice_of_customer
from coordination.weeks import current_week, week_range, weeks_between
from demand.selectors.accuracy import forecast_accuracy
from demand.selectors.forecasts import forecast_terms
from demand.selectors.promotions import promotions_between
from planning.models import PlanningCycle, SignedPart
from planning.selectors.cycles import (
    DEFAULT_ACCURACY_WEEKS,
    NO_LINE,
    VOICE_DAYS,
    month_of,
    rounded,
)
from planning.selectors.money import money_section
from production.engine.gap import SHIFT_HOURS
from production.selectors.review import supply_by_line
from recalls.selectors import open_recalls


def build_snapshot(
    *, first_week: dt.date | None = None, previous: PlanningCycle | None = None
) -> dict:
    """Every section the review discusses, as JSON-ready data."""
    first_week = first_week or current_week()
    weeks = week_range(first_week, settings.PLANNING_HORIZON_WEEKS)
    months = sorted({month_of(week) for week in weeks})
    lines = list(Line.objects.order_by("name").values_list("pk", "name"))
    # One read of the forecast serves both the demand and the firm orders section.
    terms = forecast_terms(start=weeks[0], end=weeks[-1])
    supply = supply_by_line()
    return {
        "first_week": first_week.isoformat(),
        "weeks": [week.isoformat() for week in weeks],
        "months": [month.isoformat() for month in months],
        "lines": [{"id": pk, "name": name} for pk, name in lines],
        SignedPart.DEMAND: _demand_section(weeks, lines, terms),
        SignedPart.SUPPLY: _supply_section(weeks, supply),
        SignedPart.ORDERS: _orders_section(weeks, lines, terms),
        "accuracy": _accuracy_section(first_week, previous),
        "specifications": _specification_section(first_week),
        "voice": _voice_section(first_week),
        "recalls": _recall_section(),
        "money": money_section(weeks, supply),
    }


def _line_names(lines) -> dict:
    names = dict(lines)
    names[None] = NO_LINE
    return names


def _line_month_rows(lines, totals: dict, figures) -> list[dict]:
    """One row per (line id, month) of `totals`, by line name then month; `figures` turns
    a total into the row's numbers."""
    names = _line_names(lines)
    return [
        {
            "line_id": line_id,
            "line": names.get(line_id, NO_LINE),
            "month": month.isoformat(),
            **figures(total),
        }
        for (line_id, month), total in sorted(
            totals.items(), key=lambda item: (names.get(item[0][0], NO_LINE), item[0][1])
        )
    ]


# The forecast's terms per line and month, as the demand section stores them (the order
# of demand.selectors.forecasts.forecast_terms).
DEMAND_TERMS = ("baseline", "uplift", "dip", "taken", "halo", "firm", "adjustment", "final")


def _demand_section(weeks, lines, forecast) -> dict:
    terms = DEMAND_TERMS
    totals: dict[tuple, list[float]] = defaultdict(lambda: [0.0] * len(terms))
    for _pid, line_id, week, *values in forecast:
        bucket = totals[(line_id, month_of(week))]
        for k, value in enumerate(values):
            bucket[k] += value
    rows = _line_month_rows(
        lines,
        totals,
        lambda values: {term: rounded(value) for term, value in zip(terms, values, strict=True)},
    )
    promotions = []
    for promotion in promotions_between(weeks[0], weeks[-1]):
        items = list(promotion.items.all())
        promotions.append(
            {
                "id": promotion.pk,
                "name": promotion.name,
                "status": promotion.get_status_display(),
                "period": promotion.period_label,
                "discount_pct": float(promotion.discount_pct),
                "products": sorted(item.product.sku for item in items),
                "lines": sorted(
                    {
                        item.product.production_line.name
                        for item in items
                        if item.product.production_line
                    }
                ),
                "at_risk": promotion.at_risk_reason,
            }
        )
    return {"rows": rows, "promotions": promotions}


def _supply_section(weeks, supply: list[dict]) -> dict:
    rows, gaps, unclosable, lines_weekly, shortages, ahead = [], [], [], [], [], []
    by_month: dict[dt.date, list[int]] = defaultdict(list)
    for k, week in enumerate(weeks):
        by_month[month_of(week)].append(k)
    for line in supply:
        if line["weeks"] != weeks:
            raise ValueError("The live plan covers other weeks than the snapshot.")
        name = line["line"].name
        for month, ks in sorted(by_month.items()):
            rows.append(
                {
                    "line_id": line["line"].pk,
                    "line": name,
                    "month": month.isoformat(),
                    "capacity_hours": rounded(sum(line["capacity_hours"][k] for k in ks), 1),
                    "needed_hours": rounded(sum(line["needed_hours"][k] for k in ks), 1),
                    "planned_hours": rounded(sum(line["planned_hours"][k] for k in ks), 1),
                    "prebuild_units": rounded(sum(line["prebuild_units"][k] for k in ks)),
                    # Units waiting at the worst week of the month (a backlog, not a flow).
                    "shortage_units": rounded(max(line["shortage_units"][k] for k in ks)),
                    "extra_hours": rounded(sum(line["extra_hours_added"][k] for k in ks), 1),
                }
            )
        for gap in line["gap"]:
            gaps.append(
                {
                    "line_id": line["line"].pk,
                    "line": name,
                    "week": gap["week"].isoformat(),
                    "for_week": gap["for_week"].isoformat(),
                    "weeks_earlier": gap["weeks_earlier"],
                    "extra_hours": rounded(gap["hours"], 1),
                    "shifts": math.ceil(gap["hours"] / SHIFT_HOURS - 1e-9),
                }
            )
        unclosable += [
            {
                "line_id": line["line"].pk,
                "line": name,
                "for_week": gap["for_week"].isoformat(),
                "hours": rounded(gap["hours"], 1),
            }
            for gap in line["gap_unplaced"]
        ]
        lines_weekly.append(
            {
                "line_id": line["line"].pk,
                "line": name,
                "capacity_hours": [rounded(v, 1) for v in line["capacity_hours"]],
                "needed_hours": [rounded(v, 1) for v in line["needed_hours"]],
                "planned_hours": [rounded(v, 1) for v in line["planned_hours"]],
            }
        )
        shortages += [
            {
                "line": name,
                "sku": s["sku"],
                "week": s["week"].isoformat(),
                "units": s["units"],
                "cause": s["cause"],
            }
            for s in line["shortages"]
        ]
        ahead += [
            {**a, "line": name, "first_week": a["first_week"].isoformat()}
            for a in line["build_ahead"]
        ]
    return {
        "rows": rows,
        "weekly": lines_weekly,
        "gap": gaps,
        "unclosable": unclosable,
        "shortages": shortages,
        "build_ahead": ahead,
        "shift_hours": SHIFT_HOURS,
    }


def _orders_section(weeks, lines, forecast) -> dict:
    firm: dict[tuple, float] = defaultdict(float)
    for _pid, line_id, week, _b, _u, _d, _t, _h, orders, _a, _f in forecast:
        if orders:
            firm[(line_id, month_of(week))] += orders
    rows = _line_month_rows(lines, firm, lambda units: {"firm": rounded(units)})
    orders = firm_orders(start=weeks[0], end=weeks[-1])
    requests = CustomerRequest.objects.in_bulk([o["request_id"] for o in orders])
    commitments = []
    for order in orders:
        request = requests[order["request_id"]]
        commitments.append(
            {
                "request_id": request.pk,
                "customer": request.customer_name,
                "sku": request.product.sku if request.product_id else "",
                "summary": request.summary,
                "units": order["units"],
                "week": order["week"].isoformat(),
            }
        )
    return {"rows": rows, "commitments": commitments}


def _accuracy_weeks(first_week: dt.date, previous: PlanningCycle | None) -> int:
    """The weeks the last cycle planned, up to this snapshot (at most 13)."""
    if previous is None:
        return DEFAULT_ACCURACY_WEEKS
    weeks = weeks_between(previous.period_start, first_week)
    return min(13, weeks) if weeks >= 1 else DEFAULT_ACCURACY_WEEKS


def _accuracy_section(first_week: dt.date, previous: PlanningCycle | None) -> dict:
    weeks = _accuracy_weeks(first_week, previous)
    found = forecast_accuracy(weeks=weeks, end=first_week)

    def row(a) -> dict:
        return {
            "key": a.key,
            "label": a.label,
            "weeks": a.weeks,
            "actual": rounded(a.actual),
            "forecast": rounded(a.forecast),
            "wmape": None if a.wmape is None else rounded(a.wmape * 100, 1),
            "bias": None if a.bias is None else rounded(a.bias * 100, 1),
            "fva": None if a.fva is None else rounded(a.fva * 100, 1),
        }

    actual = sum(a.actual for a in found["lines"])
    overall = None
    if actual > 0:
        error = sum((a.wmape or 0) * a.actual for a in found["lines"])
        bias = sum((a.bias or 0) * a.actual for a in found["lines"])
        stat_error = sum(((a.fva or 0) + (a.wmape or 0)) * a.actual for a in found["lines"])
        overall = {
            "actual": rounded(actual),
            "forecast": rounded(sum(a.forecast for a in found["lines"])),
            "wmape": rounded(error / actual * 100, 1),
            "bias": rounded(bias / actual * 100, 1),
            "fva": rounded((stat_error - error) / actual * 100, 1),
        }
    return {
        "start": found["start"].isoformat(),
        "end": found["end"].isoformat(),
        "weeks": weeks,
        "overall": overall,
        "lines": [row(a) for a in found["lines"]],
        "worst_products": [row(a) for a in found["products"][:5]],
    }


def _specification_section(first_week: dt.date) -> list[dict]:
    pending = (
        Specification.objects.filter(
            Q(status=Specification.Status.PROPOSED)
            | Q(status=Specification.Status.APPROVED, effective_from__gte=first_week)
        )
        .select_related("product")
        .order_by("effective_from", "product__sku")
    )
    return [
        {
            "sku": spec.product.sku,
            "product": spec.product.name,
            "number": spec.number,
            "status": spec.get_status_display(),
            "effective_from": spec.effective_from.isoformat(),
            "rationale": spec.rationale[:200],
            "unit_cost_impact": None
            if spec.unit_cost_impact is None
            else str(spec.unit_cost_impact),
        }
        for spec in pending
    ]


def _voice_section(first_week: dt.date) -> dict:
    since = first_week - dt.timedelta(days=VOICE_DAYS)
    found = voice_of_customer(since=since, group_by="line")
    labels = dict(CustomerRequest.Kind.choices)
    return {
        "since": since.isoformat(),
        "total": found["total"],
        "kinds": [{"key": kind, "label": labels[kind]} for kind in found["kinds"]],
        "rows": [
            {"name": row["name"], "total": row["total"], "kinds": row["kinds"]}
            for row in found["rows"]
        ],
        "by_month": [
            {**{k: v for k, v in row.items() if k != "month"}, "month": row["month"].isoformat()}
            for row in found["preference_by_month"]
        ],
    }


def _recall_section() -> list[dict]:
    return [
        {
            "code": incident.code,
            "title": incident.title,
            "classification": incident.get_classification_display(),
            "status": incident.get_status_display(),
            "stop_ship": incident.stop_ship,
            "products": sorted(p.sku for p in incident.products.all()),
            "units_unaccounted": incident.units_unaccounted,
        }
        for incident in open_recalls().prefetch_related("products")
    ]
