"""REST representations of production: input validation for the API edge, and one
serializer per resource that every reader (API, CSV export, webhooks) shares.

Inputs are checked for shape and type here; business rules (past weeks, ranges, hold,
stale edits) stay in the services, whose errors the shared handler turns into 400/409."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordination.api.fields import MAX_INT, VersionRequired, WeekField, parse_api_week
from coordination.models import Line, Product, RecomputeRequest
from coordination.weeks import add_weeks, current_week, weeks_between
from production.engine.explain import whole_units
from production.models import CapacityException, QuotaRecommendation, RecomputeRun, ScheduleEntry
from production.selectors.channel_split import channel_splits
from production.selectors.schedule import recommendation_explanation

MAX_ID = 2**63 - 1
LINE_LOAD_MAX_WEEKS = 104


# --- Fields ---------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class LineRefField(serializers.Field):
    """A line by id (3 or "3") or by name ("Bottling 1")."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise serializers.ValidationError("Name a line by its id or its name.")
        text = str(data).strip()
        line = Line.objects.filter(name=text).first()
        if line is None and text.isascii() and text.isdigit() and int(text) <= MAX_ID:
            line = Line.objects.filter(pk=int(text)).first()
        if line is None:
            raise serializers.ValidationError(f"There is no line {text!r}.")
        return line

    def to_representation(self, value):
        return value.name


