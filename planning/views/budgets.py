"""Budget pages: the grid of a year (product lines x months), and importing a CSV file."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from coordination.input_limits import FIRST_ACCEPTED_DATE, last_accepted_date
from coordination.permissions import permission_required
from coordination.web import apply_validation_error, render_page
from demand.csv_import import ImportRejected
from planning import forms, services
from planning.budget_input import BUDGET_COLUMNS
from planning.selectors import budgets as selectors
from production.economics import present_money

VIEW_BUDGETS = "planning.view_budget"


def _year(value) -> int:
    """The year asked for, else this year; only years whose months Tandem accepts."""
    this_year = timezone.localdate().year
    try:
        year = int(str(value))
    except (TypeError, ValueError):
        return this_year
    if FIRST_ACCEPTED_DATE.year <= year <= last_accepted_date().year:
        return year
    return this_year


def _conflict_message(budget, typed_revenue: str, typed_units: str, currency: str) -> str:
    typed = f"you entered {typed_revenue or '—'} and {typed_units or '—'} units"
    if budget is None:
        return f"Removed by someone else while you were editing ({typed}). Nothing was saved."
    return (
        f"Changed by {budget.updated_by} while you were editing: now "
        f"{present_money(budget.revenue, currency)} and {budget.units:,} units ({typed}). "
        "Nothing was saved."
    )


def _with_current_values(form, conflict: services.BudgetConflict) -> forms.BudgetGridForm:
    """The grid again with the other person's values in the conflicting cells (and their
    versions, so saving again overwrites them knowingly), each cell saying what changed;
    the person's other edits are kept."""
    data: QueryDict = form.data.copy()
    messages_at = {}
    for (line_id, month), budget in conflict.current.items():
        revenue, units, version = forms.budget_field_names(line_id, month)
        messages_at[revenue] = _conflict_message(
            budget, data.get(revenue, ""), data.get(units, ""), settings.CURRENCY
        )
        data[revenue] = "" if budget is None else f"{budget.revenue:.2f}"
        data[units] = "" if budget is None else str(budget.units)
        data[version] = str(budget.version if budget else 0)
    again = forms.BudgetGridForm(
        data, product_lines=form.product_lines, months=form.months, budgets={}
    )
    again.is_valid()
    for field, message in messages_at.items():
        again.add_error(field, message)
    again.add_error(None, str(conflict))
    return again


@permission_required(VIEW_BUDGETS)
def budget_grid(request):
    year = _year(request.POST.get("year") if request.method == "POST" else request.GET.get("year"))
    grid = selectors.budget_grid(year)
    can_edit = request.user.has_perm(services.EDIT_BUDGETS)
    form = forms.BudgetGridForm(
        request.POST if request.method == "POST" else None,
        product_lines=grid["product_lines"],
        months=grid["months"],
        budgets=grid["budgets"],
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                saved = services.budget_grid_save(
                    actor=request.user, cells=form.cleaned_data["cells"]
                )
            except services.BudgetConflict as exc:
                form = _with_current_values(form, exc)
                status = 409
            except ValidationError as exc:
                apply_validation_error(form, exc)
                status = 400
            else:
                messages.success(
                    request,
                    f"Saved the {year} budgets: {saved.created} new, {saved.updated} changed, "
                    f"{saved.removed} removed.",
                )
                return redirect(f"{reverse('planning_budgets')}?year={year}")
        else:
            form.add_error(None, "Nothing was saved: correct the marked cells and save again.")
            status = 400
    # Months down, product lines across (revenue and units each): twelve rows fit any
    # screen, and a range's figures read down its own two columns.
    rows = [
        {
            "month": month,
            "cells": [
                {
                    "product_line": line,
                    "budget": grid["budgets"].get((line.pk, month)),
                    "fields": [form[name] for name in forms.budget_field_names(line.pk, month)],
                }
                for line in grid["product_lines"]
            ],
        }
        for month in grid["months"]
    ]
    context = {
        "section": "planning",
        "year": year,
        "years": [year - 1, year + 1],
        "form": form,
        "rows": rows if grid["product_lines"] else [],
        "product_lines": grid["product_lines"],
        "can_edit": can_edit,
        "currency": settings.CURRENCY,
    }
    return render_page(request, "planning/budget_grid.html", context, status=status)


@permission_required(services.IMPORT_BUDGETS)
def budget_import(request):
    form = forms.BudgetFileForm(request.POST or None, request.FILES or None)
    rejection = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.budget_import(
                    actor=request.user,
                    rows=upload.read(),
                    filename=upload.name,
                    sheet=form.cleaned_data["sheet"],
                )
            except ImportRejected as exc:
                rejection = exc
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Imported {result.rows} budget rows of {result.filename}: "
                    f"{result.created} new, {result.updated} changed.",
                )
                return redirect(f"{reverse('planning_budgets')}?year={result.first_month.year}")
    context = {
        "section": "planning",
        "form": form,
        "rejection": rejection,
        "columns": BUDGET_COLUMNS.columns,
    }
    return render_page(request, "planning/budget_import.html", context, status=status)
