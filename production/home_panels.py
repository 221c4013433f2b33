"""Production's part of the home page: shortages, holds, weeks over capacity, quotas to
accept, failed runs."""

from __future__ import annotations

from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse

from coordination.home import Todo, register
from coordination.models import Line
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import ProductionHold, QuotaRecommendation, RecomputeRun
from production.selectors.dashboard import acceptance_by_line
from production.selectors.load import over_capacity_weeks

# Quotas production should settle soon: this week and the next three.
ACCEPT_WEEKS = 4


def _dashboard(line_id) -> str:
    return f"{reverse('production_dashboard')}?line={line_id}"


def planning_todos(user) -> list[Todo]:
    todos = []
    shortages = (
        QuotaRecommendation.objects.filter(shortage_units__gte=0.5, hold_reason="")
        .values("line_id", "product__sku")
        .annotate(worst=Max("shortage_units"))
        .order_by("-worst")
    )
    if shortages:
        worst = shortages[0]
        todos.append(
            Todo(
                "Products the plan cannot fully supply",
                len(shortages),
                _dashboard(worst["line_id"]),
                level="err",
                hint=f"Worst: {worst['product__sku']}, short by up to {worst['worst']:,.0f} units.",
            )
        )
    holds = ProductionHold.objects.filter(released_at__isnull=True).select_related("product")
    if holds:
        todos.append(
            Todo(
                "Products on hold (stop-ship)",
                len(holds),
                _dashboard(holds[0].product.production_line_id),
                level="err",
                hint=", ".join(sorted(hold.product.sku for hold in holds)[:5]),
            )
        )
    over = over_capacity_weeks()
    if over:
        worst = max(over, key=lambda load: load.over_hours)
        todos.append(
            Todo(
                "Weeks planned over capacity",
                len(over),
                _dashboard(worst.line.pk),
                level="err",
                hint=", ".join(
                    f"{load.line.name} {iso_label(load.week)} +{load.over_hours:,.1f} h"
                    for load in over[:5]
                )
                + (f" and {len(over) - 5} more" if len(over) > 5 else ""),
            )
        )
    # Each line's latest run (the runs' own order: newest first), in one query.
    latest = RecomputeRun.objects.filter(line=OuterRef("pk")).values("state")[:1]
    failed = (
        Line.objects.annotate(last_state=Subquery(latest))
        .filter(last_state=RecomputeRun.State.FAILED)
        .count()
    )
    todos.append(
        Todo(
            "Lines whose last recompute failed",
            failed,
            reverse("run_list"),
            level="err",
        )
    )
    if user.has_perm("production.plan_line"):
        weeks = [add_weeks(current_week(), k) for k in range(ACCEPT_WEEKS)]
        summary = acceptance_by_line(weeks)
        for line in Line.objects.order_by("name"):
            changes = summary.get(line.pk, {"changed": 0, "unaccepted_weeks": []})
            open_weeks = changes["unaccepted_weeks"]
            todos.append(
                Todo(
                    f"{line.name}: weeks to accept",
                    len(open_weeks),
                    _dashboard(line.pk),
                    level="warn",
                    hint=f"From {iso_label(open_weeks[0])}." if open_weeks else "",
                )
            )
            todos.append(
                Todo(
                    f"{line.name}: accepted quotas the plan now changes",
                    changes["changed"],
                    _dashboard(line.pk),
                    level="warn",
                )
            )
    return todos


def register_panels() -> None:
    register(
        "Production plan",
        planning_todos,
        permission="production.view_quotarecommendation",
        order=20,
    )
