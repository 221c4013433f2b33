"""Planning review pages: the cycles, one cycle (snapshot, sign-offs, adjustments,
decisions and action items, what-if scenarios), the action item list, and the report
with its CSV."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from coordination.errors import StaleEditError
from coordination.permissions import permission_required
from coordination.selectors import activity as activity_selectors
from coordination.web import (
    apply_validation_error,
    paginate,
    querystring_without_page,
    render_page,
)
from demand.xlsx import download_name, xlsx_response
from planning import forms, services
from planning.models import CycleDecision, PlanningCycle, PlanningScenario, SignedPart
from planning.selectors import cycles as selectors
from planning.selectors import report as planning_report
from planning.spreadsheets import report_sheets
from production.renderers import csv_cell

VIEW = "planning.view_planningcycle"


def _cycle_or_404(pk: int) -> PlanningCycle:
    try:
        return selectors.cycle_detail(pk)
    except PlanningCycle.DoesNotExist:
        raise Http404(f"No planning cycle {pk}.") from None


def _error_text(exc) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


@permission_required(VIEW)
def cycle_list(request, open_form=None, status=200):
    status_filter = request.GET.get("status", "")
    if status_filter not in PlanningCycle.Status.values:
        status_filter = ""
    awaiting = request.GET.get("awaiting", "")
    if awaiting not in {row.value for row in selectors.PART_DEPARTMENT.values()}:
        awaiting = ""
    cycles = selectors.cycle_list(status=status_filter, awaiting_department=awaiting)
    context = {
        "section": "planning",
        "page": paginate(request, cycles, per_page=12),
        "querystring": querystring_without_page(request),
        "statuses": PlanningCycle.Status.choices,
        "status_filter": status_filter,
        "awaiting": awaiting,
        "open_form": open_form or forms.CycleOpenForm(),
        "my_open_actions": selectors.action_items(owner=request.user).count(),
    }
    return render_page(request, "planning/cycle_list.html", context, status=status)


@require_POST
@permission_required("planning.manage_planning_cycle")
def cycle_open(request):
    form = forms.CycleOpenForm(request.POST)
    if form.is_valid():
        try:
            cycle = services.planning_cycle_open(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Opened {cycle} and took its snapshot.")
            return redirect("planning_detail", pk=cycle.pk)
    return cycle_list(request, open_form=form, status=400)


def _part_choices(user, cycle) -> list[tuple[str, str]]:
    if not cycle.is_open:
        return []
    return [(p.value, p.label) for p in SignedPart if user.has_perm(selectors.PART_PERMISSION[p])]


def _month_choices(snapshot) -> list[tuple[str, str]]:
    """The months the snapshot covers, as choices of the adjustment form."""
    return [(m, selectors.month_label(m)) for m in snapshot.data["months"]]


def _detail_context(request, cycle, **forms_given) -> dict:
    snapshot = selectors.latest_snapshot(cycle)
    adjustments = selectors.adjustments_of(cycle)
    state = selectors.sign_off_state(cycle, snapshot, adjustments) if snapshot else []
    parts = []
    for row in state:
        parts.append(
            {
                **row,
                "rows": selectors.part_rows(snapshot, row["part"], adjustments),
                "adjustments": [a for a in adjustments if a.part == row["part"]],
                "can_sign": cycle.status == PlanningCycle.Status.IN_REVIEW
                and request.user.has_perm(row["permission"]),
                "form": forms_given.get(f"sign_{row['part']}")
                or forms.SignOffForm(initial={"part_hash": row["hash"]}, part=row["part"]),
            }
        )
    part_choices = _part_choices(request.user, cycle)
    months = _month_choices(snapshot) if snapshot else []
    items = list(selectors.cycle_items(cycle))
    return {
        "section": "planning",
        "cycle": cycle,
        "snapshot": snapshot,
        "data": snapshot.data if snapshot else {},
        "parts": {p["part"]: p for p in parts},
        "sign_offs": parts,
        "adjustment_form": forms_given.get("adjustment_form")
        or (forms.CycleAdjustmentForm(parts=part_choices, months=months) if part_choices else None),
        "decisions": [i for i in items if i.kind == CycleDecision.Kind.DECISION],
        "actions": [i for i in items if i.kind == CycleDecision.Kind.ACTION],
        "carried": list(selectors.carried_actions(cycle)[:50]),
        "decision_form": forms_given.get("decision_form")
        or forms.CycleDecisionForm(initial={"kind": "decision"}),
        "can_record": cycle.status != PlanningCycle.Status.CLOSED
        and request.user.has_perm(services.RECORD),
        "scenarios": list(selectors.scenarios_of(cycle)[:20]),
        "scenario_form": forms_given.get("scenario_form") or forms.ScenarioForm(),
        "can_try": cycle.status != PlanningCycle.Status.CLOSED
        and request.user.has_perm(services.SCENARIO),
        "can_manage": request.user.has_perm(services.MANAGE),
        "meeting_form": forms_given.get("meeting_form")
        or forms.CycleMeetingForm(
            initial={
                "version": cycle.version,
                "meeting_at": cycle.meeting_at and timezone.localtime(cycle.meeting_at),
                "meeting_minutes": cycle.meeting_minutes,
                "meeting_place": cycle.meeting_place,
            }
        ),
        "status_form": forms.ActionStatusForm(),
        "today": timezone.localdate(),
        "events": activity_selectors.timeline_for(cycle, limit=30),
        "timeline_target": cycle,
    }


@permission_required(VIEW)
def cycle_detail(request, pk, status=200, **forms_given):
    cycle = _cycle_or_404(pk)
    context = _detail_context(request, cycle, **forms_given)
    return render_page(
        request, "planning/cycle_detail.html", context, partial="items", status=status
    )


CYCLE_ACTIONS = {
    "start-review": (services.planning_cycle_start_review, "Started the review of {cycle}."),
    "refresh": (services.planning_cycle_refresh, "Took a new snapshot of {cycle}."),
    "close": (services.planning_cycle_close, "Closed {cycle}."),
}


@require_POST
@permission_required(VIEW)
def cycle_action(request, pk, action):
    if action not in CYCLE_ACTIONS:
        raise Http404("Unknown action.")
    cycle = _cycle_or_404(pk)
    service, done = CYCLE_ACTIONS[action]
    form = forms.VersionedForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.HIDDEN_FIELD_ERROR)
        return redirect("planning_detail", pk=cycle.pk)
    try:
        service(
            actor=request.user, cycle_id=cycle.pk, expected_version=form.cleaned_data["version"]
        )
    except PermissionDenied:
        raise
    except (ValidationError, StaleEditError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, done.format(cycle=cycle))
    return redirect("planning_detail", pk=cycle.pk)


@require_POST
@permission_required(services.MANAGE)
def cycle_meeting(request, pk):
    cycle = _cycle_or_404(pk)
    form = forms.CycleMeetingForm(request.POST)
    if form.is_valid():
        try:
            services.planning_cycle_schedule_meeting(
                actor=request.user,
                cycle_id=cycle.pk,
                expected_version=form.cleaned_data.pop("version"),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the meeting of {cycle}.")
            return redirect("planning_detail", pk=cycle.pk)
    return cycle_detail(request, pk, status=400, meeting_form=form)


@require_POST
@permission_required(VIEW)
def cycle_sign(request, pk, part):
    if part not in SignedPart.values:
        raise Http404("Unknown part.")
    cycle = _cycle_or_404(pk)
    form = forms.SignOffForm(request.POST, part=part)
    if not form.is_valid():
        return cycle_detail(request, pk, status=400, **{f"sign_{part}": form})
    try:
        services.cycle_sign_off(
            actor=request.user,
            cycle_id=cycle.pk,
            part=part,
            seen_hash=form.cleaned_data["part_hash"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{reverse('planning_detail', args=[cycle.pk])}#sign-offs")
    cycle.refresh_from_db()
    if cycle.status == PlanningCycle.Status.AGREED:
        messages.success(request, f"Signed. Every department has signed: {cycle} is agreed.")
    else:
        messages.success(request, f"Signed off the {selectors.PART_NOUN[SignedPart(part)]}.")
    return redirect(f"{reverse('planning_detail', args=[cycle.pk])}#sign-offs")


@require_POST
@permission_required(VIEW)
def adjustment_add(request, pk):
    cycle = _cycle_or_404(pk)
    choices = _part_choices(request.user, cycle)
    if not choices:
        raise PermissionDenied
    months = _month_choices(selectors.latest_snapshot(cycle))
    form = forms.CycleAdjustmentForm(request.POST, parts=choices, months=months)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.cycle_adjustment_add(
                actor=request.user,
                cycle_id=cycle.pk,
                part=data["part"],
                line_id=data["line"].pk if data["line"] else None,
                month=data["month"],
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                "Adjustment recorded. If this part was signed, its department must sign again.",
            )
            return redirect(f"{reverse('planning_detail', args=[cycle.pk])}#adjust")
    return cycle_detail(request, pk, status=400, adjustment_form=form)


@require_POST
@permission_required(services.RECORD)
def decision_add(request, pk):
    cycle = _cycle_or_404(pk)
    form = forms.CycleDecisionForm(request.POST)
    if form.is_valid():
        try:
            item = services.cycle_decision_create(
                actor=request.user, cycle_id=cycle.pk, **form.service_fields()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if request.htmx:
                return cycle_detail(request, pk)  # the new item shows in the swapped list
            messages.success(request, f"Recorded the {item.get_kind_display().lower()}.")
            return redirect(f"{reverse('planning_detail', args=[cycle.pk])}#items")
    # htmx swaps only successful answers: the form with its errors comes back as a 200.
    status = 200 if request.htmx else 400
    return cycle_detail(request, pk, status=status, decision_form=form)


def _item_or_404(item_pk: int) -> CycleDecision:
    item = CycleDecision.objects.select_related("cycle").filter(pk=item_pk).first()
    if item is None:
        raise Http404("No such decision or action item.")
    return item


@permission_required(services.RECORD)
def decision_edit(request, item_pk):
    item = _item_or_404(item_pk)
    initial = {
        "version": item.version,
        "kind": item.kind,
        "text": item.text,
        "department": item.department,
        "owner": item.owner_id,
        "due_date": item.due_date,
        "product": item.product.sku if item.product_id else None,
        "promotion": item.promotion_id,
        "line": item.line_id,
    }
    form = forms.CycleDecisionEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        fields.pop("kind")
        try:
            services.cycle_decision_update(
                actor=request.user,
                decision_id=item.pk,
                expected_version=form.cleaned_data["version"],
                **fields,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the {item.get_kind_display().lower()}.")
            return redirect(f"{reverse('planning_detail', args=[item.cycle_id])}#items")
    context = {"section": "planning", "item": item, "cycle": item.cycle, "form": form}
    return render_page(
        request,
        "planning/decision_form.html",
        context,
        status=400 if form.errors else 200,
    )


@require_POST
@permission_required(VIEW)
def decision_status(request, item_pk):
    item = _item_or_404(item_pk)
    form = forms.ActionStatusForm(request.POST)
    back = request.POST.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = f"{reverse('planning_detail', args=[item.cycle_id])}#items"
    if not form.is_valid():
        messages.error(request, form.refusal_message("Choose open, done or dropped."))
        return redirect(back)
    try:
        services.action_item_set_status(
            actor=request.user,
            decision_id=item.pk,
            expected_version=form.cleaned_data["version"],
            status=form.cleaned_data["status"],
        )
    except (ValidationError, StaleEditError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Updated the action item.")
    return redirect(back)


@permission_required(VIEW)
def action_list(request):
    form = forms.ActionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status") or "open"
    items = selectors.action_items(
        owner=request.user if filters.get("mine") else None,
        department=filters.get("department", ""),
        status="" if status == "all" else status,
        overdue=filters.get("overdue", False),
    )
    context = {
        "section": "planning",
        "form": form,
        "page": paginate(request, items),
        "querystring": querystring_without_page(request),
        "status_form": forms.ActionStatusForm(),
        "today": timezone.localdate(),
    }
    return render_page(request, "planning/action_list.html", context, partial="results")


@require_POST
@permission_required(services.SCENARIO)
def scenario_run(request, pk):
    cycle = _cycle_or_404(pk)
    form = forms.ScenarioForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            scenario = services.planning_scenario_run(
                actor=request.user,
                cycle_id=cycle.pk,
                line_id=data["line"].pk,
                first_week=data["first_week"],
                last_week=data["last_week"],
                extra_hours=data["extra_hours"],
                name=data["name"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Re-planned “{scenario.name}”. The live plan is unchanged.")
            return redirect("planning_scenario", pk=cycle.pk, scenario_pk=scenario.pk)
    return cycle_detail(request, pk, status=400, scenario_form=form)


@permission_required(VIEW)
def scenario_detail(request, pk, scenario_pk):
    cycle = _cycle_or_404(pk)
    scenario = (
        PlanningScenario.objects.select_related("line", "created_by")
        .filter(pk=scenario_pk, cycle=cycle)
        .first()
    )
    if scenario is None:
        raise Http404("No such scenario in this cycle.")
    context = {
        "section": "planning",
        "cycle": cycle,
        "scenario": scenario,
        **planning_report.scenario_comparison(scenario),
    }
    return render_page(request, "planning/scenario_detail.html", context)


@permission_required(VIEW)
def cycle_report(request, pk):
    cycle = _cycle_or_404(pk)
    context = {"section": "planning", "cycle": cycle, **planning_report.report(cycle)}
    return render_page(request, "planning/report.html", context)


@permission_required(VIEW)
def cycle_report_xlsx(request, pk):
    """The report as a workbook: a sheet per table and every figure, formatted."""
    cycle = _cycle_or_404(pk)
    sheets = report_sheets(planning_report.report_download(cycle))
    return xlsx_response(download_name("planning", f"{cycle.period_start:%Y-%m}"), sheets)


@permission_required(VIEW)
def cycle_report_csv(request, pk):
    cycle = _cycle_or_404(pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"planning-{cycle.period_start:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["section", "subject", "period", "measure", "value"])
    # Decision texts and names are typed by people: a spreadsheet must not run them.
    writer.writerows(
        [csv_cell(value) for value in row] for row in planning_report.report_csv_rows(cycle)
    )
    return response
