"""Budgets as the grid and the planning review read them."""

from __future__ import annotations

import datetime as dt

from coordination.models import ProductLine
from planning.models import Budget


def year_months(year: int) -> list[dt.date]:
    return [dt.date(year, month, 1) for month in range(1, 13)]


def budget_grid(year: int) -> dict:
    """Every product line, the year's months, and the stored budgets by (line id, month)."""
    months = year_months(year)
    budgets = {
        (b.product_line_id, b.month): b
        for b in Budget.objects.filter(month__year=year).select_related("updated_by")
    }
    return {
        "product_lines": list(ProductLine.objects.order_by("name")),
        "months": months,
        "budgets": budgets,
    }


def budgets_between(first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], Budget]:
    """Budgets of the months from `first`'s to `last`'s, by (product line id, month)."""
    return {
        (b.product_line_id, b.month): b
        for b in Budget.objects.filter(month__gte=first.replace(day=1), month__lte=last)
    }
