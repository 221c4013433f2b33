"""Demo data for the planning review: the budgets of this year and the next per product
line and month; last month's cycle, agreed, with the decisions and action items of its
meeting; and this month's cycle in review, which Marketing has signed and Production is
weighing a capacity scenario for. Re-runnable: a cycle or budget that exists is left as
it is."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from coordination import demo_registry, roles
from coordination.demo import demo_user
from coordination.models import ActivityEvent, Line, Product, ProductLine
from coordination.selectors.products import prices_in_force
from coordination.weeks import current_week, week_range
from demand.models import Promotion
from demand.selectors.forecasts import forecast_terms
from planning import services
from planning.models import Budget, CycleDecision, CycleSignOff, PlanningCycle, PlanningSnapshot
from planning.selectors import cycles as selectors
from planning.selectors.budgets import year_months
from planning.selectors.money import mondays_in


@transaction.atomic
def seed_planning() -> dict[str, int]:
    today = timezone.localdate()
    this_month = selectors.month_of(today)
    last_month = selectors.month_of(this_month - dt.timedelta(days=1))
    created = 0
    budgets = seed_budgets()  # first: the cycles' snapshots hold the plan against them
    if not PlanningCycle.objects.filter(period_start=last_month).exists():
        _seed_agreed(last_month)
        created += 1
    if not PlanningCycle.objects.filter(period_start=this_month).exists():
        _seed_in_review(this_month)
        created += 1
    return {"cycles": PlanningCycle.objects.count(), "created": created, "budgets": budgets}


# What the company asks of each range over the forecast: sports drinks are budgeted for
# the new-year fitness push Canning 2 cannot fully make, juices for a Carton 3 that is
# short; waters are budgeted cautiously and the plan beats them.
BUDGET_AMBITION = {
    "Iced Tea": Decimal("1.03"),
    "Sparkling Water": Decimal("0.97"),
    "Fruit Juice": Decimal("1.06"),
    "Sports Drinks": Decimal("1.10"),
}


def _round_to(value: Decimal, step: int) -> Decimal:
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * step


def seed_budgets() -> int:
    """Budgets for every month of this year and the next, per product line: the forecast
    of the month (scaled to the whole month where the horizon covers part of it; outside
    the horizon, the horizon's weekly average) times the range's ambition, at the range's
    demand-weighted list price. Units to the hundred, revenue to the hundred euros."""
    first_week = current_week()
    weeks = week_range(first_week, settings.PLANNING_HORIZON_WEEKS)
    terms = forecast_terms(start=weeks[0], end=weeks[-1])
    if not terms:
        return 0
    line_of = dict(Product.objects.values_list("pk", "product_line_id"))
    prices = prices_in_force(line_of, first_week)
    units: dict[tuple[int, dt.date], float] = defaultdict(float)
    weekly: dict[int, float] = defaultdict(float)
    money: dict[int, Decimal] = defaultdict(Decimal)
    covered: dict[dt.date, set] = defaultdict(set)
    for product_id, _line, week, *_terms, final in terms:
        product_line = line_of[product_id]
        units[(product_line, week.replace(day=1))] += final
        weekly[product_line] += final / len(weeks)
        price = (prices.get(product_id) or (Decimal(0), Decimal(0)))[0]
        money[product_line] += Decimal(str(round(final, 3))) * price
        covered[week.replace(day=1)].add(week)
    admin = demo_user(roles.ADMIN)
    today = timezone.localdate()
    rows = []
    for product_line in ProductLine.objects.order_by("name"):
        demand = sum(units[(product_line.pk, m)] for m in covered)
        if not demand:
            continue
        price = money[product_line.pk] / Decimal(str(round(demand, 3)))
        ambition = BUDGET_AMBITION.get(product_line.name, Decimal(1))
        for month in year_months(today.year) + year_months(today.year + 1):
            if month in covered:
                share = Decimal(mondays_in(month)) / len(covered[month])
                month_units = Decimal(str(round(units[(product_line.pk, month)], 3))) * share
            else:
                month_units = Decimal(str(round(weekly[product_line.pk], 3))) * mondays_in(month)
            budget_units = _round_to(month_units * ambition, 100)
            rows.append(
                Budget(
                    product_line=product_line,
                    month=month,
                    units=int(budget_units),
                    revenue=_round_to(budget_units * price, 100),
                    updated_by=admin,
                )
            )
    existing = set(Budget.objects.values_list("product_line_id", "month"))
    new = [b for b in rows if (b.product_line.pk, b.month) not in existing]
    return len(Budget.objects.bulk_create(new))


def _people() -> dict:
    return {
        "admin": demo_user(roles.ADMIN),
        "marketing": demo_user(roles.MARKETING),
        "sales": demo_user(roles.SALES),
        "production": demo_user(roles.PRODUCTION),
    }


def _open_and_review(period_start: dt.date, people: dict) -> PlanningCycle:
    cycle = services.planning_cycle_open(actor=people["admin"], period_start=period_start)
    return services.planning_cycle_start_review(
        actor=people["admin"], cycle_id=cycle.pk, expected_version=cycle.version
    )


def _seed_agreed(period_start: dt.date) -> None:
    people = _people()
    cycle = _open_and_review(period_start, people)
    bottling = Line.objects.filter(name="Bottling 1").first()
    carton = Line.objects.filter(name="Carton 3").first()
    promotion = (
        Promotion.objects.filter(status__in=Promotion.PLANNING_STATUSES)
        .order_by("start_week")
        .first()
    )
    product = Product.objects.filter(sku__startswith="JCE").order_by("sku").first()
    month = selectors.latest_snapshot(cycle).data["months"][1]
    services.cycle_adjustment_add(
        actor=people["production"],
        cycle_id=cycle.pk,
        part="supply",
        line_id=bottling.pk if bottling else None,
        month=dt.date.fromisoformat(month),
        amount=32,
        reason="Four Saturday shifts agreed with the works council",
    )
    for user, part, note in (
        (people["marketing"], "demand", "Spring promotions confirmed as planned."),
        (people["production"], "supply", "With the Saturday shifts on Bottling 1."),
        (people["sales"], "orders", "Key accounts confirmed their orders."),
    ):
        services.cycle_sign_off(actor=user, cycle_id=cycle.pk, part=part, note=note)
    items = [
        {
            "kind": "decision",
            "text": "Run four Saturday shifts on Bottling 1 rather than cut the summer promotion.",
            "department": "production",
            "line_id": bottling.pk if bottling else None,
            "promotion_id": promotion.pk if promotion else None,
        },
        {
            "kind": "decision",
            "text": "Hold the juice range at its current forecast; no marketing "
            "uplift until the Carton 3 shutdown is over.",
            "department": "marketing",
            "line_id": carton.pk if carton else None,
        },
        {
            "kind": "action",
            "text": "Book the Saturday crews for Bottling 1 and confirm the overtime budget.",
            "department": "production",
            "owner_id": people["production"].pk,
            "due_date": period_start + dt.timedelta(days=10),
            "line_id": bottling.pk if bottling else None,
        },
        {
            "kind": "action",
            "text": "Tell the key accounts which juice sizes are short until the shutdown "
            "ends, and offer the 1 l size instead.",
            "department": "sales",
            "owner_id": people["sales"].pk,
            "due_date": timezone.localdate() + dt.timedelta(days=5),
            "product_id": product.pk if product else None,
        },
        {
            "kind": "action",
            "text": "Re-check the promotion lift against last year's result before it "
            "is confirmed.",
            "department": "marketing",
            "owner_id": people["marketing"].pk,
            "due_date": period_start + dt.timedelta(days=14),
            "promotion_id": promotion.pk if promotion else None,
        },
    ]
    recorded = [
        services.cycle_decision_create(actor=people["admin"], cycle_id=cycle.pk, **item)
        for item in items
    ]
    services.action_item_set_status(
        actor=people["production"],
        decision_id=recorded[2].pk,
        expected_version=recorded[2].version,
        status="done",
    )
    _backdate(cycle, period_start)


def _backdate(cycle: PlanningCycle, period_start: dt.date) -> None:
    """Last month's meeting happened last month: move its timestamps there."""
    opened = timezone.make_aware(dt.datetime.combine(period_start, dt.time(9, 0)))
    PlanningCycle.objects.filter(pk=cycle.pk).update(
        opened_at=opened,
        review_started_at=opened + dt.timedelta(days=1),
        agreed_at=opened + dt.timedelta(days=3),
        meeting_at=opened + dt.timedelta(days=2, hours=1),
        meeting_minutes=90,
        meeting_place="Board room",
        meeting_scheduled_at=opened,
    )
    PlanningSnapshot.objects.filter(cycle=cycle).update(taken_at=opened)
    CycleSignOff.objects.filter(cycle=cycle).update(signed_at=opened + dt.timedelta(days=3))
    cycle.adjustments.update(created_at=opened + dt.timedelta(days=2))
    CycleDecision.objects.filter(cycle=cycle).update(created_at=opened + dt.timedelta(days=2))
    CycleDecision.objects.filter(cycle=cycle, status="done").update(
        completed_at=opened + dt.timedelta(days=9)
    )
    ActivityEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PlanningCycle), object_id=cycle.pk
    ).update(created_at=opened + dt.timedelta(days=2))


