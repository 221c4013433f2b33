"""Promotions in a person's calendar feed (coordination/calendar.py): one all-day event
from the promotion's first Monday through the Sunday of its last week."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.urls import reverse

from coordination import calendar
from demand.models import Promotion, PromotionItem

Status = Promotion.Status
# A promotion of a whole range names its first products only: the page lists them all.
LISTED = 10
# A draft or planned promotion may still move; a cancelled one stays in the feed (until it
# would have ended) marked cancelled, so calendars that showed it say so.
EVENT_STATUS = {
    Status.DRAFT: calendar.TENTATIVE,
    Status.PLANNED: calendar.TENTATIVE,
    Status.CONFIRMED: calendar.CONFIRMED,
    Status.CANCELLED: calendar.CANCELLED,
}
SUMMARY_PREFIX = {
    Status.DRAFT: "Draft promotion",
    Status.PLANNED: "Promotion",
    Status.CONFIRMED: "Promotion",
    Status.CANCELLED: "Cancelled promotion",
}


def promotion_events(user, since: dt.date) -> list[calendar.CalendarEvent]:
    # The last week starts on end_week and ends 6 days later.
    promotions = Promotion.objects.filter(
        end_week__gte=since - dt.timedelta(days=6)
    ).prefetch_related(
        Prefetch(
            "items",
            queryset=PromotionItem.objects.select_related("product").order_by("product__sku"),
        )
    )
    return [_event(promotion) for promotion in promotions.order_by("start_week", "pk")]


def _event(promotion: Promotion) -> calendar.CalendarEvent:
    items = list(promotion.items.all())
    products = ", ".join(f"{item.product.sku} {item.product.name}" for item in items[:LISTED])
    if len(items) > LISTED:
        products += f" and {len(items) - LISTED} more"
    lines = [
        f"{promotion.get_status_display()}, {promotion.get_channel_display().lower()}, "
        f"{promotion.discount_pct}% off.",
        f"Products: {products or 'none yet'}.",
    ]
    if promotion.at_risk_reason:
        lines.append(f"At risk: {promotion.at_risk_reason}")
    summary = f"{SUMMARY_PREFIX[promotion.status]}: {promotion.name}"
    if promotion.at_risk_reason and promotion.status != Status.CANCELLED:
        summary += " (at risk)"
    return calendar.CalendarEvent(
        uid=f"promotion-{promotion.pk}",
        summary=summary,
        start=promotion.start_week,
        end=calendar.week_end(promotion.end_week),
        url=reverse("promotion_detail", args=[promotion.pk]),
        revised_at=promotion.updated_at,
        description="\n".join(lines),
        status=EVENT_STATUS[promotion.status],
        categories=("Tandem", "Promotion"),
    )


def register_calendar_events() -> None:
    calendar.register("promotions", promotion_events, permissions=("demand.view_promotion",))
