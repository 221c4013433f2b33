"""Reads about recalls: the board, one incident, effectiveness, and the public notice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from coordination.models import ActivityEvent
from coordination.selectors.activity import events_for
from coordination.weeks import current_week
from demand.models import DemandForecast, Promotion
from demand.selectors.promotions import promotions_a_hold_puts_at_risk
from production.models import ProductionHold, QuotaRecommendation
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)


def _workload() -> dict:
    """Annotations: open and overdue tasks, open press inquiries, per incident."""
    return {
        "open_tasks": Count("tasks", filter=Q(tasks__done_at__isnull=True), distinct=True),
        "overdue_tasks": Count(
            "tasks",
            filter=Q(tasks__done_at__isnull=True, tasks__due_date__lt=timezone.localdate()),
            distinct=True,
        ),
        "open_press": Count(
            "press_inquiries",
            filter=Q(press_inquiries__status=PressInquiry.Status.OPEN),
            distinct=True,
        ),
    }


def board(*, status: str = "", classification: str = "") -> dict:
    """Incidents grouped by status (columns), most serious class first in each."""
    incidents = (
        RecallIncident.objects.select_related("owner")
        .prefetch_related("products")
        .annotate(**_workload())
        .order_by("classification", "-created_at")
    )
    if status:
        incidents = incidents.filter(status=status)
    if classification:
        incidents = incidents.filter(classification=classification)
    columns: dict[str, list] = defaultdict(list)
    for incident in incidents:
        columns[incident.status].append(incident)
    return {
        "columns": [
            {"status": value, "label": label, "incidents": columns[value]}
            for value, label in RecallIncident.Status.choices
        ],
        "total": sum(len(c) for c in columns.values()),
    }


def incident_by_code(code: str) -> RecallIncident:
    return (
        RecallIncident.objects.select_related("owner", "created_by")
        .prefetch_related(
            "products__production_line",
            "source_requests",
            "related_requests__product",
            Prefetch("lots", queryset=AffectedLot.objects.select_related("product")),
            Prefetch("tasks", queryset=RecallTask.objects.select_related("owner")),
            Prefetch(
                "statements", queryset=Statement.objects.select_related("author", "reviewed_by")
            ),
            "press_inquiries__answered_by",
            "notifications__notified_by",
        )
        .get(code=code)
    )


@dataclass(frozen=True)
class Effectiveness:
    distributed: int
    recovered: int
    returned: int
    destroyed: int
    corrected: int
    unaccounted: int
    recovered_pct: Decimal | None
    consignees: int
    notified: int
    acknowledged: int
    notified_pct: Decimal | None
    check_level_pct: Decimal
    meets_check_level: bool


def _pct(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def effectiveness(incident: RecallIncident) -> Effectiveness:
    counts = incident.notifications.aggregate(
        notified=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged=True))
    )
    notified, acknowledged = counts["notified"], counts["acknowledged"]
    notified_pct = _pct(notified, incident.consignees_to_notify)
    return Effectiveness(
        distributed=incident.units_distributed,
        recovered=incident.units_recovered,
        returned=incident.units_returned,
        destroyed=incident.units_destroyed,
        corrected=incident.units_corrected,
        unaccounted=incident.units_unaccounted,
        recovered_pct=_pct(incident.units_recovered, incident.units_distributed),
        consignees=incident.consignees_to_notify,
        notified=notified,
        acknowledged=acknowledged,
        notified_pct=notified_pct,
        check_level_pct=incident.check_level_pct,
        # Compared unrounded: 2,499 of 2,500 shows as 100.0 % but misses a 100 % check.
        meets_check_level=incident.consignees_to_notify > 0
        and Decimal(notified) * 100
        >= incident.check_level_pct * Decimal(incident.consignees_to_notify),
    )


def public_notice(code: str) -> dict | None:
    """Only what a public recall notice carries, and only once announced. Never the
    internal description, root cause, people, tasks, press or figures."""
    incident = (
        RecallIncident.objects.filter(code=code, status__in=RecallIncident.PUBLIC_STATUSES)
        .prefetch_related(Prefetch("lots", queryset=AffectedLot.objects.select_related("product")))
        .prefetch_related("products")
        .first()
    )
    if incident is None:
        return None
    return {
        "company": settings.COMPANY_NAME,
        "code": incident.code,
        "title": incident.title,
        "classification": incident.get_classification_display(),
        "hazard": incident.hazard,
        "what_to_do": incident.consumer_instructions,
        "contact": incident.contact,
        "announced_at": incident.announced_at,
        "closed": incident.status == RecallIncident.Status.CLOSED,
        "products": [{"sku": p.sku, "name": p.name} for p in incident.products.all()],
        "lots": [
            {
                "sku": lot.product.sku,
                "lot_code": lot.lot_code,
                "production_week": lot.production_week,
                "best_before": lot.best_before,
            }
            for lot in incident.lots.all()
        ],
        "statements": list(
            incident.statements.filter(status=Statement.Status.PUBLISHED)
            .order_by("published_at")
            .values("title", "body", "published_at")
        ),
    }


def open_recalls() -> QuerySet[RecallIncident]:
    return RecallIncident.objects.exclude(status=RecallIncident.Status.CLOSED).order_by(
        "classification", "-created_at"
    )


def recall_team() -> QuerySet:
    """Active people whose role may own a recall (Quality, Production, Admin)."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(
                groups__permissions__codename="manage_recall",
                groups__permissions__content_type__app_label="recalls",
            )
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def consequences(incident: RecallIncident) -> dict:
    """What the incident's stop-ship does elsewhere: production holds (active and past),
    the quota recommendations held at 0 (summarised per product) and the promotions
    flagged at risk."""
    holds = list(
        ProductionHold.objects.filter(reference=incident.code)
        .select_related("product", "placed_by")
        .order_by("released_at", "product__sku", "-placed_at")
    )
    held: dict[int, dict] = {}
    for rec in (
        QuotaRecommendation.objects.filter(
            product__in=incident.products.all(), hold_reason__contains=incident.code
        )
        .select_related("product", "line")
        .order_by("product__sku", "week")
    ):
        row = held.setdefault(
            rec.product_id,
            {
                "product": rec.product,
                "line": rec.line,
                "weeks": 0,
                "first_week": rec.week,
                "last_week": rec.week,
                "demand": 0.0,
                "reason": rec.hold_reason,
            },
        )
        row["weeks"] += 1
        row["last_week"] = rec.week
        row["demand"] += rec.demand
    promotions = list(
        Promotion.objects.filter(at_risk_reason__contains=incident.code).order_by("start_week")
    )
    return {
        "holds": holds,
        "active_holds": sum(1 for h in holds if h.released_at is None),
        "held": list(held.values()),
        "promotions": promotions,
    }