class ProductRefField(serializers.SlugRelatedField):
    """A product by its SKU."""

    default_error_messages = {
        "does_not_exist": "There is no product with SKU {value}.",
        "invalid": "Name the product by its SKU.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Product.objects.all())
        super().__init__(slug_field="sku", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(str(data).strip())


def _with_week_range(fields: dict, *, required: bool = False) -> dict:
    # "from" is a Python keyword, so these fields cannot be class attributes.
    fields["from"] = WeekField(iso_label=True, required=required)
    fields["to"] = WeekField(iso_label=True, required=required)
    return fields


def _check_week_order(attrs: dict) -> dict:
    if attrs.get("from") and attrs.get("to") and attrs["to"] < attrs["from"]:
        raise serializers.ValidationError({"to": "The last week must not be before the first."})
    return attrs


# --- Query parameters -----------------------------------------------------------------


class WeekRangeQuerySerializer(serializers.Serializer):
    """?line=<id or name>&product=<sku>&from=<week>&to=<week>; blank values are ignored."""

    line = LineRefField(required=False)
    product = ProductRefField(required=False)

    def __init__(self, *, query_params, **kwargs):
        data = {key: value for key, value in query_params.items() if value.strip()}
        super().__init__(data=data, **kwargs)

    def get_fields(self):
        return _with_week_range(super().get_fields())

    def validate(self, attrs):
        return _check_week_order(attrs)

    def selector_filters(self) -> dict:
        data = self.validated_data
        return {
            "line_id": data["line"].pk if "line" in data else None,
            "product_id": data["product"].pk if "product" in data else None,
            "week_from": data.get("from"),
            "week_to": data.get("to"),
        }


class ScheduleQuerySerializer(WeekRangeQuerySerializer):
    changed_since = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ID,
        help_text="A schedule version: return what was created or superseded after it.",
    )

    def selector_filters(self) -> dict:
        return {
            **super().selector_filters(),
            "changed_since": self.validated_data.get("changed_since"),
        }


class LineLoadQuerySerializer(serializers.Serializer):
    """?line=<id or name>&from=<week>&to=<week>: every line (or one) and every week from
    `from` (default this week) to `to` (default the end of the planning horizon), at most
    LINE_LOAD_MAX_WEEKS weeks."""

    line = LineRefField(required=False)

    def __init__(self, *, query_params, **kwargs):
        data = {key: value for key, value in query_params.items() if value.strip()}
        super().__init__(data=data, **kwargs)

    def get_fields(self):
        return _with_week_range(super().get_fields())

    def validate(self, attrs):
        attrs = _check_week_order(attrs)
        first = attrs.get("from") or current_week()
        last = attrs.get("to") or add_weeks(first, settings.PLANNING_HORIZON_WEEKS - 1)
        if last < first:
            raise serializers.ValidationError({"to": "The last week must not be before the first."})
        if weeks_between(first, last) >= LINE_LOAD_MAX_WEEKS:
            raise serializers.ValidationError(
                {"to": f"Ask for at most {LINE_LOAD_MAX_WEEKS} weeks at a time."}
            )
        attrs["from"], attrs["to"] = first, last
        return attrs

    def selector_arguments(self) -> dict:
        data = self.validated_data
        lines = [data["line"]] if "line" in data else list(Line.objects.order_by("name"))
        weeks = [
            add_weeks(data["from"], k) for k in range(weeks_between(data["from"], data["to"]) + 1)
        ]
        return {"lines": lines, "weeks": weeks}


# --- Quotas and the schedule ----------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class WholeUnitsField(serializers.ReadOnlyField):
    """A quota in whole units (production.engine.explain.whole_units), as the dashboard
    and the schedule state it."""

    def to_representation(self, value):
        return whole_units(value)


class QuotaRecommendationListSerializer(serializers.ListSerializer):
    """Reads the channel splits of a whole page of recommendations in one query, for
    their explanations (instead of one query per row)."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        self.context["channel_splits"] = channel_splits(rows)
        return super().to_representation(rows)


class QuotaRecommendationSerializer(serializers.ModelSerializer):
    """One recommended quota and the terms that explain it. `recommended_units` is whole
    units (whole batches of the product); `stock_cap` is the most stock the shelf life
    lets the arrival week end with (null: the product keeps), `shelf_life_capped` says the
    cap held stock down while a later week is short, `unplannable` why the plant cannot
    make the product at all (blank: it can)."""

    recommended_units = WholeUnitsField()
    product = serializers.CharField(source="product.sku")
    line = serializers.CharField(source="line.name")
    week = WeekField(iso_label=True)
    week_start = serializers.DateField(source="week")
    covers_week = WeekField(iso_label=True)
    run = serializers.IntegerField(source="run_id")
    accepted_units = serializers.IntegerField(allow_null=True)
    accepted_entry = serializers.IntegerField(
        allow_null=True,
        help_text="The accepted schedule entry of this cell (null: none yet): send it as "
        "`seen_entry_id` to accept or override.",
    )
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = QuotaRecommendation
        fields = [
            "id",
            "product",
            "line",
            "week",
            "week_start",
            "covers_week",
            "recommended_units",
            "baseline",
            "promotion_uplift",
            "promotion_dip",
            "cannibalization",
            "cannibalized_by",
            "halo",
            "halo_from",
            "firm_orders",
            "adjustment",
            "demand",
            "safety_stock",
            "stock_before_arrival",
            "net_requirement",
            "projected_on_hand",
            "prebuild_units",
            "capacity_cut_units",
            "shortage_units",
            "hold_reason",
            "frozen",
            "stock_cap",
            "shelf_life_capped",
            "unplannable",
            "run",
            "accepted_units",
            "accepted_entry",
            "explanation",
        ]
        read_only_fields = fields
        list_serializer_class = QuotaRecommendationListSerializer

    def get_explanation(self, rec) -> str:
        splits = self.context.get("channel_splits")
        if splits is None:
            return recommendation_explanation(rec)
        return recommendation_explanation(rec, splits.get((rec.product_id, rec.covers_week)))


class ScheduleEntrySerializer(serializers.ModelSerializer):
    """One accepted quota. `revision` is the schedule version that created it;
    `superseded` entries appear only in changed_since pulls, so a mirror can drop them."""

    product = serializers.CharField(source="product.sku")
    line = serializers.CharField(source="line.name")
    week = WeekField(iso_label=True)
    week_start = serializers.DateField(source="week")
    revision = serializers.IntegerField(source="revision_id")
    accepted_by = serializers.CharField(source="accepted_by.username")
    superseded = serializers.SerializerMethodField()
    superseded_by = serializers.IntegerField(source="superseded_by_id", allow_null=True)

    class Meta:
        model = ScheduleEntry
        fields = [
            "id",
            "product",
            "line",
            "week",
            "week_start",
            "units",
            "kind",
            "reason",
            "recommended_units",
            "revision",
            "accepted_by",
            "accepted_at",
            "superseded",
            "superseded_by",
            "superseded_at",
        ]
        read_only_fields = fields

    def get_superseded(self, entry) -> bool:
        return entry.superseded_at is not None


def _allow_over_capacity() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text="Plan it even if a week of the line ends over capacity; needs a `reason`. "
        "Without it, such a decision is a 409 `over_capacity` naming the weeks and hours "
        "over, and nothing is written.",
    )


def _reason(help_text: str) -> serializers.CharField:
    # The reason's presence is the service's rule (with its message).
    return serializers.CharField(
        max_length=ScheduleEntry._meta.get_field("reason").max_length,
        required=False,
        allow_blank=True,
        default="",
        help_text=help_text,
    )


_CAPACITY_REASON = "Why the line may go over capacity (with `allow_over_capacity`)."


class QuotaAcceptSerializer(serializers.Serializer):
    product = ProductRefField()
    week = WeekField(iso_label=True)
    seen_run_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="The run of the recommendation you saw (its `run`); 409 if a recompute "
        "replaced it.",
    )
    seen_entry_id = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The accepted schedule entry your decision replaces (the recommendation's "
        "`accepted_entry`), or null if none was accepted yet. Required: 409, naming who "
        "changed the cell and to what, if someone accepted or overrode it since.",
    )
    allow_over_capacity = _allow_over_capacity()
    reason = _reason(_CAPACITY_REASON)


class QuotaOverrideSerializer(QuotaAcceptSerializer):
    # Range and the reason's presence are the service's rules (with its messages).
    units = serializers.IntegerField(max_value=MAX_ID, min_value=-MAX_ID)
    reason = _reason(
        "Why you override the recommendation; also the reason for going over capacity "
        "(with `allow_over_capacity`)."
    )


class QuotaAcceptRangeSerializer(serializers.Serializer):
    line = LineRefField()
    seen_schedule_version = serializers.IntegerField(
        min_value=0,
        max_value=MAX_ID,
        help_text="The schedule version you decided on (`X-Schedule-Version` of "
        "GET /api/v1/schedules/, 0 before the first). Required: 409, naming who changed "
        "what, if a cell this would change was accepted or overridden after it.",
    )
    allow_over_capacity = _allow_over_capacity()
    reason = _reason(_CAPACITY_REASON)

    def get_fields(self):
        return _with_week_range(super().get_fields(), required=True)

    def validate(self, attrs):
        return _check_week_order(attrs)


class OverCapacityWeekSerializer(serializers.Serializer):
    """One line's week: the hours its accepted schedule needs against its capacity."""

    line = serializers.CharField()
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W50.")
    week_start = serializers.DateField()
    accepted_hours = serializers.FloatField(help_text="Accepted units x hours per unit.")
    capacity_hours = serializers.FloatField(
        help_text="The line's hours that week (its normal hours or a capacity exception's)."
    )
    over_capacity_hours = serializers.FloatField(help_text="Hours over capacity (0: it fits).")


class OverCapacityErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="`over_capacity` (or `stale_edit`).")
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    weeks = OverCapacityWeekSerializer(
        many=True, required=False, help_text="With `over_capacity`: each week over capacity."
    )


