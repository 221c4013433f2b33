"""Products and their specifications, under /api/v1/products/."""

from __future__ import annotations

from functools import cached_property

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from coordination import filters
from coordination import serializers as s
from coordination.api.base import ERRORS, TandemViewSet
from coordination.api.support import idempotent
from coordination.models import Product, Specification
from coordination.selectors import products as product_selectors
from coordination.services import products as product_services
from coordination.services import specifications as spec_services

# ------------------------------------------------------------------------ products


VIEW_PRODUCT = "coordination.view_product"


@extend_schema_view(
    list=extend_schema(
        summary="Products", responses={200: s.ProductSerializer, 400: s.ErrorSerializer}
    ),
    retrieve=extend_schema(
        summary="One product", responses={200: s.ProductSerializer, 404: s.ErrorSerializer}
    ),
)
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TandemViewSet):
    serializer_class = s.ProductSerializer
    input_serializers = {
        "create": s.ProductInputSerializer,
        "partial_update": s.ProductUpdateSerializer,
    }
    lookup_field = "sku"
    # Anything up to the next slash, so a malformed SKU gets this API's JSON 404.
    lookup_value_regex = "[^/]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ProductFilter
    required_scopes = {"read": "products:read"}
    required_permissions = {
        "list": [VIEW_PRODUCT],
        "retrieve": [VIEW_PRODUCT],
        "create": ["coordination.add_product"],
        "partial_update": ["coordination.change_product"],
    }

    def get_queryset(self):
        return product_selectors.with_current_specification(product_selectors.product_list())

    def _fresh(self, product: Product) -> Product:
        return self.get_queryset().get(pk=product.pk)

    @extend_schema(
        summary="Create a product",
        request=s.ProductInputSerializer,
        responses={201: s.ProductSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request):
        data = self.validated_input()
        product = product_services.product_create(actor=request.user, **data)
        return self.output(s.ProductSerializer, self._fresh(product), status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a product",
        description="Send only the fields to change, plus the `version` you read: "
        "409 if someone changed the product since.",
        request=s.ProductUpdateSerializer,
        responses={200: s.ProductSerializer, **ERRORS},
    )
    def partial_update(self, request, sku=None):
        product = self.get_object()
        data = self.validated_input(product=product)
        version = data.pop("version")
        product_services.product_update(
            actor=request.user, product_id=product.pk, expected_version=version, **data
        )
        return self.output(s.ProductSerializer, self._fresh(product))


# ------------------------------------------------------------------ specifications

PRODUCT_SKU = OpenApiParameter("product_sku", OpenApiTypes.STR, OpenApiParameter.PATH)
SPEC_NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH)
PROPOSE = "coordination.propose_specification"
REVIEW = "coordination.review_specification"
VIEW_SPEC = "coordination.view_specification"


@extend_schema_view(
    list=extend_schema(
        summary="A product's specification versions, newest first",
        parameters=[PRODUCT_SKU],
        responses={200: s.SpecificationSerializer, 404: s.ErrorSerializer},
    ),
    retrieve=extend_schema(
        summary="One specification version",
        parameters=[PRODUCT_SKU, SPEC_NUMBER],
        responses={200: s.SpecificationSerializer, 404: s.ErrorSerializer},
    ),
)
class SpecificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TandemViewSet):
    serializer_class = s.SpecificationSerializer
    input_serializers = {
        "create": s.SpecificationCreateSerializer,
        "propose": s.VersionSerializer,
        "withdraw": s.VersionSerializer,
        "approve": s.SpecificationApproveSerializer,
        "reject": s.SpecificationReviewSerializer,
    }
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []  # always newest version first
    required_scopes = {"read": "products:read"}
    required_permissions = {
        "list": [VIEW_SPEC],
        "retrieve": [VIEW_SPEC],
        "create": [PROPOSE],
        "propose": [PROPOSE],
        "withdraw": [PROPOSE],
        "approve": [REVIEW],
        "reject": [REVIEW],
    }

    @cached_property
    def product(self) -> Product:
        sku = self.kwargs["product_sku"]
        try:
            return product_selectors.product_by_sku(sku)
        except Product.DoesNotExist:
            raise exceptions.NotFound(f"No product with SKU {sku}.") from None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return Specification.objects.none()
        return product_selectors.specification_history(self.product)

    def get_object(self) -> Specification:
        number = self.kwargs["number"]
        try:
            return product_selectors.specification_detail(self.product, int(number))
        except (ValueError, Specification.DoesNotExist):
            raise exceptions.NotFound(
                f"{self.product.sku} has no specification v{number}."
            ) from None

    def _respond(self, spec: Specification, http_status=status.HTTP_200_OK) -> Response:
        fresh = product_selectors.specification_detail(self.product, spec.number)
        return self.output(s.SpecificationSerializer, fresh, http_status)

    @extend_schema(
        summary="Draft a new specification version (or propose it at once)",
        parameters=[PRODUCT_SKU],
        request=s.SpecificationCreateSerializer,
        responses={201: s.SpecificationSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, product_sku=None):
        product = self.product
        data = self.validated_input()
        spec = spec_services.specification_create(
            actor=request.user,
            product_id=product.pk,
            colours=data.get("colours"),
            package_sizes=data.get("package_sizes"),
            features=data.get("features"),
            materials=data.get("materials"),
            effective_from=data.get("effective_from"),
            rationale=data.get("rationale", ""),
            cited_request_ids=data.get("cited_requests"),
            propose=data["propose"],
        )
        return self._respond(spec, status.HTTP_201_CREATED)

    def _transition(self, service, **extra) -> Response:
        spec = self.get_object()
        data = self.validated_input()
        version = data.pop("version")
        service(actor=self.request.user, spec_id=spec.pk, expected_version=version, **data, **extra)
        return self._respond(spec)

    @extend_schema(
        summary="Propose a draft to Production",
        parameters=[PRODUCT_SKU, SPEC_NUMBER],
        request=s.VersionSerializer,
        responses={200: s.SpecificationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def propose(self, request, product_sku=None, number=None):
        return self._transition(spec_services.specification_propose)

    @extend_schema(
        summary="Withdraw a proposal back to draft",
        parameters=[PRODUCT_SKU, SPEC_NUMBER],
        request=s.VersionSerializer,
        responses={200: s.SpecificationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, product_sku=None, number=None):
        return self._transition(spec_services.specification_withdraw)

    @extend_schema(
        summary="Approve a proposal (Production)",
        parameters=[PRODUCT_SKU, SPEC_NUMBER],
        request=s.SpecificationApproveSerializer,
        responses={200: s.SpecificationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, product_sku=None, number=None):
        return self._transition(spec_services.specification_approve)

    @extend_schema(
        summary="Reject a proposal (Production)",
        parameters=[PRODUCT_SKU, SPEC_NUMBER],
        request=s.SpecificationReviewSerializer,
        responses={200: s.SpecificationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, product_sku=None, number=None):
        return self._transition(spec_services.specification_reject)
