"""Lines and capacity: normal weekly hours, single-week exceptions, recompute history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from coordination.errors import StaleEditError
from coordination.models import Line
from coordination.permissions import permission_required
from coordination.selectors.activity import timeline_for
from coordination.web import apply_validation_error, paginate, render_page
from coordination.weeks import current_week
from production import forms
from production.models import CapacityException, RecomputeRun
from production.services import capacity as services


@permission_required("coordination.view_line")
def line_list(request):
    lines = Line.objects.prefetch_related("products")
    context = {"section": "lines", "lines": lines}
    return render_page(request, "production/line_list.html", context)


@permission_required("coordination.view_line")
def line_detail(request, pk):
    line = Line.objects.filter(pk=pk).first()
    if line is None:
        raise Http404("No such line.")
    line_form = forms.LineForm(
        initial={
            "version": line.version,
            "weekly_capacity_hours": line.weekly_capacity_hours,
            "frozen_window_weeks": line.frozen_window_weeks,
            "holding_cost_rate_pct": line.holding_cost_rate_pct,
        }
    )
    exception_form = forms.CapacityExceptionForm()
    if request.method == "POST":
        if not request.user.has_perm("coordination.change_line"):
            raise PermissionDenied
        if request.POST.get("form") == "line":
            line_form = forms.LineForm(request.POST)
            if line_form.is_valid():
                try:
                    saved = services.line_update(
                        actor=request.user,
                        line_id=line.pk,
                        expected_version=line_form.cleaned_data["version"],
                        weekly_capacity_hours=line_form.cleaned_data["weekly_capacity_hours"],
                        frozen_window_weeks=line_form.cleaned_data["frozen_window_weeks"],
                        holding_cost_rate_pct=line_form.cleaned_data["holding_cost_rate_pct"],
                    )
                except ValidationError as exc:
                    apply_validation_error(line_form, exc)
                except StaleEditError as exc:
                    line_form.add_error(None, str(exc))
                else:
                    if saved.version == line.version:
                        messages.info(request, f"{line} already had these values: nothing changed.")
                    else:
                        messages.success(request, f"Saved {line}; the line is being re-planned.")
                    return redirect("line_detail", pk=pk)
        else:
            exception_form = forms.CapacityExceptionForm(request.POST)
            if exception_form.is_valid():
                try:
                    services.capacity_exception_set(
                        actor=request.user, line_id=line.pk, **exception_form.cleaned_data
                    )
                except ValidationError as exc:
                    apply_validation_error(exception_form, exc)
                else:
                    messages.success(request, "Capacity exception saved; re-planning the line.")
                    return redirect("line_detail", pk=pk)
    context = {
        "section": "lines",
        "line": line,
        "line_form": line_form,
        "exception_form": exception_form,
        "exceptions": CapacityException.objects.filter(line=line, week__gte=current_week()),
        "products": line.products.select_related("run_rate").order_by("sku"),
        "events": timeline_for(line),
        "timeline_target": line,
        "can_change": request.user.has_perm("coordination.change_line"),
    }
    return render_page(request, "production/line_detail.html", context)


@require_POST
@permission_required("production.delete_capacityexception")
def exception_delete(request, pk, exception_id):
    if not CapacityException.objects.filter(pk=exception_id, line_id=pk).exists():
        raise Http404("No such capacity exception.")
    try:
        services.capacity_exception_delete(actor=request.user, exception_id=exception_id)
    except ValidationError as exc:
        # A past week's hours are history (the page only offers coming weeks, but one
        # left open across a Monday still posts).
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Back to normal hours that week; re-planning the line.")
    return redirect("line_detail", pk=pk)


@permission_required("production.view_recomputerun")
def run_list(request):
    runs = RecomputeRun.objects.select_related("line").prefetch_related("requests")
    context = {"section": "production", "page": paginate(request, runs, per_page=30)}
    return render_page(request, "production/run_list.html", context)
