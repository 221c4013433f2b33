"""REST: the sales history, read page by page and imported as a JSON list.

GET  /api/v1/sales-actuals/?product=BEV-1001&from=2026-W01&to=2026-W48&channel=retail
POST /api/v1/sales-actuals/  [{"sku": "BEV-1001", "week": "2026-W48", "units": 12,
                               "channel": "retail"}, ...]
POST /api/v1/sales-actuals/?sheet=Sales  an .xlsx workbook (its Content-Type), as uploaded

A POST is all-or-nothing: any bad item rejects the request with every error keyed
"<index>.<field>" (a workbook: "<row>.<column>") in `fields`; a product, channel and week
already imported is replaced, so re-sending the same list changes nothing. `channel` is
optional: absent or blank is "all" (sales not attributed to a channel); a product's sales
in a week are the sum over its channels.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from coordination.api.support import idempotent
from coordination.weeks import iso_label, parse_week
from demand.csv_import import (
    BulkJSONParser,
    BulkXlsxParser,
    bulk_import_response,
    bulk_import_schema,
)
from demand.models import Channel, SalesActual, SalesImport
from demand.services import sales_import as services

MAX_ITEMS = 100_000


class SalesActualSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    iso_week = serializers.SerializerMethodField()

    class Meta:
        model = SalesActual
        fields = ["sku", "channel", "week", "iso_week", "units", "updated_at"]

    def get_iso_week(self, actual) -> str:
        return iso_label(actual.week)


class SalesRowSerializer(serializers.Serializer):
    """One item of a POST (documentation only: the import service checks the items)."""

    sku = serializers.CharField()
    week = serializers.CharField(help_text="2026-W48, or a date in that week: 2026-11-23.")
    units = serializers.IntegerField(min_value=0)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text='Optional; the code or its label, in any case ("Retail"). Absent or blank: '
        '"all" (not attributed to a channel).',
    )


class SalesImportResultSerializer(serializers.ModelSerializer):
    rows = serializers.IntegerField(source="row_count")
    created = serializers.IntegerField(source="created_count")
    updated = serializers.IntegerField(source="updated_count")
    products = serializers.IntegerField(source="products_count")

    class Meta:
        model = SalesImport
        fields = [
            "id",
            "status",
            "rows",
            "created",
            "updated",
            "products",
            "first_week",
            "last_week",
            "seconds",
        ]


def _week_param(request, name: str):
    try:
        return parse_week(request.query_params.get(name) or None)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc


def _channel_param(request) -> str:
    channel = (request.query_params.get("channel") or "").strip().lower()
    if channel and channel not in Channel.values:
        raise ValidationError(
            {"channel": [f"Choose one of: {', '.join(Channel.values)}; got {channel[:40]!r}."]}
        )
    return channel


class SalesActualViewSet(viewsets.GenericViewSet):
    required_scopes = {"read": "sales:read", "write": "sales:write"}
    required_permissions = {
        "list": ["demand.view_salesactual"],
        "create": [services.PERMISSION],
    }
    serializer_class = SalesActualSerializer
    filter_backends: list = []
    parser_classes = [BulkJSONParser, BulkXlsxParser]

    def get_queryset(self):
        return services.sales_actuals()

    @extend_schema(
        parameters=[
            OpenApiParameter("product", str, description="A SKU."),
            OpenApiParameter("from", str, description="First week: 2026-W01 or a date."),
            OpenApiParameter("to", str, description="Last week: 2026-W48 or a date."),
            OpenApiParameter(
                "channel", str, enum=Channel.values, description="Only this channel's rows."
            ),
        ]
    )
    def list(self, request):
        actuals = services.sales_actuals(
            sku=request.query_params.get("product") or "",
            start=_week_param(request, "from"),
            end=_week_param(request, "to"),
            channel=_channel_param(request),
        )
        page = self.paginate_queryset(actuals)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(**bulk_import_schema(SalesRowSerializer, SalesImportResultSerializer))
    @idempotent
    def create(self, request):
        return bulk_import_response(
            request.data,
            parser=services.SALES_ROWS,
            max_items=MAX_ITEMS,
            run=lambda rows, sheet=None: services.sales_import_rows(
                actor=request.user, rows=rows, source="api", filename="API request", sheet=sheet
            ),
            serializer_class=SalesImportResultSerializer,
        )
