"""The production dashboard: capacity, alerts, the quota grid with explanations, and
accepting or overriding quotas (htmx), plus a promotion's production answer."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from coordination.charts import Chart, Series
from coordination.errors import OverCapacityError, StaleEditError
from coordination.models import Line, RecomputeRequest
from coordination.permissions import permission_required
from coordination.selectors.notices import notices_for
from coordination.services.recompute import recompute_request
from coordination.web import apply_validation_error, render_page
from coordination.weeks import iso_label, outside_horizon, parse_week
from demand.models import Promotion
from demand.selectors.promotions import promotion_net_effect
from demand.xlsx import download_name, xlsx_response
from production import forms
from production.models import QuotaRecommendation
from production.selectors import dashboard as selectors
from production.selectors import schedule as schedule_selectors
from production.selectors.economics import line_money
from production.selectors.schedule import schedule_version
from production.services import schedule as schedule_services
from production.spreadsheets import quota_grid_sheet


def _line(request) -> Line | None:
    lines = Line.objects.all()
    chosen = request.GET.get("line") or request.POST.get("line")
    if chosen and str(chosen).isdigit():
        line = lines.filter(pk=int(chosen)).first()
        if line is not None:
            return line
    return lines.first()


def capacity_chart(overview: dict) -> dict:
    weeks = overview["weeks"]
    return Chart(
        title=f"{overview['line']}: hours recommended and accepted per week against capacity",
        categories=[iso_label(w)[-3:] for w in weeks],
        series=[
            Series("Recommended: that week's demand", list(overview["need_hours"]), "s1"),
            Series("Recommended: pre-build", list(overview["prebuild_hours"]), "s2"),
            Series(
                "Accepted",
                list(overview["accepted_hours"] - overview["over_hours"]),
                "s3",
                stack="accepted",
            ),
            Series("Accepted over capacity", list(overview["over_hours"]), "s6", stack="accepted"),
            Series("Capacity", list(overview["capacity"]), "capacity", kind="line"),
        ],
        y_label="line hours",
    ).render_data()


# The id of the dashboard's "Recent recomputes" card, which htmx polls while a
# recompute of the line is queued or running.
RECOMPUTE_STATUS = "recompute-status"


def _recompute_status(request, line: Line):
    """The polled card alone. Once no recompute of the line is left, the response asks
    htmx to reload the page, so the grid, the chart and the alerts show the new plan."""
    in_progress = selectors.recomputes_in_progress(line)
    context = {
        "line": line,
        "runs": selectors.recent_runs(line),
        "recomputes_in_progress": in_progress,
    }
    response = render(request, f"production/dashboard.html#{RECOMPUTE_STATUS}", context)
    if not in_progress:
        response["HX-Refresh"] = "true"
    return response


@permission_required("production.view_quotarecommendation")
def dashboard(request):
    line = _line(request)
    if line is not None and request.htmx and request.htmx.target == RECOMPUTE_STATUS:
        return _recompute_status(request, line)
    weeks = selectors.weeks_from_now()
    context = {"section": "production", "lines": Line.objects.all(), "line": line, "weeks": weeks}
    if line is not None:
        # Read before the grid: a change landing in between then refuses a range
        # accept instead of being overwritten unseen.
        seen_version = schedule_version()
        overview = selectors.line_overview(line, weeks)
        context.update(
            overview=overview,
            capacity_rows=list(
                zip(
                    weeks,
                    overview["need_hours"],
                    overview["prebuild_hours"],
                    overview["capacity"],
                    overview["utilisation"],
                    overview["accepted_hours"],
                    overview["over_hours"],
                    strict=True,
                )
            ),
            chart=capacity_chart(overview),
            alerts=selectors.alerts(line, weeks, overview),
            **_grid_page(request, line, weeks),
            changes=selectors.changes_since_accepted(line, weeks),
            runs=selectors.recent_runs(line),
            recomputes_in_progress=selectors.recomputes_in_progress(line),
            range_form=forms.AcceptRangeForm(
                initial={
                    "week_from": weeks[0],
                    "week_to": weeks[3],
                    "seen_schedule_version": seen_version,
                }
            ),
            can_plan=request.user.has_perm("production.plan_line"),
            notices=notices_for([line, *line.products.all()]),
            money=line_money(line),
        )
    return render_page(request, "production/dashboard.html", context, partial="grid")


@permission_required("production.view_quotarecommendation")
def quota_grid_xlsx(request):
    """The chosen line's quota grid, every product and week of the dashboard, as .xlsx."""
    line = _line(request)
    if line is None:
        raise Http404("No production line.")
    weeks = selectors.weeks_from_now()
    rows = selectors.quota_grid_rows(line, weeks)
    parts = selectors.baseline_parts(rec for rec, _ in rows)
    sheet = quota_grid_sheet(line, rows, parts)
    filename = download_name("quotas", line.name, iso_label(weeks[0]))
    return xlsx_response(filename, [sheet])