@dataclass(frozen=True)
class HoldImpact:
    """What holding a product's production would touch: firm orders still to make and
    the promotions put at risk."""

    firm_units: int
    promotions: int


def hold_impact(product) -> HoldImpact:
    firm = DemandForecast.objects.filter(product=product, week__gte=current_week()).aggregate(
        units=Sum("firm_orders")
    )["units"]
    return HoldImpact(
        firm_units=round(firm or 0),
        promotions=promotions_a_hold_puts_at_risk([product.pk]).count(),
    )


def incidents() -> QuerySet[RecallIncident]:
    """Incidents with what a list or a detail shows beside the row: products, lots,
    requests and the open work (tasks, overdue tasks, open press inquiries)."""
    return (
        RecallIncident.objects.select_related("owner", "created_by")
        .prefetch_related(
            "products",
            "source_requests",
            "related_requests",
            Prefetch("lots", queryset=AffectedLot.objects.select_related("product")),
        )
        .annotate(**_workload())
        .order_by("-created_at", "-id")
    )


def incident_activity(incident: RecallIncident) -> QuerySet[ActivityEvent]:
    """The incident's timeline, newest first: every change, who made it and when."""
    return events_for(incident)


def incident_tasks(incident: RecallIncident) -> QuerySet[RecallTask]:
    """Open tasks first (soonest due first), then the done ones — on every database."""
    return (
        RecallTask.objects.filter(incident=incident)
        .select_related("owner")
        .order_by(F("done_at").asc(nulls_first=True), "due_date", "id")
    )


def press_inquiries(incident: RecallIncident | None = None) -> QuerySet[PressInquiry]:
    """Open inquiries first, soonest due first."""
    inquiries = PressInquiry.objects.select_related("incident", "answered_by")
    if incident is not None:
        inquiries = inquiries.filter(incident=incident)
    return inquiries.order_by("status", "response_due", "id")


def incident_statements(incident: RecallIncident) -> QuerySet[Statement]:
    return (
        Statement.objects.filter(incident=incident)
        .select_related("author", "reviewed_by")
        .order_by("-created_at", "-id")
    )


def incident_notifications(incident: RecallIncident) -> QuerySet[CustomerNotification]:
    return (
        CustomerNotification.objects.filter(incident=incident)
        .select_related("notified_by")
        .order_by("-notified_at", "-id")
    )


def incident_lots(incident: RecallIncident) -> QuerySet[AffectedLot]:
    return (
        AffectedLot.objects.filter(incident=incident)
        .select_related("product")
        .order_by("product__sku", "lot_code", "production_week", "id")
    )
