"""The plan in money for the planning review: per product line and month what the plan
sells, its revenue and margin (at the price and cost in force each week), beside the
budget; and each capacity gap valued (the line re-planned with the hours that close it,
nothing written). Computed by production/economics/plan_revenue.py.

The snapshot stores it as JSON with money as exact Decimal text (never rounded: rounding
is half-even, at presentation only, in planning/selectors/report.py). A product that
sells without a price makes its month's money None ("no price"), never 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from django.conf import settings

from coordination.models import Product, ProductLine
from coordination.selectors.products import prices_in_force
from planning.selectors.budgets import budgets_between
from planning.selectors.cycles import month_of
from production.economics import present_money
from production.economics.capacity import plan_line
from production.economics.plan_revenue import (
    Price,
    Sales,
    margin_earned,
    sales_by_group,
    units_sold,
)
from production.selectors.line_inputs import LineInputs, load_line
from production.selectors.review import MAX_HOURS


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _priced(found: dict, product_id: int) -> Price:
    """The (price, cost) in force; a list price of 0 counts as no price, as in the
    promotion's economics."""
    price, cost = found.get(product_id, (None, None))
    if price is None or price <= 0:
        return None
    return price, cost


def _plan(inputs: LineInputs, capacity: np.ndarray) -> np.ndarray:
    plan = plan_line(
        inputs.demand,
        on_hand=inputs.on_hand,
        safety_stock=inputs.safety_stock,
        lead_time=inputs.lead_time,
        hours_per_unit=inputs.hours_per_unit,
        capacity_hours=capacity,
        frozen=inputs.frozen,
        hold=inputs.hold,
    )
    return units_sold(inputs.demand, plan["shortage"])


def money_section(weeks: list[dt.date], supply: list[dict]) -> dict:
    """The snapshot's plan-versus-budget section. `supply` is production's line review
    of every line (production.selectors.review.supply_by_line), whose gap placements
    say which extra hours close each line's gap."""
    months = sorted({month_of(week) for week in weeks})
    week_months = [month_of(week) for week in weeks]
    loaded = []
    for review in supply:
        inputs = load_line(review["line"])
        if inputs.weeks != weeks:
            raise ValueError("The live plan covers other weeks than the snapshot.")
        loaded.append((review, inputs))
    product_ids = sorted({pid for _, inputs in loaded for pid in inputs.product_ids})
    products = Product.objects.in_bulk(product_ids)
    in_force = [prices_in_force(product_ids, week) for week in weeks]

    rows: dict[tuple[int, dt.date], Sales] = {}
    gaps = []
    for review, inputs in loaded:
        if not inputs.product_ids:
            continue
        skus = [products[pid].sku for pid in inputs.product_ids]
        prices = [[_priced(found, pid) for pid in inputs.product_ids] for found in in_force]
        sold = _plan(inputs, inputs.capacity_hours)
        by_month = sales_by_group(
            skus=skus,
            groups=[products[pid].product_line_id for pid in inputs.product_ids],
            periods=week_months,
            sold=sold,
            prices=prices,
        )
        for key, sales in by_month.items():
            rows.setdefault(key, Sales()).absorb(sales)
        added = np.asarray(review["extra_hours_added"], dtype=float)
        if added.sum() < 0.05:
            continue
        capacity = np.clip(inputs.capacity_hours + added, 0.0, MAX_HOURS)
        earned = margin_earned(
            skus=skus, sold_without=sold, sold_with=_plan(inputs, capacity), prices=prices
        )
        gap_weeks = [weeks[k] for k in np.flatnonzero(added >= 0.05)]
        gaps.append(
            {
                "line_id": review["line"].pk,
                "line": review["line"].name,
                "extra_hours": str(Decimal(str(round(float(added.sum()), 1)))),
                "weeks": len(gap_weeks),
                "first_week": gap_weeks[0].isoformat(),
                "last_week": gap_weeks[-1].isoformat(),
                "extra_units": str(earned.extra_units),
                "margin": _money(earned.margin),
                "no_price": earned.no_price,
            }
        )

    budgets = budgets_between(months[0], months[-1])
    weeks_in = {month: week_months.count(month) for month in months}
    lines = list(ProductLine.objects.order_by("name").values_list("pk", "name"))
    out = []
    for line_id, name in lines:
        for month in months:
            plan = rows.get((line_id, month)) or Sales()
            budget = budgets.get((line_id, month))
            if (line_id, month) not in rows and budget is None:
                continue
            out.append(
                {
                    "product_line_id": line_id,
                    "product_line": name,
                    "month": month.isoformat(),
                    "weeks_planned": weeks_in[month],
                    "weeks_in_month": mondays_in(month),
                    "plan_units": str(plan.units),
                    "plan_revenue": _money(plan.revenue),
                    "plan_margin": _money(plan.margin),
                    "no_price": sorted(plan.no_price),
                    "budget_units": None if budget is None else budget.units,
                    "budget_revenue": None if budget is None else str(budget.revenue),
                }
            )
    return {"currency": settings.CURRENCY, "rows": out, "gaps": gaps}


def mondays_in(month: dt.date) -> int:
    """Weeks whose Monday falls in the month: the weeks the plan would give it."""
    first_monday = month + dt.timedelta(days=(7 - month.weekday()) % 7)
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return len(range(first_monday.toordinal(), following.toordinal(), 7))


# ------------------------------------------------------------------ presentation

