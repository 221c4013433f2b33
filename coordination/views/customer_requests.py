"""Customer request pages: quick log, lists and inboxes, detail with actions, voice of
the customer."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from coordination import forms, roles
from coordination.charts import Chart, Series
from coordination.errors import StaleEditError
from coordination.models import CustomerRequest, Department, Product, ProductLine
from coordination.permissions import permission_required
from coordination.selectors import activity as activity_selectors
from coordination.selectors import customer_requests as request_selectors
from coordination.selectors.recompute import replan_progress
from coordination.services import customer_requests as request_services
from coordination.web import (
    apply_validation_error,
    paginate,
    querystring_without_page,
    render_page,
)


@permission_required("coordination.add_customerrequest")
def request_log(request):
    """The quick log form. With htmx, a successful save returns a fresh form (keeping
    the customer for the next request of the same call) and the new request on top of
    the recent list, so a rep can log several in a row without leaving the keyboard."""
    form = forms.RequestLogForm(request.POST or None)
    logged = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            logged = request_services.request_log(actor=request.user, **data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            message = f"Logged request #{logged.pk} ({logged.get_kind_display()}), routed to "
            message += f"{logged.get_department_display()}, due {logged.due_date:%d %b}."
            if not request.htmx:
                messages.success(request, message)
                return redirect("request_detail", pk=logged.pk)
            form = forms.RequestLogForm(
                initial={
                    "customer_name": logged.customer_name,
                    "customer_account": logged.customer_account,
                    "channel": logged.channel,
                }
            )
            messages.success(request, message)
    context = {
        "section": "requests",
        "form": form,
        "logged": logged,
        "recent": request_selectors.my_requests(request.user).order_by("-created_at")[:8],
        "customers": request_selectors.recent_customers(),
        "skus": Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .order_by("sku")
        .values_list("sku", "name"),
    }
    return render_page(request, "coordination/request_log.html", context, partial="log-panel")


def _list_context(request, requests, *, title, section="requests", **extra):
    return {
        "section": section,
        "title": title,
        "page": paginate(request, requests),
        "querystring": querystring_without_page(request),
        "today": timezone.localdate(),
        **extra,
    }


@permission_required("coordination.view_customerrequest")
def request_list(request):
    form = forms.RequestFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    requests = request_selectors.filter_requests(
        request_selectors.visible_requests(request.user),
        status=filters.get("status", ""),
        kind=filters.get("kind", ""),
        product_id=filters["product"].pk if filters.get("product") else None,
        department=filters.get("department", ""),
        overdue=filters.get("overdue", False),
        search=filters.get("q", ""),
    )
    context = _list_context(request, requests, title="Customer requests", form=form)
    return render_page(request, "coordination/request_list.html", context, partial="results")


@permission_required("coordination.view_customerrequest")
def my_requests(request):
    requests = request_selectors.my_requests(request.user)
    context = _list_context(request, requests, title="My requests", mine=True)
    return render_page(request, "coordination/request_list.html", context, partial="results")


@permission_required("coordination.view_customerrequest")
def inbox(request, department=None):
    own = sorted(roles.departments_of(request.user))
    if department is None:
        if not own:
            messages.info(request, "Your role has no department inbox; here are all requests.")
            return redirect("request_list")
        department = own[0]
    if department not in Department.values:
        raise Http404("No such department.")
    if department not in own and not request.user.has_perm("coordination.view_all_requests"):
        return redirect("inbox_department", department=own[0]) if own else redirect("home")
    requests = request_selectors.department_inbox(department)
    context = _list_context(
        request,
        requests,
        title=f"{Department(department).label} inbox",
        inbox_department=department,
        departments=Department.choices,
    )
    return render_page(request, "coordination/request_list.html", context, partial="results")


def _request_or_404(user, pk) -> CustomerRequest:
    try:
        return request_selectors.request_detail(user, pk)
    except CustomerRequest.DoesNotExist:
        raise Http404("No such request, or it is not routed to your department.") from None


ACTION_FORMS = {
    "route": forms.RouteForm,
    "start_review": forms.VersionedForm,
    "answer_feasibility": forms.FeasibilityForm,
    "quote": forms.QuoteForm,
    "accept": forms.VersionedForm,
    "decline": forms.NoteForm,
    "change_order": forms.ChangeOrderForm,
    "cancel_order": forms.NoteForm,
    "resolve": forms.ResolveForm,
}


def _initial_for(action: str, obj: CustomerRequest, promise=None) -> dict:
    initial = {"version": obj.version}
    if action == "answer_feasibility":
        # Production starts from what the plan can promise, and confirms or changes it.
        lead_time = request_services.suggested_lead_time(promise)
        if lead_time is not None:
            initial.update(feasible="yes", lead_time_weeks=lead_time)
    if action == "route":
        initial.update(department=obj.department, assignee=obj.assignee_id, priority=obj.priority)
    if action == "quote":
        suggested = None
        if obj.product is not None and obj.extra_unit_cost is not None:
            suggested = obj.product.unit_price + obj.extra_unit_cost
        initial.update(unit_price=suggested, quantity=obj.quantity, wanted_week=obj.wanted_week)
    if action == "change_order":
        initial.update(quantity=obj.quantity, wanted_week=obj.wanted_week)
    return initial


def _action_auto_id(action: str) -> str:
    # Every action form has a hidden "version" (and some share other fields): the
    # action's name in the ids keeps them unique on the request page.
    return f"id_{action}_%s"


@permission_required("coordination.view_customerrequest")
def request_detail(request, pk, bound_form=None, bound_action=None, status=200):
    obj = _request_or_404(request.user, pk)
    actions = request_services.allowed_actions(request.user, obj)
    # Asked on open, from the line's current plan, while production reviews or sales quotes.
    promise = request_services.plan_promise(obj)
    action_forms = []
    for action in actions:
        if action.name == bound_action and bound_form is not None:
            form = bound_form
        else:
            form = ACTION_FORMS[action.name](
                initial=_initial_for(action.name, obj, promise),
                auto_id=_action_auto_id(action.name),
            )
        if action.name == "quote":
            # The margin under the form follows the price as it is typed.
            form.fields["unit_price"].widget.attrs.update(
                {
                    "hx-get": reverse("request_quote_margin", args=[obj.pk]),
                    "hx-trigger": "input changed delay:300ms",
                    "hx-include": "closest form",
                    "hx-target": "#quote-margin",
                    "hx-swap": "outerHTML",
                }
            )
        action_forms.append({"action": action, "form": form})
    context = {
        **_progress(obj),
        "section": "requests",
        "action_forms": action_forms,
        "open_action": bound_action,
        "promise": promise,
        "suggested_lead_time": request_services.suggested_lead_time(promise),
        "margin": _quote_margin(obj, actions, bound_form if bound_action == "quote" else None),
        "events": activity_selectors.timeline_for(obj),
        "timeline_target": obj,
        "today": timezone.localdate(),
    }
    return render_page(request, "coordination/request_detail.html", context, status=status)


def _quote_margin(obj: CustomerRequest, actions, bound_form=None):
    """The margin shown beside the quote form: of the price typed (when re-shown with
    errors), else of the suggested price; None when the user cannot quote."""
    if "quote" not in {action.name for action in actions}:
        return None
    price = _initial_for("quote", obj).get("unit_price")
    quantity = None
    if bound_form is not None:
        typed = getattr(bound_form, "cleaned_data", {})
        price = typed["unit_price"] if (typed.get("unit_price") or 0) > 0 else price
        quantity = typed.get("quantity")
    return request_services.quote_margin(obj, price, quantity) if price else None


@permission_required("coordination.view_customerrequest")
def request_quote_margin(request, pk):
    """The margin of the price being typed in the quote form (htmx, as the rep types)."""
    obj = _request_or_404(request.user, pk)
    actions = request_services.allowed_actions(request.user, obj)
    form = forms.QuoteMarginForm(request.GET)
    price = form.cleaned_data["unit_price"] if form.is_valid() else None
    margin = None
    if "quote" in {action.name for action in actions} and price:
        margin = request_services.quote_margin(obj, price, form.cleaned_data.get("quantity"))
    context = {"obj": obj, "margin": margin}
    return render(request, "coordination/request_detail.html#quote-margin", context)


def _progress(obj: CustomerRequest) -> dict:
    """The re-plan an accepted or cancelled order asked for, and what it changed."""
    return {"obj": obj, **replan_progress(obj)}


@permission_required("coordination.view_customerrequest")
def request_progress(request, pk):
    """The re-plan's state, polled by the request page until it is finished."""
    obj = _request_or_404(request.user, pk)
    return render(request, "coordination/request_detail.html#progress", _progress(obj))


