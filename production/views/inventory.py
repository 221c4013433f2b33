"""Inventory pages: the latest count per product, and importing counts from a CSV."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from coordination.permissions import permission_required
from coordination.web import apply_validation_error, paginate, querystring_without_page, render_page
from demand.csv_import import ImportRejected
from demand.forms import ImportFileForm
from production.services import inventory_import as services

MAX_UPLOAD_BYTES = 20_000_000  # 20 MB; bigger files: manage.py import_inventory or the API


class InventorySearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=80)


class InventoryFileForm(ImportFileForm):
    file_help = (
        "Columns sku, as_of (the date counted, 2026-11-23) and on_hand. CSV: comma or "
        "semicolon separated, UTF-8; Excel: an .xlsx workbook, header in row 1. "
        "At most 20 MB."
    )
    check_only = forms.BooleanField(label="Only check the file; save nothing", required=False)

    def max_bytes(self) -> int:
        return MAX_UPLOAD_BYTES


@permission_required("production.view_inventoryposition")
def inventory(request):
    form = InventorySearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    context = {
        "section": "production",
        "form": form,
        "page": paginate(request, services.latest_positions(search=search), per_page=50),
        "querystring": querystring_without_page(request),
    }
    return render_page(request, "production/inventory.html", context, partial="positions")


@permission_required(services.PERMISSION)
def inventory_import(request):
    form = InventoryFileForm(request.POST or None, request.FILES or None)
    result, rejection = None, None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.inventory_import(
                actor=request.user,
                rows=upload.read(),
                source="browser",
                filename=upload.name,
                dry_run=form.cleaned_data["check_only"],
                sheet=form.cleaned_data["sheet"],
            )
        except ImportRejected as exc:
            rejection = exc
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if not request.htmx and not result.dry_run:
                messages.success(
                    request,
                    f"Imported {result.rows:,} counts of {result.filename}: "
                    f"{result.created:,} new, {result.updated:,} updated.",
                )
                return redirect("inventory")
            form = InventoryFileForm()
    context = {
        "section": "production",
        "form": form,
        "result": result,
        "rejection": rejection,
        "columns": services.INVENTORY_ROWS.columns,
    }
    return render_page(request, "production/inventory_import.html", context, partial="import-panel")
