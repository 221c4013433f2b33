"""REST: demand forecasts, their accuracy, and marketing's adjustments.

    GET /api/v1/forecasts/?product=&from=&to=&line=   forecast rows, product then week,
                                                      each with its `channels` breakdown
    PUT /api/v1/forecasts/adjustments/                set (units 0: remove) marketing's
                                                      adjustment of a product's week
    GET /api/v1/forecast-accuracy/?weeks=&line=&end=  WMAPE, bias, MASE, FVA

The adjustment is a PUT: it sets the state of one (product, week) and repeating it
changes nothing more. It answers 200 with the adjustment, or 204 when units is 0.
"""

from __future__ import annotations

import django_filters
from django.urls import include, path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from coordination.models import Product, ProductLine
from demand import serializers as s
from demand.api.promotions import ERRORS, STALE, WeekFilter, WeekRangeForm
from demand.models import DemandForecast
from demand.selectors.accuracy import forecast_accuracy
from demand.selectors.forecasts import channel_forecasts
from demand.services.adjustments import adjustment_set


class ForecastFilter(django_filters.FilterSet):
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.all(),
        to_field_name="sku",
        label="Product SKU",
        error_messages={"invalid_choice": "No product with SKU %(value)s."},
    )
    line = django_filters.ModelChoiceFilter(
        queryset=ProductLine.objects.all(),
        field_name="product__product_line",
        label="Product line id",
        error_messages={"invalid_choice": "No product line with id %(value)s."},
    )
    # `from` is a Python keyword: declared through the class namespace.
    locals()["from"] = WeekFilter(field_name="week", lookup_expr="gte", label="First week")
    to = WeekFilter(field_name="week", lookup_expr="lte", label="Last week")

    class Meta:
        model = DemandForecast
        fields: list[str] = []
        form = WeekRangeForm


@extend_schema_view(
    list=extend_schema(
        summary="Forecast rows with every term, by product then week (page_size up to 500)",
        responses={200: s.DemandForecastSerializer(many=True), **ERRORS},
    )
)
class ForecastViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The demand forecast per product and week, with every term that makes it."""

    serializer_class = s.DemandForecastSerializer
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    filterset_class = ForecastFilter
    required_scopes = {"read": "forecasts:read"}
    required_permissions = {
        "list": ["demand.view_demandforecast"],
        "adjustments": ["demand.add_marketingadjustment"],
    }

    def get_queryset(self):
        return DemandForecast.objects.select_related("product").order_by("product__sku", "week")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = self.get_serializer(
            page, many=True, context={**self.get_serializer_context(), "channels": _channels(page)}
        )
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Set marketing's adjustment of a product's week (units 0 removes it)",
        request=s.AdjustmentWriteSerializer,
        responses={
            200: s.AdjustmentSerializer,
            204: OpenApiResponse(description="Removed (units 0)."),
            **ERRORS,
            **STALE,
        },
    )
    @action(detail=False, methods=["put"])
    def adjustments(self, request, *args, **kwargs):
        serializer = s.AdjustmentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        adjustment = adjustment_set(
            actor=request.user,
            product_id=data["product"].pk,
            week=data["week"],
            units=data["units"],
            reason=data["reason"],
            expected_version=data["version"] or 0,  # null: the week had no adjustment
        )
        if adjustment is None:
            return Response(status=http.HTTP_204_NO_CONTENT)
        return Response(s.AdjustmentSerializer(adjustment).data)


def _channels(page) -> dict:
    """{(product id, week): [ChannelForecast]} of a page of forecast rows, in one query."""
    if not page:
        return {}
    found: dict = {}
    for forecast in channel_forecasts(
        product_ids={f.product_id for f in page}, weeks={f.week for f in page}
    ):
        found.setdefault((forecast.product_id, forecast.week), []).append(forecast)
    return found


class ForecastAccuracyView(APIView):
    """How good past forecasts were, once actuals arrived (demand.selectors.accuracy)."""

    required_scopes = {"read": "forecasts:read"}
    required_permissions = {
        "get": ["demand.view_demandforecast"],
        "head": ["demand.view_demandforecast"],
    }

    @extend_schema(
        summary="Forecast accuracy per product and product line over past weeks",
        parameters=[s.AccuracyQuerySerializer],
        responses={200: s.AccuracyReportSerializer, **ERRORS},
    )
    def get(self, request):
        query = s.AccuracyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        line = query.validated_data.get("line")
        report = forecast_accuracy(
            weeks=query.validated_data["weeks"],
            end=query.validated_data.get("end"),
            line_id=line.pk if line else None,
        )
        return Response(s.AccuracyReportSerializer(report).data)


router = SimpleRouter()
router.register("forecasts", ForecastViewSet, basename="forecast")

urlpatterns = [
    path("forecast-accuracy/", ForecastAccuracyView.as_view(), name="forecast-accuracy"),
    path("", include(router.urls)),
]