def _grid_page(request, line: Line, weeks) -> dict:
    """One page of the quota grid (GRID_ROWS_PER_PAGE products by SKU), searchable."""
    query = " ".join(request.GET.get("q", "").split())[:60]
    ids = selectors.grid_products(line, weeks, query)
    page = Paginator(ids, selectors.GRID_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    querystring = urlencode({"line": line.pk, **({"q": query} if query else {})})
    return {
        "grid": selectors.quota_grid(line, weeks, list(page.object_list)),
        "grid_page": page,
        "grid_query": query,
        "grid_querystring": querystring,
    }


def _recommendation(sku: str, week_label: str) -> QuotaRecommendation:
    try:
        week = parse_week(week_label)
    except ValidationError:
        raise Http404("Not a week.") from None
    rec = (
        QuotaRecommendation.objects.select_related("product", "line", "run")
        .filter(product__sku=sku, week=week)
        .first()
    )
    if rec is None:
        raise Http404("No recommendation for that product and week.")
    return rec


def _accepted_entry(rec: QuotaRecommendation):
    return rec.product.schedule_entries.filter(week=rec.week, superseded_at__isnull=True).first()


def _seen(rec: QuotaRecommendation, entry) -> dict:
    """What a decision on this cell is made over: the run and the accepted entry shown."""
    return {"seen_run": rec.run_id, "seen_entry": entry.pk if entry else 0}


def _over_capacity(exc: OverCapacityError, form, action: str, *, htmx: bool) -> dict:
    """What the page shows to ask for an over-capacity decision: the weeks and hours
    over, and a form that sends the same decision again with the box and a reason."""
    data = form.data
    if exc.fields.get("reason"):
        form.add_error("over_capacity_reason", exc.fields["reason"])
    elif data.get("over_capacity_reason", "").strip() and not data.get("allow_over_capacity"):
        form.add_error(
            "allow_over_capacity", "Tick the box to plan it over capacity, or change the quota."
        )
    return {
        "message": str(exc),
        "weeks": exc.weeks,
        "form": form,
        "action": action,
        "htmx": htmx,
        "carried": form.carried_values(),
    }


@permission_required("production.view_quotarecommendation")
def explain(request, sku, week, override_form=None, status=200, over_capacity=None):
    """One cell's explanation as a waterfall, with accept and override (htmx or a page)."""
    rec = _recommendation(sku, week)
    entry = _accepted_entry(rec)
    context = {
        "section": "production",
        "rec": rec,
        "entry": entry,
        "steps": selectors.explanation_steps(rec),
        "shelf_life_note": selectors.shelf_life_note(rec),
        "baseline_note": selectors.baseline_note(rec),
        "runs_rule": selectors.runs_rule(rec.product),
        "accepted_units": entry.units if entry else None,
        "whole_units": schedule_services.whole_units(rec.recommended_units),
        "seen": _seen(rec, entry),
        "override_form": override_form
        or forms.OverrideForm(
            initial={
                **_seen(rec, entry),
                "units": schedule_services.whole_units(rec.recommended_units),
            }
        ),
        "can_plan": request.user.has_perm("production.plan_line"),
        "over_capacity": over_capacity,
    }
    template = "production/explain.html"
    if request.htmx:
        template += "#explanation"
    return render(request, template, context, status=status)


def _back_to_cell(request, rec):
    if request.htmx:
        return explain(request, rec.product.sku, iso_label(rec.week))
    url = reverse("production_dashboard") + f"?line={rec.line_id}"
    return redirect(url)


@require_POST
@permission_required("production.plan_line")
def accept(request, sku, week):
    rec = _recommendation(sku, week)
    form = forms.AcceptForm(request.POST)
    if not form.is_valid():
        # Without the run the user saw, accepting could take a number they never saw.
        messages.error(
            request,
            "The form did not say which recommendation you saw. Reload the page, then accept "
            "again.",
        )
        return _back_to_cell(request, rec)
    try:
        entry = schedule_services.quota_accept(
            actor=request.user,
            product_id=rec.product_id,
            week=rec.week,
            **form.seen(),
            **form.capacity_decision(),
        )
    except OverCapacityError as exc:
        action = reverse("quota_accept", args=[sku, week])
        return explain(
            request, sku, week, over_capacity=_over_capacity(exc, form, action, htmx=True)
        )
    except (ValidationError, StaleEditError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return _back_to_cell(request, rec)
    messages.success(
        request, f"Accepted {entry.units:,} units of {sku} in {iso_label(entry.week)}."
    )
    return _back_to_cell(request, rec)


@require_POST
@permission_required("production.plan_line")
def override(request, sku, week):
    rec = _recommendation(sku, week)
    form = forms.OverrideForm(request.POST)
    if form.is_valid():
        try:
            entry = schedule_services.quota_override(
                actor=request.user,
                product_id=rec.product_id,
                week=rec.week,
                units=form.cleaned_data["units"],
                reason=form.cleaned_data["reason"],
                **form.seen(),
                **form.capacity_decision(),
            )
        except OverCapacityError as exc:
            action = reverse("quota_override", args=[sku, week])
            over_capacity = _over_capacity(exc, form, action, htmx=True)
            return explain(request, sku, week, override_form=form, over_capacity=over_capacity)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
            # The page now shows what changed, with the person's input kept: a second
            # override is made knowingly, over what they now see.
            fresh = _recommendation(sku, week)
            form.data = form.data.copy()
            form.data.update(_seen(fresh, _accepted_entry(fresh)))
        else:
            messages.success(
                request,
                f"Set {sku} in {iso_label(entry.week)} to {entry.units:,} units (override).",
            )
            return _back_to_cell(request, rec)
    return explain(request, sku, week, override_form=form)


@require_POST
@permission_required("production.plan_line")
def accept_range(request):
    line = _line(request)
    if line is None:
        raise Http404("No line.")
    form = forms.AcceptRangeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            form.refusal_message(" ".join(e for errors in form.errors.values() for e in errors)),
        )
    else:
        try:
            revision = schedule_services.quotas_accept_range(
                actor=request.user,
                line_id=line.pk,
                week_from=form.cleaned_data["week_from"],
                week_to=form.cleaned_data["week_to"],
                seen_schedule_version=form.cleaned_data["seen_schedule_version"],
                **form.capacity_decision(),
            )
        except OverCapacityError as exc:
            action = reverse("quota_accept_range")
            context = {
                "section": "production",
                "line": line,
                "week_from": form.cleaned_data["week_from"],
                "week_to": form.cleaned_data["week_to"],
                "over_capacity": _over_capacity(exc, form, action, htmx=False),
            }
            return render(request, "production/accept_range_confirm.html", context)
        except (ValidationError, StaleEditError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            kept = schedule_selectors.kept_overrides_sentence(
                schedule_selectors.kept_overrides(
                    line_id=line.pk,
                    week_from=form.cleaned_data["week_from"],
                    week_to=form.cleaned_data["week_to"],
                )
            )
            if revision is None:
                messages.info(
                    request, f"Nothing to accept: the schedule already matches. {kept}".strip()
                )
            else:
                messages.success(
                    request,
                    f"{revision.summary} (schedule version {revision.pk}). {kept}".strip(),
                )
    return redirect(reverse("production_dashboard") + f"?line={line.pk}")


@require_POST
@permission_required("production.add_recomputerun")
def recompute_now(request):
    line = _line(request)
    if line is None:
        raise Http404("No line.")
    recompute_request(
        product_ids=line.products.values_list("pk", flat=True),
        source=RecomputeRequest.Source.MANUAL,
        reason=f"{line}: recompute requested by {request.user}",
        actor=request.user,
    )
    messages.success(request, f"Recompute of {line} requested.")
    return redirect(reverse("production_dashboard") + f"?line={line.pk}")


@permission_required("production.view_quotarecommendation")
def promotion_impact(request, pk):
    """Production's answer to a promotion, shown on marketing's promotion page."""
    promotion = Promotion.objects.filter(pk=pk).first()
    if promotion is None:
        raise Http404("No such promotion.")
    context = {
        "promotion": promotion,
        "answers": selectors.promotion_impact(promotion),
        "net_effect": promotion_net_effect(promotion),
        # Production answers for the weeks it plans; later ones are planned as they come.
        "beyond_horizon": outside_horizon(promotion.start_week, promotion.end_week),
    }
    template = "production/promotion_impact.html"
    if request.htmx:
        template += "#impact"
    return render(request, template, context)
