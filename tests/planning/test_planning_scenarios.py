"""What-if scenarios re-plan with changed capacity beside the live plan and never touch
the live recommendations; the pure gap arithmetic behind "what would close the gap"."""

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coordination.models import RecomputeRequest
from coordination.weeks import add_weeks, current_week
from planning import services
from planning.models import PlanningScenario
from production.engine.gap import (
    BuildAhead,
    ExtraHours,
    build_ahead,
    extra_hours_to_close,
    extra_units_to_close,
    place_extra_hours,
)
from production.models import QuotaRecommendation, RecomputeRun, ScheduleEntry
from tests.planning.planning_world import FIRM_WEEK, build_world


@pytest.fixture
def world(db, sales_user):
    return build_world(sales_user)


@pytest.fixture
def cycle(world, admin_user):
    return services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))


def live_plan():
    return list(
        QuotaRecommendation.objects.order_by("product_id", "week").values_list(
            "id", "week", "recommended_units", "prebuild_units", "shortage_units", "run_id"
        )
    )


def run(cycle, actor, world, hours, first=FIRM_WEEK, last=FIRM_WEEK, **extra):
    return services.planning_scenario_run(
        actor=actor,
        cycle_id=cycle.pk,
        line_id=world["line"].pk,
        first_week=add_weeks(current_week(), first),
        last_week=add_weeks(current_week(), last),
        extra_hours=hours,
        **extra,
    )


@pytest.mark.django_db
def test_the_extra_hours_the_gap_names_close_it(cycle, world, production_user):
    # The snapshot says: 68 more hours in week 2 and 12 in week 1 close the shortage.
    gap = cycle.snapshots.get().data["supply"]["gap"]
    assert [(g["week"], g["extra_hours"]) for g in gap] == [
        (add_weeks(current_week(), 2).isoformat(), 68.0),
        (add_weeks(current_week(), 1).isoformat(), 12.0),
    ]
    before = live_plan()
    runs, requests, entries = (
        RecomputeRun.objects.count(),
        RecomputeRequest.objects.count(),
        ScheduleEntry.objects.count(),
    )

    scenario = run(cycle, production_user, world, 68, first=1, last=2)

    live, what_if = scenario.result["live"], scenario.result["scenario"]
    assert (live["peak_shortage"], what_if["peak_shortage"]) == (80, 0)
    assert live["capacity_hours"][:4] == [100.0, 100.0, 100.0, 100.0]
    assert what_if["capacity_hours"][:4] == [100.0, 168.0, 168.0, 100.0]
    assert live["extra_hours"][FIRM_WEEK] == 80.0
    assert what_if["extra_hours"] == [0.0] * 26
    assert scenario.name == (
        f"Bottling: +68.0 h/week, {add_weeks(current_week(), 1):%G-W%V}"
        f" – {add_weeks(current_week(), 2):%G-W%V}"
    )
    # The live plan, its runs, the outbox and the schedule are exactly as they were.
    assert live_plan() == before
    assert RecomputeRun.objects.count() == runs
    assert RecomputeRequest.objects.count() == requests
    assert ScheduleEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_week_never_gets_more_than_168_hours(cycle, world, production_user):
    # 80 hours more in week 2 alone would make 180: capped at 168, 12 stay short.
    scenario = run(cycle, production_user, world, 80)
    assert scenario.result["scenario"]["capacity_hours"][FIRM_WEEK] == 168.0
    assert scenario.result["scenario"]["peak_shortage"] == 12
    assert scenario.result["scenario"]["shortage_units"][FIRM_WEEK] == 12


@pytest.mark.django_db
def test_fewer_hours_make_the_plan_shorter(cycle, world, production_user):
    scenario = run(cycle, production_user, world, -20, first=0, last=25, name="Short crew")
    live, what_if = scenario.result["live"], scenario.result["scenario"]
    assert scenario.name == "Short crew"
    assert what_if["capacity_hours"] == [80.0] * 26
    assert what_if["peak_shortage"] > live["peak_shortage"]
    assert scenario.result["changed_cells"] > 0


@pytest.mark.django_db
def test_only_production_tries_scenarios(cycle, world, marketing_user, sales_user, quality_user):
    before = live_plan()
    for user in (marketing_user, sales_user, quality_user):
        with pytest.raises(PermissionDenied):
            run(cycle, user, world, 8)
    assert PlanningScenario.objects.count() == 0
    assert live_plan() == before


