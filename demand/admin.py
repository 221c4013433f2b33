"""Demand in the admin: for looking things up. Sales and forecasts are imported or
computed, promotions are a workflow on the promotion pages; only marketing adjustments
are changed here, through the same service the forecast page uses."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.template.defaultfilters import filesizeformat

from coordination.admin_support import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    app_page_link,
    rounded,
    safe_reverse,
)
from coordination.weeks import current_week, iso_label
from demand.models import (
    ChannelForecast,
    DemandForecast,
    ForecastFit,
    ForecastRun,
    LaunchPlan,
    LikeProduct,
    MarketingAdjustment,
    Promotion,
    PromotionItem,
    SalesActual,
    SalesImport,
    SharePriorFit,
    Succession,
)
from demand.services.adjustments import MAX_ABS_UNITS, adjustment_set


@admin.register(SalesActual)
class SalesActualAdmin(ReadOnlyAdmin):
    """Read-only: sales history comes in through the sales import services (all-or-
    nothing, with a recompute); a hand edit would skip both."""

    list_display = ("product", "week", "channel", "units", "updated_at")
    list_filter = ("channel", "product__product_line")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product",)
    date_hierarchy = "week"
    ordering = ("-week", "product__sku")
    show_full_result_count = False  # products × weeks: no second COUNT(*) per page


@admin.register(SalesImport)
class SalesImportAdmin(ReadOnlyAdmin):
    """Read-only: the audit record of an upload; previewed and applied on the sales
    import page."""

    list_display = (
        "filename",
        "source",
        "status",
        "row_count",
        "created_count",
        "updated_count",
        "products_count",
        "first_week",
        "last_week",
        "uploaded_by",
        "created_at",
        "applied_at",
    )
    list_filter = ("status", "source")
    search_fields = ("filename", "uploaded_by__username")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    # `content` (the whole file, possibly megabytes) is left out: its size is shown.
    fields = (
        "filename",
        "source",
        "status",
        "content_size",
        "row_count",
        "created_count",
        "updated_count",
        "products_count",
        "first_week",
        "last_week",
        "errors",
        "uploaded_by",
        "created_at",
        "applied_at",
        "seconds",
    )
    readonly_fields = ("content_size",)

    @admin.display(description="Kept file")
    def content_size(self, obj):
        return filesizeformat(len(obj.content.encode())) if obj.content else "—"


class PromotionItemInline(ReadOnlyInline):
    model = PromotionItem
    fields = ("product", "expected_lift_pct", "suggested_lift_pct", "suggestion_evidence")
    select_related = ("product",)


def _promotion_page(promotion):
    return safe_reverse("promotion_detail", promotion.pk)


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    """Read-only: editing items, lifts and status goes through the promotion services
    (permissions per status, lift suggestions, a recompute); do it on the promotion page."""

    list_display = (
        "name",
        "status",
        "channel",
        "discount_pct",
        "period",
        "item_count",
        "at_risk_reason",
        "updated_by",
        "updated_at",
    )
    list_filter = ("status", "channel", ("at_risk_reason", admin.EmptyFieldListFilter))
    search_fields = ("name", "items__product__sku")
    list_select_related = ("updated_by",)
    date_hierarchy = "start_week"
    ordering = ("-start_week", "name")
    readonly_fields = ("tandem_page",)
    inlines = (PromotionItemInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_total=Count("items"))

    @admin.display(description="Weeks", ordering="start_week")
    def period(self, obj):
        return obj.period_label

    @admin.display(description="Products", ordering="item_total")
    def item_count(self, obj):
        return obj.item_total

    def view_on_site(self, obj):
        return _promotion_page(obj)

    @admin.display(description="Changed on")
    def tandem_page(self, obj):
        return app_page_link(_promotion_page(obj), "the promotion page")


@admin.register(SharePriorFit)
class SharePriorFitAdmin(ReadOnlyAdmin):
    """Read-only: the company's sibling-share prior as the nightly re-plan fitted it
    (demand.services.share_prior); the newest row is the one in use."""

    list_display = (
        "id",
        "fitted_at",
        "lines",
        "pairs",
        "zero",
        "loss_weight",
        "loss_mean",
        "gain_weight",
        "gain_mean",
        "seconds",
    )
    ordering = ("-pk",)


@admin.register(ForecastRun)
class ForecastRunAdmin(ReadOnlyAdmin):
    """Read-only: the record of one run of the forecasting engine."""

    list_display = (
        "id",
        "status",
        "trigger",
        "first_week",
        "horizon_weeks",
        "products_count",
        "rows_written",
        "started_at",
        "finished_at",
    )
    list_filter = ("status",)
    search_fields = ("trigger",)
    date_hierarchy = "started_at"
    ordering = ("-started_at",)


@admin.register(ForecastFit)
class ForecastFitAdmin(ReadOnlyAdmin):
    """Read-only: what the engine chose per product in a run."""

    list_display = (
        "product",
        "run",
        "method",
        rounded("sigma"),
        "history_weeks",
        "used_predecessor",
    )
    list_filter = ("method", "used_predecessor")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product", "run")
    date_hierarchy = "run__started_at"
    ordering = ("-run_id", "product__sku")
    show_full_result_count = False


@admin.register(DemandForecast)
class DemandForecastAdmin(ReadOnlyAdmin):
    """Read-only: computed by the engine at each recompute; marketing corrects it with
    an adjustment, not by editing the row."""

    list_display = (
        "product",
        "week",
        rounded("baseline"),
        rounded("promotion_uplift", "promotion"),
        rounded("promotion_dip", "dip"),
        rounded("cannibalization", "taken by siblings"),
        rounded("halo", "added by siblings"),
        rounded("firm_orders"),
        rounded("adjustment"),
        rounded("final"),
        "method",
        "run",
    )
    list_filter = ("method", "product__product_line")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product", "run")
    date_hierarchy = "week"
    ordering = ("product__sku", "week")
    show_full_result_count = False


@admin.register(ChannelForecast)
class ChannelForecastAdmin(ReadOnlyAdmin):
    """Read-only: each channel's part of a product's forecast, computed at each
    recompute for products whose sales history names channels."""

    list_display = (
        "product",
        "week",
        "channel",
        rounded("baseline"),
        rounded("promotion_uplift", "promotion"),
        rounded("promotion_dip", "dip"),
        rounded("final"),
        "method",
        "run",
    )
    list_filter = ("channel", "product__product_line")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product", "run")
    date_hierarchy = "week"
    ordering = ("product__sku", "week", "channel")
    show_full_result_count = False


class MarketingAdjustmentForm(VersionedForm):
    class Meta:
        model = MarketingAdjustment
        fields = ("product", "week", "units", "reason")

    def clean_week(self):
        week = self.cleaned_data["week"]
        if week < current_week():
            raise ValidationError(
                f"{iso_label(week)} has started: adjust this week or a later one."
            )
        return week

    def clean_units(self):
        units = self.cleaned_data["units"]
        if units == 0:
            raise ValidationError("An adjustment moves the forecast: enter units other than 0.")
        if abs(units) > MAX_ABS_UNITS:
            raise ValidationError(f"An adjustment is at most ±{MAX_ABS_UNITS:,} units.")
        return units

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why: what marketing knows that the statistics do not.")
        return reason


@admin.register(MarketingAdjustment)
class MarketingAdjustmentAdmin(ServiceAdmin):
    """Editable through adjustment_set, which records it on the product's timeline and
    asks for a recompute; past weeks are history and only viewed."""

    form = MarketingAdjustmentForm
    list_display = ("product", "week", "units", "reason", "created_by", "updated_at")
    list_filter = ("product__product_line",)
    search_fields = ("product__sku", "product__name", "reason")
    list_select_related = ("product", "created_by")
    autocomplete_fields = ("product",)
    date_hierarchy = "week"
    ordering = ("-week", "product__sku")
    readonly_fields = ("created_by", "version", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # Product and week are the adjustment's identity: another week is another one.
        return ("product", "week", *self.readonly_fields) if obj else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.week < current_week():
            return False
        return super().has_change_permission(request, obj)

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        return adjustment_set(
            actor=request.user,
            product_id=obj.product_id,
            week=obj.week,
            units=data["units"],
            reason=data["reason"],
            # Adding: the editor saw no adjustment of that week (0), so adding over
            # one someone else made meanwhile is refused, not a silent overwrite.
            expected_version=data["expected_version"] if change else 0,
        )


def _launch_page(product) -> str | None:
    return safe_reverse("product_launch", product.sku)


class _OnTheLaunchPage(ReadOnlyAdmin):
    """Rows changed on the product's launch page, linked from here."""

    readonly_fields = ("tandem_page",)

    def view_on_site(self, obj):
        return _launch_page(obj.product)

    @admin.display(description="Changed on")
    def tandem_page(self, obj):
        return app_page_link(_launch_page(obj.product), "the product's launch page")


@admin.register(LaunchPlan)
class LaunchPlanAdmin(_OnTheLaunchPage):
    """Read-only: a launch plan is set on the product's launch page, through the service
    that checks the like products and asks for a recompute."""

    list_display = ("product", "launch_week", "launch_volume", "ramp_weeks", "ramp_shape")
    list_filter = ("ramp_shape",)
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product",)


@admin.register(LikeProduct)
class LikeProductAdmin(ReadOnlyAdmin):
    """Read-only: the like products of a launch plan, set with the plan."""

    list_display = ("product", "like", "weight")
    search_fields = ("product__sku", "like__sku")
    list_select_related = ("product", "like")


@admin.register(Succession)
class SuccessionAdmin(_OnTheLaunchPage):
    """Read-only: a succession is set on the replaced product's launch page, through the
    service that refuses loops and asks for a recompute of both products."""

    list_display = ("product", "successor", "switch_week", "updated_at")
    search_fields = ("product__sku", "successor__sku")
    list_select_related = ("product", "successor")
