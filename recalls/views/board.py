"""The incident board and the form that opens a recall (also from a customer request)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from coordination.models import CustomerRequest
from coordination.permissions import permission_required
from coordination.selectors import customer_requests as request_selectors
from coordination.web import apply_validation_error, render_page
from recalls import forms, selectors
from recalls.services import incidents as services
from recalls.views.common import MANAGE, VIEW


@permission_required(VIEW)
def board(request):
    form = forms.BoardFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status", "")
    data = selectors.board(status=status, classification=filters.get("classification", ""))
    columns = [c for c in data["columns"] if not status or c["status"] == status]
    context = {
        "section": "recalls",
        "form": form,
        "columns": columns,
        "total": data["total"],
        "filtered": bool(status or filters.get("classification")),
        "can_open": request.user.has_perm(MANAGE),
    }
    return render_page(request, "recalls/board.html", context, partial="board")


def _escalated_request(request) -> CustomerRequest | None:
    """The quality issue named by ?request=, if the user may see it."""
    raw = request.GET.get("request", "")
    if not raw:
        return None
    found = None
    if raw.isdigit():
        found = (
            request_selectors.visible_requests(request.user)
            .filter(pk=int(raw), kind=CustomerRequest.Kind.QUALITY_ISSUE)
            .first()
        )
    if found is None:
        messages.warning(
            request,
            f"Request {raw} is not a quality issue you can see; fill in the recall by hand.",
        )
    return found


def _prefill(source: CustomerRequest) -> dict:
    details = f"\n{source.details}" if source.details else ""
    return {
        "title": source.summary,
        "products": [source.product.sku] if source.product else [],
        "source": "customer",
        "source_requests": [source.pk],
        "description": f"Escalated from customer request #{source.pk} "
        f"({source.customer_name}): {source.summary}{details}",
    }


@permission_required(VIEW, MANAGE)
def recall_open(request):
    source = None
    if request.method == "POST":
        form = forms.RecallOpenForm(request.POST)
        if form.is_valid():
            try:
                incident = services.recall_open(actor=request.user, **form.service_kwargs())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                message = f"Opened {incident.code}."
                if incident.stop_ship:
                    message += " Stop-ship placed: production is held and promotions at risk."
                messages.success(request, message)
                return redirect("recall_detail", code=incident.code)
        source_ids = form.data.getlist("source_requests")
        source = (
            request_selectors.visible_requests(request.user)
            .filter(pk__in=[i for i in source_ids if i.isdigit()])
            .first()
        )
    else:
        source = _escalated_request(request)
        form = forms.RecallOpenForm(initial=_prefill(source) if source else None)
    context = {"section": "recalls", "form": form, "source": source}
    return render_page(request, "recalls/open.html", context)
