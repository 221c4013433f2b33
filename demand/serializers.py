"""REST serializers of the demand app: one per action and direction, so the schema says
exactly what each endpoint takes and returns. They check shapes and types and resolve
SKUs; every business rule (ranges, lifecycle, transitions, overlap) lives in the
services, whose ValidationError the API turns into the shared 400 body."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordination.api.fields import SkuField, VersionRequired, WeekField
from coordination.models import ProductLine, RecomputeRequest
from coordination.services.locking import MAX_VERSION
from demand.models import (
    Channel,
    DemandForecast,
    MarketingAdjustment,
    Promotion,
    PromotionItem,
)
from demand.services import promotions as promotion_services

MAX_ITEMS = 200


# ---------------------------------------------------------------------------- fields


# ---------------------------------------------------------------------------- promotions


class PromotionItemSerializer(serializers.ModelSerializer):
    product = SkuField(read_only=True)

    class Meta:
        model = PromotionItem
        fields = ["product", "expected_lift_pct", "suggested_lift_pct", "suggestion_evidence"]
        read_only_fields = fields


class RecomputeProgressSerializer(serializers.ModelSerializer):
    """How far production got with the recompute a promotion asked for (a summary of
    coordination.RecomputeRequest; production's API serves the full record)."""

    class Meta:
        model = RecomputeRequest
        fields = [
            "id",
            "status",
            "source",
            "reason",
            "product_ids",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields


class PromotionSerializer(serializers.ModelSerializer):
    """A promotion as every read returns it. `recompute` is the latest recompute request
    the promotion caused (null for one that never reached the plan)."""

    start_week = WeekField(read_only=True)
    end_week = WeekField(read_only=True)
    items = PromotionItemSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    recompute = serializers.SerializerMethodField()

    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "channel",
            "discount_pct",
            "start_week",
            "end_week",
            "status",
            "notes",
            "at_risk_reason",
            "items",
            "created_by",
            "updated_by",
            "version",
            "created_at",
            "updated_at",
            "recompute",
        ]
        read_only_fields = fields

    @extend_schema_field(RecomputeProgressSerializer(allow_null=True))
    def get_recompute(self, promotion: Promotion):
        # The views hand over {promotion id: latest request}, fetched in one query.
        request = self.context.get("recomputes", {}).get(promotion.pk)
        return RecomputeProgressSerializer(request).data if request is not None else None


class PromotionSavedSerializer(PromotionSerializer):
    """A promotion as retrieve, create, update and status changes return it: with the
    other live promotions it overlaps on the same products, and the weeks that lie beyond
    the plan's horizon (planned as they enter it), for marketing to check."""

    warnings = serializers.SerializerMethodField()

    class Meta(PromotionSerializer.Meta):
        fields = [*PromotionSerializer.Meta.fields, "warnings"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, promotion: Promotion) -> list[str]:
        return self.context.get("warnings", [])


class PromotionItemWriteSerializer(serializers.Serializer):
    product = SkuField()
    expected_lift_pct = serializers.DecimalField(
        max_digits=7,
        decimal_places=1,
        help_text=f"Percent, {PromotionItem.MIN_LIFT} to {PromotionItem.MAX_LIFT}.",
    )


class _PromotionFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    channel = serializers.ChoiceField(choices=Promotion.Channel.choices)
    discount_pct = serializers.DecimalField(
        max_digits=5, decimal_places=1, help_text="Percent off, 0 to 90."
    )
    start_week = WeekField(help_text="First week: 2027-W23 or a date in it.")
    end_week = WeekField(help_text="Last week (inclusive): 2027-W25 or a date in it.")
    notes = serializers.CharField(allow_blank=True)
    # A ListField rather than many=True: its errors are keyed by position, so they reach
    # the client as `items.<i>.product`, and a non-list as plain `items`.
    items = serializers.ListField(
        child=PromotionItemWriteSerializer(),
        allow_empty=True,  # the service says why a promotion needs a product
        max_length=MAX_ITEMS,
        help_text="The promoted products.",
    )
    confirm_long = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Needed (true) to save a promotion longer than 26 weeks: without it such "
        "a promotion is a 400 at `confirm_long`.",
    )

    def _check_period(self, start: dt.date | None, end: dt.date | None) -> None:
        # The service's rule, run here beside the field checks so every error comes at once.
        try:
            promotion_services.check_period(start, end)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class PromotionCreateSerializer(_PromotionFieldsSerializer):
    channel = serializers.ChoiceField(
        choices=Promotion.Channel.choices, default=Promotion.Channel.ALL
    )
    notes = serializers.CharField(allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[
            (status, Promotion.Status(status).label)
            for status in promotion_services.STARTING_STATUSES
        ],
        default=Promotion.Status.DRAFT,
        help_text="Planned or confirmed promotions reach the production plan at once.",
    )

    def validate(self, attrs):
        self._check_period(attrs["start_week"], attrs["end_week"])
        return attrs


