"""Sign-off rules: each department signs only its own part, only in review, the
numbers it saw; a changed number asks for the sign-off again; one per department."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast
from planning import services
from planning.models import CycleAdjustment, CycleSignOff, PlanningCycle
from planning.selectors import cycles as selectors
from production.models import CapacityException
from tests.planning.planning_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(admin_user, sales_user):
    build_world(sales_user)
    opened = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    return services.planning_cycle_start_review(
        actor=admin_user, cycle_id=opened.pk, expected_version=opened.version
    )


def state(cycle) -> dict[str, str]:
    return {
        row["part"]: "fresh" if row["fresh"] else "stale" if row["stale"] else "missing"
        for row in selectors.sign_off_state(cycle)
    }


def first_month(cycle) -> dt.date:
    return dt.date.fromisoformat(selectors.latest_snapshot(cycle).data["months"][0])


def test_each_department_signs_only_its_own_part(
    cycle, marketing_user, production_user, sales_user, quality_user
):
    refused = [
        (marketing_user, "supply"),
        (marketing_user, "orders"),
        (production_user, "demand"),
        (sales_user, "supply"),
        (quality_user, "demand"),
        (quality_user, "supply"),
        (quality_user, "orders"),
    ]
    for user, part in refused:
        with pytest.raises(PermissionDenied):
            services.cycle_sign_off(actor=user, cycle_id=cycle.pk, part=part)
    assert CycleSignOff.objects.count() == 0

    signed = services.cycle_sign_off(
        actor=marketing_user, cycle_id=cycle.pk, part="demand", note="Promotions confirmed."
    )
    assert (signed.department, signed.signed_by, signed.note) == (
        "marketing",
        marketing_user,
        "Promotions confirmed.",
    )
    assert state(cycle) == {"demand": "fresh", "supply": "missing", "orders": "missing"}


def test_sign_offs_are_given_in_review_only(admin_user, marketing_user, sales_user):
    build_world(sales_user)
    cycle = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    with pytest.raises(ValidationError, match="sign-offs are given in review"):
        services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    assert CycleSignOff.objects.count() == 0


def test_an_unknown_part_is_refused(cycle, marketing_user):
    with pytest.raises(ValidationError) as refused:
        services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="budget")
    assert refused.value.message_dict == {"part": ["Choose demand, supply or firm orders."]}


def test_the_numbers_signed_are_the_numbers_seen(cycle, marketing_user):
    seen = selectors.sign_off_state(cycle)[0]["hash"]
    services.cycle_adjustment_add(
        actor=marketing_user,
        cycle_id=cycle.pk,
        part="demand",
        line_id=None,
        month=first_month(cycle),
        amount=500,
        reason="New listing at Greenway",
    )
    with pytest.raises(ValidationError, match="changed since you opened the page"):
        services.cycle_sign_off(
            actor=marketing_user, cycle_id=cycle.pk, part="demand", seen_hash=seen
        )
    assert CycleSignOff.objects.count() == 0


def test_agreed_when_every_department_has_signed(
    cycle, marketing_user, production_user, sales_user
):
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    services.cycle_sign_off(actor=sales_user, cycle_id=cycle.pk, part="orders")
    cycle.refresh_from_db()
    assert cycle.status == "in_review"
    services.cycle_sign_off(actor=production_user, cycle_id=cycle.pk, part="supply")
    cycle.refresh_from_db()
    assert cycle.status == PlanningCycle.Status.AGREED
    assert state(cycle) == {"demand": "fresh", "supply": "fresh", "orders": "fresh"}


def test_an_adjustment_after_sign_off_asks_that_department_again(cycle, marketing_user, sales_user):
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    services.cycle_sign_off(actor=sales_user, cycle_id=cycle.pk, part="orders")

    services.cycle_adjustment_add(
        actor=marketing_user,
        cycle_id=cycle.pk,
        part="demand",
        line_id=None,
        month=first_month(cycle),
        amount=-300,
        reason="Listing delayed a month",
    )

    assert state(cycle) == {"demand": "stale", "supply": "missing", "orders": "fresh"}
    assert selectors.departments_to_sign(cycle) == {"marketing", "production"}
    # Signing again refreshes the one sign-off of the department; no second row.
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    assert state(cycle)["demand"] == "fresh"
    assert CycleSignOff.objects.filter(cycle=cycle).count() == 2


def test_a_refresh_asks_again_only_the_departments_whose_numbers_changed(
    cycle, admin_user, marketing_user, production_user, sales_user
):
    for user, part in (
        (marketing_user, "demand"),
        (production_user, "supply"),
        (sales_user, "orders"),
    ):
        services.cycle_sign_off(actor=user, cycle_id=cycle.pk, part=part)
    cycle.refresh_from_db()
    assert cycle.status == "agreed"
    # Back in review for this test: the line loses a week's hours.
    PlanningCycle.objects.filter(pk=cycle.pk).update(status="in_review", agreed_at=None)
    line = selectors.latest_snapshot(cycle).data["lines"][0]["id"]
    CapacityException.objects.create(
        line_id=line, week=add_weeks(current_week(), 5), hours=Decimal("20"), note="Maintenance"
    )
    cycle.refresh_from_db()
    services.planning_cycle_refresh(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )
    assert state(cycle) == {"demand": "fresh", "supply": "stale", "orders": "fresh"}

    # The forecast's baseline changes: demand and the supply planned for it change; the
    # firm orders do not.
    DemandForecast.objects.update(baseline=61.0, final=61.0)
    cycle.refresh_from_db()
    services.planning_cycle_refresh(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )
    assert state(cycle) == {"demand": "stale", "supply": "stale", "orders": "fresh"}
    cycle.refresh_from_db()
    assert cycle.status == "in_review"


def test_a_refresh_with_nothing_changed_keeps_every_sign_off(cycle, admin_user, marketing_user):
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    cycle.refresh_from_db()
    services.planning_cycle_refresh(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )
    assert state(cycle)["demand"] == "fresh"


def test_an_agreed_cycle_refuses_adjustments(cycle, marketing_user, production_user, sales_user):
    for user, part in (
        (marketing_user, "demand"),
        (production_user, "supply"),
        (sales_user, "orders"),
    ):
        services.cycle_sign_off(actor=user, cycle_id=cycle.pk, part=part)
    with pytest.raises(ValidationError, match="its numbers are final"):
        services.cycle_adjustment_add(
            actor=marketing_user,
            cycle_id=cycle.pk,
            part="demand",
            line_id=None,
            month=first_month(cycle),
            amount=10,
            reason="Late change",
        )
    assert CycleAdjustment.objects.count() == 0


def test_adjustments_are_validated_at_the_field(cycle, production_user, marketing_user):
    with pytest.raises(ValidationError) as invalid:
        services.cycle_adjustment_add(
            actor=production_user,
            cycle_id=cycle.pk,
            part="supply",
            line_id=999999,
            month=dt.date(2030, 1, 1),
            amount="lots",
            reason="  ",
        )
    assert invalid.value.message_dict == {
        "line": ["Choose one of the production lines."],
        "month": ["Choose a month the snapshot covers."],
        "amount": ["Enter a whole number, negative to lower the figure."],
        "reason": ["Say why the meeting changed this number."],
    }
    with pytest.raises(PermissionDenied):
        services.cycle_adjustment_add(
            actor=marketing_user,
            cycle_id=cycle.pk,
            part="supply",
            line_id=None,
            month=first_month(cycle),
            amount=8,
            reason="Saturday shift",
        )
    assert CycleAdjustment.objects.count() == 0


def test_adjustments_show_in_the_agreed_figure(cycle, production_user):
    month = first_month(cycle)
    line_id = selectors.latest_snapshot(cycle).data["lines"][0]["id"]
    services.cycle_adjustment_add(
        actor=production_user,
        cycle_id=cycle.pk,
        part="supply",
        line_id=line_id,
        month=month,
        amount=16,
        reason="Two Saturday shifts",
    )
    rows = selectors.part_rows(
        selectors.latest_snapshot(cycle), "supply", selectors.adjustments_of(cycle)
    )
    first = next(r for r in rows if r["month"] == month.isoformat())
    assert (first["adjusted"], first["agreed"]) == (16, first["capacity_hours"] + 16)


def test_an_adjustment_of_all_lines_gets_a_row_of_its_own(cycle, marketing_user):
    snapshot = selectors.latest_snapshot(cycle)
    month = first_month(cycle)
    services.cycle_adjustment_add(
        actor=marketing_user,
        cycle_id=cycle.pk,
        part="demand",
        line_id=None,
        month=month,
        amount=-40,
        reason="Listing slips",
    )
    rows = selectors.part_rows(snapshot, "demand", selectors.adjustments_of(cycle))
    assert len(rows) == len(snapshot.data["demand"]["rows"]) + 1
    extra = rows[-1]
    assert (extra["line"], extra["month"], extra["baseline"], extra["adjusted"]) == (
        "All lines",
        month.isoformat(),
        None,
        -40,
    )
    total = sum(r["final"] for r in snapshot.data["demand"]["rows"])
    assert sum(r["agreed"] for r in rows) == total - 40


def test_one_sign_off_per_cycle_and_department_in_the_database(cycle, marketing_user):
    signed = services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    with pytest.raises(IntegrityError), transaction.atomic():
        CycleSignOff.objects.create(
            cycle=cycle,
            part="supply",
            department="marketing",
            signed_by=marketing_user,
            snapshot=signed.snapshot,
            part_hash="x",
        )
    assert CycleSignOff.objects.count() == 1
