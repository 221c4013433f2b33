"""Demo data for the planning review: last month's cycle, agreed, with the decisions and
action items of its meeting; and this month's cycle in review, which Marketing has
signed and Production is weighing a capacity scenario for. Re-runnable: a cycle that
exists is left as it is."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from coordination import demo_registry, roles
from coordination.demo import demo_user
from coordination.models import ActivityEvent, Line, Product
from demand.models import Promotion
from planning import services
from planning.models import CycleDecision, CycleSignOff, PlanningCycle, PlanningSnapshot
from planning.selectors import cycles as selectors


@transaction.atomic
def seed_planning() -> dict[str, int]:
    today = timezone.localdate()
    this_month = selectors.month_of(today)
    last_month = selectors.month_of(this_month - dt.timedelta(days=1))
    created = 0
    if not PlanningCycle.objects.filter(period_start=last_month).exists():
        _seed_agreed(last_month)
        created += 1
    if not PlanningCycle.objects.filter(period_start=this_month).exists():
        _seed_in_review(this_month)
        created += 1
    return {"cycles": PlanningCycle.objects.count(), "created": created}


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
    say(f"Planning cycles: {cycles['cycles']} ({cycles['created']} new).")


def register_demo_parts() -> None:
    demo_registry.register("planning review", seed_part, order=70)
