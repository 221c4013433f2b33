"""REST: a promotion's economics, production's consequences included.

GET /api/v1/promotions/{id}/economics/

Computed from the live data on every call (production.selectors.economics): the line is
planned with and without the promotion, nothing is written. Scope promotions:read.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from demand.models import Promotion
from production import serializers
from production.selectors.economics import promotion_money

_EXAMPLE = {
    "promotion": 42,
    "name": "Summer cola week",
    "status": "planned",
    "channel": "retail",
    "discount_pct": "25.0",
    "currency": "EUR",
    "priced_week": "2027-W24",
    "incremental_units": "6000.0",
    "incremental_revenue": "6750.00",
    "incremental_margin": "-1200.00",
    "net": "-4321.15",
    "pays": False,
    "break_even_lift_pct": "148.2",
    "break_even": "pays from +148.2 % lift (the same lift on every product, with "
    "production's costs as at the expected lift)",
    "no_price": [],
    "terms": [
        {
            "key": "extra_units_margin",
            "label": "Margin on the extra units",
            "amount": "2250.00",
            "explanation": "Each extra unit sells at the promotion price less its unit cost. "
            "BEV-1001: 6,000 extra units × (1.13 EUR − 0.75 EUR) = 2,250.00 EUR",
        },
        {
            "key": "discount_given_away",
            "label": "Discount given away on baseline units",
            "amount": "-3450.00",
            "explanation": "The 25.0 % discount also goes to the units that would have sold "
            "anyway. BEV-1001: 9,200 baseline units × 1.50 EUR × 25.0 % = −3,450.00 EUR",
        },
    ],
    "lines": ["Canning 2"],
    "weeks_not_counted": "",
}


class PromotionEconomicsView(APIView):
    required_scopes = {"read": "promotions:read"}
    required_permissions = {"get": ["demand.view_promotion"]}

    @extend_schema(
        operation_id="promotions_economics",
        summary="What a promotion earns and costs, production's consequences included",
        description="Extra units and revenue, the discount given away on baseline units, "
        "the incremental margin, the holding cost of the pre-build production needs, the "
        "margin lost on other products the line leaves short, the post-promotion dip where "
        "history shows one, the net result and the break-even lift. Each term explains "
        "itself. Amounts are in `currency`, to the cent (half-even); a cost is negative. "
        "A product without a list price is named in `no_price` and the totals are null. "
        "Before and after confirming alike; nothing is written.",
        responses={
            200: serializers.PromotionEconomicsSerializer,
            404: OpenApiResponse(description="No such promotion."),
        },
        examples=[
            OpenApiExample(
                "Looks good in units, loses money",
                value=_EXAMPLE,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request, pk: int):
        promotion = Promotion.objects.filter(pk=pk).first()
        if promotion is None:
            raise Http404("No such promotion.")
        return Response(serializers.PromotionEconomicsSerializer(promotion_money(promotion)).data)
