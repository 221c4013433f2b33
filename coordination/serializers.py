"""REST shapes of the coordination app: products, specifications, customer requests.

Read serializers turn rows into JSON. Input serializers check the *shape* of a request
body only (types, choices, that referenced rows exist); every business rule — ranges,
workflow states, who may do what — is the service's, so the browser and the API answer
the same way. Input serializers never save: the viewset passes `validated_data` to
the service.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordination.api.fields import MAX_INT, NamedField, SkuField, VersionRequired, WeekField
from coordination.models import (
    CustomerRequest,
    Department,
    Line,
    Product,
    ProductLine,
    Specification,
)
from coordination.selectors.products import current_specification
from coordination.services import customer_requests as request_services

# --------------------------------------------------------------------------- errors


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers (see coordination.api_support.exception_handler)."""

    # The docstring is the schema's description of this body, published in the OpenAPI
    # document; it keeps its words although the handler now lives in coordination.api.support.

    error = ErrorDetailSerializer()


# --------------------------------------------------------------------------- fields


def _text_list(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=1000),
        max_length=200,
        **kwargs,
    )


# ------------------------------------------------------------------------ products


class SpecificationSummarySerializer(serializers.ModelSerializer):
    """The specification in force, as embedded in a product."""

    class Meta:
        model = Specification
        fields = ["number", "effective_from", "colours", "package_sizes", "features", "materials"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    product_line = serializers.SlugRelatedField(slug_field="name", read_only=True)
    production_line = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    predecessor = serializers.SlugRelatedField(slug_field="sku", read_only=True, allow_null=True)
    current_specification = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField(help_text="The currency of every price and cost.")

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "product_line",
            "lifecycle",
            "quality_tier",
            "unit_price",
            "unit_cost",
            "shortage_margin",
            "currency",
            "production_line",
            "lead_time_weeks",
            "minimum_batch",
            "batch_size",
            "shelf_life_weeks",
            "min_remaining_life_weeks",
            "target_service_level",
            "predecessor",
            "current_specification",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def get_currency(self, product: Product) -> str:
        return settings.CURRENCY

    @extend_schema_field(SpecificationSummarySerializer(allow_null=True))
    def get_current_specification(self, product: Product):
        # The viewset prefetches the version in force as `in_force_specifications`.
        in_force = getattr(product, "in_force_specifications", None)
        if in_force is None:
            spec = current_specification(product)
        else:
            spec = in_force[0] if in_force else None
        return SpecificationSummarySerializer(spec).data if spec is not None else None


class ProductInputSerializer(serializers.Serializer):
    """POST /products/ body. Ranges and uniqueness are checked by the service."""

    sku = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=120)
    product_line = NamedField(
        slug_field="name",
        queryset=ProductLine.objects.all(),
        error_messages={"does_not_exist": "No product line named {value}."},
    )
    lifecycle = serializers.ChoiceField(choices=Product.Lifecycle.choices, required=False)
    quality_tier = serializers.ChoiceField(choices=Product.QualityTier.choices, required=False)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    shortage_margin = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Margin lost per unit the plan cannot supply; null: price - cost.",
    )
    production_line = NamedField(
        slug_field="name",
        queryset=Line.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No production line named {value}."},
    )
    lead_time_weeks = serializers.IntegerField(
        required=False, min_value=-MAX_INT, max_value=MAX_INT
    )
    minimum_batch = serializers.IntegerField(
        required=False,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text="The minimum run: a week's production is 0 or at least this many units.",
    )
    batch_size = serializers.IntegerField(
        required=False,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text="Production comes in whole multiples of this many units.",
    )
    shelf_life_weeks = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text="Weeks a unit stays sellable after it is made; null: it keeps.",
    )
    min_remaining_life_weeks = serializers.IntegerField(
        required=False,
        min_value=-MAX_INT,
        max_value=MAX_INT,
        help_text="Weeks of shelf life customers require left when a unit ships.",
    )
    target_service_level = serializers.DecimalField(max_digits=4, decimal_places=3, required=False)
    predecessor = SkuField(required=False, allow_null=True)


