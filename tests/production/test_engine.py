"""plan_quotas on hand-worked instances: every number below is computed by hand."""

import numpy as np
import pytest

from production.engine import plan_quotas


def plan_one(demand, capacity, *, on_hand=0.0, safety=0.0, lead=0, hours=1.0, **kwargs):
    """One product on one line."""
    demand = np.asarray(demand, dtype=float)[None, :]
    capacity = np.broadcast_to(np.asarray(capacity, dtype=float), demand.shape[1:])[None, :]
    return plan_quotas(demand, [on_hand], [safety], [lead], [0], [hours], capacity.copy(), **kwargs)


@pytest.mark.parametrize("strategy", ["auto", "lp"])
def test_promotion_in_week_8_builds_ahead_in_weeks_5_to_7_latest_first(strategy):
    # 100 units of capacity a week, 80 a week of baseline demand, a promotion lifts week 8
    # to 150: the 50 extra units are made in the latest weeks with room - 20 in week 7,
    # 20 in week 6 and the last 10 in week 5.
    demand = [80] * 12
    demand[8] = 150

    plan = plan_one(demand, 100, strategy=strategy)

    np.testing.assert_array_equal(
        plan.production[0], [80, 80, 80, 80, 80, 90, 100, 100, 100, 80, 80, 80]
    )
    np.testing.assert_array_equal(plan.prebuild[0], [0, 0, 0, 0, 0, 10, 20, 20, 0, 0, 0, 0])
    np.testing.assert_array_equal(plan.inventory[0], [0, 0, 0, 0, 0, 10, 30, 50, 0, 0, 0, 0])
    np.testing.assert_array_equal(plan.shortage[0], np.zeros(12))
    np.testing.assert_array_equal(plan.uncapacitated[0], demand)
    np.testing.assert_array_equal(
        plan.utilisation_hours[0], [80, 80, 80, 80, 80, 90, 100, 100, 100, 80, 80, 80]
    )
    assert plan.backlog_unit_weeks[0] == 0
    assert plan.inventory_unit_weeks[0] == 90
    # Whole units already: the relaxation's plan is kept ("+whole").
    assert plan.methods == (("latest-first+whole",) if strategy == "auto" else ("lp+whole",))


def test_promotion_too_big_to_build_ahead_leaves_a_shortage_that_is_caught_up():
    # Week 8 asks 320: 220 more than its capacity, but weeks 0-7 have only 8 x 20 spare.
    # Every spare hour before week 8 is used, 60 units are short in week 8 and the spare
    # 20 a week afterwards catches up: backlog 60, 40, 20.
    demand = [80] * 14
    demand[8] = 320

    plan = plan_one(demand, 100)

    np.testing.assert_array_equal(plan.production[0], [100] * 12 + [80, 80])
    np.testing.assert_array_equal(plan.shortage[0], [0] * 8 + [60, 40, 20, 0, 0, 0])
    np.testing.assert_array_equal(plan.inventory[0], [20, 40, 60, 80, 100, 120, 140, 160] + [0] * 6)
    np.testing.assert_array_equal(plan.prebuild[0], [20] * 8 + [0] * 6)
    assert plan.backlog_unit_weeks[0] == 120
    assert plan.methods == ("lp+whole",)


def test_capacity_short_from_the_start_reports_the_backlog():
    plan = plan_one([10, 10, 10, 10], 6)

    np.testing.assert_array_equal(plan.production[0], [6, 6, 6, 6])
    np.testing.assert_array_equal(plan.shortage[0], [4, 8, 12, 16])
    np.testing.assert_array_equal(plan.inventory[0], [0, 0, 0, 0])
    assert plan.backlog_unit_weeks[0] == 40


