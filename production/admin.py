"""Production in the admin. Webhook endpoints are registered through the API (the only
place their secret is shown); here staff can see them, pause or delete them, and read
deliveries. Line capacity and run rates are changed through the capacity services (each
re-plans); stock, holds and everything the planner computes are read-only."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from coordination.admin_support import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    app_page_link,
    rounded,
    safe_reverse,
)
from coordination.models import Line
from production.models import (
    CapacityException,
    InventoryPosition,
    ProductionHold,
    QuotaRecommendation,
    RecomputeRun,
    RunRate,
    ScheduleEntry,
    ScheduleRevision,
    WebhookDelivery,
    WebhookEndpoint,
)
from production.services import capacity, webhooks


class WebhookEndpointForm(forms.ModelForm):
    # A URL typed without a scheme is taken as https (Django 6's default, chosen now).
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "lines", "is_active", "disabled_at"]

    def clean_url(self):
        # A new URL meets the rule of registering: no private, loopback or reserved
        # addresses. An unchanged one is left alone, so staff can always pause an
        # endpoint (each delivery checks its address anyway).
        url = self.cleaned_data["url"]
        if url == self.instance.url:
            return url
        try:
            return webhooks.webhook_url_check(url)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["id", "name", "url", "owner", "created_by", "is_active", "failure_count"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    # `secret` is not editable, so it never appears in a form; listed nowhere either.
    fields = [
        "name",
        "url",
        "lines",
        "owner",
        "created_by",
        "is_active",
        "failure_count",
        "disabled_at",
        "created_at",
    ]
    readonly_fields = ["owner", "created_by", "failure_count", "created_at"]
    filter_horizontal = ["lines"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "endpoint", "status", "attempts", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ------------------------------------------------------------- lines and capacity


class CapacityExceptionInline(ReadOnlyInline):
    """Shown, not edited: set exceptions on the line page (capacity_exception_set re-plans
    the line; past weeks are history)."""

    model = CapacityException
    fields = ("week", "hours", "note", "created_by", "created_at")
    ordering = ("-week",)
    select_related = ("created_by",)


class LineForm(VersionedForm):
    class Meta:
        model = Line
        fields = ("weekly_capacity_hours", "frozen_window_weeks", "holding_cost_rate_pct")

    def clean_weekly_capacity_hours(self):
        hours = self.cleaned_data["weekly_capacity_hours"]
        if not Decimal("0") <= hours <= capacity.MAX_HOURS:
            raise ValidationError(f"Hours must be between 0 and {capacity.MAX_HOURS} a week.")
        return hours


def _line_page(line):
    return safe_reverse("line_detail", line.pk) if line.pk else None


@admin.register(Line)
class LineAdmin(ServiceAdmin):
    """Capacity and frozen window are edited through line_update (version check, timeline,
    re-plan of the line); no add (there is no line service) and no delete (PROTECT)."""

    form = LineForm
    list_display = ("name", "weekly_capacity_hours", "frozen_window_weeks", "product_count")
    search_fields = ("name",)
    ordering = ("name",)
    fields = (
        "name",
        "weekly_capacity_hours",
        "frozen_window_weeks",
        "holding_cost_rate_pct",
        "expected_version",
        "tandem_page",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("name", "tandem_page", "version", "created_at", "updated_at")
    inlines = (CapacityExceptionInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    def has_add_permission(self, request):
        return False

    @admin.display(description="Products", ordering="product_total")
    def product_count(self, obj):
        return obj.product_total

    def view_on_site(self, obj):
        return _line_page(obj)

    @admin.display(description="Capacity exceptions")
    def tandem_page(self, obj):
        return app_page_link(_line_page(obj), "set them on the line page")

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        return capacity.line_update(
            actor=request.user,
            line_id=obj.pk,
            expected_version=data["expected_version"],
            weekly_capacity_hours=data["weekly_capacity_hours"],
            frozen_window_weeks=data["frozen_window_weeks"],
            holding_cost_rate_pct=data["holding_cost_rate_pct"],
        )


class RunRateForm(forms.ModelForm):
    class Meta:
        model = RunRate
        fields = ("product", "hours_per_unit")


@admin.register(RunRate)
class RunRateAdmin(ServiceAdmin):
    """Editable through run_rate_set, which re-plans the product's line; not deleted (a
    planned product needs a rate)."""

    form = RunRateForm
    list_display = ("product", "line", "hours_per_unit", "units_per_hour")
    list_filter = ("product__production_line",)
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product__production_line",)
    autocomplete_fields = ("product",)
    ordering = ("product__sku",)

    def get_readonly_fields(self, request, obj=None):
        return ("product",) if obj else ()

    @admin.display(description="Line", ordering="product__production_line__name")
    def line(self, obj):
        return obj.product.production_line

    @admin.display(description="Units per hour")
    def units_per_hour(self, obj):
        return f"{1 / obj.hours_per_unit:,.1f}" if obj.hours_per_unit else "—"

    def call_service(self, request, obj, form, change):
        return capacity.run_rate_set(
            actor=request.user,
            product_id=obj.product_id,
            hours_per_unit=form.cleaned_data["hours_per_unit"],
        )


# ------------------------------------------------------------ stock and holds


@admin.register(InventoryPosition)
class InventoryPositionAdmin(ReadOnlyAdmin):
    """Read-only: counts come in through inventory_import, which re-plans the products."""

    list_display = ("product", "as_of", "on_hand", "updated_at")
    list_filter = ("product__production_line",)
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product",)
    date_hierarchy = "as_of"
    ordering = ("-as_of", "product__sku")
    show_full_result_count = False


@admin.register(ProductionHold)
class ProductionHoldAdmin(ReadOnlyAdmin):
    """Read-only: holds are placed and released by the recall services (hold_place /
    hold_release), which zero the schedule and re-plan."""

    list_display = ("product", "reference", "reason", "placed_by", "placed_at", "released_at")
    list_filter = (("released_at", admin.EmptyFieldListFilter),)
    search_fields = ("product__sku", "reference", "reason")
    list_select_related = ("product", "placed_by")
    date_hierarchy = "placed_at"
    ordering = ("-placed_at",)


# -------------------------------------------------------------- planning output


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    """Read-only: the record of one re-plan, written by the pipeline."""

    list_display = (
        "id",
        "line",
        "state",
        "trigger",
        "started_at",
        "duration",
        "recommendation_rows",
        "changed_cells",
        rounded("prebuild_units", "prebuild"),
        rounded("shortage_units", "shortage"),
    )
    list_filter = ("state", "line")
    search_fields = ("trigger",)
    list_select_related = ("line",)
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    show_full_result_count = False

    @admin.display(description="Seconds")
    def duration(self, obj):
        seconds = obj.seconds
        return "—" if seconds is None else f"{seconds:.1f}"


@admin.register(QuotaRecommendation)
class QuotaRecommendationAdmin(ReadOnlyAdmin):
    """Read-only: computed at every recompute; production accepts or overrides it on the
    dashboard (quota_accept / quota_override), which writes a schedule entry."""

    list_display = (
        "product",
        "line",
        "week",
        "covers_week",
        rounded("recommended_units", "recommended"),
        rounded("demand"),
        rounded("safety_stock"),
        rounded("prebuild_units", "prebuild"),
        rounded("capacity_cut_units", "capacity cut"),
        rounded("shortage_units", "shortage"),
        "frozen",
        "hold_reason",
    )
    list_filter = ("line", "frozen")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product", "line")
    date_hierarchy = "week"
    ordering = ("week", "product__sku")
    show_full_result_count = False


@admin.register(ScheduleRevision)
class ScheduleRevisionAdmin(ReadOnlyAdmin):
    """Read-only: a schedule version REST clients sync by; written by the schedule
    services with its entries."""

    list_display = ("id", "summary", "created_by", "created_at", "entries_link")
    search_fields = ("summary", "created_by__username")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    ordering = ("-id",)
    readonly_fields = ("entries_link",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries"))

    @admin.display(description="Entries", ordering="entry_total")
    def entries_link(self, obj):
        url = reverse("admin:production_scheduleentry_changelist")
        return format_html(
            '<a href="{}?revision__id__exact={}">{}</a>', url, obj.pk, obj.entry_total
        )


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(ReadOnlyAdmin):
    """Read-only: accepted quotas, written by quota_accept / quota_override (a new
    revision, webhooks); superseded rows are kept as history."""

    list_display = (
        "product",
        "line",
        "week",
        "units",
        "kind",
        rounded("recommended_units", "recommended"),
        "revision",
        "accepted_by",
        "accepted_at",
        "superseded_at",
    )
    list_filter = ("kind", "line", ("superseded_at", admin.EmptyFieldListFilter))
    search_fields = ("product__sku", "product__name", "reason")
    list_select_related = ("product", "line", "revision", "accepted_by")
    date_hierarchy = "week"
    ordering = ("week", "product__sku", "-id")
    show_full_result_count = False