class OverCapacityErrorSerializer(serializers.Serializer):
    """A 409: a stale edit, or a decision that leaves weeks over capacity."""

    error = OverCapacityErrorDetailSerializer()


class KeptOverrideSerializer(serializers.Serializer):
    product = serializers.CharField()
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W50.")
    units = serializers.IntegerField()
    reason = serializers.CharField()
    entry = serializers.IntegerField(help_text="The override's schedule entry.")


class AcceptRangeResultSerializer(serializers.Serializer):
    """`kept_overrides`: cells a person overrode, which a range accept leaves as they are
    (accept a cell on its own to replace its override)."""

    revision = serializers.IntegerField(allow_null=True)
    entries = serializers.IntegerField()
    kept_overrides = KeptOverrideSerializer(many=True)


# --- Recompute runs and requests ------------------------------------------------------


class RecomputeRunSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name", allow_null=True)
    line_id = serializers.IntegerField(allow_null=True)
    first_week = WeekField(iso_label=True, allow_null=True)
    seconds = serializers.FloatField(allow_null=True)
    requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = RecomputeRun
        fields = [
            "id",
            "line",
            "line_id",
            "trigger",
            "state",
            "error",
            "started_at",
            "finished_at",
            "seconds",
            "worker",
            "heartbeat_at",
            "product_ids",
            "first_week",
            "horizon_weeks",
            "forecast_rows",
            "recommendation_rows",
            "changed_cells",
            "prebuild_units",
            "shortage_units",
            "plan_method",
            "relaxation_gap",
            "timings",
            "requests",
        ]
        read_only_fields = fields