CENT = Decimal("0.01")


def _cents(value: Decimal | str | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _whole(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN) + 0


def _exact(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _row(row: dict, currency: str) -> dict:
    """One product line's month. A month the horizon covers only in part is held against
    its budget pro rata (weeks planned / weeks in the month), and says so."""
    planned, in_month = row["weeks_planned"], row["weeks_in_month"]
    share = Decimal(planned) / Decimal(in_month)
    plan_units = Decimal(row["plan_units"])
    plan_revenue = _exact(row["plan_revenue"])
    stored_units, stored_revenue = row["budget_units"], _exact(row["budget_revenue"])
    budget_units = None if stored_units is None else stored_units * share
    budget_revenue = None if stored_revenue is None else stored_revenue * share
    gap_revenue = None
    if plan_revenue is not None and budget_revenue is not None:
        gap_revenue = plan_revenue - budget_revenue
    figures = {
        "plan_units": _whole(plan_units),
        "plan_revenue": _cents(plan_revenue),
        "plan_margin": _cents(_exact(row["plan_margin"])),
        "budget_units": None if budget_units is None else _whole(budget_units),
        "budget_revenue": _cents(budget_revenue),
        "gap_units": None if budget_units is None else _whole(plan_units - budget_units),
        "gap_revenue": _cents(gap_revenue),
    }
    budget_shown = "no budget"
    if stored_revenue is not None:
        budget_shown = present_money(figures["budget_revenue"], currency)
        if planned < in_month:
            budget_shown += (
                f" ({planned} of {in_month} weeks of "
                f"{present_money(_cents(stored_revenue), currency)})"
            )
    return {
        "product_line": row["product_line"],
        "month": row["month"],
        "label": dt.date.fromisoformat(row["month"]).strftime("%b %Y"),
        "partial": planned < in_month,
        "weeks_planned": planned,
        "weeks_in_month": in_month,
        "no_price": row["no_price"],
        "has_budget": stored_units is not None,
        "month_budget_units": stored_units,
        "month_budget_revenue": _cents(stored_revenue),
        **figures,
        "shown": {
            "plan_revenue": present_money(figures["plan_revenue"], currency),
            "plan_margin": present_money(figures["plan_margin"], currency),
            "budget_revenue": budget_shown,
            "gap_revenue": _gap_text(
                figures["plan_revenue"], stored_revenue, figures["gap_revenue"], currency
            ),
        },
    }


def plan_vs_budget(money: dict | None) -> dict | None:
    """A snapshot's money section as the report shows it and its CSV writes it: every
    figure rounded half-even once, here (units to the unit, money to the cent), with the
    currency; "no price" where the plan sold a product without one, "no budget" where the
    month has none. None for a snapshot taken before the plan was valued."""
    if money is None:
        return None
    currency = money["currency"]
    rows = [_row(row, currency) for row in money["rows"]]
    return {
        "currency": currency,
        "rows": rows,
        "total": _total(money["rows"], currency),
        "gaps": [_gap(g, currency) for g in money["gaps"]],
    }


def _total(rows: list[dict], currency: str) -> dict | None:
    """Every product line's months that have a budget, summed exactly (budgets pro rata
    as in each row), then rounded once."""
    budgeted = [r for r in rows if r["budget_revenue"] is not None]
    if not budgeted:
        return None
    plan = Decimal(0)
    budget = Decimal(0)
    for row in budgeted:
        budget += Decimal(row["budget_revenue"]) * row["weeks_planned"] / row["weeks_in_month"]
        plan = (
            None
            if plan is None or row["plan_revenue"] is None
            else plan + Decimal(row["plan_revenue"])
        )
    gap = None if plan is None else _cents(plan - budget)
    return {
        "months": len({r["month"] for r in budgeted}),
        "plan_revenue": _cents(plan),
        "budget_revenue": _cents(budget),
        "gap_revenue": gap,
        "shown": {
            "plan_revenue": present_money(_cents(plan), currency),
            "budget_revenue": present_money(_cents(budget), currency),
            "gap_revenue": _gap_text(_cents(plan), budget, gap, currency),
        },
    }


def _gap_text(plan, budget, gap, currency) -> str:
    if plan is None:
        return "no price"
    if budget is None:
        return "no budget"
    return ("+" if gap > 0 else "") + present_money(gap, currency)


def _gap(gap: dict, currency: str) -> dict:
    hours = Decimal(gap["extra_hours"])
    per_week = (hours / gap["weeks"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    margin = _cents(gap["margin"])
    units = _whole(Decimal(gap["extra_units"]))
    spread = (
        f"{per_week:,} a week over {gap['weeks']} weeks"
        if gap["weeks"] > 1
        else f"in the week of {dt.date.fromisoformat(gap['first_week']):%d %b %Y}"
    )
    opening = f"Closing {gap['line']}'s gap with {hours:,} extra hours ({spread})"
    if margin is None:
        sentence = (
            f"{opening} sells {units:,} more units, which cannot be valued: "
            f"no price for {', '.join(gap['no_price'])}."
        )
    else:
        sentence = (
            f"{opening} earns {present_money(margin, currency)} in margin "
            f"({units:,} more units sold)."
        )
    return {
        **gap,
        "hours": hours,
        "hours_per_week": per_week,
        "units": units,
        "margin_cents": margin,
        "margin_shown": present_money(margin, currency),
        "sentence": sentence,
    }
