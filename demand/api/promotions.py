"""REST: promotions, under /api/v1/promotions/.

    GET    promotions/                       list (filters: status, channel, product,
                                             active_in, from, to; ordering)
    POST   promotions/                       create (draft, planned or confirmed)
    GET    promotions/{id}/                  one promotion, with overlap warnings
    PATCH  promotions/{id}/                  edit; needs the `version` read (409 if stale)
    POST   promotions/{id}/status/           plan, confirm, cancel, back to draft
    GET    promotions/lift-suggestion/       suggested lift for a product at a discount

There is no DELETE (cancel instead) and no PUT: both answer 405. Every write goes
through demand.services.promotions; their errors become the shared error body.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Prefetch
from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api.fields import parse_api_week
from coordination.api.support import idempotent
from coordination.models import Product
from coordination.selectors.recompute import latest_requests_about
from demand import serializers as s
from demand.models import Promotion, PromotionItem
from demand.selectors.lift import suggest_lift
from demand.selectors.promotions import promotion_warnings
from demand.services import promotions as services

ERRORS = {
    400: OpenApiResponse(description='Invalid input: {"error": {code, message, fields}}.'),
    403: OpenApiResponse(description="Your role may not do this."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such promotion.")}
STALE = {409: OpenApiResponse(description="Changed by someone else since you read it.")}


# ---------------------------------------------------------------------------- filters


class WeekFormField(forms.Field):
    """A query parameter naming a week: 2026-W48 or a date; cleaned to its Monday."""

    def to_python(self, value):
        return parse_api_week(value)


@extend_schema_field(OpenApiTypes.STR)
class WeekFilter(django_filters.Filter):
    """Documented as a string: it takes 2026-W48 as well as 2026-11-23."""

    field_class = WeekFormField


class WeekRangeForm(forms.Form):
    """Refuses `to` before `from` instead of silently answering nothing."""

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", "`to` is before `from`.")
        return data


class PromotionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Promotion.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Promotion.Channel.choices)
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.all(),
        to_field_name="sku",
        field_name="items__product",
        distinct=True,
        label="Product SKU",
        error_messages={"invalid_choice": "No product with SKU %(value)s."},
    )
    active_in = WeekFilter(method="filter_active_in", label="Running in this week")
    # `from` is a Python keyword: declared through the class namespace.
    locals()["from"] = WeekFilter(
        field_name="end_week", lookup_expr="gte", label="Running in or after this week"
    )
    to = WeekFilter(field_name="start_week", lookup_expr="lte", label="Running in or before")

    class Meta:
        model = Promotion
        fields: list[str] = []
        form = WeekRangeForm

    def filter_active_in(self, queryset, name, week: dt.date):
        return queryset.filter(start_week__lte=week, end_week__gte=week)


# ---------------------------------------------------------------------------- views


@extend_schema_view(
    list=extend_schema(summary="Promotions", responses={200: s.PromotionSerializer(many=True)}),
    retrieve=extend_schema(
        summary="One promotion, with warnings about overlapping promotions",
        responses={200: s.PromotionSavedSerializer, **NOT_FOUND},
    ),
)
class PromotionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Marketing's promotions. Writes go through demand.services.promotions; saving a
    planned or confirmed promotion asks production to recompute its products."""

    serializer_class = s.PromotionSerializer
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, OrderingFilter]
    filterset_class = PromotionFilter
    ordering_fields = ["start_week", "name", "updated_at"]
    ordering = ["start_week", "name", "id"]
    required_scopes = {"read": "promotions:read", "write": "promotions:write"}
    required_permissions = {
        "list": ["demand.view_promotion"],
        "retrieve": ["demand.view_promotion"],
        "create": ["demand.add_promotion"],
        "partial_update": ["demand.change_promotion"],
        "status": ["demand.confirm_promotion"],
        "lift_suggestion": ["demand.view_promotion"],
    }

    def get_queryset(self):
        return Promotion.objects.select_related("created_by", "updated_by").prefetch_related(
            Prefetch("items", queryset=PromotionItem.objects.select_related("product"))
        )

    def _detail(self, promotion: Promotion, *, http_status=http.HTTP_200_OK) -> Response:
        context = {
            **self.get_serializer_context(),
            "recomputes": latest_requests_about([promotion]),
            "warnings": promotion_warnings(promotion),
        }
        return Response(s.PromotionSavedSerializer(promotion, context=context).data, http_status)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "recomputes": latest_requests_about(page)}
        data = s.PromotionSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def _reread(self, promotion_id: int) -> Promotion:
        return self.get_queryset().get(pk=promotion_id)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(
        summary="Create a promotion",
        request=s.PromotionCreateSerializer,
        responses={201: s.PromotionSavedSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = s.PromotionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        promotion = services.promotion_create(actor=request.user, **serializer.validated_data)
        return self._detail(self._reread(promotion.pk), http_status=http.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a promotion (send `version`; `items`, when sent, replaces them all)",
        request=s.PromotionUpdateSerializer,
        responses={200: s.PromotionSavedSerializer, **ERRORS, **NOT_FOUND, **STALE},
    )
    def partial_update(self, request, *args, **kwargs):
        promotion = self.get_object()
        serializer = s.PromotionUpdateSerializer(
            data=request.data, context={"promotion": promotion}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.promotion_update(
            actor=request.user,
            promotion_id=promotion.pk,
            expected_version=data.pop("version"),
            **data,
        )
        return self._detail(self._reread(promotion.pk))

    @extend_schema(
        summary="Plan, confirm, cancel or reopen a promotion",
        request=s.PromotionStatusSerializer,
        responses={200: s.PromotionSavedSerializer, **ERRORS, **NOT_FOUND, **STALE},
    )
    @action(detail=True, methods=["post"])
    def status(self, request, *args, **kwargs):
        promotion = self.get_object()
        serializer = s.PromotionStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.promotion_set_status(
            actor=request.user,
            promotion_id=promotion.pk,
            expected_version=serializer.validated_data["version"],
            status=serializer.validated_data["status"],
        )
        return self._detail(self._reread(promotion.pk))

    @extend_schema(
        summary="Suggested lift for a product at a discount, from similar past promotions",
        parameters=[s.LiftQuerySerializer],
        responses={200: s.LiftSuggestionSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"], url_path="lift-suggestion", pagination_class=None)
    def lift_suggestion(self, request, *args, **kwargs):
        query = s.LiftQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        suggestion = suggest_lift(
            product=query.validated_data["product"],
            discount_pct=query.validated_data["discount"],
            exclude_promotion=query.validated_data.get("promotion"),
        )
        return Response(s.LiftSuggestionSerializer(suggestion).data)

    def filter_queryset(self, queryset):
        # The filters belong to the list only; detail actions look the id up directly.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


router = SimpleRouter()
router.register("promotions", PromotionViewSet, basename="promotion")

urlpatterns = [path("", include(router.urls))]
