"""Admin of the planning review. Read-only: cycles are opened, signed, adjusted and
closed on the planning pages, where the services keep the snapshot immutable and the
sign-offs honest."""

from django.contrib import admin
from django.utils.text import Truncator

from coordination.admin_support import ReadOnlyAdmin, ReadOnlyInline, app_page_link, safe_reverse
from planning.models import (
    Budget,
    CycleAdjustment,
    CycleDecision,
    CycleSignOff,
    PlanningCycle,
    PlanningScenario,
    PlanningSnapshot,
)


class PlanningSnapshotInline(ReadOnlyInline):
    model = PlanningSnapshot
    fields = ("number", "taken_at", "taken_by", "first_week")
    select_related = ("taken_by",)
    show_change_link = True


class CycleSignOffInline(ReadOnlyInline):
    model = CycleSignOff
    fields = ("part", "department", "signed_by", "signed_at", "snapshot", "note")
    select_related = ("signed_by", "snapshot")


@admin.register(PlanningCycle)
class PlanningCycleAdmin(ReadOnlyAdmin):
    list_display = ("name", "period_start", "period_end", "status", "opened_by", "app_link")
    list_filter = ("status",)
    search_fields = ("name",)
    list_select_related = ("opened_by",)
    date_hierarchy = "period_start"
    ordering = ("-period_start",)
    inlines = (PlanningSnapshotInline, CycleSignOffInline)

    @admin.display(description="Page")
    def app_link(self, obj):
        return app_page_link(safe_reverse("planning_detail", obj.pk))


@admin.register(PlanningSnapshot)
class PlanningSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "number", "taken_at", "taken_by", "first_week")
    list_select_related = ("cycle", "taken_by")
    list_filter = (("cycle", admin.RelatedOnlyFieldListFilter),)
    ordering = ("-taken_at",)


@admin.register(CycleSignOff)
class CycleSignOffAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "part", "department", "signed_by", "signed_at")
    list_filter = ("part", "department")
    list_select_related = ("cycle", "signed_by")
    ordering = ("-signed_at",)


@admin.register(CycleAdjustment)
class CycleAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "part", "line", "month", "amount", "reason", "created_by")
    list_filter = ("part",)
    search_fields = ("reason",)
    list_select_related = ("cycle", "line", "created_by")
    ordering = ("-created_at",)


@admin.register(CycleDecision)
class CycleDecisionAdmin(ReadOnlyAdmin):
    list_display = ("short_text", "cycle", "kind", "department", "owner", "due_date", "status")
    list_filter = ("kind", "status", "department")
    search_fields = ("text",)
    list_select_related = ("cycle", "owner")
    ordering = ("-created_at",)

    @admin.display(description="Text")
    def short_text(self, obj):
        return Truncator(obj.text).chars(80)


@admin.register(PlanningScenario)
class PlanningScenarioAdmin(ReadOnlyAdmin):
    list_display = ("name", "cycle", "line", "first_week", "last_week", "extra_hours_per_week")
    list_select_related = ("cycle", "line")
    exclude = ("result",)
    ordering = ("-created_at",)


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    """Budgets change in the budget grid or its CSV import, which keep each row's version
    (a stale save is refused there)."""

    list_display = ("product_line", "month", "revenue", "units", "updated_by", "app_link")
    list_filter = (("product_line", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("product_line", "updated_by")
    date_hierarchy = "month"
    ordering = ("product_line__name", "month")

    @admin.display(description="Page")
    def app_link(self, obj):
        url = safe_reverse("planning_budgets")
        return app_page_link(f"{url}?year={obj.month.year}" if url else None)
