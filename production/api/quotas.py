"""REST: quota recommendations, and accepting or overriding them.

GET  /api/v1/quota-recommendations/?line=<id or name>&product=<sku>&from=2026-W48&to=2027-W10
POST /api/v1/quota-recommendations/accept/        {"product", "week", "seen_run_id",
                                                   "seen_entry_id"}
POST /api/v1/quota-recommendations/override/      {"product", "week", "units", "reason",
                                                   "seen_run_id", "seen_entry_id"}
POST /api/v1/quota-recommendations/accept-range/  {"line", "from", "to",
                                                   "seen_schedule_version"}

A decision carries what the person saw, so none silently replaces another:
`seen_run_id` is the recommendation's `run` (409 if a recompute replaced it) and
`seen_entry_id` its `accepted_entry`, the accepted schedule entry the decision replaces
(null: none yet; 409 if someone accepted or overrode the cell since). A range accept
carries `seen_schedule_version`, the schedule version it was decided on (409 if a cell
it would change was accepted or overridden after it). Each 409 names who changed what,
to what and when. Accept and override answer 201 with the new schedule entry;
accept-range 201 with the revision and the number of entries, or 200 with
{"revision": null, "entries": 0} when every cell already had its recommendation accepted.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api_support import idempotent
from production import serializers
from production.selectors import schedule as selectors
from production.services import schedule as services

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
        request=serializers.QuotaAcceptSerializer,
        responses={201: serializers.ScheduleEntrySerializer},
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
        )
        return self._entry_response(entry)

    @extend_schema(
        request=serializers.QuotaOverrideSerializer,
        responses={201: serializers.ScheduleEntrySerializer},
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
        )
        return self._entry_response(entry)

    @extend_schema(
        request=serializers.QuotaAcceptRangeSerializer,
        responses={
            201: serializers.AcceptRangeResultSerializer,
            200: serializers.AcceptRangeResultSerializer,
        },
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
        )
        if revision is None:
            return Response({"revision": None, "entries": 0}, status=status.HTTP_200_OK)
        return Response(
            {"revision": revision.pk, "entries": revision.entries.count()},
            status=status.HTTP_201_CREATED,
        )


router = SimpleRouter()
router.register(
    "quota-recommendations", QuotaRecommendationViewSet, basename="quota-recommendation"
)
urlpatterns = router.urls
