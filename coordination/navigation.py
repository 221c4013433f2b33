"""The main navigation: each entry says which permission it needs.

Apps add their pages here; the context processor shows a user only what they may use,
so the navigation and the views' permission checks name the same permission.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    section: str
    permission: str | None = None  # None: every signed-in user
    staff_only: bool = False

    def visible_to(self, user) -> bool:
        if not user.is_authenticated:
            return False
        if self.staff_only and not user.is_staff:
            return False
        return self.permission is None or user.has_perm(self.permission)


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "home", "home"),
    NavItem("Products", "product_list", "products", permission="coordination.view_product"),
    NavItem("Requests", "request_list", "requests", permission="coordination.view_customerrequest"),
    NavItem("Promotions", "promotion_calendar", "promotions", permission="demand.view_promotion"),
    NavItem("Forecasts", "forecast_list", "forecasts", permission="demand.view_demandforecast"),
    NavItem(
        "Production",
        "production_dashboard",
        "production",
        permission="production.view_quotarecommendation",
    ),
    NavItem("Recalls", "recall_board", "recalls", permission="recalls.view_recallincident"),
    NavItem("Planning", "planning_list", "planning", permission="planning.view_planningcycle"),
    NavItem(
        "Spec reviews", "review_queue", "review", permission="coordination.review_specification"
    ),
    NavItem(
        "Voice of customer",
        "voice_of_customer",
        "voc",
        permission="coordination.view_voice_of_customer",
    ),
    NavItem("Team", "team", "team", permission="coordination.view_user"),
    NavItem("Admin", "admin:index", "admin", staff_only=True),
]


def items_for(user) -> list[dict]:
    return [
        {"label": item.label, "url": reverse(item.url_name), "section": item.section}
        for item in NAV_ITEMS
        if item.visible_to(user)
    ]
