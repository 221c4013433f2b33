"""What the recall viewsets share: permissions per action, input checking, the
incident a nested endpoint (recalls/{code}/...) belongs to, and error documentation."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response

from recalls.models import RecallIncident

VIEW = "recalls.view_recallincident"
MANAGE = "recalls.manage_recall"
COMMUNICATE = "recalls.communicate_recall"
APPROVE = "recalls.approve_statement"

RECALL_CODE = OpenApiParameter(
    "recall_code", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. RC-2026-0001"
)
ERRORS = {
    400: OpenApiResponse(description='Invalid input: {"error": {code, message, fields}}.'),
    403: OpenApiResponse(description="Your role may not do this."),
    404: OpenApiResponse(description="No such recall (or item of it)."),
}
STALE = {409: OpenApiResponse(description="Changed by someone else since you read it.")}


class RecallApiViewSet(viewsets.GenericViewSet):
    """Each viewset lists the permissions every action needs (`required_permissions`,
    checked by coordination.api.support.ActionPermissions); the services check the
    finer rules (workflow state, authorship, department)."""

    required_scopes = {"read": "recalls:read"}
    required_permissions: dict[str, list[str]] = {}

    def validated(self, serializer_class, **context) -> dict:
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def output(self, serializer_class, instance, http_status=status.HTTP_200_OK) -> Response:
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=http_status)

    def filter_queryset(self, queryset):
        # Filters belong to the list only; a detail action looks its row up directly.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


class IncidentChildViewSet(RecallApiViewSet):
    """An endpoint under recalls/{recall_code}/: its rows belong to that incident."""

    lookup_value_regex = "[^/]+"
    filter_backends: list = []
    selector: Callable[[RecallIncident], QuerySet]

    @cached_property
    def incident(self) -> RecallIncident:
        code = self.kwargs["recall_code"]
        try:
            return RecallIncident.objects.get(code=code)
        except RecallIncident.DoesNotExist:
            raise exceptions.NotFound(f"No recall {code}.") from None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return self.serializer_class.Meta.model.objects.none()
        # `selector`: the recalls selector that reads one incident's rows.
        return type(self).selector(self.incident)
