"""REST: recompute runs and the requests that cause them, newest first.

GET /api/v1/recompute-runs/           GET /api/v1/recompute-runs/{id}/
GET /api/v1/recompute-requests/       GET /api/v1/recompute-requests/{id}/

Marketing's page polls a request (status pending -> running -> done/failed) to show
progress, then follows its run ids to the counts and timings.
"""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.routers import SimpleRouter

from coordination.models import RecomputeRequest
from production import serializers
from production.models import RecomputeRun


class RecomputeRunViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = {"read": "quotas:read"}
    required_permissions = {
        "list": ["production.view_recomputerun"],
        "retrieve": ["production.view_recomputerun"],
    }
    serializer_class = serializers.RecomputeRunSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            RecomputeRun.objects.select_related("line")
            .prefetch_related("requests")
            .order_by("-started_at", "-id")
        )


class RecomputeRequestViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = {"read": "quotas:read"}
    required_permissions = {
        "list": ["coordination.view_recomputerequest"],
        "retrieve": ["coordination.view_recomputerequest"],
    }
    serializer_class = serializers.RecomputeRequestSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return RecomputeRequest.objects.prefetch_related("runs").order_by("-created_at", "-id")


router = SimpleRouter()
router.register("recompute-runs", RecomputeRunViewSet, basename="recompute-run")
router.register("recompute-requests", RecomputeRequestViewSet, basename="recompute-request")
urlpatterns = router.urls
