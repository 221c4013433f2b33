"""Forecast pages: overview, one product's forecast (chart and table), adjustments,
and accuracy."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from coordination.charts import Chart, Series
from coordination.errors import StaleEditError
from coordination.models import Product
from coordination.permissions import permission_required
from coordination.selectors.notices import notices_for
from coordination.web import (
    apply_validation_error,
    paginate,
    querystring_without_page,
    render_page,
)
from coordination.weeks import iso_label
from demand import forms
from demand.selectors import forecasts as selectors
from demand.selectors.accuracy import forecast_accuracy
from demand.selectors.launches import launch_notes, launch_page
from demand.services.adjustments import adjustment_set
from demand.spreadsheets import channel_sheet, forecast_sheet
from demand.xlsx import download_name, xlsx_response


def _product_or_404(sku: str) -> Product:
    product = Product.objects.select_related("product_line", "predecessor").filter(sku=sku).first()
    if product is None:
        raise Http404(f"No product with SKU {sku}.")
    return product


@permission_required("demand.view_demandforecast")
def forecast_list(request):
    form = forms.ForecastFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    weeks = filters.get("weeks") or 13
    line = filters.get("line")
    page = paginate(request, selectors.forecast_products(line_id=line.pk if line else None), 50)
    context = {
        "section": "forecasts",
        "form": form,
        "weeks": weeks,
        "page": page,
        "querystring": querystring_without_page(request),
        "rows": selectors.forecast_overview(page.object_list, weeks=weeks),
    }
    return render_page(request, "demand/forecast_list.html", context, partial="results")


def forecast_chart(product: Product, data: dict) -> dict:
    rows = data["rows"]
    labels = [row["week"].strftime("%d %b") for row in rows]

    def series(attribute):
        return [
            getattr(row["forecast"], attribute) if row["forecast"] and not row["past"] else None
            for row in rows
        ]

    markers = []
    for i, row in enumerate(rows):
        for promotion in row["promotions"]:
            if promotion.start_week == row["week"]:
                markers.append((i, f"{promotion.name} starts"))
    return Chart(
        title=f"{product.sku}: weekly units sold and forecast",
        categories=labels,
        series=[
            Series("Actual units", [row["actual"] for row in rows], "ink", kind="line"),
            Series(
                "Forecast as it was (past weeks)",
                [
                    row["forecast"].final if row["forecast"] and row["past"] else None
                    for row in rows
                ],
                "s2",
                kind="line",
                dashed=True,
            ),
            Series("Baseline", series("baseline"), "s1", kind="line"),
            Series("Final forecast", series("final"), "s6", kind="line"),
        ],
        markers=markers,
        y_label="units per week",
    ).render_data()


@permission_required("demand.view_demandforecast")
def forecast_detail(request, sku, adjustment_form=None, status=200):
    product = _product_or_404(sku)
    data = selectors.product_forecast(product)
    launch = launch_page(product)
    notes = launch_notes(launch["plan"], [row["week"] for row in data["rows"] if not row["past"]])
    for row in data["rows"]:
        row["launch_note"] = notes.get(row["week"], "")
    context = {
        "section": "forecasts",
        "product": product,
        "data": data,
        "chart": forecast_chart(product, data),
        "future": [row for row in data["rows"] if not row["past"]],
        "adjustment_form": adjustment_form
        or forms.AdjustmentForm(initial={"seen": selectors.adjustment_versions(product)}),
        "can_adjust": request.user.has_perm("demand.add_marketingadjustment"),
        "notices": notices_for([product]),
        "launch": launch,
    }
    return render_page(request, "demand/forecast_detail.html", context, status=status)


@permission_required("demand.view_demandforecast")
def forecast_xlsx(request, sku):
    """The forecast page's weeks, with every term of the forecast, as .xlsx (and a sheet
    per channel's forecast for a product forecast per channel)."""
    product = _product_or_404(sku)
    data = selectors.product_forecast(product)
    sheets = [forecast_sheet(product, data)]
    if data["channels"]:
        sheets.append(channel_sheet(product, data["channels"]))
    return xlsx_response(download_name("forecast", product.sku), sheets)


@require_POST
@permission_required("demand.add_marketingadjustment")
def adjust(request, sku):
    product = _product_or_404(sku)
    form = forms.AdjustmentForm(request.POST)
    seen = selectors.parse_adjustment_versions(request.POST.get("seen", ""))
    if seen is None or "seen" not in request.POST:
        form.add_error(None, "The form did not say what you saw. Reload the page and try again.")
    if form.is_valid():
        week = form.cleaned_data["week"]
        units = form.cleaned_data["units"]
        expected = seen.get(week.isoformat(), 0) if week else None
        try:
            adjustment_set(
                actor=request.user,
                product_id=product.pk,
                week=week,
                units=units,
                reason=form.cleaned_data["reason"],
                expected_version=expected,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
            # What they see now is the current state: a second save applies over it.
            form.data = form.data.copy()
            form.data["seen"] = selectors.adjustment_versions(product)
        else:
            if units == 0 and expected == 0:
                # Nothing was there (the stale check vouches for it): nothing changed.
                messages.info(request, f"{iso_label(week)} had no adjustment: nothing changed.")
            elif units == 0:
                messages.success(
                    request,
                    f"Adjustment of {iso_label(week)} removed. The forecast and production plan "
                    f"of {product.sku} are being recomputed.",
                )
            else:
                messages.success(
                    request,
                    f"Adjustment saved. The forecast and production plan of {product.sku} are "
                    "being recomputed.",
                )
            return redirect("forecast_detail", sku=sku)
    return forecast_detail(request, sku, adjustment_form=form)


@permission_required("demand.view_demandforecast")
def accuracy(request):
    form = forms.ForecastFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    weeks = filters.get("weeks") or 13
    line = filters.get("line")
    data = forecast_accuracy(weeks=weeks, line_id=line.pk if line else None)
    context = {"section": "forecasts", "form": form, "data": data, "weeks": weeks}
    return render_page(request, "demand/forecast_accuracy.html", context)
