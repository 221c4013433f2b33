"""A product's launch plan (like products, launch volume, ramp-up) and its successor."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from coordination.errors import StaleEditError
from coordination.permissions import permission_required
from coordination.web import apply_validation_error, render_page
from coordination.weeks import current_week, iso_label
from demand import forms
from demand.engine.launch import BLEND_WEEKS
from demand.selectors import launches as selectors
from demand.services import launches as services
from demand.views.forecasts import _product_or_404

# The forms of the page, named by the `part` each posts.
PARTS = ("launch", "launch_remove", "succession", "succession_remove")


def _initial(data: dict, suggestions) -> dict:
    plan, succession = data["plan"], data["succession"]
    if plan is None:
        launch = {
            "version": 0,
            "launch_week": current_week(),
            "ramp_weeks": 8,
            "likes": [f"{s.product.sku} 1" for s in suggestions[:2]],
        }
    else:
        launch = {
            "version": plan.version,
            "launch_week": plan.launch_week,
            "launch_volume": plan.launch_volume,
            "ramp_weeks": plan.ramp_weeks,
            "ramp_shape": plan.ramp_shape,
            "likes": [f"{like.like.sku} {like.weight.normalize()}" for like in data["likes"]],
        }
    return {
        "launch": launch,
        "succession": {
            "version": succession.version if succession else 0,
            "successor": succession.successor.sku if succession else "",
            "switch_week": succession.switch_week if succession else None,
        },
    }


@permission_required("demand.view_demandforecast")
def product_launch(request, sku, bound=None, status=200):
    product = _product_or_404(sku)
    data = selectors.launch_page(product)
    suggestions = selectors.suggested_likes(product)
    initial = _initial(data, suggestions)
    bound = bound or {}
    context = {
        "section": "forecasts",
        "product": product,
        "data": data,
        "suggestions": suggestions,
        "can_edit": request.user.has_perm(services.PERMISSION),
        "launch_form": bound.get("launch") or forms.LaunchPlanForm(initial=initial["launch"]),
        "succession_form": bound.get("succession")
        or forms.SuccessionForm(initial=initial["succession"]),
        "chain": selectors.successor_chain(product),
        "blend_weeks": BLEND_WEEKS,
    }
    return render_page(request, "demand/product_launch.html", context, status=status)


def _save(request, product, part: str, form):
    data = form.cleaned_data
    if part == "launch":
        services.launch_plan_set(
            actor=request.user,
            product=product,
            launch_week=data["launch_week"],
            launch_volume=data["launch_volume"],
            ramp_weeks=data["ramp_weeks"],
            ramp_shape=data["ramp_shape"],
            likes=data["likes"],
            expected_version=data["version"],
        )
        return f"Launch plan of {product.sku} saved."
    if part == "succession":
        services.succession_set(
            actor=request.user,
            product=product,
            successor_sku=data["successor"],
            switch_week=data["switch_week"],
            expected_version=data["version"],
        )
        return (
            f"From {iso_label(data['switch_week'])} the demand of {product.sku} moves to "
            f"{data['successor']}."
        )
    remove = services.launch_plan_remove if part == "launch_remove" else services.succession_remove
    remove(actor=request.user, product=product, expected_version=data["version"])
    return "Launch plan removed." if part == "launch_remove" else "Succession removed."


@permission_required("demand.view_demandforecast", services.PERMISSION)
def product_launch_save(request, sku):
    product = _product_or_404(sku)
    if request.method != "POST":
        return redirect("product_launch", sku=sku)
    part = request.POST.get("part", "")
    if part not in PARTS:
        messages.error(request, "The form did not say what to change. Reload the page.")
        return redirect("product_launch", sku=sku)
    form_class = {
        "launch": forms.LaunchPlanForm,
        "succession": forms.SuccessionForm,
    }.get(part, forms.RemoveForm)
    form = form_class(request.POST)
    status = 200
    if form.is_valid():
        try:
            message = _save(request, product, part, form)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(
                request, f"{message} The forecast and production plan are being recomputed."
            )
            return redirect("product_launch", sku=sku)
    if form_class is forms.RemoveForm:
        messages.error(request, form.refusal_message(" ".join(_errors(form))))
        return redirect("product_launch", sku=sku)
    return product_launch(request, sku, bound={part: form}, status=status)


def _errors(form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]
