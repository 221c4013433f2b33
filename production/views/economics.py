"""A promotion's economics with production's consequences: shown on marketing's promotion
page (loaded there by htmx, like production's answer) and as a page of its own."""

from __future__ import annotations

from django.http import Http404

from coordination.permissions import permission_required
from coordination.web import render_page
from demand.models import Promotion
from production.selectors.economics import promotion_money


@permission_required("demand.view_promotion")
def promotion_economics(request, pk):
    promotion = Promotion.objects.filter(pk=pk).first()
    if promotion is None:
        raise Http404("No such promotion.")
    return render_page(
        request,
        "production/promotion_economics.html",
        promotion_money(promotion),
        partial="economics",
    )
