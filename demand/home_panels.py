"""Marketing's part of the home page: promotions at risk, drafts due, lifts to check."""

from __future__ import annotations

from django.urls import reverse

from coordination.home import Todo, register
from coordination.weeks import add_weeks, current_week
from demand.models import Promotion, PromotionItem
from demand.selectors.lift import suggested_lifts

# Promotions starting within this many weeks need a decision now.
SOON_WEEKS = 6
# An expected lift this many percentage points away from the learned one is worth a look,
# for promotions starting within LIFT_CHECK_WEEKS: production builds ahead that early.
LIFT_GAP_POINTS = 15
LIFT_CHECK_WEEKS = 13


def _upcoming():
    today = current_week()
    return Promotion.objects.filter(end_week__gte=today).exclude(status=Promotion.Status.CANCELLED)


def promotion_todos(user) -> list[Todo]:
    calendar = reverse("promotion_calendar")
    at_risk = list(_upcoming().exclude(at_risk_reason="").order_by("start_week"))
    drafts = _upcoming().filter(
        status=Promotion.Status.DRAFT, start_week__lte=add_weeks(current_week(), SOON_WEEKS)
    )
    todos = [
        Todo(
            "Promotions at risk",
            len(at_risk),
            reverse("promotion_detail", args=[at_risk[0].pk]) if len(at_risk) == 1 else calendar,
            level="err",
            hint=at_risk[0].at_risk_reason if at_risk else "",
        ),
        Todo(
            f"Draft promotions starting within {SOON_WEEKS} weeks",
            drafts.count(),
            calendar,
            level="warn",
        ),
    ]
    far = []
    items = PromotionItem.objects.filter(
        promotion__in=_upcoming().filter(
            start_week__gte=current_week(),
            start_week__lte=add_weeks(current_week(), LIFT_CHECK_WEEKS),
        )
    ).select_related("promotion", "product", "product__product_line")
    items = list(items)
    suggested = suggested_lifts([(i.product, i.promotion.discount_pct) for i in items])
    for item, suggested_pct in zip(items, suggested, strict=True):
        # The promotions here have not started: leaving them out changes nothing.
        if suggested_pct is None:
            continue
        gap = abs(float(item.expected_lift_pct) - float(suggested_pct))
        if gap >= LIFT_GAP_POINTS:
            far.append((gap, item, suggested_pct))
    far.sort(key=lambda entry: -entry[0])
    todos.append(
        Todo(
            "Expected lifts far from what past promotions show",
            len(far),
            reverse("promotion_detail", args=[far[0][1].promotion_id]) if far else calendar,
            level="info",
            hint=(
                f"{far[0][1].product.sku} in “{far[0][1].promotion.name}”: "
                f"{far[0][1].expected_lift_pct:+.0f}% entered, "
                f"{far[0][2]:+.0f}% suggested."
                if far
                else ""
            ),
        )
    )
    return todos


def register_panels() -> None:
    register("Promotions", promotion_todos, permission="demand.change_promotion", order=10)