SERVICE_FOR_ACTION = {
    "route": request_services.request_route,
    "start_review": request_services.request_start_review,
    "answer_feasibility": request_services.request_answer_feasibility,
    "quote": request_services.request_quote,
    "accept": request_services.request_accept,
    "decline": request_services.request_decline,
    "change_order": request_services.request_change_order,
    "cancel_order": request_services.request_cancel_order,
    "resolve": request_services.request_resolve,
}


def _service_kwargs(action: str, data: dict) -> dict:
    data = dict(data)
    data.pop("version", None)
    if action == "route":
        assignee = data.pop("assignee", None)
        data["assignee_id"] = assignee.pk if assignee else None
    return data


@require_POST
@permission_required("coordination.view_customerrequest")
def request_action(request, pk, action):
    if action not in SERVICE_FOR_ACTION:
        raise Http404("Unknown action.")
    obj = _request_or_404(request.user, pk)
    form = ACTION_FORMS[action](request.POST, auto_id=_action_auto_id(action))
    if not form.is_valid():
        return request_detail(request, pk, bound_form=form, bound_action=action)
    try:
        SERVICE_FOR_ACTION[action](
            actor=request.user,
            request_id=obj.pk,
            expected_version=form.cleaned_data["version"],
            **_service_kwargs(action, form.cleaned_data),
        )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return request_detail(request, pk, bound_form=form, bound_action=action)
    except StaleEditError as exc:
        messages.error(request, str(exc))
        return request_detail(request, pk, status=409)
    messages.success(request, f"#{obj.pk}: {request_services.ACTIONS[action].label} — done.")
    return redirect(reverse("request_detail", args=[obj.pk]))


