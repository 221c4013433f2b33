"""REST: ask the plan for a promise before committing to an order (capable-to-promise).

POST /api/v1/promises/   {"product": "BEV-1001", "quantity": 800, "week": "2027-W10"}
                         or {"product": "BEV-1001", "per_week": {"2027-W10": 400, ...}}

Answers 200 with how much the line can deliver by the week, whether all of it, the
earliest week for all of it, which weeks' production it uses and what forecast demand it
displaces (production.selectors.promise). It writes nothing, so it is neither a create
nor idempotent in the `Idempotency-Key` sense: asking twice on the same plan answers the
same. Bad input is a 400 with the shared error body at the field at fault.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from production import serializers
from production.selectors.promise import promise_answer

PROMISE_PERMISSION = "production.ask_promise"

_EXAMPLE_ANSWER = {
    "product": "BEV-1001",
    "line": "Canning 2",
    "plan_run": 412,
    "quantity": 8000.0,
    "week": "2027-W10",
    "requested": [{"week": "2027-W10", "units": 8000.0}],
    "available": 5200.0,
    "full": False,
    "earliest_week": "2027-W12",
    "reason": "",
    "delivers": [{"week": "2027-W12", "units": 8000.0}],
    "uses": [{"week": "2027-W09", "units": 3100.0}, {"week": "2027-W10", "units": 2900.0}],
    "displaces": [{"product": "BEV-1004", "week": "2027-W10", "units": 640.0}],
}


class PromiseView(APIView):
    # A question, not a write: API clients need `promises:read` for it although it is
    # a POST (the body carries the order asked about).
    required_scopes = {"read": "promises:read", "write": "promises:read"}
    required_permissions = {"post": [PROMISE_PERMISSION]}

    @extend_schema(
        operation_id="promises_ask",
        summary="Ask how much of an order the plan can deliver, and when",
        description="Answers from the line's current plan (its latest recompute): "
        "`available`, the units deliverable by the week (or by each week of `per_week`) "
        "without breaking any firm order or the frozen window; `full`; `earliest_week`, "
        "the earliest week for the whole quantity, or null with `reason` when it is not "
        "within the plan's horizon; `uses`, the weeks whose production of the product "
        "grows; `displaces`, the forecast demand of other products (or of this one) that "
        "becomes short, in units waiting at the end of each week. Writes nothing: ask "
        "before you commit, then log the order. A week in the past or in the line's "
        "frozen window, a quantity that is not more than 0, an unknown, discontinued or "
        "held product (the hold is named) are a 400 at that field.",
        request=serializers.PromiseRequestSerializer,
        responses={200: serializers.PromiseSerializer},
        examples=[
            OpenApiExample(
                "One quantity by one week",
                value={"product": "BEV-1001", "quantity": 8000, "week": "2027-W10"},
                request_only=True,
            ),
            OpenApiExample(
                "A quantity per week",
                value={"product": "BEV-1001", "per_week": {"2027-W10": 4000, "2027-W12": 4000}},
                request_only=True,
            ),
            OpenApiExample(
                "Part by the week, all two weeks later",
                value=_EXAMPLE_ANSWER,
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "A held product",
                value={
                    "error": {
                        "code": "invalid",
                        "message": "Some fields are not valid; see fields.",
                        "fields": {
                            "product": ["BEV-1001 cannot be promised: on hold (Recall R-2027-003)."]
                        },
                    }
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request):
        body = serializers.PromiseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        answer = promise_answer(
            sku=data["product"],
            quantity=data.get("quantity"),
            week=data.get("week"),
            per_week=data.get("per_week"),
        )
        return Response(serializers.PromiseSerializer(answer).data)
