"""REST: recall incidents, their workflow, stop-ship, lots, effectiveness and timeline.

    GET   recalls/                          list (filters: status, classification,
                                            product, stop_ship)
    POST  recalls/                          open an incident (Quality, Production)
    GET   recalls/{code}/                   one incident, with lots and effectiveness
    PATCH recalls/{code}/                   edit; needs the `version` read (409 if stale)
    POST  recalls/{code}/transition/        {"status", "version"}: one step forward
    POST  recalls/{code}/stop-ship/         {"stop_ship": true|false, "version"}
    GET   recalls/{code}/effectiveness/     the figures, percentages and check level
    PUT   recalls/{code}/effectiveness/     record the figures (with `version`)
    GET   recalls/{code}/activity/          the timeline: every change, who and when
    GET   recalls/{code}/lots/              affected lots or production weeks
    POST  recalls/{code}/lots/              add one (a new product joins only with add_product)

There is no DELETE (a recall is a record) and no PUT on an incident: both answer 405.
"""

from __future__ import annotations

import dataclasses

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from coordination.api.support import idempotent
from coordination.models import Product
from recalls import selectors
from recalls import serializers as s
from recalls.api.base import (
    ERRORS,
    MANAGE,
    RECALL_CODE,
    STALE,
    VIEW,
    IncidentChildViewSet,
    RecallApiViewSet,
)
from recalls.models import RecallIncident
from recalls.services import incidents as services


class RecallFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RecallIncident.Status.choices)
    classification = django_filters.MultipleChoiceFilter(
        choices=RecallIncident.Classification.choices
    )
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.all(),
        to_field_name="sku",
        field_name="products",
        distinct=True,
        label="Product SKU",
        error_messages={"invalid_choice": "No product with SKU %(value)s."},
    )
    stop_ship = django_filters.BooleanFilter()

    class Meta:
        model = RecallIncident
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Recall incidents, newest first"),
    retrieve=extend_schema(
        summary="One recall incident",
        responses={200: s.RecallDetailSerializer, 404: ERRORS[404]},
    ),
)
class RecallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RecallApiViewSet):
    serializer_class = s.RecallSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = RecallFilter
    required_permissions = {
        "list": [VIEW],
        "retrieve": [VIEW],
        "create": ["recalls.add_recallincident", MANAGE],
        "partial_update": ["recalls.change_recallincident", MANAGE],
        "transition": [MANAGE],
        "stop_ship": [MANAGE],
        "effectiveness": [VIEW],
        "record_effectiveness": [MANAGE],
        "activity": [VIEW],
    }

    def get_queryset(self):
        return selectors.incidents()

    def _detail(self, incident_id: int, http_status=http.HTTP_200_OK) -> Response:
        fresh = selectors.incidents().get(pk=incident_id)
        return self.output(s.RecallDetailSerializer, fresh, http_status)

    def retrieve(self, request, *args, **kwargs):
        return self.output(s.RecallDetailSerializer, self.get_object())

    @extend_schema(
        summary="Open a recall incident (Quality, Production)",
        request=s.RecallCreateSerializer,
        responses={201: s.RecallDetailSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.RecallCreateSerializer)
        incident = services.recall_open(
            actor=request.user,
            title=data["title"],
            classification=data["classification"],
            hazard=data["hazard"],
            source=data["source"],
            product_ids=[product.pk for product in data["products"]],
            description=data["description"],
            stop_ship=data["stop_ship"],
            source_request_ids=[r.pk for r in data["source_requests"]],
            owner=data["owner"],
        )
        return self._detail(incident.pk, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a recall (send `version`)",
        request=s.RecallUpdateSerializer,
        responses={200: s.RecallDetailSerializer, **ERRORS, **STALE},
    )
    def partial_update(self, request, *args, **kwargs):
        incident = self.get_object()
        data = self.validated(s.RecallUpdateSerializer)
        version = data.pop("version")
        services.recall_update(
            actor=request.user, incident_id=incident.pk, expected_version=version, **data
        )
        return self._detail(incident.pk)

    @extend_schema(
        summary="Move the recall one step: open → investigating → announced → recovering → closed",
        description="Announcing needs the hazard, what consumers should do and a contact; "
        "closing needs the root cause, the effectiveness figures and the stop-ship released.",
        request=s.RecallTransitionSerializer,
        responses={200: s.RecallDetailSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, *args, **kwargs):
        incident = self.get_object()
        data = self.validated(s.RecallTransitionSerializer)
        services.recall_transition(
            actor=request.user,
            incident_id=incident.pk,
            expected_version=data["version"],
            to=data["status"],
        )
        return self._detail(incident.pk)

    @extend_schema(
        summary="Place or release the stop-ship",
        description="Placing it holds production of the products (their quotas are "
        "recomputed to 0 with the reason, accepted quotas from this week on become 0) and "
        "puts their active and upcoming promotions at risk; releasing it recomputes again.",
        request=s.StopShipSerializer,
        responses={200: s.RecallDetailSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"], url_path="stop-ship")
    def stop_ship(self, request, *args, **kwargs):
        incident = self.get_object()
        data = self.validated(s.StopShipSerializer)
        services.recall_set_stop_ship(
            actor=request.user,
            incident_id=incident.pk,
            expected_version=data["version"],
            stop=data["stop_ship"],
        )
        return self._detail(incident.pk)

    def _effectiveness(self, incident: RecallIncident) -> Response:
        report = {
            "code": incident.code,
            "classification": incident.classification,
            "version": incident.version,
            **dataclasses.asdict(selectors.effectiveness(incident)),
        }
        return Response(s.EffectivenessReportSerializer(report).data)

    @extend_schema(
        summary="Effectiveness: units recovered, consignees notified, the check level",
        responses={200: s.EffectivenessReportSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def effectiveness(self, request, *args, **kwargs):
        return self._effectiveness(self.get_object())

    @extend_schema(
        summary="Record the effectiveness figures (send `version`)",
        request=s.EffectivenessInputSerializer,
        responses={200: s.EffectivenessReportSerializer, **ERRORS, **STALE},
    )
    @effectiveness.mapping.put
    def record_effectiveness(self, request, *args, **kwargs):
        incident = self.get_object()
        data = self.validated(s.EffectivenessInputSerializer)
        version = data.pop("version")
        saved = services.recall_record_effectiveness(
            actor=request.user, incident_id=incident.pk, expected_version=version, **data
        )
        return self._effectiveness(saved)

    @extend_schema(
        summary="The recall's timeline: every change, who made it and when (newest first)",
        responses={200: s.ActivityEventSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def activity(self, request, *args, **kwargs):
        incident = self.get_object()
        page = self.paginate_queryset(selectors.incident_activity(incident))
        data = s.ActivityEventSerializer(page, many=True).data
        return self.get_paginated_response(data)


@extend_schema_view(
    list=extend_schema(
        summary="The recall's affected lots or production weeks", parameters=[RECALL_CODE]
    ),
)
class LotViewSet(mixins.ListModelMixin, IncidentChildViewSet):
    serializer_class = s.AffectedLotSerializer
    selector = selectors.incident_lots
    required_permissions = {
        "list": ["recalls.view_affectedlot"],
        "create": [MANAGE],
    }

    @extend_schema(
        summary="Add an affected lot or production week (Quality, Production)",
        description="A product not yet in the recall joins it only with `add_product: true`; "
        "under a stop-ship its production is then held and its promotions are put at risk at "
        "once. A lot code is recorded once per product; a production week is this week or "
        "earlier.",
        parameters=[RECALL_CODE],
        request=s.LotCreateSerializer,
        responses={201: s.AffectedLotSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.LotCreateSerializer)
        lot = services.lot_add(
            actor=request.user,
            incident_id=self.incident.pk,
            product_id=data["product"].pk,
            lot_code=data["lot_code"],
            production_week=data["production_week"],
            best_before=data["best_before"],
            units=data["units"],
            add_product=data["add_product"],
        )
        return self.output(s.AffectedLotSerializer, lot, http.HTTP_201_CREATED)
