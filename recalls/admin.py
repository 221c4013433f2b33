"""Recall records in the admin: for looking things up and fixing data by hand. The
workflow (transitions, stop-ship, four-eyes approval) lives in the services and the
recall pages, so workflow fields are read-only here."""

from django.contrib import admin

from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)


class AffectedLotInline(admin.TabularInline):
    model = AffectedLot
    extra = 0
    raw_id_fields = ("product",)


class RecallTaskInline(admin.TabularInline):
    model = RecallTask
    extra = 0
    fields = ("title", "department", "owner", "due_date", "done_at")
    raw_id_fields = ("owner",)


@admin.register(RecallIncident)
class RecallIncidentAdmin(admin.ModelAdmin):
    # Opened through the recall pages (recalls.services.incidents.recall_open): that
    # assigns the code, links requests and places the stop-ship.
    list_display = (
        "code",
        "title",
        "classification",
        "status",
        "stop_ship",
        "owner",
        "created_at",
        "closed_at",
    )
    list_filter = ("status", "classification", "stop_ship", "source")
    search_fields = ("code", "title", "hazard", "products__sku", "lots__lot_code")
    date_hierarchy = "created_at"
    readonly_fields = (
        "code",
        "status",
        "stop_ship",
        "stop_ship_since",
        "announced_at",
        "closed_at",
        "version",
        "created_by",
        "created_at",
        "updated_at",
    )
    filter_horizontal = ("products",)
    raw_id_fields = ("owner", "source_requests", "related_requests")
    inlines = (AffectedLotInline, RecallTaskInline)

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


@admin.register(AffectedLot)
class AffectedLotAdmin(admin.ModelAdmin):
    list_display = ("incident", "product", "lot_code", "production_week", "best_before", "units")
    list_filter = ("incident__status",)
    search_fields = ("lot_code", "product__sku", "incident__code")
    list_select_related = ("incident", "product")
    raw_id_fields = ("product",)


@admin.register(RecallTask)
class RecallTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "incident", "department", "owner", "due_date", "done_at")
    list_filter = ("department", "incident__status")
    search_fields = ("title", "incident__code", "owner__username")
    list_select_related = ("incident", "owner")
    raw_id_fields = ("owner",)


@admin.register(PressInquiry)
class PressInquiryAdmin(admin.ModelAdmin):
    list_display = ("outlet", "incident", "status", "received_at", "response_due", "answered_at")
    list_filter = ("status",)
    search_fields = ("outlet", "contact", "question", "incident__code")
    list_select_related = ("incident",)
    readonly_fields = ("answered_by", "answered_at")


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ("title", "incident", "status", "author", "reviewed_by", "published_at")
    list_filter = ("status",)
    search_fields = ("title", "body", "incident__code")
    list_select_related = ("incident", "author", "reviewed_by")
    readonly_fields = (
        "status",
        "author",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "published_at",
        "version",
    )

    def has_add_permission(self, request):
        return False  # drafted on the recall page, with its author


@admin.register(CustomerNotification)
class CustomerNotificationAdmin(admin.ModelAdmin):
    list_display = ("consignee", "account", "incident", "channel", "notified_at", "acknowledged")
    list_filter = ("channel", "acknowledged")
    search_fields = ("consignee", "account", "incident__code")
    list_select_related = ("incident",)
    readonly_fields = ("notified_by",)

    def has_add_permission(self, request):
        return False  # logged on the recall page, with who notified
