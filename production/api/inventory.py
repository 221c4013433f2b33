"""REST: inventory counts, read page by page and imported as a JSON list.

GET  /api/v1/inventory-positions/?product=BEV-1001&from=2026-01-01&to=2026-11-30
POST /api/v1/inventory-positions/  [{"sku": "BEV-1001", "as_of": "2026-11-23", "on_hand": 40}]
POST /api/v1/inventory-positions/?sheet=Counts  an .xlsx workbook (its Content-Type)

A POST is all-or-nothing: any bad item rejects the request with every error keyed
"<index>.<field>" (a workbook: "<row>.<column>") in `fields`; a product counted again
on the same date replaces the
earlier count, so re-sending the same list changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from coordination.api.support import idempotent
from coordination.input_limits import check_date
from demand.csv_import import (
    BulkJSONParser,
    BulkXlsxParser,
    bulk_import_response,
    bulk_import_schema,
)
from production.models import InventoryPosition
from production.services import inventory_import as services

MAX_ITEMS = 100_000


class InventoryPositionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")

    class Meta:
        model = InventoryPosition
        fields = ["sku", "as_of", "on_hand", "updated_at"]


class InventoryRowSerializer(serializers.Serializer):
    """One item of a POST (documentation only: the import service checks the items)."""

    sku = serializers.CharField()
    as_of = serializers.DateField(help_text="The date the stock was counted.")
    on_hand = serializers.IntegerField(min_value=0)


class InventoryImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    products = serializers.IntegerField()
    first_date = serializers.DateField()
    last_date = serializers.DateField()
    seconds = serializers.FloatField()


def _date_param(request, name: str) -> dt.date | None:
    value = (request.query_params.get(name) or "").strip()
    if not value:
        return None
    try:
        return check_date(dt.date.fromisoformat(value))
    except ValueError as exc:
        raise ValidationError({name: [f"Enter a date as 2026-11-23; got {value!r}."]}) from exc
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc


class InventoryPositionViewSet(viewsets.GenericViewSet):
    required_scopes = {"read": "inventory:read", "write": "inventory:write"}
    required_permissions = {
        "list": ["production.view_inventoryposition"],
        "create": [services.PERMISSION],
    }
    serializer_class = InventoryPositionSerializer
    filter_backends: list = []
    parser_classes = [BulkJSONParser, BulkXlsxParser]

    def get_queryset(self):
        return services.inventory_positions()

    @extend_schema(
        parameters=[
            OpenApiParameter("product", str, description="A SKU."),
            OpenApiParameter("from", dt.date, description="First date counted."),
            OpenApiParameter("to", dt.date, description="Last date counted."),
        ]
    )
    def list(self, request):
        positions = services.inventory_positions(
            sku=request.query_params.get("product") or "",
            start=_date_param(request, "from"),
            end=_date_param(request, "to"),
        )
        page = self.paginate_queryset(positions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(**bulk_import_schema(InventoryRowSerializer, InventoryImportResultSerializer))
    @idempotent
    def create(self, request):
        return bulk_import_response(
            request.data,
            parser=services.INVENTORY_ROWS,
            max_items=MAX_ITEMS,
            run=lambda rows, sheet=None: services.inventory_import(
                actor=request.user, rows=rows, source="api", filename="API request", sheet=sheet
            ),
            serializer_class=InventoryImportResultSerializer,
        )