@pytest.mark.django_db
def test_a_scenario_is_validated_at_the_field(cycle, world, production_user):
    with pytest.raises(ValidationError) as invalid:
        services.planning_scenario_run(
            actor=production_user,
            cycle_id=cycle.pk,
            line_id=None,
            first_week=add_weeks(current_week(), -1),
            last_week=add_weeks(current_week(), 30),
            extra_hours="0",
        )
    assert invalid.value.message_dict == {
        "line": ["Choose the production line."],
        "first_week": [
            f"{add_weeks(current_week(), -1):%G-W%V} is over: choose this week or a later one."
        ],
        "last_week": ["The plan covers 26 weeks: choose a week before that."],
        "extra_hours": ["A scenario changes capacity: enter hours other than 0."],
    }
    with pytest.raises(ValidationError) as backwards:
        run(cycle, production_user, world, "x", first=5, last=3)
    assert backwards.value.message_dict == {
        "last_week": ["The last week cannot be before the first."],
        "extra_hours": ["Enter hours as a number, e.g. 16 or -8."],
    }
    assert PlanningScenario.objects.count() == 0


# ------------------------------------------------------------- the pure arithmetic


def test_extra_units_follow_the_running_maximum_of_the_backlog():
    backlog = np.array([[0, 80, 40, 0, 50], [10, 30, 20, 60, 60]], dtype=float)
    # Product 1: 80 arriving by week 1 also covers the 50 of week 4 (backlog 0 in week 3
    # means the 80 are still in stock). Product 2: a backlog carried forward is not new.
    assert extra_units_to_close(backlog).tolist() == [
        [0, 80, 0, 0, 0],
        [10, 20, 0, 30, 0],
    ]
    assert extra_hours_to_close(backlog, np.array([0.5, 2.0])).tolist() == [20, 80, 0, 60, 0]


def test_no_backlog_needs_no_extra_hours():
    assert extra_hours_to_close(np.zeros((2, 3)), np.array([1.0, 1.0])).tolist() == [0, 0, 0]
    assert extra_hours_to_close(np.zeros((0, 3)), np.zeros(0)).tolist() == [0, 0, 0]


def test_extra_hours_that_do_not_fit_a_week_are_built_earlier():
    placements, unplaced = place_extra_hours(
        np.array([0, 0, 80, 0, 300.0]), np.array([100, 100, 100, 160, 100.0])
    )
    assert placements == [
        ExtraHours(week=2, for_week=2, hours=68.0),
        ExtraHours(week=1, for_week=2, hours=12.0),
        ExtraHours(week=4, for_week=4, hours=68.0),
        ExtraHours(week=3, for_week=4, hours=8.0),
        ExtraHours(week=1, for_week=4, hours=56.0),
        ExtraHours(week=0, for_week=4, hours=68.0),
    ]
    assert [p.weeks_earlier for p in placements] == [0, 1, 0, 1, 3, 4]
    # 300 needed in week 4, 200 found room: 100 fit nowhere.
    assert unplaced.tolist() == [0, 0, 0, 0, 100.0]


def test_frozen_weeks_take_no_extra_hours():
    # Weeks 0 and 1 are frozen: week 2's 150 extra hours go to week 2 (68 of room) and
    # then nowhere; week 3's 20 fit in week 3.
    placements, unplaced = place_extra_hours(
        np.array([0, 0, 150, 20.0]),
        np.array([100, 100, 100, 100.0]),
        open_weeks=np.array([False, False, True, True]),
    )
    assert placements == [
        ExtraHours(week=2, for_week=2, hours=68.0),
        ExtraHours(week=3, for_week=3, hours=20.0),
    ]
    assert unplaced.tolist() == [0, 0, 82.0, 0]


def test_build_ahead_matches_each_use_to_the_latest_earlier_build():
    # With unlimited hours the product is made when needed: 210 in week 8, 260 in week 2.
    uncapacitated = [60, 60, 260, 60, 60, 60, 60, 60, 210, 60]
    production = [100, 100, 100, 100, 100, 90, 100, 100, 100, 60]
    assert build_ahead(np.array(production), np.array(uncapacitated)) == [
        BuildAhead(0, 2, 40.0),
        BuildAhead(1, 2, 40.0),
        BuildAhead(5, 8, 30.0),
        BuildAhead(6, 8, 40.0),
        BuildAhead(7, 8, 40.0),
    ]
    assert [m.weeks_ahead for m in build_ahead(np.array(production), np.array(uncapacitated))] == [
        2,
        1,
        3,
        2,
        1,
    ]


def test_a_plan_that_builds_nothing_ahead():
    assert build_ahead(np.array([60.0, 60.0]), np.array([60.0, 60.0])) == []
