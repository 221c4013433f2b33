"""REST: webhooks that tell a client when a line's accepted schedule changes.

GET    /api/v1/webhooks/                    the caller's endpoints (administrators: all)
POST   /api/v1/webhooks/                    {"url", "lines"?: [id or name], "name"?}
GET    /api/v1/webhooks/{id}/               DELETE /api/v1/webhooks/{id}/
GET    /api/v1/webhooks/{id}/deliveries/    newest first: status, attempts, last error

The signing secret is in the POST answer only; it is never shown again. An endpoint
with no lines follows every line. See docs/webhooks.md and production/services/webhooks.py.

The serializers live here rather than in production/serializers.py: nothing else uses
them, and the secret-bearing one must not be reused by accident.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api.auth import api_client_of
from coordination.api.support import idempotent
from production.models import WebhookDelivery, WebhookEndpoint
from production.serializers import LineRefField
from production.services import webhooks as services


class WebhookLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WebhookEndpointSerializer(serializers.ModelSerializer):
    lines = WebhookLineSerializer(many=True, read_only=True)
    owner = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "lines",
            "owner",
            "is_active",
            "created_at",
            "failure_count",
            "disabled_at",
        ]
        read_only_fields = fields

    def get_owner(self, endpoint) -> str | None:
        return endpoint.owner.name if endpoint.owner_id else None


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    lines = serializers.ListField(
        child=LineRefField(), required=False, default=list, max_length=100
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    required_permissions = {
        "list": ["production.view_webhookendpoint"],
        "retrieve": ["production.view_webhookendpoint"],
        "create": ["production.add_webhookendpoint"],
        "destroy": ["production.delete_webhookendpoint"],
        "deliveries": ["production.view_webhookendpoint", "production.view_webhookdelivery"],
    }
    # For API clients' keys (coordination/scopes.py grants them).
    required_scopes = {"read": "webhooks:read", "write": "webhooks:write"}
    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return services.endpoints_of(self.request.user).select_related("owner")

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    @idempotent
    def create(self, request):
        body = WebhookEndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        endpoint = services.webhook_endpoint_create(
            actor=request.user,
            owner=api_client_of(request.user),
            url=data["url"],
            name=data["name"],
            lines=data["lines"],
        )
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        endpoint = self.get_object()
        services.webhook_endpoint_delete(actor=request.user, endpoint_id=endpoint.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        page = self.paginate_queryset(
            WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")
        )
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
urlpatterns = router.urls
