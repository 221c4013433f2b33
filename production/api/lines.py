"""REST: production lines and their capacity.

GET    /api/v1/lines/                      GET /api/v1/lines/{id}/
PATCH  /api/v1/lines/{id}/                 {"version", "weekly_capacity_hours"?,
                                            "frozen_window_weeks"?}
GET    /api/v1/lines/{id}/capacity-exceptions/
POST   /api/v1/lines/{id}/capacity-exceptions/   {"week", "hours", "note"}
DELETE /api/v1/lines/{id}/capacity-exceptions/{exception_id}/

PATCH needs the `version` the client read: 409 if someone changed the line since. Every
capacity change asks for a re-plan of the line's products (a RecomputeRequest, handed
to a worker after commit). POST sets the week's hours: 201 for a new exception, 200
when it replaces the one that week already had.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api.support import idempotent
from coordination.models import Line
from production import serializers
from production.models import CapacityException
from production.services import capacity as services


class LineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_scopes = {"read": "products:read"}
    required_permissions = {
        "list": ["coordination.view_line"],
        "retrieve": ["coordination.view_line"],
        "partial_update": ["coordination.change_line"],
        "capacity_exceptions": ["coordination.view_line", "production.view_capacityexception"],
        "capacity_exception_set": ["production.add_capacityexception"],
        "capacity_exception_delete": ["production.delete_capacityexception"],
    }
    serializer_class = serializers.LineSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Line.objects.order_by("name")

    @extend_schema(
        request=serializers.LineUpdateSerializer, responses={200: serializers.LineSerializer}
    )
    def partial_update(self, request, pk=None):
        line = self.get_object()
        body = serializers.LineUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        line = services.line_update(
            actor=request.user,
            line_id=line.pk,
            expected_version=data["version"],
            weekly_capacity_hours=data.get("weekly_capacity_hours"),
            frozen_window_weeks=data.get("frozen_window_weeks"),
            holding_cost_rate_pct=data.get("holding_cost_rate_pct", services.UNCHANGED),
        )
        return Response(serializers.LineSerializer(line).data)

    @extend_schema(responses={200: serializers.CapacityExceptionSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="capacity-exceptions")
    def capacity_exceptions(self, request, pk=None):
        line = self.get_object()
        page = self.paginate_queryset(CapacityException.objects.filter(line=line).order_by("week"))
        data = serializers.CapacityExceptionSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=serializers.CapacityExceptionSetSerializer,
        responses={
            201: serializers.CapacityExceptionSerializer,
            200: serializers.CapacityExceptionSerializer,
        },
    )
    @capacity_exceptions.mapping.post
    @idempotent
    def capacity_exception_set(self, request, pk=None):
        line = self.get_object()
        body = serializers.CapacityExceptionSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        # Only picks the status code; the service's update_or_create is what is race-free.
        existed = CapacityException.objects.filter(line=line, week=data["week"]).exists()
        exception = services.capacity_exception_set(
            actor=request.user,
            line_id=line.pk,
            week=data["week"],
            hours=data["hours"],
            note=data["note"],
        )
        return Response(
            serializers.CapacityExceptionSerializer(exception).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"capacity-exceptions/(?P<exception_id>\d+)",
    )
    def capacity_exception_delete(self, request, pk=None, exception_id=None):
        line = self.get_object()
        exception = get_object_or_404(CapacityException, pk=exception_id, line=line)
        services.capacity_exception_delete(actor=request.user, exception_id=exception.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("lines", LineViewSet, basename="line")
urlpatterns = router.urls
