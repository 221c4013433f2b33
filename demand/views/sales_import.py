"""Sales history import pages: upload a CSV, look at the preview, import it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from coordination.permissions import permission_required
from coordination.selectors.recompute import latest_request_about
from coordination.web import apply_validation_error, paginate, render_page
from demand.csv_import import ImportRejected
from demand.forms import ImportFileForm
from demand.models import SalesImport
from demand.services import sales_import as services

MAX_UPLOAD_BYTES = 20_000_000  # 20 MB, about 800,000 rows; bigger files: command or API
TEMPLATE = "demand/sales_import.html"
PREVIEW_TEMPLATE = "demand/sales_import_preview.html"
# The id of the preview page's recompute status, which htmx polls until it is finished.
RECOMPUTE_STATUS = "import-recompute"


class SalesFileForm(ImportFileForm):
    file_help = (
        "Columns sku, week (2026-W48 or a date in that week), units and, optionally, "
        "channel. CSV: comma or "
        "semicolon separated, UTF-8; Excel: an .xlsx workbook, header in row 1. "
        "At most 20 MB."
    )

    def max_bytes(self) -> int:
        return MAX_UPLOAD_BYTES


def _recent_imports(request):
    imports = SalesImport.objects.select_related("uploaded_by").defer("content", "errors")
    return paginate(request, imports, per_page=20)


@permission_required(services.PERMISSION)
def sales_import(request):
    form = SalesFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.sales_import_preview(
                actor=request.user,
                filename=upload.name,
                content=upload.read(),
                sheet=form.cleaned_data["sheet"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            url = reverse("sales_import_preview", args=[record.pk])
            if request.htmx:
                return HttpResponseClientRedirect(url)
            return redirect(url)
    context = {
        "section": "forecasts",
        "form": form,
        "page": _recent_imports(request),
        "columns": (*services.SALES_ROWS.columns, *services.SALES_ROWS.optional_columns),
    }
    return render_page(request, TEMPLATE, context, partial="upload-form")


def _preview_context(record: SalesImport, **extra) -> dict:
    # Stored errors are {"line"|"row"|"item": n, "column", "message"} ("sheet" too for a
    # workbook's row); a last entry without a position says how many more were found.
    errors, more, more_count, label = [], "", 0, "Line"
    for item in record.errors or []:
        if "item" in item:
            label = "Item"
        position = item.get("line", item.get("row", item.get("item")))
        if position is None:
            more, more_count = item["message"], item.get("more", 0)
        elif "sheet" in item:
            label = "Sheet, row"
            errors.append({**item, "position": f"{item['sheet']}, row {position}"})
        else:
            errors.append({"position": position, **item})
    return {
        "section": "forecasts",
        "record": record,
        "errors": errors,
        "more_errors": more,
        "error_total": len(errors) + more_count,
        "position_label": label,
        "position_class": "where" if label == "Sheet, row" else "num",
        "sample": services.sales_import_sample(record),
        "sample_size": services.SAMPLE_ROWS,
        "recompute": _recompute_of(record),
        **extra,
    }


def _recompute_of(record: SalesImport):
    if record.status != SalesImport.Status.APPLIED:
        return None
    return latest_request_about(record)


@permission_required(services.PERMISSION)
def sales_import_preview(request, pk):
    record = get_object_or_404(SalesImport.objects.select_related("uploaded_by"), pk=pk)
    if request.htmx and request.htmx.target == RECOMPUTE_STATUS:
        context = {"record": record, "recompute": _recompute_of(record)}
        return render_page(request, f"{PREVIEW_TEMPLATE}#recompute", context)
    return render_page(request, PREVIEW_TEMPLATE, _preview_context(record))


@require_POST
@permission_required(services.PERMISSION)
def sales_import_apply(request, pk):
    record = get_object_or_404(SalesImport.objects.select_related("uploaded_by"), pk=pk)
    error = None
    try:
        record = services.sales_import_apply(actor=request.user, import_id=pk)
    except ImportRejected as exc:
        details = "; ".join(
            f"{e.place(exc.position_label, exc.sheet)}: {e.message}" for e in exc.row_errors[:5]
        )
        error = f"{exc.summary} The products changed since the preview ({details})"
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        context = _preview_context(record, error=error)
        return render_page(request, PREVIEW_TEMPLATE, context, partial="panel")
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            f"Imported {record.row_count:,} rows of {record.filename}: "
            f"{record.created_count:,} new, {record.updated_count:,} updated.",
        )
    return redirect("sales_import_preview", pk=record.pk)