@permission_required("coordination.view_voice_of_customer")
def voice_of_customer(request):
    months = request.GET.get("months", "12")
    months = int(months) if months.isdigit() and 1 <= int(months) <= 36 else 12
    group_by = "line" if request.GET.get("by") == "line" else "product"
    line_id = request.GET.get("line") or None
    if line_id and not str(line_id).isdigit():
        line_id = None
    since = (timezone.localdate().replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(
        day=1
    )
    data = request_selectors.voice_of_customer(since=since, line_id=line_id, group_by=group_by)
    preference_chart = Chart(
        title="Customer requests per month, split by quality-vs-price preference",
        categories=[row["month"].strftime("%b %y") for row in data["preference_by_month"]],
        series=[
            Series(label, [row[value] for row in data["preference_by_month"]], css)
            for (value, label), css in zip(
                CustomerRequest.Preference.choices, ("s1", "s7", "s2"), strict=True
            )
        ],
        y_label="requests",
    ).render_data()
    context = {
        "preference_chart": preference_chart,
        "section": "voc",
        "data": data,
        "since": since,
        "months": months,
        "group_by": group_by,
        "line_id": int(line_id) if line_id else None,
        "lines": ProductLine.objects.all(),
        "kind_labels": dict(CustomerRequest.Kind.choices),
        "preference_labels": CustomerRequest.Preference.choices,
    }
    return render_page(request, "coordination/voice_of_customer.html", context)