def test_lead_time_makes_units_weeks_before_they_are_needed():
    # Made in week s, available from s + 2: week 5's 50 units are made in week 3. Demand in
    # weeks 0-1 arrives too early for any production: it stays a shortage until week 2's
    # delivery (made in week 0). Nothing is made in the last two weeks: it would arrive
    # after the horizon.
    demand = [5, 5, 5, 0, 0, 50, 0, 7]

    plan = plan_one(demand, 100, lead=2)

    np.testing.assert_array_equal(plan.production[0], [15, 0, 0, 50, 0, 7, 0, 0])
    np.testing.assert_array_equal(plan.shortage[0], [5, 10, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(plan.inventory[0], np.zeros(8))
    np.testing.assert_array_equal(plan.prebuild[0], np.zeros(8))


def test_safety_stock_is_built_once_and_kept_as_late_as_possible():
    plan = plan_one([10, 10, 10, 10], 100, on_hand=5, safety=8)

    np.testing.assert_array_equal(plan.production[0], [13, 10, 10, 10])
    np.testing.assert_array_equal(plan.inventory[0], [8, 8, 8, 8])
    np.testing.assert_array_equal(plan.safety_shortfall[0], np.zeros(4))


def test_safety_stock_comes_after_demand_when_capacity_is_short():
    # Capacity covers demand but only 1 unit a week towards the safety stock of 4; once it
    # is reached, production drops back to demand.
    plan = plan_one([10, 10, 10, 10, 10], 11, safety=4)

    np.testing.assert_array_equal(plan.production[0], [11, 11, 11, 11, 10])
    np.testing.assert_array_equal(plan.shortage[0], np.zeros(5))
    np.testing.assert_array_equal(plan.safety_shortfall[0], [3, 2, 1, 0, 0])
    np.testing.assert_array_equal(plan.inventory[0], [1, 2, 3, 4, 4])
    assert plan.shortfall_unit_weeks[0] == 6


def test_shutdown_week_moves_production_into_the_weeks_before():
    capacity = [50, 50, 50, 50, 0, 50]

    plan = plan_one([20] * 6, capacity)

    np.testing.assert_array_equal(plan.production[0], [20, 20, 20, 40, 0, 20])
    np.testing.assert_array_equal(plan.prebuild[0], [0, 0, 0, 20, 0, 0])
    np.testing.assert_array_equal(plan.inventory[0], [0, 0, 0, 20, 0, 0])
    np.testing.assert_array_equal(plan.utilisation_hours[0], [20, 20, 20, 40, 0, 20])


def test_units_that_cost_fewer_hours_stay_late_and_the_others_are_built_ahead():
    # Week 3 needs 10 hours of each product but has 10. Building 10 hours ahead one week
    # holds 10 units of A (1 h/unit) or 5 units of B (2 h/unit): B is built ahead.
    demand = np.array([[0, 0, 0, 10.0], [0, 0, 0, 5.0]])
    capacity = np.array([[100, 100, 100, 10.0]])

    plan = plan_quotas(demand, [0, 0], [0, 0], [0, 0], [0, 0], [1.0, 2.0], capacity)

    np.testing.assert_array_equal(plan.production, [[0, 0, 0, 10], [0, 0, 5, 0]])
    np.testing.assert_array_equal(plan.prebuild, [[0, 0, 0, 0], [0, 0, 5, 0]])
    assert plan.inventory_unit_weeks[0] == 5


def test_fewer_backlog_units_when_capacity_goes_to_products_with_fewer_hours_per_unit():
    # 10 hours for 10 units of A (1 h each) or 5 of B (2 h each), both due now.
    demand = np.array([[10.0], [5.0]])

    plan = plan_quotas(demand, [0, 0], [0, 0], [0, 0], [0, 0], [1.0, 2.0], np.array([[10.0]]))

    np.testing.assert_array_equal(plan.production, [[10], [0]])
    np.testing.assert_array_equal(plan.shortage, [[0], [5]])


def test_frozen_cells_are_kept_and_the_rest_of_the_plan_nets_them():
    frozen = np.full((1, 5), np.nan)
    frozen[0, 0] = 25  # more than week 0 needs: the surplus covers week 1
    frozen[0, 3] = 0  # accepted zero: week 3's demand is made in week 2

    plan = plan_one([10, 10, 10, 10, 10], 100, frozen=frozen)

    np.testing.assert_array_equal(plan.production[0], [25, 0, 15, 0, 10])
    np.testing.assert_array_equal(plan.inventory[0], [15, 5, 10, 0, 0])


def test_frozen_hours_beyond_capacity_are_kept_and_leave_nothing_for_the_others():
    demand = np.array([[30.0, 0], [10.0, 10.0]])
    frozen = np.array([[30.0, np.nan], [np.nan, np.nan]])
    capacity = np.array([[20.0, 20.0]])

    plan = plan_quotas(demand, [0, 0], [0, 0], [0, 0], [0, 0], [1.0, 1.0], capacity, frozen=frozen)

    np.testing.assert_array_equal(plan.production, [[30, 0], [0, 20]])
    np.testing.assert_array_equal(plan.shortage, [[0, 0], [10, 0]])
    np.testing.assert_array_equal(plan.utilisation_hours, [[30, 20]])


def test_held_products_make_nothing_even_in_frozen_weeks():
    demand = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, 10.0]])
    frozen = np.array([[10.0, np.nan, np.nan], [10.0, np.nan, np.nan]])
    hold = np.array([True, False])

    plan = plan_quotas(
        demand,
        [5, 0],
        [0, 0],
        [0, 0],
        [0, 0],
        [1.0, 1.0],
        np.full((1, 3), 100.0),
        frozen=frozen,
        hold=hold,
    )

    np.testing.assert_array_equal(plan.production, [[0, 0, 0], [10, 10, 10]])
    np.testing.assert_array_equal(plan.shortage[0], [5, 15, 25])
    np.testing.assert_array_equal(plan.uncapacitated[0], [0, 0, 0])
    np.testing.assert_array_equal(plan.utilisation_hours, [[10, 10, 10]])