class PromotionUpdateSerializer(VersionRequired, _PromotionFieldsSerializer):
    """Only the fields sent change; `items`, when sent, replaces all items. The status
    changes through POST .../status/. Needs the promotion in the context."""

    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; a stale one is refused with 409."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False

    def validate(self, attrs):
        if isinstance(self.initial_data, dict) and "status" in self.initial_data:
            raise serializers.ValidationError(
                {"status": "Change the status with POST /api/v1/promotions/<id>/status/."}
            )
        promotion = self.context["promotion"]
        self._check_period(
            attrs.get("start_week", promotion.start_week), attrs.get("end_week", promotion.end_week)
        )
        return attrs


class PromotionStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Promotion.Status.choices)
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; a stale one is refused with 409."
    )


class LiftQuerySerializer(serializers.Serializer):
    product = SkuField(help_text="SKU of the product to promote.")
    discount = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=90, help_text="Percent off."
    )
    promotion = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A promotion to leave out of the history (the one being edited).",
    )


class PastEffectSerializer(serializers.Serializer):
    promotion = serializers.IntegerField(source="promotion_id")
    promotion_name = serializers.CharField()
    start_week = WeekField()
    end_week = WeekField()
    discount_pct = serializers.FloatField()
    baseline = serializers.FloatField(
        help_text="Mean weekly units the counterfactual (no promotion) expected during it."
    )
    lift_pct = serializers.FloatField()
    dip_pct = serializers.FloatField(
        allow_null=True, help_text="Change against the counterfactual in the 4 weeks after."
    )


class SiblingShareSerializer(serializers.Serializer):
    sibling = serializers.CharField(source="sibling_sku")
    share_pct = serializers.FloatField(
        help_text="Share of the promoted product's extra units this sibling loses; below 0 "
        "it gains them (a halo); 0: none learned."
    )
    measured_pct = serializers.FloatField(allow_null=True)
    promotions = serializers.IntegerField(help_text="Past promotions it was measured over.")
    learned = serializers.BooleanField()
    halo = serializers.BooleanField(help_text="The promotion lifts this sibling.")
    note = serializers.CharField()


class LiftSuggestionSerializer(serializers.Serializer):
    suggested_lift_pct = serializers.DecimalField(
        source="suggested_pct", max_digits=6, decimal_places=1, allow_null=True
    )
    evidence = serializers.CharField()
    product_count = serializers.IntegerField()
    product_avg = serializers.FloatField(allow_null=True)
    line_count = serializers.IntegerField()
    line_avg = serializers.FloatField(allow_null=True)
    elasticity = serializers.FloatField(
        allow_null=True, help_text="Lift points per point of discount, learned."
    )
    dip_pct = serializers.FloatField(
        allow_null=True, help_text="Learned dip after a promotion (<= 0); null: none."
    )
    dip_weeks = serializers.IntegerField(help_text="Weeks the learned dip lasts.")
    cannibalization = SiblingShareSerializer(many=True)
    past = PastEffectSerializer(source="effects", many=True)


