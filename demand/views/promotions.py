"""Promotion pages: calendar, list, form with live lift suggestions, detail with the
recompute's progress and production's answer."""

from __future__ import annotations

import math

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from coordination.errors import StaleEditError
from coordination.models import Product, ProductLine
from coordination.permissions import permission_required
from coordination.selectors.activity import timeline_for
from coordination.selectors.notices import notices_for
from coordination.selectors.recompute import latest_request_about
from coordination.web import apply_validation_error, paginate, render_page
from coordination.weeks import add_weeks, current_week, parse_week
from demand import forms
from demand.models import Promotion
from demand.selectors import promotions_view as selectors
from demand.selectors.lift import suggest_lift
from demand.selectors.promotions import promotion_warnings
from demand.services import promotions as services
from demand.spreadsheets import promotions_sheet
from demand.xlsx import download_name, xlsx_response

VERSION_MISSING = (
    "The form did not say which version of the promotion you edited. "
    "Reload the page, then apply your change again."
)

CALENDAR_WEEKS = 26


@permission_required("demand.view_promotion")
def promotion_calendar(request):
    try:
        start = parse_week(request.GET.get("from")) or add_weeks(current_week(), -4)
    except ValidationError:
        start = add_weeks(current_week(), -4)
    line_id = request.GET.get("line")
    line_id = int(line_id) if line_id and line_id.isdigit() else None
    context = {
        "section": "promotions",
        "calendar": selectors.calendar(start=start, weeks=CALENDAR_WEEKS, line_id=line_id),
        "lines": ProductLine.objects.all(),
        "line_id": line_id,
        "this_week": current_week(),
        "earlier": add_weeks(start, -13),
        "later": add_weeks(start, 13),
        "page": paginate(request, selectors.promotion_list(line_id=line_id), per_page=20),
    }
    return render_page(request, "demand/promotion_calendar.html", context, partial="calendar")


@permission_required("demand.view_promotion")
def promotion_list_xlsx(request):
    """Every promotion (of one product line with ?line=), as the page lists them, .xlsx."""
    line_id = request.GET.get("line")
    line_id = int(line_id) if line_id and line_id.isdigit() else None
    promotions = selectors.promotion_list(line_id=line_id)
    line = ProductLine.objects.filter(pk=line_id).first() if line_id else None
    filename = download_name("promotions", line.name if line else "", str(timezone.localdate()))
    return xlsx_response(filename, [promotions_sheet(promotions)])


def _skus():
    return (
        Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .order_by("sku")
        .values_list("sku", "name")
    )


def _item_initial(promotion: Promotion | None) -> list[dict]:
    if promotion is None:
        return []
    return [
        {"product": item.product.sku, "expected_lift_pct": item.expected_lift_pct}
        for item in promotion.items.all()
    ]


def _count(value) -> int:
    """A row count from the request; anything but a whole number (a tampered form)
    counts as 0."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _form_page(request, promotion: Promotion | None):
    rows = max(4, min(60, _count(request.POST.get("rows") or request.GET.get("rows"))))
    initial_items = _item_initial(promotion)
    if request.method == "POST":
        form = forms.PromotionForm(request.POST, editing=promotion is not None)
        items = forms.PromotionItemFormSet(request.POST, prefix="items")
    else:
        initial = {}
        if promotion is not None:
            initial = {
                "name": promotion.name,
                "channel": promotion.channel,
                "discount_pct": promotion.discount_pct,
                "start_week": promotion.start_week,
                "end_week": promotion.end_week,
                "notes": promotion.notes,
                "version": promotion.version,
            }
        elif request.GET.get("product"):
            initial_items = [{"product": request.GET["product"].upper()}]
        form = forms.PromotionForm(initial=initial, editing=promotion is not None)
        items = forms.PromotionItemFormSet(prefix="items", initial=initial_items)
        items.extra = max(0, max(rows, len(initial_items) + 2) - len(initial_items))
    wants_more = request.POST.get("submit") == "more"
    if request.method == "POST" and not wants_more and form.is_valid() and items.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        status = request.POST.get("submit") or Promotion.Status.DRAFT
        try:
            if promotion is None:
                if status not in services.STARTING_STATUSES:
                    status = Promotion.Status.DRAFT
                saved = services.promotion_create(
                    actor=request.user, status=status, items=items.items(), **data
                )
            else:
                saved = services.promotion_update(
                    actor=request.user,
                    promotion_id=promotion.pk,
                    expected_version=form.cleaned_data["version"],
                    items=items.items(),
                    **data,
                )
        except ValidationError as exc:
            if "version" in getattr(exc, "error_dict", {}):
                # The service refuses an edit without the version the user saw (a stale
                # edit would go unnoticed); the page says what to do about it.
                form.add_error(None, VERSION_MISSING)
            else:
                _item_errors(items, exc)
                apply_validation_error(form, _without_items(exc))
        except StaleEditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved “{saved.name}” ({saved.get_status_display()}).")
            for warning in promotion_warnings(saved):
                messages.warning(request, warning)
            return redirect("promotion_detail", pk=saved.pk)
    if wants_more:
        # Re-render with four more empty rows, keeping everything typed so far.
        items = forms.PromotionItemFormSet(_with_more_rows(request.POST, 4), prefix="items")
        items.is_valid()
    context = {
        "section": "promotions",
        "form": form,
        "items": items,
        "promotion": promotion,
        "skus": _skus(),
        "can_confirm": request.user.has_perm("demand.confirm_promotion"),
    }
    return render_page(request, "demand/promotion_form.html", context)


def _with_more_rows(data, extra: int):
    data = data.copy()
    total = _count(data.get("items-TOTAL_FORMS"))
    data["items-TOTAL_FORMS"] = str(min(60, total + extra))
    return data


def _item_errors(items, exc: ValidationError) -> None:
    """Put `items.<n>.<field>` errors from the service on the formset's rows."""
    if not hasattr(exc, "error_dict"):
        return
    filled = [f for f in items.forms if f.cleaned_data.get("product")]
    for key, errors in exc.message_dict.items():
        if not key.startswith("items."):
            continue
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            for message in errors:
                filled[int(parts[1])].add_error(parts[2], message)


