"""Demo data for the production app: run rates sized so each line runs at about 80%,
stock on hand, a canning shutdown, a full recompute and an accepted first fortnight.
Re-runnable: nothing is created twice."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from coordination import demo_registry, roles
from coordination.demo import demo_user
from coordination.models import Line, Product
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week
from demand.models import SalesActual
from demand.selectors.sales import mean_weekly_sales
from production.models import CapacityException, InventoryPosition, RunRate, ScheduleEntry
from production.selectors.schedule import schedule_version
from production.services import pipeline, schedule

TARGET_UTILISATION = 0.85


@transaction.atomic
def seed_capacity() -> dict[str, int]:
    """Hours per unit so that the coming half year's demand (as sold in the same weeks
    last year) uses ~85% of each line's normal week: tight enough that promotions and
    shutdowns need pre-build. Big packs take 1.6x the time of small ones."""
    created = 0
    same_season = add_weeks(current_week(), -52)
    for line in Line.objects.all():
        products = list(
            Product.objects.filter(production_line=line).exclude(
                lifecycle=Product.Lifecycle.DISCONTINUED
            )
        )
        means = mean_weekly_sales(
            product__in=products, week__gte=same_season, week__lt=add_weeks(same_season, 26)
        )
        weight = {p.pk: 1.6 if p.sku.split("-")[2] in ("15", "20") else 1.0 for p in products}
        load = sum((means.get(p.pk) or 0) * weight[p.pk] for p in products)
        load *= max(1.0, _growth(products))
        if load <= 0:
            continue
        per_unit = float(line.weekly_capacity_hours) * TARGET_UTILISATION / load
        for product in products:
            _, was_created = RunRate.objects.get_or_create(
                product=product,
                defaults={"hours_per_unit": Decimal(f"{per_unit * weight[product.pk]:.6f}")},
            )
            created += was_created
    return {"run_rates": RunRate.objects.count(), "created": created}


def _growth(products) -> float:
    """This year's last 8 weeks of sales over the same 8 weeks a year before: the trend the
    forecast will carry into the coming half year."""

    def total(start):
        return (
            SalesActual.objects.filter(
                product__in=products, week__gte=start, week__lt=add_weeks(start, 8)
            ).aggregate(total=Sum("units"))["total"]
            or 0
        )

    recent = add_weeks(current_week(), -8)
    before = total(add_weeks(recent, -52))
    return total(recent) / before if before else 1.0


@transaction.atomic
def seed_inventory() -> int:
    """Stock counted yesterday: the lead time's demand plus about a week and a half, as a
    plant that has been running keeps (average of the last 8 weeks' sales)."""
    today = timezone.localdate()
    recent = add_weeks(current_week(), -8)
    lead_times = dict(Product.objects.values_list("pk", "lead_time_weeks"))
    created = 0
    for product_id, mean in mean_weekly_sales(week__gte=recent).items():
        _, was_created = InventoryPosition.objects.get_or_create(
            product_id=product_id,
            as_of=today - timezone.timedelta(days=1),
            defaults={"on_hand": int((mean or 0) * (lead_times.get(product_id, 0) + 1.5))},
        )
        created += was_created
    return created


@transaction.atomic
def seed_shutdown() -> None:
    """Canning 2 stops for maintenance just before the sports-drinks promotion."""
    production = demo_user(roles.PRODUCTION)
    line = Line.objects.filter(name="Canning 2").first()
    if line is None:
        return
    for weeks_ahead, hours, note in (
        (9, Decimal("0"), "Annual maintenance shutdown"),
        (10, Decimal("40"), "Restart after maintenance, one shift"),
    ):
        CapacityException.objects.get_or_create(
            line=line,
            week=add_weeks(current_week(), weeks_ahead),
            defaults={"hours": hours, "note": note, "created_by": production},
        )


RUSH_ORDER_SUMMARY = "Rush order for the Metro Foods store openings"


def seed_rush_order() -> bool:
    """Production's hard case: an accepted customization due in three weeks that needs a
    full week of its line's hours on top of normal demand - the plan builds ahead what it can
    and shows the rest as short until the line catches up."""
    from coordination.models import CustomerRequest
    from coordination.services import customer_requests as request_services

    if CustomerRequest.objects.filter(summary=RUSH_ORDER_SUMMARY).exists():
        return False
    rate = (
        RunRate.objects.filter(product__production_line__name="Carton 3")
        .select_related("product__production_line")
        .order_by("product__sku")
        .first()
    )
    if rate is None:
        return False
    product = rate.product
    hours = 1.0 * float(product.production_line.weekly_capacity_hours)
    units = hours / float(rate.hours_per_unit)
    sales, production = demo_user(roles.SALES), demo_user(roles.PRODUCTION)
    with transaction.atomic():
        request = request_services.request_log(
            actor=sales,
            customer_name="Metro Foods",
            customer_account="MF-1002",
            channel="email",
            kind="customization",
            product=product,
            summary=RUSH_ORDER_SUMMARY,
            details="Own-label sleeve, delivered in one drop for twelve new stores.",
            quantity=int(round(units, -3)),
            wanted_week=add_weeks(current_week(), 3),
            priority="urgent",
        )
        request_services.request_route(
            actor=sales,
            request_id=request.pk,
            expected_version=UNCHECKED,
            department="production",
            assignee_id=production.pk,
        )
        request_services.request_start_review(
            actor=production, request_id=request.pk, expected_version=UNCHECKED
        )
        request_services.request_answer_feasibility(
            actor=production,
            request_id=request.pk,
            expected_version=UNCHECKED,
            feasible=True,
            note="Runs on Carton 3 with a sleeve changeover; more than the line can make by "
            "then, the rest follows as soon as hours free up.",
            extra_unit_cost=Decimal("0.08"),
            lead_time_weeks=product.lead_time_weeks,
        )
        request_services.request_quote(
            actor=sales,
            request_id=request.pk,
            expected_version=UNCHECKED,
            unit_price=product.unit_price + Decimal("0.15"),
        )
        request_services.request_accept(
            actor=sales, request_id=request.pk, expected_version=UNCHECKED
        )
    return True


def recompute_everything() -> int:
    """Plan every line now (synchronously), whatever the broker: the demo must be ready."""
    runs = 0
    for request_id in pipeline.request_full_recompute(reason="Demo data loaded"):
        runs += len(pipeline.process_request(request_id))
    return runs


def accept_first_weeks(weeks: int = 2) -> int:
    """Production has accepted the first fortnight of every line: the frozen window."""
    if ScheduleEntry.objects.exists():
        return 0
    production = demo_user(roles.PRODUCTION)
    accepted = 0
    for line in Line.objects.all():
        revision = schedule.quotas_accept_range(
            actor=production,
            line_id=line.pk,
            week_from=current_week(),
            week_to=add_weeks(current_week(), weeks - 1),
            seen_schedule_version=schedule_version(),
        )
        if revision is not None:
            accepted += revision.entries.count()
    return accepted


def seed_capacity_part(say) -> None:
    rates = seed_capacity()
    say(f"Run rates: {rates['run_rates']} ({rates['created']} new).")
    say(f"Inventory counts: {seed_inventory()} new.")
    seed_shutdown()
    if seed_rush_order():
        say("Rush order: 1 new accepted customization for Carton 3.")


def seed_plan_part(say) -> None:
    say(f"Recompute runs: {recompute_everything()}.")
    say(f"Accepted quotas: {accept_first_weeks()} new.")


def register_demo_parts() -> None:
    demo_registry.register("production: capacity", seed_capacity_part, order=30)
    demo_registry.register("production: the plan", seed_plan_part, order=50)