def _seed_in_review(period_start: dt.date) -> None:
    people = _people()
    cycle = _open_and_review(period_start, people)
    # The review meets in three days, so it is in everyone's calendar feed.
    meeting_day = timezone.localdate() + dt.timedelta(days=3)
    cycle = services.planning_cycle_schedule_meeting(
        actor=people["admin"],
        cycle_id=cycle.pk,
        expected_version=cycle.version,
        meeting_at=timezone.make_aware(dt.datetime.combine(meeting_day, dt.time(10, 0))),
        meeting_minutes=90,
        meeting_place="Board room",
    )
    services.cycle_sign_off(
        actor=people["marketing"],
        cycle_id=cycle.pk,
        part="demand",
        note="Includes the confirmed promotions.",
    )
    snapshot = selectors.latest_snapshot(cycle)
    gap = snapshot.data["supply"]["gap"]
    if gap:
        first = dt.date.fromisoformat(gap[0]["week"])
        services.planning_scenario_run(
            actor=people["production"],
            cycle_id=cycle.pk,
            line_id=gap[0]["line_id"],
            first_week=first,
            last_week=first,
            extra_hours=16,
            name=f"{gap[0]['line']}: two Saturday shifts",
        )


def seed_part(say) -> None:
    """Last: the snapshots take in everything seeded before."""
    cycles = seed_planning()
    say(
        f"Planning cycles: {cycles['cycles']} ({cycles['created']} new); "
        f"budgets: {cycles['budgets']} new."
    )


def register_demo_parts() -> None:
    demo_registry.register("planning review", seed_part, order=70)
