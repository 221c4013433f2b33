"""REST endpoints of the coordination app, under /api/v1/.

    products/                                      GET list, POST create
    products/{sku}/                                GET, PATCH (with `version`)
    products/{sku}/specifications/                 GET list, POST draft (or proposal)
    products/{sku}/specifications/{number}/        GET
    products/{sku}/specifications/{number}/{propose,withdraw,approve,reject}/   POST
    customer-requests/                             GET list, POST log
    customer-requests/{id}/                        GET
    customer-requests/{id}/{route,start-review,answer-feasibility,quote,accept,
                            decline,resolve}/      POST (with `version`)

Thin edges: a method checks the body's shape with an input serializer, calls one
service (the same one the browser uses) or selector, and serializes the result. The
services' ValidationError, PermissionDenied and StaleEditError reach
coordination.api_support.exception_handler, which answers 400, 403 and 409 with the
JSON error body. Each viewset says which permission every action needs
(ActionPermissions); the services check the finer rules (workflow state, department).
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Case, IntegerField, Value, When
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination import filters
from coordination import serializers as s
from coordination.api_support import idempotent
from coordination.models import CustomerRequest, Product, Specification
from coordination.selectors import customer_requests as request_selectors
from coordination.selectors import products as product_selectors
from coordination.services import customer_requests as request_services
from coordination.services import products as product_services
from coordination.services import specifications as spec_services

ERRORS = dict.fromkeys((400, 403, 404, 409), s.ErrorSerializer)


class TandemViewSet(viewsets.GenericViewSet):
    """What every viewset here shares: role permissions per action (`required_permissions`,
    checked by the default ActionPermissions) and input serializers per action."""

    required_permissions: dict[str, list[str]] = {}
    input_serializers: dict[str, type] = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.serializer_class)

    def validated_input(self, **context) -> dict:
        serializer = self.get_serializer(data=self.request.data, context_extra=context)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def get_serializer(self, *args, context_extra=None, **kwargs):
        kwargs.setdefault("context", {**self.get_serializer_context(), **(context_extra or {})})
        return self.get_serializer_class()(*args, **kwargs)

    def output(self, serializer_class, instance, http_status=status.HTTP_200_OK) -> Response:
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=http_status)


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

    @_doc("resolve", "Resolve with a note")
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition("resolve")


router = SimpleRouter()
router.register("products", ProductViewSet, basename="api-product")
router.register(
    r"products/(?P<product_sku>[^/]+)/specifications",
    SpecificationViewSet,
    basename="api-specification",
)
router.register("customer-requests", CustomerRequestViewSet, basename="api-customer-request")

urlpatterns = router.urls
