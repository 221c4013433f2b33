"""Planning cycles: opening takes a snapshot that never drifts with the live data, the
status workflow, and who may move it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast
from planning import services
from planning.models import PlanningCycle, PlanningSnapshot
from planning.selectors import cycles as selectors
from planning.selectors.snapshot import build_snapshot
from production.models import CapacityException, ProductionHold
from tests.factories import CustomerRequestFactory, SpecificationFactory
from tests.planning.planning_world import FIRM_WEEK, build_world, replan

pytestmark = pytest.mark.django_db

DECEMBER = dt.date(2026, 12, 1)


@pytest.fixture
def world(sales_user):
    return build_world(sales_user)


def month_of_week(k: int) -> str:
    return add_weeks(current_week(), k).replace(day=1).isoformat()


def test_opening_a_cycle_snapshots_every_section(admin_user, world):
    cycle = services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)

    assert (cycle.name, cycle.status, cycle.period_end) == (
        "December 2026",
        "preparing",
        dt.date(2026, 12, 31),
    )
    snapshot = cycle.snapshots.get()
    data = snapshot.data
    assert (snapshot.number, snapshot.first_week) == (1, current_week())
    assert len(data["weeks"]) == 26
    assert data["lines"] == [{"id": world["line"].pk, "name": "Bottling"}]
    # Demand: 26 weeks of 60, the firm order of 200, the uplift of 150, an adjustment of 5.
    demand = data["demand"]["rows"]
    assert sum(r["baseline"] for r in demand) == 26 * 60
    assert sum(r["uplift"] for r in demand) == 150
    assert sum(r["adjustment"] for r in demand) == 5
    assert sum(r["final"] for r in demand) == 26 * 60 + 200 + 150 + 5
    firm_month = next(r for r in demand if r["month"] == month_of_week(FIRM_WEEK))
    assert firm_month["firm"] == 200
    # Supply: 100 h a week available; the firm order needs 260 h in week 2.
    supply = data["supply"]
    assert sum(r["capacity_hours"] for r in supply["rows"]) == 2600.0
    assert sum(r["needed_hours"] for r in supply["rows"]) == 26 * 60 + 355
    assert supply["weekly"][0]["needed_hours"][:4] == [60.0, 60.0, 260.0, 60.0]
    assert supply["weekly"][0]["planned_hours"][:4] == [100.0, 100.0, 100.0, 100.0]
    # Weeks 0 and 1 build 80 ahead and week 2 is still 80 short: 80 more hours close it,
    # but a week holds 168 hours: 68 fit in week 2, the other 12 are built a week earlier.
    week = [add_weeks(current_week(), k).isoformat() for k in range(3)]
    assert supply["gap"] == [
        {
            "line_id": world["line"].pk,
            "line": "Bottling",
            "week": week[2],
            "for_week": week[2],
            "weeks_earlier": 0,
            "extra_hours": 68.0,
            "shifts": 9,
        },
        {
            "line_id": world["line"].pk,
            "line": "Bottling",
            "week": week[1],
            "for_week": week[2],
            "weeks_earlier": 1,
            "extra_hours": 12.0,
            "shifts": 2,
        },
    ]
    assert supply["unclosable"] == []
    assert supply["shortages"] == [
        {
            "line": "Bottling",
            "sku": "TEA-LEM-05",
            "week": add_weeks(current_week(), FIRM_WEEK).isoformat(),
            "units": 80,
            "cause": "Not enough hours",
        }
    ]
    # 80 built 1-2 weeks ahead for week 2, and 110 built 1-3 weeks ahead of the promotion.
    assert supply["build_ahead"] == [
        {
            "sku": "TEA-LEM-05",
            "units": 190,
            "first_week": current_week().isoformat(),
            "weeks_ahead_max": 3,
            "weeks_ahead_avg": 1.7,
            "line": "Bottling",
        }
    ]
    assert data["orders"]["rows"] == [
        {
            "line_id": world["line"].pk,
            "line": "Bottling",
            "month": month_of_week(FIRM_WEEK),
            "firm": 200,
        }
    ]
    assert [(c["customer"], c["sku"], c["units"]) for c in data["orders"]["commitments"]] == [
        ("Harbour Gyms", "TEA-LEM-05", 200)
    ]
    assert data["recalls"] == []
    assert data["specifications"] == []
    assert data["voice"]["total"] == 1


def test_the_snapshot_does_not_change_when_live_data_does(admin_user, world):
    cycle = services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)
    before = PlanningSnapshot.objects.get(cycle=cycle).data

    # Demand doubles, a shutdown takes a week's hours, a spec change and a request arrive.
    DemandForecast.objects.update(baseline=120.0, final=120.0)
    CapacityException.objects.create(
        line=world["line"], week=add_weeks(current_week(), 4), hours=Decimal("0"), note="Shutdown"
    )
    replan(world["line"])
    SpecificationFactory(
        product=world["product"],
        status="proposed",
        reviewed_by=None,
        reviewed_at=None,
        feasibility_note="",
    )
    CustomerRequestFactory(product=world["product"])

    assert PlanningSnapshot.objects.get(cycle=cycle).data == before
    fresh = build_snapshot()
    assert fresh != before
    assert sum(r["final"] for r in fresh["demand"]["rows"]) == 26 * 120
    assert len(fresh["specifications"]) == 1


def test_a_refresh_adds_a_snapshot_and_keeps_the_first(admin_user, world):
    cycle = services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)
    first = cycle.snapshots.get().data
    DemandForecast.objects.update(baseline=120.0, final=120.0)

    snapshot = services.planning_cycle_refresh(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )

    assert snapshot.number == 2
    assert PlanningSnapshot.objects.get(cycle=cycle, number=1).data == first
    assert selectors.latest_snapshot(cycle).pk == snapshot.pk
    assert sum(r["final"] for r in snapshot.data["demand"]["rows"]) == 26 * 120


def test_only_an_admin_opens_a_cycle(marketing_user, production_user, sales_user, world):
    for user in (marketing_user, production_user, sales_user):
        with pytest.raises(PermissionDenied):
            services.planning_cycle_open(actor=user, period_start=DECEMBER)
    assert PlanningCycle.objects.count() == 0
    assert PlanningSnapshot.objects.count() == 0


def test_a_period_is_open_once_and_must_be_ordered(admin_user, world):
    services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)
    with pytest.raises(ValidationError) as overlap:
        services.planning_cycle_open(
            actor=admin_user, period_start=dt.date(2026, 12, 15), period_end=dt.date(2027, 1, 14)
        )
    assert overlap.value.message_dict == {
        "period_start": ["“December 2026” already covers part of this period."]
    }
    with pytest.raises(ValidationError) as backwards:
        services.planning_cycle_open(
            actor=admin_user, period_start=dt.date(2027, 2, 1), period_end=dt.date(2027, 1, 1)
        )
    assert backwards.value.message_dict == {
        "period_end": ["The period must end on or after its first day."]
    }
    with pytest.raises(ValidationError) as missing:
        services.planning_cycle_open(actor=admin_user, period_start=None)
    assert missing.value.message_dict == {"period_start": ["Choose the first day of the period."]}
    assert PlanningCycle.objects.count() == 1


def test_another_period_set_by_the_admin(admin_user, world):
    cycle = services.planning_cycle_open(
        actor=admin_user,
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 3, 31),
        name="  Q1   2027 ",
    )
    assert (cycle.name, cycle.period_end) == ("Q1 2027", dt.date(2027, 3, 31))


def test_the_workflow_preparing_review_agreed_closed(
    admin_user, marketing_user, production_user, sales_user, world
):
    cycle = services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)
    with pytest.raises(ValidationError, match="only an agreed cycle can be closed"):
        services.planning_cycle_close(
            actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
        )
    cycle = services.planning_cycle_start_review(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )
    assert cycle.status == "in_review"
    for user, part in ((marketing_user, "demand"), (production_user, "supply")):
        services.cycle_sign_off(actor=user, cycle_id=cycle.pk, part=part)
    cycle.refresh_from_db()
    assert (cycle.status, cycle.agreed_at) == ("in_review", None)
    services.cycle_sign_off(actor=sales_user, cycle_id=cycle.pk, part="orders")
    cycle.refresh_from_db()
    assert cycle.status == "agreed"
    assert cycle.agreed_at is not None
    with pytest.raises(ValidationError, match="its numbers are final"):
        services.planning_cycle_refresh(
            actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
        )
    assert cycle.snapshots.count() == 1
    with pytest.raises(PermissionDenied):
        services.planning_cycle_close(
            actor=production_user, cycle_id=cycle.pk, expected_version=cycle.version
        )
    cycle = services.planning_cycle_close(
        actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version
    )
    assert (cycle.status, cycle.closed_by) == ("closed", admin_user)


def test_a_stale_version_changes_nothing(admin_user, world):
    from coordination.errors import StaleEditError

    cycle = services.planning_cycle_open(actor=admin_user, period_start=DECEMBER)
    with pytest.raises(StaleEditError):
        services.planning_cycle_start_review(
            actor=admin_user, cycle_id=cycle.pk, expected_version=cycle.version + 1
        )
    cycle.refresh_from_db()
    assert cycle.status == "preparing"


def test_the_next_cycle_measures_accuracy_over_the_weeks_the_last_one_planned(admin_user, world):
    first = services.planning_cycle_open(
        actor=admin_user,
        period_start=add_weeks(current_week(), -5),
        period_end=add_weeks(current_week(), -1),
    )
    second = services.planning_cycle_open(actor=admin_user, period_start=current_week())
    assert second.previous == first
    accuracy = second.snapshots.get().data["accuracy"]
    assert (accuracy["weeks"], accuracy["start"], accuracy["end"]) == (
        5,
        add_weeks(current_week(), -5).isoformat(),
        current_week().isoformat(),
    )
    # The first cycle has none before it: the last four weeks.
    assert first.snapshots.get().data["accuracy"]["weeks"] == 4


def test_a_held_product_is_short_but_hours_would_not_close_it(admin_user, world):
    ProductionHold.objects.create(
        product=world["product"], reason="Stop-ship RC-1: caps may not seal", reference="RC-1"
    )
    replan(world["line"])

    supply = build_snapshot()["supply"]

    assert supply["gap"] == []
    assert supply["unclosable"] == []
    # Nothing is made: the backlog grows to all 26 weeks of demand.
    assert supply["shortages"] == [
        {
            "line": "Bottling",
            "sku": "TEA-LEM-05",
            "week": add_weeks(current_week(), 25).isoformat(),
            "units": 26 * 60 + 355,
            "cause": "Production held: Stop-ship RC-1: caps may not seal",
        }
    ]
    assert sum(r["planned_hours"] for r in supply["rows"]) == 0