def test_products_without_hours_per_unit_are_not_limited_by_capacity():
    plan = plan_one([10, 10], 0, hours=0.0)

    np.testing.assert_array_equal(plan.production[0], [10, 10])
    assert plan.methods == ("uncapacitated+whole",)


def two_lines(line0_demand):
    demand = np.array([line0_demand, [0, 0, 40, 0.0], [5, 5, 5, 5.0]])
    capacity = np.array([[10, 10, 10, 10.0], [20, 20, 20, 20.0]])
    return demand, [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 1], [1, 1, 1.0], capacity


def test_lines_are_planned_independently():
    before = plan_quotas(*two_lines([10, 10, 10, 10.0]))
    after = plan_quotas(*two_lines([0, 0, 0, 30.0]))

    np.testing.assert_array_equal(after.production[1:], before.production[1:])
    # Line 1: week 2 needs 45 hours of its 20; 15 are built ahead in week 1 and 10 in week 0
    # (35 unit-weeks of stock either way; equal hours per unit, so input order decides who).
    np.testing.assert_array_equal(after.production[1:], [[0, 20, 20, 0], [15, 0, 0, 5]])
    assert after.inventory_unit_weeks[1] == 35
    np.testing.assert_array_equal(after.utilisation_hours[1], before.utilisation_hours[1])
    assert not np.array_equal(after.production[0], before.production[0])


def test_lines_argument_replans_only_that_line():
    full = plan_quotas(*two_lines([10, 10, 10, 10.0]))

    only = plan_quotas(*two_lines([10, 10, 10, 10.0]), lines=[1])

    np.testing.assert_array_equal(only.production[1:], full.production[1:])
    np.testing.assert_array_equal(only.prebuild[1:], full.prebuild[1:])
    assert np.all(np.isnan(only.production[0])) and np.all(np.isnan(only.shortage[0]))
    assert np.all(np.isnan(only.utilisation_hours[0]))
    assert only.methods[0] == "skipped" and only.methods[1] == full.methods[1]


def test_lines_can_be_planned_in_threads_with_the_same_result():
    args = two_lines([0, 0, 0, 30.0])

    np.testing.assert_array_equal(
        plan_quotas(*args, workers=2).production, plan_quotas(*args).production
    )


def test_result_arrays_are_read_only():
    plan = plan_one([1, 2], 10)

    with pytest.raises(ValueError, match="read-only"):
        plan.production[0, 0] = 5


