"""Customer requests, under /api/v1/customer-requests/."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from coordination import filters
from coordination import serializers as s
from coordination.api.base import ERRORS, TandemViewSet
from coordination.api.support import idempotent
from coordination.models import CustomerRequest
from coordination.selectors import customer_requests as request_selectors
from coordination.services import customer_requests as request_services

# ---------------------------------------------------------------- customer requests

VIEW_REQUEST = "coordination.view_customerrequest"
PRIORITY_RANK = Case(
    *(
        When(priority=priority, then=Value(rank))
        for rank, priority in enumerate(CustomerRequest.Priority.values)
    ),
    output_field=IntegerField(),
)
# Each workflow action's input; who may take it is decided by the service's table
# (permissions *and* department membership), so the viewset asks only that the user
# may see requests at all.
REQUEST_ACTIONS = {
    "route": (s.RouteSerializer, request_services.request_route),
    "start_review": (s.VersionSerializer, request_services.request_start_review),
    "answer_feasibility": (
        s.FeasibilityAnswerSerializer,
        request_services.request_answer_feasibility,
    ),
    "quote": (s.QuoteSerializer, request_services.request_quote),
    "accept": (s.VersionSerializer, request_services.request_accept),
    "decline": (s.DeclineSerializer, request_services.request_decline),
    "change_order": (s.ChangeOrderSerializer, request_services.request_change_order),
    "cancel_order": (s.DeclineSerializer, request_services.request_cancel_order),
    "resolve": (s.ResolveSerializer, request_services.request_resolve),
}


def _doc(name: str, summary: str):
    return extend_schema(
        summary=summary,
        request=REQUEST_ACTIONS[name][0],
        responses={200: s.CustomerRequestSerializer, **ERRORS},
    )


@extend_schema_view(
    list=extend_schema(
        summary="Customer requests you may see",
        responses={200: s.CustomerRequestSerializer, 400: s.ErrorSerializer},
    ),
    retrieve=extend_schema(
        summary="One customer request",
        responses={200: s.CustomerRequestSerializer, 404: s.ErrorSerializer},
    ),
)
class CustomerRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TandemViewSet):
    serializer_class = s.CustomerRequestSerializer
    input_serializers = {
        "create": s.CustomerRequestCreateSerializer,
        **{name: serializer for name, (serializer, _) in REQUEST_ACTIONS.items()},
    }
    lookup_value_regex = "[^/]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.CustomerRequestFilter
    required_scopes = {"read": "requests:read", "write": "requests:write"}
    required_permissions = {
        "list": [VIEW_REQUEST],
        "retrieve": [VIEW_REQUEST],
        "create": ["coordination.add_customerrequest"],
        **{name: [VIEW_REQUEST] for name in REQUEST_ACTIONS},
    }

    def get_queryset(self):
        # Production and Quality see what is routed to them, assigned to them or theirs;
        # a request outside that is a 404, as if it did not exist.
        return request_selectors.visible_requests(self.request.user).annotate(
            priority_rank=PRIORITY_RANK
        )

    @extend_schema(
        summary="Log a customer request",
        request=s.CustomerRequestCreateSerializer,
        responses={201: s.CustomerRequestSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request):
        data = self.validated_input()
        logged = request_services.request_log(actor=request.user, **data)
        return self.output(s.CustomerRequestSerializer, logged, status.HTTP_201_CREATED)

    def _transition(self, name: str) -> Response:
        obj = self.get_object()
        data = self.validated_input()
        version = data.pop("version")
        if name == "route":
            assignee = data.pop("assignee")
            data["assignee_id"] = assignee.pk if assignee is not None else None
        service = REQUEST_ACTIONS[name][1]
        # The service's answer, not a re-read through visible_requests: an action can
        # route the request away from the department that took it (feasibility goes
        # back to Sales), and the caller still gets to see the result.
        done = service(actor=self.request.user, request_id=obj.pk, expected_version=version, **data)
        return self.output(s.CustomerRequestSerializer, done)

    @_doc("route", "Route to a department (and assignee)")
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        return self._transition("route")

    @_doc("start_review", "Start the review")
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request, pk=None):
        return self._transition("start_review")

    @_doc("answer_feasibility", "Answer a customization's feasibility (Production)")
    @action(detail=True, methods=["post"], url_path="answer-feasibility")
    def answer_feasibility(self, request, pk=None):
        return self._transition("answer_feasibility")

    @_doc("quote", "Quote a price for a feasible customization (Sales)")
    @action(detail=True, methods=["post"])
    def quote(self, request, pk=None):
        return self._transition("quote")

    @_doc("accept", "The customer accepted the quote: firm demand")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition("accept")

    @_doc("decline", "The customer declined")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._transition("decline")

    @_doc("change_order", "The customer changed an accepted order's quantity or week")
    @action(detail=True, methods=["post"], url_path="change-order")
    def change_order(self, request, pk=None):
        return self._transition("change_order")

    @_doc("cancel_order", "The customer cancelled an accepted order: no longer firm demand")
    @action(detail=True, methods=["post"], url_path="cancel-order")
    def cancel_order(self, request, pk=None):
        return self._transition("cancel_order")

    @_doc("resolve", "Resolve with a note")
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition("resolve")