class ProductUpdateSerializer(VersionRequired, ProductInputSerializer):
    """PATCH /products/{sku}/ body: any editable field, plus the version that was read."""

    sku = None  # A SKU names the product for good; see validate().
    version = serializers.IntegerField(min_value=1, max_value=MAX_INT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False

    def validate(self, attrs):
        sku = self.initial_data.get("sku") if isinstance(self.initial_data, dict) else None
        product = self.context.get("product")
        if sku is not None and (product is None or sku != product.sku):
            raise serializers.ValidationError({"sku": "A product's SKU cannot be changed."})
        return attrs


# ------------------------------------------------------------------ specifications


class SpecificationSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    cited_requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Specification
        fields = [
            "product",
            "number",
            "status",
            "colours",
            "package_sizes",
            "features",
            "materials",
            "effective_from",
            "effective_until",
            "rationale",
            "cited_requests",
            "author",
            "proposed_at",
            "reviewed_by",
            "reviewed_at",
            "feasibility_note",
            "unit_cost_impact",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SpecificationCreateSerializer(serializers.Serializer):
    colours = _text_list(required=False)
    package_sizes = _text_list(required=False)
    features = _text_list(required=False)
    materials = _text_list(required=False)
    effective_from = WeekField(required=False, allow_null=True)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    cited_requests = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT),
        required=False,
        max_length=500,
    )
    propose = serializers.BooleanField(
        required=False, default=False, help_text="Propose it right away instead of a draft."
    )


class VersionSerializer(serializers.Serializer):
    """The body of an action that needs nothing but the version the client read."""

    version = serializers.IntegerField(min_value=1, max_value=MAX_INT)


class SpecificationReviewSerializer(VersionSerializer):
    feasibility_note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000
    )
    unit_cost_impact = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )


class SpecificationApproveSerializer(SpecificationReviewSerializer):
    effective_from = WeekField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out to keep the proposed week; or move it later.",
    )


# ---------------------------------------------------------------- customer requests


class FeasibilitySerializer(serializers.Serializer):
    feasible = serializers.BooleanField()
    extra_unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    lead_time_weeks = serializers.IntegerField(
        source="feasibility_lead_time_weeks", allow_null=True
    )
    note = serializers.CharField(source="feasibility_note")


class CustomerRequestSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    feasibility = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = CustomerRequest
        fields = [
            "id",
            "customer_name",
            "customer_account",
            "channel",
            "kind",
            "product",
            "summary",
            "details",
            "quantity",
            "wanted_week",
            "preference",
            "priority",
            "status",
            "department",
            "assignee",
            "due_date",
            "is_overdue",
            "created_by",
            "feasibility",
            "quoted_unit_price",
            "quote_floor_reason",
            "resolution",
            "allowed_actions",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(FeasibilitySerializer(allow_null=True))
    def get_feasibility(self, obj: CustomerRequest):
        if obj.feasible is None:
            return None
        return FeasibilitySerializer(obj).data

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=list(request_services.ACTIONS)))
    )
    def get_allowed_actions(self, obj: CustomerRequest) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [action.name for action in request_services.allowed_actions(request.user, obj)]


class CustomerRequestCreateSerializer(serializers.Serializer):
    customer_name = serializers.CharField(max_length=120)
    customer_account = serializers.CharField(max_length=40, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=CustomerRequest.Channel.choices)
    kind = serializers.ChoiceField(choices=CustomerRequest.Kind.choices)
    product = SkuField(required=False, allow_null=True)
    summary = serializers.CharField(max_length=200)
    details = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    quantity = serializers.IntegerField(
        required=False, allow_null=True, min_value=-MAX_INT, max_value=MAX_INT
    )
    wanted_week = WeekField(required=False, allow_null=True)
    preference = serializers.ChoiceField(choices=CustomerRequest.Preference.choices, required=False)
    priority = serializers.ChoiceField(choices=CustomerRequest.Priority.choices, required=False)
    department = serializers.ChoiceField(
        choices=Department.choices,
        required=False,
        allow_null=True,
        help_text="Leave out to route by kind.",
    )


class RouteSerializer(VersionSerializer):
    department = serializers.ChoiceField(choices=Department.choices)
    assignee = NamedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "No active user named {value}."},
    )
    priority = serializers.ChoiceField(
        choices=CustomerRequest.Priority.choices, required=False, allow_null=True, default=None
    )


class FeasibilityAnswerSerializer(VersionSerializer):
    feasible = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    extra_unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    lead_time_weeks = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-MAX_INT, max_value=MAX_INT
    )


class QuoteSerializer(VersionSerializer):
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-MAX_INT, max_value=MAX_INT
    )
    wanted_week = WeekField(required=False, allow_null=True, default=None)
    confirm_below_floor = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Quote a price below cost, or below the margin floor, anyway "
        "(with `floor_reason`). Without it such a quote is a 400 at `confirm_below_floor`.",
    )
    floor_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )


class ChangeOrderSerializer(VersionSerializer):
    quantity = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-MAX_INT, max_value=MAX_INT
    )
    wanted_week = WeekField(required=False, allow_null=True, default=None)
    # Blank or missing: the service says what it needs, beside the other fields' errors.
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class DeclineSerializer(VersionSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class ResolveSerializer(VersionSerializer):
    resolution = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000
    )
