"""Product pages: list, detail, edit, specification proposals and Production's review."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from coordination import forms
from coordination.errors import StaleEditError
from coordination.models import Product, Specification
from coordination.permissions import permission_required
from coordination.selectors import activity as activity_selectors
from coordination.selectors import products as product_selectors
from coordination.selectors.notices import notices_for
from coordination.selectors.recompute import replan_progress
from coordination.services import products as product_services
from coordination.services import specifications as spec_services
from coordination.web import (
    apply_validation_error,
    paginate,
    querystring_without_page,
    render_page,
)


def _product_or_404(sku: str) -> Product:
    try:
        return product_selectors.product_by_sku(sku)
    except Product.DoesNotExist:
        raise Http404(f"No product with SKU {sku}.") from None


@permission_required("coordination.view_product")
def product_list(request):
    form = forms.ProductFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    products = product_selectors.product_list(
        search=filters.get("q", ""),
        line_id=filters["line"].pk if filters.get("line") else None,
        lifecycle=filters.get("lifecycle", ""),
        quality_tier=filters.get("tier", ""),
    )
    context = {
        "section": "products",
        "form": form,
        "page": paginate(request, products),
        "querystring": querystring_without_page(request),
    }
    return render_page(request, "coordination/product_list.html", context, partial="results")


@permission_required("coordination.view_product")
def product_detail(request, sku):
    product = _product_or_404(sku)
    current = product_selectors.current_specification(product)
    history = list(product_selectors.specification_history(product))
    context = {
        "section": "products",
        "product": product,
        "current": current,
        "history": history,
        "prices": list(product_selectors.price_history(product)[:20]),
        "pending": [s for s in history if s.status == Specification.Status.PROPOSED],
        "drafts": [s for s in history if s.status == Specification.Status.DRAFT],
        "requests": product.customer_requests.select_related("created_by").order_by("-created_at")[
            :10
        ],
        "events": activity_selectors.timeline_for(product),
        "timeline_target": product,
        "notices": notices_for([product]),
        **replan_progress(product),
    }
    return render_page(request, "coordination/product_detail.html", context)


@permission_required("coordination.view_product")
def product_progress(request, sku):
    """The re-plan a change of the product asked for, polled by its page until done."""
    product = _product_or_404(sku)
    context = {"product": product, **replan_progress(product)}
    return render(request, "coordination/product_detail.html#progress", context)


def _save_product(request, form, product=None):
    fields = {name: form.cleaned_data[name] for name in product_services.EDITABLE_FIELDS}
    if product is None:
        return product_services.product_create(
            actor=request.user, sku=form.cleaned_data["sku"], **fields
        )
    return product_services.product_update(
        actor=request.user,
        product_id=product.pk,
        expected_version=form.cleaned_data["version"],
        **fields,
    )


@permission_required("coordination.add_product")
def product_create(request):
    return _product_form(request, None)


@permission_required("coordination.change_product")
def product_edit(request, sku):
    return _product_form(request, _product_or_404(sku))


def _product_form(request, product):
    form = forms.ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_product(request, form, product)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {saved.sku}.")
            return redirect("product_detail", sku=saved.sku)
    context = {"section": "products", "form": form, "product": product}
    return render_page(request, "coordination/product_form.html", context)


# ------------------------------------------------------------------ specifications


@permission_required("coordination.propose_specification")
def specification_new(request, sku):
    product = _product_or_404(sku)
    current = product_selectors.current_specification(product)
    initial = forms.spec_initial(current)
    form = forms.SpecificationForm(request.POST or None, product=product, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            spec = spec_services.specification_create(
                actor=request.user,
                product_id=product.pk,
                propose=request.POST.get("submit") == "propose",
                cited_request_ids=form.cleaned_data["cited_requests"],
                **{k: v for k, v in form.cleaned_data.items() if k != "cited_requests"},
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            verb = "Proposed" if spec.status == Specification.Status.PROPOSED else "Saved draft"
            messages.success(request, f"{verb} v{spec.number} of {product.sku}.")
            return redirect("specification_detail", sku=product.sku, number=spec.number)
    context = {"section": "products", "product": product, "form": form, "current": current}
    return render_page(request, "coordination/specification_form.html", context)


@permission_required("coordination.propose_specification")
def specification_edit(request, sku, number):
    product = _product_or_404(sku)
    spec = _spec_or_404(product, number)
    if spec.status != Specification.Status.DRAFT:
        messages.error(request, f"v{spec.number} is {spec.status}: only drafts can be edited.")
        return redirect("specification_detail", sku=sku, number=number)
    initial = {
        **spec.as_dict(),
        "effective_from": spec.effective_from,
        "rationale": spec.rationale,
        "cited_requests": list(spec.cited_requests.all()),
    }
    form = forms.SpecificationForm(
        request.POST or None, product=product, spec=spec, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        cited = data.pop("cited_requests")
        version = data.pop("version")
        try:
            spec_services.specification_update(
                actor=request.user,
                spec_id=spec.pk,
                expected_version=version,
                cited_request_ids=cited,
                **data,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except StaleEditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved draft v{spec.number}.")
            return redirect("specification_detail", sku=sku, number=number)
    context = {"section": "products", "product": product, "form": form, "spec": spec}
    return render_page(request, "coordination/specification_form.html", context)


def _spec_or_404(product, number) -> Specification:
    try:
        return product_selectors.specification_detail(product, number)
    except Specification.DoesNotExist:
        raise Http404(f"{product.sku} has no specification v{number}.") from None


@permission_required("coordination.view_specification")
def specification_detail(request, sku, number, review_form=None, status=200):
    product = _product_or_404(sku)
    spec = _spec_or_404(product, number)
    current = product_selectors.current_specification(product)
    compare_to = current if current and current.pk != spec.pk else None
    context = {
        "section": "products",
        "product": product,
        "spec": spec,
        "current": current,
        "diff": product_selectors.specification_diff(compare_to, spec),
        "compare_to": compare_to,
        "review_form": review_form
        or forms.SpecificationReviewForm(
            initial={"version": spec.version, "effective_from": spec.effective_from}
        ),
        "events": activity_selectors.timeline_for(spec),
        "timeline_target": spec,
    }
    return render_page(request, "coordination/specification_detail.html", context, status=status)


SPEC_ACTIONS = {
    "propose": (spec_services.specification_propose, "Proposed"),
    "withdraw": (spec_services.specification_withdraw, "Withdrew"),
    "approve": (spec_services.specification_approve, "Approved"),
    "reject": (spec_services.specification_reject, "Rejected"),
}


@require_POST
@permission_required("coordination.view_specification")
def specification_action(request, sku, number, action):
    if action not in SPEC_ACTIONS:
        raise Http404("Unknown action.")
    product = _product_or_404(sku)
    spec = _spec_or_404(product, number)
    review_form = None
    kwargs = {"actor": request.user, "spec_id": spec.pk}
    if action in ("approve", "reject"):
        review_form = forms.SpecificationReviewForm(request.POST)
        if not review_form.is_valid():
            return specification_detail(request, sku, number, review_form=review_form)
        kwargs.update(
            expected_version=review_form.cleaned_data["version"],
            feasibility_note=review_form.cleaned_data["feasibility_note"],
            unit_cost_impact=review_form.cleaned_data["unit_cost_impact"],
        )
        if action == "approve":
            kwargs["effective_from"] = review_form.cleaned_data["effective_from"]
    else:
        form = forms.VersionedForm(request.POST)
        if not form.is_valid():
            messages.error(request, form.HIDDEN_FIELD_ERROR)
            return redirect("specification_detail", sku=sku, number=number)
        kwargs["expected_version"] = form.cleaned_data["version"]
    service, done = SPEC_ACTIONS[action]
    try:
        service(**kwargs)
    except (ValidationError, StaleEditError) as exc:
        if review_form is not None and isinstance(exc, ValidationError):
            apply_validation_error(review_form, exc)
            return specification_detail(request, sku, number, review_form=review_form)
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("specification_detail", sku=sku, number=number)
    messages.success(request, f"{done} v{spec.number} of {product.sku}.")
    return redirect("specification_detail", sku=sku, number=number)


@permission_required("coordination.review_specification")
def review_queue(request):
    context = {"section": "review", "proposals": product_selectors.review_queue()}
    return render_page(request, "coordination/review_queue.html", context)
