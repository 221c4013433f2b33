"""REST: quota recommendations, and accepting or overriding them.

GET  /api/v1/quota-recommendations/?line=<id or name>&product=<sku>&from=2026-W48&to=2027-W10
POST /api/v1/quota-recommendations/accept/        {"product", "week", "seen_run_id",
                                                   "seen_entry_id", "allow_over_capacity"?,
                                                   "reason"?}
POST /api/v1/quota-recommendations/override/      {"product", "week", "units", "reason",
                                                   "seen_run_id", "seen_entry_id",
                                                   "allow_over_capacity"?}
POST /api/v1/quota-recommendations/accept-range/  {"line", "from", "to",
                                                   "seen_schedule_version",
                                                   "allow_over_capacity"?, "reason"?}

A decision carries what the person saw, so none silently replaces another:
`seen_run_id` is the recommendation's `run` (409 if a recompute replaced it) and
`seen_entry_id` its `accepted_entry`, the accepted schedule entry the decision replaces
(null: none yet; 409 if someone accepted or overrode the cell since). A range accept
carries `seen_schedule_version`, the schedule version it was decided on (409 if a cell
it would change was accepted or overridden after it). Each 409 names who changed what,
to what and when. Accept and override answer 201 with the new schedule entry;
accept-range 201 with the revision and the number of entries, or 200 with
{"revision": null, "entries": 0} when every cell already had its recommendation accepted.

Capacity. A decision that leaves a week of the line needing more hours than it has
(accepted units x hours per unit, against the week's capacity) is a 409 `over_capacity`
whose error lists the `weeks` with their hours over, and nothing is written, unless the
body says `"allow_over_capacity": true` with a non-empty `reason`: then it is written and
the entries of those weeks record the hours over and the reason. A quota the line could
not make in a year (units x hours per unit > 52 x its weekly hours) is a 400, allowed or
not.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api.support import idempotent
from coordination.weeks import iso_label
from production import serializers
from production.selectors import schedule as selectors
from production.services import schedule as services

_CAPACITY = (
    "\n\nIf the decision leaves a week of the line over capacity, the answer is 409 "
    "`over_capacity` with the `weeks` and their hours over, and nothing is written; send "
    '`"allow_over_capacity": true` with a `reason` to plan it anyway (recorded on the '
    "entries and the line's timeline). A quota more than the line could make in a year "
    "is a 400 even then."
)

_DECISION = (
    "Send what you showed your user: `seen_run_id`, the recommendation's `run` (a "
    "recompute replacing it is a 409), and `seen_entry_id`, its `accepted_entry`, the "
    "accepted schedule entry this decision replaces (null when none was accepted yet; "
    "someone accepting or overriding the cell since is a 409). Both are required: no "
    "decision silently replaces another. After a 409, show the new state and let your "
    "user decide again. Safe to retry with an `Idempotency-Key`."
)
_STALE_EXAMPLE = OpenApiExample(
    "Someone decided first",
    value={
        "error": {
            "code": "stale_edit",
            "message": "Petra overrode BEV-1001 in 2026-W49 to 222 units at 10:41 since you "
            "loaded it. Review that quota, then decide again.",
            "fields": {},
        }
    },
    response_only=True,
    status_codes=["409"],
)
_OVER_CAPACITY_EXAMPLE = OpenApiExample(
    "Over capacity",
    value={
        "error": {
            "code": "over_capacity",
            "message": "This leaves Bottling 1 over capacity in 1 week: 2026-W50: 132.5 h of "
            "120.0 h, 12.5 h over. Change the quota, or confirm it with a reason to plan it "
            "over capacity.",
            "fields": {},
            "weeks": [
                {
                    "line": "Bottling 1",
                    "week": "2026-W50",
                    "week_start": "2026-12-07",
                    "accepted_hours": 132.5,
                    "capacity_hours": 120.0,
                    "over_capacity_hours": 12.5,
                }
            ],
        }
    },
    response_only=True,
    status_codes=["409"],
)
_RESPONSES_409 = {409: serializers.OverCapacityErrorSerializer}

WEEK_RANGE_PARAMETERS = [
    OpenApiParameter("line", str, description="A line id or name."),
    OpenApiParameter("product", str, description="A SKU."),
    OpenApiParameter("from", str, description="First week, e.g. 2026-W48 or 2026-11-23."),
    OpenApiParameter("to", str, description="Last week (inclusive)."),
]


class QuotaRecommendationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Recommendations by line name, product SKU and week, with the accepted units and a
    one-sentence explanation of each."""

    required_scopes = {"read": "quotas:read", "write": "quotas:write"}
    required_permissions = {
        "list": ["production.view_quotarecommendation"],
        "accept": [services.PLAN_PERMISSION],
        "override": [services.PLAN_PERMISSION],
        "accept_range": [services.PLAN_PERMISSION],
    }
    serializer_class = serializers.QuotaRecommendationSerializer
    filter_backends: list = []

    def get_queryset(self):
        query = serializers.WeekRangeQuerySerializer(query_params=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.quota_recommendations(**query.selector_filters())

    @extend_schema(parameters=WEEK_RANGE_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _entry_response(self, entry) -> Response:
        # The entry the service wrote, not a re-read: a later accept may already exist.
        return Response(
            serializers.ScheduleEntrySerializer(entry).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Accept one cell's recommendation into the schedule",
        description=_DECISION
        + "\n\nA 409 says who changed the cell, to what and when; nothing is written."
        + _CAPACITY,
        request=serializers.QuotaAcceptSerializer,
        responses={201: serializers.ScheduleEntrySerializer, **_RESPONSES_409},
        examples=[_STALE_EXAMPLE, _OVER_CAPACITY_EXAMPLE],
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def accept(self, request):
        body = serializers.QuotaAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = services.quota_accept(
            actor=request.user,
            product_id=data["product"].pk,
            week=data["week"],
            seen_run_id=data["seen_run_id"],
            seen_entry_id=data["seen_entry_id"],
            **_capacity_decision(data),
        )
        return self._entry_response(entry)

    @extend_schema(
        summary="Set one cell to other units than recommended, with a reason",
        description=_DECISION
        + "\n\nA 409 says who changed the cell, to what and when; nothing is written."
        + _CAPACITY,
        request=serializers.QuotaOverrideSerializer,
        responses={201: serializers.ScheduleEntrySerializer, **_RESPONSES_409},
        examples=[
            OpenApiExample(
                "An override over what the user saw",
                summary="POST with Idempotency-Key: 0f8e6a3c-5d41-4c2b-9d7e-2b1f7c9e4a10",
                value={
                    "product": "BEV-1001",
                    "week": "2026-W49",
                    "units": 900,
                    "reason": "Tank cleaning on Thursday",
                    "seen_run_id": 41,
                    "seen_entry_id": 8890,
                },
                request_only=True,
            ),
            _STALE_EXAMPLE,
            _OVER_CAPACITY_EXAMPLE,
        ],
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def override(self, request):
        body = serializers.QuotaOverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = services.quota_override(
            actor=request.user,
            product_id=data["product"].pk,
            week=data["week"],
            units=data["units"],
            reason=data["reason"],
            seen_run_id=data["seen_run_id"],
            seen_entry_id=data["seen_entry_id"],
            **_capacity_decision(data),
        )
        return self._entry_response(entry)

    @extend_schema(
        summary="Accept every recommendation of a line in a range of weeks",
        description="One schedule revision for every cell of the line in the weeks whose "
        "accepted quota differs from its recommendation (200 with no revision when none "
        "does). Send `seen_schedule_version`, the schedule version you decided on "
        "(`X-Schedule-Version` of `GET /api/v1/schedules/`): if a cell this would change "
        "was accepted or overridden after it, the answer is 409 naming who changed what, "
        "and nothing is accepted. Safe to retry with an `Idempotency-Key`." + _CAPACITY,
        request=serializers.QuotaAcceptRangeSerializer,
        responses={
            201: serializers.AcceptRangeResultSerializer,
            200: serializers.AcceptRangeResultSerializer,
            **_RESPONSES_409,
        },
        examples=[_OVER_CAPACITY_EXAMPLE],
    )
    @action(detail=False, methods=["post"], url_path="accept-range")
    @idempotent
    def accept_range(self, request):
        body = serializers.QuotaAcceptRangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        revision = services.quotas_accept_range(
            actor=request.user,
            line_id=data["line"].pk,
            week_from=data["from"],
            week_to=data["to"],
            seen_schedule_version=data["seen_schedule_version"],
            **_capacity_decision(data),
        )
        kept = [
            {
                "product": e.product.sku,
                "week": iso_label(e.week),
                "units": e.units,
                "reason": e.reason,
                "entry": e.pk,
            }
            for e in selectors.kept_overrides(
                line_id=data["line"].pk, week_from=data["from"], week_to=data["to"]
            )
        ]
        if revision is None:
            return Response(
                {"revision": None, "entries": 0, "kept_overrides": kept}, status=status.HTTP_200_OK
            )
        return Response(
            {"revision": revision.pk, "entries": revision.entries.count(), "kept_overrides": kept},
            status=status.HTTP_201_CREATED,
        )


def _capacity_decision(data: dict) -> dict:
    return {
        "allow_over_capacity": data["allow_over_capacity"],
        "over_capacity_reason": data["reason"],
    }


router = SimpleRouter()
router.register(
    "quota-recommendations", QuotaRecommendationViewSet, basename="quota-recommendation"
)
urlpatterns = router.urls