def _without_items(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    rest = {k: v for k, v in exc.message_dict.items() if not k.startswith("items.")}
    if "items" in rest:
        rest["__all__"] = rest.pop("items")
    return ValidationError(rest) if rest else ValidationError([])


@permission_required("demand.add_promotion")
def promotion_create(request):
    return _form_page(request, None)


@permission_required("demand.change_promotion")
def promotion_edit(request, pk):
    promotion = _promotion_or_404(pk)
    return _form_page(request, promotion)


def _promotion_or_404(pk) -> Promotion:
    try:
        return selectors.promotion_detail(pk)
    except Promotion.DoesNotExist:
        raise Http404("No such promotion.") from None


STATUS_ACTIONS = [
    (Promotion.Status.PLANNED, "Plan it", "Production plans for it; not yet committed."),
    (Promotion.Status.CONFIRMED, "Confirm", "Committed with the retailer."),
    (Promotion.Status.CANCELLED, "Cancel", "Production stops building for it."),
    (Promotion.Status.DRAFT, "Back to draft", "Production no longer plans for it."),
]


@permission_required("demand.view_promotion")
def promotion_detail(request, pk):
    promotion = _promotion_or_404(pk)
    allowed = services.TRANSITIONS.get(promotion.status, set())
    context = {
        "section": "promotions",
        "promotion": promotion,
        "items": list(promotion.items.all()),
        "recompute": latest_request_about(promotion),
        "status_actions": [a for a in STATUS_ACTIONS if a[0] in allowed],
        "warnings": promotion_warnings(promotion),
        "events": timeline_for(promotion),
        "timeline_target": promotion,
        "ended": promotion.end_week < current_week(),
        "notices": notices_for([promotion, *(item.product for item in promotion.items.all())]),
    }
    return render_page(request, "demand/promotion_detail.html", context)


@permission_required("demand.view_promotion")
def promotion_progress(request, pk):
    """The recompute's state, polled by the promotion page until it is finished."""
    promotion = _promotion_or_404(pk)
    context = {"promotion": promotion, "recompute": latest_request_about(promotion)}
    return render(request, "demand/promotion_detail.html#progress", context)


@require_POST
@permission_required("demand.confirm_promotion")
def promotion_status(request, pk):
    promotion = _promotion_or_404(pk)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return redirect("promotion_detail", pk=pk)
    try:
        services.promotion_set_status(
            actor=request.user,
            promotion_id=promotion.pk,
            expected_version=form.cleaned_data["version"],
            status=form.cleaned_data["status"],
        )
    except (ValidationError, StaleEditError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        promotion.refresh_from_db()
        messages.success(request, f"“{promotion.name}” is now {promotion.get_status_display()}.")
    return redirect(reverse("promotion_detail", args=[pk]))


@permission_required("demand.view_promotion")
def lift_suggestion(request):
    """The suggested lift for one product at a discount (htmx, on the promotion form)."""
    sku = (request.GET.get("sku") or "").strip().upper()
    product = Product.objects.select_related("product_line").filter(sku=sku).first()
    suggestion = None
    if product is not None:
        try:
            discount = float(request.GET.get("discount") or 0)
        except ValueError:
            discount = 0.0
        if not math.isfinite(discount):
            discount = 0.0  # "nan" and "inf" parse as floats but weigh no promotion sanely
        exclude = request.GET.get("promotion")
        suggestion = suggest_lift(
            product=product,
            discount_pct=discount,
            exclude_promotion=int(exclude) if exclude and exclude.isdigit() else None,
        )
    context = {"suggestion": suggestion, "sku": sku, "product": product}
    return render(request, "demand/promotion_form.html#suggestion", context)