class RecomputeRequestSerializer(serializers.ModelSerializer):
    finished = serializers.BooleanField(source="is_finished")
    runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = RecomputeRequest
        fields = [
            "id",
            "status",
            "finished",
            "source",
            "reason",
            "product_ids",
            "line_ids",
            "created_at",
            "enqueued_at",
            "started_at",
            "finished_at",
            "error",
            "runs",
        ]
        read_only_fields = fields


# --- Lines and capacity ---------------------------------------------------------------


class LineSerializer(serializers.ModelSerializer):
    weekly_capacity_hours = serializers.DecimalField(
        max_digits=8, decimal_places=1, coerce_to_string=False
    )

    class Meta:
        model = Line
        fields = [
            "id",
            "name",
            "weekly_capacity_hours",
            "frozen_window_weeks",
            "holding_cost_rate_pct",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class LineUpdateSerializer(VersionRequired, serializers.Serializer):
    """PATCH: the version the client read (409 if the line changed since) and the
    fields to change. Ranges are the service's rules."""

    version = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    weekly_capacity_hours = serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False
    )
    frozen_window_weeks = serializers.IntegerField(
        required=False, min_value=-MAX_ID, max_value=MAX_ID
    )
    holding_cost_rate_pct = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        allow_null=True,
        help_text="Yearly holding cost, % of unit cost (0-100); null: the company's rate.",
    )


class CapacityExceptionSerializer(serializers.ModelSerializer):
    week = WeekField(iso_label=True)
    week_start = serializers.DateField(source="week")
    hours = serializers.DecimalField(max_digits=8, decimal_places=1, coerce_to_string=False)
    line = serializers.IntegerField(source="line_id")

    class Meta:
        model = CapacityException
        fields = ["id", "line", "week", "week_start", "hours", "note", "created_at"]
        read_only_fields = fields


class CapacityExceptionSetSerializer(serializers.Serializer):
    week = WeekField(iso_label=True)
    hours = serializers.DecimalField(max_digits=None, decimal_places=None)
    note = serializers.CharField(
        max_length=CapacityException._meta.get_field("note").max_length,
        required=False,
        allow_blank=True,
        default="",
    )


# --- Promises (capable-to-promise) -------------------------------------------------------

_MAX_UNITS = {"max_value": "That is more than any plan holds: ask for at most {max_value}."}


class _UnitsField(serializers.IntegerField):
    """Whole units, bounded to what a database integer holds; more than 0 is the
    service's rule (production.selectors.promise), worded there."""

    def __init__(self, **kwargs):
        super().__init__(max_value=MAX_INT, min_value=-MAX_INT, error_messages=_MAX_UNITS, **kwargs)


class PromiseRequestSerializer(serializers.Serializer):
    """{"product", "quantity", "week"}, or {"product", "per_week": {week: units}}."""

    product = serializers.CharField(max_length=40, help_text="The product's SKU.")
    quantity = _UnitsField(required=False, help_text="Units wanted by `week`.")
    week = WeekField(required=False, help_text="The week the customer wants it by.")
    per_week = serializers.DictField(
        child=_UnitsField(),
        required=False,
        allow_empty=False,
        help_text="Instead of quantity and week: units wanted per week, "
        '{"2027-W10": 400, "2027-W12": 400}.',
    )

    def validate_per_week(self, value):
        weeks: dict = {}
        for key, units in value.items():
            try:
                week = parse_api_week(key)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
            if week is None:
                raise serializers.ValidationError("Name each week, e.g. 2027-W10.")
            weeks[week] = weeks.get(week, 0) + units
        return weeks

    def validate(self, attrs):
        if "per_week" in attrs:
            extra = sorted({"quantity", "week"} & set(attrs))
            if extra:
                raise serializers.ValidationError(
                    {key: ["Give quantity and week, or per_week, not both."] for key in extra}
                )
            return attrs
        missing = {
            "quantity": "Give the units wanted, e.g. 800.",
            "week": "Choose the week, e.g. 2027-W10.",
        }
        errors = {name: [text] for name, text in missing.items() if name not in attrs}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PromiseWeekSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO week, e.g. 2027-W10.")
    units = serializers.FloatField()


class PromiseDisplacedSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="SKU whose forecast demand becomes short.")
    week = serializers.CharField(help_text="The week the shortfall is waiting at its end.")
    units = serializers.FloatField(help_text="Units more waiting then than in the plan.")


class PromiseSerializer(serializers.Serializer):
    """What production.selectors.promise.promise_answer answers."""

    product = serializers.CharField()
    line = serializers.CharField(help_text="The line that makes it.")
    plan_run = serializers.IntegerField(help_text="The recompute run of the plan asked.")
    quantity = serializers.FloatField(help_text="Units asked for in all.")
    week = serializers.CharField(help_text="The wanted week (the last one asked for).")
    requested = PromiseWeekSerializer(many=True)
    available = serializers.FloatField(
        help_text="Units deliverable by the weeks asked without breaking a firm order or "
        "the frozen window."
    )
    full = serializers.BooleanField(help_text="The whole quantity by the wanted week.")
    earliest_week = serializers.CharField(
        allow_null=True,
        help_text="The earliest week by which the whole quantity can be delivered; null "
        "when not within the plan's horizon (see `reason`).",
    )
    reason = serializers.CharField(help_text="Why there is no earliest week, else empty.")
    delivers = PromiseWeekSerializer(
        many=True,
        help_text="The deliveries the figures below describe: the whole order at the "
        "earliest week, or the available part at the weeks asked.",
    )
    uses = PromiseWeekSerializer(
        many=True, help_text="Weeks whose production of the product grows, and by how much."
    )
    displaces = PromiseDisplacedSerializer(many=True)


# --- A promotion's economics ------------------------------------------------------------


def _money(**kwargs) -> serializers.DecimalField:
    """Money to the cent, rounded half-even (the rounding happens here, at presentation)."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=2, rounding=ROUND_HALF_EVEN, allow_null=True, **kwargs
    )


class EconomicsTermSerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        choices=[
            "extra_units_margin",
            "discount_given_away",
            "holding_cost",
            "displaced_margin",
            "post_promotion_dip",
        ]
    )
    label = serializers.CharField()
    amount = _money(help_text="Signed: a cost is negative. Null: no price to value it.")
    explanation = serializers.CharField(help_text="How the amount is computed, per product.")


class PromotionEconomicsSerializer(serializers.Serializer):
    """What production.selectors.economics.promotion_money answers."""

    promotion = serializers.IntegerField(source="promotion.pk")
    name = serializers.CharField(source="promotion.name")
    status = serializers.CharField(source="promotion.status")
    channel = serializers.CharField(source="promotion.channel")
    discount_pct = serializers.DecimalField(
        source="promotion.discount_pct", max_digits=5, decimal_places=1
    )
    currency = serializers.CharField(source="economics.currency")
    priced_week = WeekField(iso_label=True, help_text="The week whose prices and costs count.")
    incremental_units = serializers.DecimalField(
        source="economics.incremental_units", max_digits=None, decimal_places=1,
        help_text="Extra units the promotion sells (the lift the plan can supply).",
    )  # fmt: skip
    incremental_revenue = _money(source="economics.incremental_revenue")
    incremental_margin = _money(
        source="economics.incremental_margin",
        help_text="Margin on the extra units less the discount given away on baseline units.",
    )
    net = _money(source="economics.net", help_text="Null when a product has no price.")
    pays = serializers.BooleanField(source="economics.pays", allow_null=True)
    break_even_lift_pct = serializers.DecimalField(
        source="economics.break_even_lift_pct",
        max_digits=None,
        decimal_places=1,
        rounding=ROUND_HALF_EVEN,
        allow_null=True,
        help_text="The lift from which it pays; null when it never pays at this discount.",
    )
    break_even = serializers.CharField(source="economics.break_even")
    no_price = serializers.ListField(
        source="economics.no_price",
        child=serializers.CharField(),
        help_text="SKUs without a list price: their money cannot be counted.",
    )
    terms = EconomicsTermSerializer(source="economics.terms", many=True)
    lines = serializers.ListField(
        child=serializers.CharField(), help_text="Lines planned with and without it."
    )
    weeks_not_counted = serializers.CharField(
        help_text="Weeks already past or beyond the horizon, else empty."
    )