# ---------------------------------------------------------------------------- forecasts


class ChannelForecastSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    baseline = serializers.FloatField()
    promotion_uplift = serializers.FloatField(
        help_text="Lift of the promotions of this channel (and of all channels)."
    )
    promotion_dip = serializers.FloatField(
        help_text="Dip (<= 0) after the promotions of this channel (and of all channels)."
    )
    final = serializers.FloatField(
        help_text="baseline + promotion_uplift + promotion_dip, never below 0."
    )
    method = serializers.CharField(
        help_text="The method the engine chose for this channel's own series (the product's "
        "`method` is that of its total)."
    )


class DemandForecastSerializer(serializers.ModelSerializer):
    """A forecast row; `channels` comes from the context's "channels" ({(product id,
    week): [ChannelForecast]}, read for the whole page by the view)."""

    product = SkuField(read_only=True)
    week = WeekField(read_only=True)
    channels = serializers.SerializerMethodField(
        help_text="The forecast per sales channel, for a product whose sales history names "
        "channels (their baselines add up to baseline); [] otherwise."
    )

    @extend_schema_field(ChannelForecastSerializer(many=True))
    def get_channels(self, forecast) -> list:
        found = self.context.get("channels", {}).get((forecast.product_id, forecast.week), [])
        return ChannelForecastSerializer(found, many=True).data

    class Meta:
        model = DemandForecast
        fields = [
            "id",
            "product",
            "week",
            "baseline",
            "promotion_uplift",
            "promotion_dip",
            "cannibalization",
            "cannibalized_by",
            "halo",
            "halo_from",
            "from_likes",
            "successor_transfer",
            "transferred_with",
            "firm_orders",
            "adjustment",
            "final",
            "method",
            "run",
            "channels",
        ]
        read_only_fields = fields


class AccuracyQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=104, default=13)
    line = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(), required=False, help_text="Product line id."
    )
    end = WeekField(required=False, help_text="First week after the window (default: this week).")


class AccuracySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="SKU, or the product line's name.")
    label = serializers.CharField()
    product_line = serializers.CharField()
    weeks = serializers.IntegerField(help_text="Weeks with both a forecast and an actual.")
    actual = serializers.FloatField()
    forecast = serializers.FloatField()
    wmape = serializers.FloatField(allow_null=True)
    bias = serializers.FloatField(allow_null=True)
    mase = serializers.FloatField(allow_null=True)
    fva = serializers.FloatField(allow_null=True, help_text="WMAPE points adjustments saved.")
    adjusted_weeks = serializers.IntegerField()


class AccuracyReportSerializer(serializers.Serializer):
    start = WeekField()
    end = WeekField()
    weeks = serializers.IntegerField()
    products = AccuracySerializer(many=True, help_text="Worst (highest WMAPE) first.")
    lines = AccuracySerializer(many=True)
    channels = AccuracySerializer(
        many=True,
        help_text="Per sales channel (key: the channel code), over the products whose "
        "sales history names channels; empty when none has. fva is null.",
    )


class AdjustmentWriteSerializer(serializers.Serializer):
    product = SkuField()
    week = WeekField()
    units = serializers.IntegerField(
        help_text="Added to the forecast; negative lowers it; 0 removes."
    )
    reason = serializers.CharField(allow_blank=True, max_length=300, default="")
    version = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="The version of the week's adjustment you read, or null if the week had "
        "none. Required: a stale one is refused with 409.",
    )


class AdjustmentSerializer(serializers.ModelSerializer):
    product = SkuField(read_only=True)
    week = WeekField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MarketingAdjustment
        fields = [
            "id",
            "product",
            "week",
            "units",
            "reason",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