def test_empty_inputs():
    no_products = plan_quotas(
        np.zeros((0, 3)), [], [], [], [], [], np.ones((2, 3)), frozen=np.zeros((0, 3))
    )
    no_weeks = plan_one([], [])

    assert no_products.production.shape == (0, 3)
    np.testing.assert_array_equal(no_products.utilisation_hours, np.zeros((2, 3)))
    assert no_weeks.production.shape == (1, 0) and no_weeks.prebuild.shape == (1, 0)
    assert no_weeks.backlog_unit_weeks[0] == 0


def test_lead_time_beyond_the_horizon_makes_nothing():
    plan = plan_one([3, 3, 3], 10, lead=5)

    np.testing.assert_array_equal(plan.production[0], [0, 0, 0])
    np.testing.assert_array_equal(plan.shortage[0], [3, 6, 9])


def test_zero_capacity_everywhere():
    plan = plan_one([1, 1, 1], 0)

    np.testing.assert_array_equal(plan.production[0], [0, 0, 0])
    np.testing.assert_array_equal(plan.shortage[0], [1, 2, 3])


def test_everything_frozen_is_kept_verbatim():
    frozen = np.array([[4.0, 0.0, 9.0]])

    plan = plan_one([3, 3, 3], 5, frozen=frozen)

    np.testing.assert_array_equal(plan.production, frozen)
    np.testing.assert_array_equal(plan.utilisation_hours, [[4, 0, 9]])


def test_all_products_held():
    demand = np.ones((2, 3))
    plan = plan_quotas(
        demand, [0, 0], [1, 1], [0, 0], [0, 0], [1, 1], np.ones((1, 3)), hold=[True, True]
    )

    np.testing.assert_array_equal(plan.production, np.zeros((2, 3)))
    np.testing.assert_array_equal(plan.shortage, [[1, 2, 3], [1, 2, 3]])


def test_huge_values_keep_capacity_and_proportions():
    demand = [1e12] * 6
    demand[4] = 3e12

    plan = plan_one(demand, 1.5e12)

    assert np.all(plan.utilisation_hours <= 1.5e12)
    np.testing.assert_array_equal(plan.production[0], [1e12, 1.5e12, 1.5e12, 1.5e12, 1.5e12, 1e12])
    assert plan.backlog_unit_weeks[0] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"demand": np.array([[1.0, np.nan]])}, "demand contains NaN"),
        ({"demand": np.array([[1.0, -1.0]])}, "demand must not be negative"),
        ({"demand": np.array([1.0, 2.0])}, "demand must be 2-dimensional"),
        ({"on_hand": [1.0, 2.0]}, r"on_hand must have shape \(1,\)"),
        ({"safety_stock": [-1.0]}, "safety_stock must not be negative"),
        ({"lead_time": [-1]}, "lead_time must not be negative"),
        ({"lead_time": [0.5]}, "lead_time must hold whole numbers"),
        ({"line_of": [1]}, r"line_of must be in 0\.\.0"),
        ({"hours_per_unit": [-1.0]}, "hours_per_unit must not be negative"),
        ({"capacity_hours": np.array([[1.0, -1.0]])}, "capacity_hours must not be negative"),
        ({"capacity_hours": np.array([[1.0, 1.0, 1.0]])}, "capacity_hours must have shape"),
        ({"capacity_hours": np.array([[1.0, np.nan]])}, "capacity_hours must be finite"),
        ({"frozen": np.array([[1.0]])}, "frozen must have shape"),
        ({"frozen": np.array([[-1.0, np.nan]])}, "frozen values must be finite"),
        ({"hold": [2]}, "hold must be boolean"),
        ({"lines": [3]}, r"lines must be in 0\.\.0"),
        ({"strategy": "fast"}, "strategy must be"),
    ],
)
def test_invalid_inputs_are_rejected_with_a_clear_message(change, message):
    kwargs = {
        "demand": np.array([[1.0, 2.0]]),
        "on_hand": [0.0],
        "safety_stock": [0.0],
        "lead_time": [0],
        "line_of": [0],
        "hours_per_unit": [1.0],
        "capacity_hours": np.array([[5.0, 5.0]]),
    }
    kwargs.update(change)

    with pytest.raises(ValueError, match=message):
        plan_quotas(**kwargs)
