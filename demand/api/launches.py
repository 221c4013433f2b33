"""REST: new products' launch plans and successions, under /api/v1/.

    GET    launch-plans/                 every launch plan, with its like products
    POST   launch-plans/                 create a product's launch plan (201)
    GET    launch-plans/{sku}/           one product's launch plan
    PATCH  launch-plans/{sku}/           edit; needs the `version` read (409 if stale);
                                         `likes`, when sent, replaces them all
    DELETE launch-plans/{sku}/?version=  remove it (the product is forecast by its own
                                         model only)
    GET    successions/                  every succession (filter: successor)
    POST   successions/                  name a product's successor from a switch week
    GET    successions/{sku}/            the succession of the replaced product {sku}
    PATCH  successions/{sku}/            change successor or switch week (with `version`)
    DELETE successions/{sku}/?version=   remove it (the product keeps its own demand)

Every write goes through demand.services.launches, the browser page's services: they
check every rule of the issue (a product as its own like, a discontinued like, a
successor loop...) before writing anything, and their errors become the API's 400 body
at the field; a stale `version` is a 409. There is no PUT.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.urls import include, path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework import status as http
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from coordination.api.base import ERRORS
from coordination.api.fields import MAX_INT, SkuField, VersionRequired, WeekField
from coordination.api.support import idempotent
from coordination.errors import StaleEditError
from coordination.models import Product
from coordination.services.locking import MAX_VERSION
from demand.models import LaunchPlan, LikeProduct, Succession
from demand.services import launches as services

READ = ["demand.view_demandforecast"]
WRITE = ["demand.view_demandforecast", services.PERMISSION]
NOT_FOUND = {404: ERRORS[404]}
REMOVED = {204: OpenApiResponse(description="Removed.")}
VERSION_HELP = "The version you read; a stale one is refused with 409."
VOLUME_HELP = (
    f"Weekly units at maturity, 1 to {services.MAX_LAUNCH_VOLUME:,}; null: the likes' own "
    "level times their weights."
)


# ---------------------------------------------------------------------------- serializers


class LikeSerializer(serializers.ModelSerializer):
    product = SkuField(source="like", read_only=True, help_text="SKU of the like product.")

    class Meta:
        model = LikeProduct
        fields = ["product", "weight"]
        read_only_fields = fields


class LaunchPlanSerializer(serializers.ModelSerializer):
    """A launch plan as every read and write returns it."""

    product = SkuField(read_only=True)
    launch_week = WeekField(read_only=True)
    likes = LikeSerializer(source="product.like_products", many=True, read_only=True)

    class Meta:
        model = LaunchPlan
        fields = [
            "product",
            "launch_week",
            "launch_volume",
            "ramp_weeks",
            "ramp_shape",
            "likes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LikeWriteSerializer(serializers.Serializer):
    # Plain text: the service says what is wrong with a SKU (unknown, the product itself,
    # discontinued, named twice), in the words the browser shows, at `likes`.
    product = serializers.CharField(max_length=32, help_text="SKU of a product that sells.")
    weight = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        default="1",
        help_text=f"{services.MIN_WEIGHT} to {services.MAX_WEIGHT}: 1 counts its units "
        "once, 0.5 half of them.",
    )


class _LaunchPlanFieldsSerializer(serializers.Serializer):
    launch_week = WeekField(help_text="First week on sale: 2027-W10 or a date in it.")
    launch_volume = serializers.IntegerField(
        allow_null=True,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text=VOLUME_HELP,
    )
    ramp_weeks = serializers.IntegerField(
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text=f"Weeks to full volume, 1 to {services.MAX_RAMP_WEEKS}.",
    )
    ramp_shape = serializers.ChoiceField(choices=LaunchPlan.RampShape.choices)
    # A ListField: its errors are keyed by position (`likes.0.weight`).
    likes = serializers.ListField(
        child=LikeWriteSerializer(),
        allow_empty=True,  # the service says when a forecast needs one
        max_length=100,
        help_text=f"The like products (at most {services.MAX_LIKES}).",
    )


class LaunchPlanCreateSerializer(_LaunchPlanFieldsSerializer):
    product = SkuField(help_text="SKU of the new product (concept or on sale).")
    launch_volume = serializers.IntegerField(
        allow_null=True,
        default=None,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text=VOLUME_HELP,
    )
    ramp_weeks = serializers.IntegerField(
        default=8, min_value=-MAX_INT, max_value=MAX_INT, help_text="Weeks to full volume."
    )
    ramp_shape = serializers.ChoiceField(
        choices=LaunchPlan.RampShape.choices, default=LaunchPlan.RampShape.LINEAR
    )
    likes = serializers.ListField(
        child=LikeWriteSerializer(), allow_empty=True, max_length=100, default=list
    )


class LaunchPlanUpdateSerializer(VersionRequired, _LaunchPlanFieldsSerializer):
    """Only the fields sent change; `likes`, when sent, replaces all likes."""

    version = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text=VERSION_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False


class RemoveQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text=VERSION_HELP)


class SuccessionSerializer(serializers.ModelSerializer):
    product = SkuField(read_only=True, help_text="SKU of the replaced product.")
    successor = SkuField(read_only=True)
    switch_week = WeekField(read_only=True)

    class Meta:
        model = Succession
        fields = ["product", "successor", "switch_week", "version", "created_at", "updated_at"]
        read_only_fields = fields


class SuccessionCreateSerializer(serializers.Serializer):
    product = SkuField(help_text="SKU of the product being replaced.")
    # Plain text: the service checks it (unknown, itself, discontinued, a loop).
    successor = serializers.CharField(max_length=32, help_text="SKU of the product taking over.")
    switch_week = WeekField(help_text="First week the successor sells instead: 2027-W10.")


class SuccessionUpdateSerializer(VersionRequired, serializers.Serializer):
    successor = serializers.CharField(max_length=32, required=False)
    switch_week = WeekField(required=False)
    version = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text=VERSION_HELP)


# ---------------------------------------------------------------------------- views


class _BySku(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rows with one per product, named in the URL by the product's SKU; `remove` is the
    service that deletes one (it checks the version)."""

    lookup_field = "product__sku"
    lookup_url_kwarg = "sku"
    # Anything up to the next slash, so a malformed SKU gets this API's JSON 404.
    lookup_value_regex = "[^/]+"
    filter_backends: list = []
    required_scopes = {"read": "forecasts:read", "write": "launches:write"}
    required_permissions = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
    }

    def _answer(self, obj, http_status=http.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=http_status)

    @staticmethod
    def _refuse_second(model, product: Product, what: str) -> None:
        existing = model.objects.filter(product=product).first()
        if existing is not None:
            raise StaleEditError(
                existing,
                f"{product.sku} has a {what} already (version {existing.version}): change "
                "it with PATCH, or remove it first.",
            )

    @extend_schema(parameters=[RemoveQuerySerializer], responses={**REMOVED, **ERRORS})
    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        query = RemoveQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.remove(
            actor=request.user,
            product=row.product,
            expected_version=query.validated_data["version"],
        )
        return Response(status=http.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Launch plans of new products, with their like products"),
    retrieve=extend_schema(
        summary="A product's launch plan",
        responses={200: LaunchPlanSerializer, **NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Remove a launch plan (the product is forecast by its own model only)"
    ),
)
class LaunchPlanViewSet(_BySku):
    """How new products are forecast until their own history speaks: like products,
    launch volume, ramp-up. A change recomputes the products' forecasts and plans."""

    serializer_class = LaunchPlanSerializer
    remove = staticmethod(services.launch_plan_remove)

    def get_queryset(self):
        return (
            LaunchPlan.objects.select_related("product")
            .order_by("product__sku")
            .prefetch_related(
                Prefetch(
                    "product__like_products",
                    queryset=LikeProduct.objects.select_related("like").order_by("like__sku"),
                )
            )
        )

    def _save(self, request, product: Product, expected_version: int, data: dict, current):
        likes = data.get("likes")
        return services.launch_plan_set(
            actor=request.user,
            product=product,
            launch_week=data.get("launch_week", current.get("launch_week")),
            launch_volume=data.get("launch_volume", current.get("launch_volume")),
            ramp_weeks=data.get("ramp_weeks", current.get("ramp_weeks")),
            ramp_shape=data.get("ramp_shape", current.get("ramp_shape")),
            likes=current.get("likes", [])
            if likes is None
            else [(like["product"].strip().upper(), like["weight"]) for like in likes],
            expected_version=expected_version,
        )

    @extend_schema(
        summary="Create a product's launch plan",
        request=LaunchPlanCreateSerializer,
        responses={201: LaunchPlanSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        body = LaunchPlanCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        product = data.pop("product")
        self._refuse_second(LaunchPlan, product, "launch plan")
        plan = self._save(request, product, 0, data, {})
        return self._answer(plan, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a launch plan (send `version`; `likes`, when sent, replaces them all)",
        request=LaunchPlanUpdateSerializer,
        responses={200: LaunchPlanSerializer, **ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        body = LaunchPlanUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        current = {
            "launch_week": plan.launch_week,
            "launch_volume": plan.launch_volume,
            "ramp_weeks": plan.ramp_weeks,
            "ramp_shape": plan.ramp_shape,
            "likes": [(like.like.sku, like.weight) for like in plan.product.like_products.all()],
        }
        saved = self._save(request, plan.product, data.pop("version"), data, current)
        return self._answer(saved)


class SuccessionFilter(django_filters.FilterSet):
    successor = django_filters.CharFilter(
        field_name="successor__sku", label="SKU of the successor: what it takes over"
    )

    class Meta:
        model = Succession
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Successions: replaced products and who takes over"),
    retrieve=extend_schema(
        summary="The succession of a replaced product",
        responses={200: SuccessionSerializer, **NOT_FOUND},
    ),
    destroy=extend_schema(summary="Remove a succession (the product keeps its own demand)"),
)
class SuccessionViewSet(_BySku):
    """A phased-out product's demand moves to its successor from the switch week, on the
    forecast and so on the production plan."""

    serializer_class = SuccessionSerializer
    remove = staticmethod(services.succession_remove)
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    filterset_class = SuccessionFilter

    def get_queryset(self):
        return Succession.objects.select_related("product", "successor").order_by("product__sku")

    def filter_queryset(self, queryset):
        # The filter belongs to the list only; detail actions look the SKU up directly.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(
        summary="Name a product's successor from a switch week",
        request=SuccessionCreateSerializer,
        responses={201: SuccessionSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        body = SuccessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        self._refuse_second(Succession, data["product"], "successor")
        succession = services.succession_set(
            actor=request.user,
            product=data["product"],
            successor_sku=data["successor"].upper(),
            switch_week=data["switch_week"],
            expected_version=0,
        )
        return self._answer(succession, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Change the successor or the switch week (send `version`)",
        request=SuccessionUpdateSerializer,
        responses={200: SuccessionSerializer, **ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        succession = self.get_object()
        body = SuccessionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        saved = services.succession_set(
            actor=request.user,
            product=succession.product,
            successor_sku=data.get("successor", succession.successor.sku).upper(),
            switch_week=data.get("switch_week", succession.switch_week),
            expected_version=data["version"],
        )
        return self._answer(saved)


router = SimpleRouter()
router.register("launch-plans", LaunchPlanViewSet, basename="launch-plan")
router.register("successions", SuccessionViewSet, basename="succession")

urlpatterns = [path("", include(router.urls))]
