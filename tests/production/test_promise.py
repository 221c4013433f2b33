"""Capable-to-promise on hand-computed lines: figures, what the order uses and displaces,
the over-committed (LP) path, refusals and input checks."""

import dataclasses
import math

import numpy as np
import pytest

from production.engine.promise import (
    Displaced,
    LineState,
    PromiseRefused,
    WeekUnits,
    promise,
)


def two_products(**changes):
    """a and b, 1 hour each, 15 hours a week, weeks 0-3, week 0 frozen. The plan makes
    a 10 and b 5 every week (the line is full). Firm: a 10 in week 2, b 5 in week 1 - both
    covered by what frozen week 0 made, so weeks 1-3 (45 hours) are free for new orders."""
    values = {
        "products": ("a", "b"),
        "demand": [[10, 10, 10, 10], [5, 5, 5, 5]],
        "firm": [[0, 0, 10, 0], [0, 5, 0, 0]],
        "on_hand": [0, 0],
        "lead_time": [0, 0],
        "hours_per_unit": [1, 1],
        "capacity_hours": [15, 15, 15, 15],
        "production": [[10, 10, 10, 10], [5, 5, 5, 5]],
        "frozen_weeks": 1,
    }
    values.update(changes)
    return LineState(**values)


def test_a_small_order_takes_the_hours_of_the_latest_week_and_displaces_b():
    answer = promise(two_products(), "a", 5, 2)
    assert answer.available == 5.0
    assert answer.earliest_week == 2 and answer.full and answer.reason == ""
    assert answer.delivers == (WeekUnits(2, 5.0),)
    assert answer.uses == (WeekUnits(2, 5.0),)
    # Week 2 makes 15 of a and none of b: b's forecast is 5 short from week 2 on.
    np.testing.assert_array_equal(answer.production, [[10, 10, 15, 10], [5, 5, 0, 5]])
    assert answer.displaces == (Displaced("b", 2, 5.0), Displaced("b", 3, 5.0))
    assert answer.displaced_units() == {"b": 5.0}
    assert answer.method == "fast"


def test_the_most_by_a_week_is_all_free_hours_up_to_it():
    line = two_products()
    # Weeks 1 and 2 have 30 hours and no firm order needs them.
    answer = promise(line, "a", 30, 2)
    assert (answer.available, answer.earliest_week, answer.full) == (30.0, 2, True)
    assert answer.uses == (WeekUnits(1, 5.0), WeekUnits(2, 5.0))
    np.testing.assert_array_equal(answer.production, [[10, 15, 15, 10], [5, 0, 0, 5]])
    # a's own forecast gives up 20 (its planned units go to the order), b's 10.
    assert answer.displaces == (
        Displaced("a", 2, 20.0),
        Displaced("a", 3, 20.0),
        Displaced("b", 1, 5.0),
        Displaced("b", 2, 10.0),
        Displaced("b", 3, 10.0),
    )

    later = promise(line, "a", 35, 2)
    assert (later.available, later.earliest_week, later.full) == (30.0, 3, False)
    assert later.delivers == (WeekUnits(3, 35.0),)


def test_more_than_the_horizon_holds_is_not_within_the_plan():
    answer = promise(two_products(), "a", 100, 3)
    assert answer.available == 45.0
    assert answer.earliest_week is None and not answer.full
    assert answer.reason == (
        "The line can deliver at most 45 of 100 units by the last week of the plan's "
        "horizon (week 3) without breaking a firm order."
    )
    assert answer.delivers == (WeekUnits(3, 45.0),)


def test_firm_orders_of_other_products_keep_their_hours():
    """10 hours a week. b has a firm order of 20 in week 3: 15 of it must still be made in
    weeks 1-3, so a gets the other 15 hours plus the 5 units week 0 made for stock."""
    line = LineState(
        products=("a", "b"),
        demand=[[5, 5, 5, 5], [5, 5, 5, 20]],
        firm=[[0, 0, 0, 0], [0, 0, 0, 20]],
        on_hand=[0, 0],
        lead_time=[0, 0],
        hours_per_unit=[1, 1],
        capacity_hours=[10, 10, 10, 10],
        production=[[5, 5, 5, 5], [5, 5, 5, 5]],
        frozen_weeks=1,
    )
    answer = promise(line, "a", 25, 2)
    assert answer.available == 20.0
    assert answer.earliest_week is None
    assert "at most 20 of 25 units" in answer.reason
    b_made = answer.production[1].sum()
    assert b_made >= 20.0  # b's firm order is still covered by week 3
    assert (line.hours_per_unit[:, None] * answer.production).sum(axis=0).max() <= 10.0


def test_lead_time_weeks_are_served_from_stock_only():
    """Lead time 2, week 0 frozen: output of week 1 arrives in week 3. Stock 8, firm 3 in
    week 1, week 0's 4 units arrive in week 2. By week 1 stock can spare 8 - 3 = 5."""
    line = LineState(
        products=("a",),
        demand=[[2, 3, 2, 2]],
        firm=[[0, 3, 0, 0]],
        on_hand=[8],
        lead_time=[2],
        hours_per_unit=[1],
        capacity_hours=[100, 100, 100, 100],
        production=[[4, 0, 0, 0]],
        frozen_weeks=1,
    )
    answer = promise(line, "a", 6, 1)
    assert answer.available == 5.0
    assert answer.earliest_week == 2  # week 2: 8 + 4 - 3 = 9 spare
    assert answer.delivers == (WeekUnits(2, 6.0),)
    # Week 1 makes 3 to refill week 3's forecast; week 2's forecast is 1 short (its stock
    # went to the order and nothing made after week 0 arrives before week 3).
    assert answer.uses == (WeekUnits(1, 3.0),)
    assert answer.displaces == (Displaced("a", 2, 1.0),)


def test_a_product_without_hours_is_limited_only_by_its_lead_time():
    line = two_products(hours_per_unit=[0, 1])
    answer = promise(line, "a", 1_000_000, 1)
    assert answer.full and answer.available == 1_000_000.0
    assert answer.uses == (WeekUnits(1, 1_000_000.0),)
    assert answer.displaces == ()
    np.testing.assert_array_equal(answer.production[1], line.production[1])


def test_an_over_committed_line_is_answered_by_the_linear_programs():
    """b owes 15 in week 0 with 10 hours: 5 stay late whatever happens. Keeping it at 5,
    b needs 5 of week 1, so a can have 5 by week 1 and its 10 by week 2."""
    line = LineState(
        products=("a", "b"),
        demand=[[0, 0, 0], [15, 0, 0]],
        firm=[[0, 0, 0], [15, 0, 0]],
        on_hand=[0, 0],
        lead_time=[0, 0],
        hours_per_unit=[1, 1],
        capacity_hours=[10, 10, 10],
        production=[[0, 0, 0], [10, 5, 0]],
        frozen_weeks=0,
    )
    answer = promise(line, "a", 10, 1)
    assert answer.method == "lp"
    assert math.isclose(answer.available, 5.0, abs_tol=1e-7)
    assert answer.earliest_week == 2
    assert answer.delivers == (WeekUnits(2, 10.0),)
    y = answer.production
    assert math.isclose(y[1, :2].sum(), 15.0, abs_tol=1e-7)  # b still makes its 15 by week 1
    assert y[1, 0] == pytest.approx(10.0)
    assert y[0].sum() == pytest.approx(10.0)
    assert answer.displaces == ()


def test_a_quantity_per_week_is_promised_as_its_first_units():
    line = two_products()
    answer = promise(line, "a", per_week={2: 10, 3: 40})
    assert answer.requested == (WeekUnits(2, 10.0), WeekUnits(3, 40.0))
    assert (answer.quantity, answer.week) == (50.0, 3)
    assert answer.available == 45.0 and answer.earliest_week is None
    assert answer.delivers == (WeekUnits(2, 10.0), WeekUnits(3, 35.0))

    fits = promise(line, "a", per_week={1: 10, 2: 10})
    assert (fits.available, fits.earliest_week, fits.full) == (20.0, 2, True)

    moved = promise(line, "a", per_week={1: 20, 2: 15})
    # 35 by week 2 does not fit (30 hours); moved a week later: 20 by 2 and 35 by 3 fits.
    assert (moved.available, moved.earliest_week) == (30.0, 3)
    assert moved.delivers == (WeekUnits(2, 20.0), WeekUnits(3, 15.0))


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"product": "zzz", "quantity": 5, "week": 2}, "product", "unknown"),
        ({"product": "a", "quantity": 0, "week": 2}, "quantity", "not_positive"),
        ({"product": "a", "quantity": -3, "week": 2}, "quantity", "not_positive"),
        ({"product": "a", "quantity": float("nan"), "week": 2}, "quantity", "not_positive"),
        ({"product": "a", "quantity": float("inf"), "week": 2}, "quantity", "not_positive"),
        ({"product": "a", "quantity": "many", "week": 2}, "quantity", "invalid"),
        ({"product": "a", "quantity": "5", "week": 2}, "quantity", "invalid"),
        ({"product": "a", "quantity": True, "week": 2}, "quantity", "invalid"),
        ({"product": "a", "quantity": None, "per_week": {2: None}}, "quantity", "invalid"),
        ({"product": ["a"], "quantity": 5, "week": 2}, "product", "unknown"),
        ({"product": "a", "quantity": 5, "week": 0}, "week", "frozen"),
        ({"product": "a", "quantity": 5, "week": -1}, "week", "past"),
        ({"product": "a", "quantity": 5, "week": 4}, "week", "beyond_horizon"),
        ({"product": "a", "quantity": 5, "week": "2"}, "week", "invalid"),
        ({"product": "a", "quantity": 5, "week": True}, "week", "invalid"),
        ({"product": "a", "per_week": {}}, "quantity", "empty"),
        ({"product": "a", "per_week": {2: 5, 0: 5}}, "week", "frozen"),
    ],
)
def test_refusals_name_the_field_and_why(kwargs, field, code):
    with pytest.raises(PromiseRefused) as refused:
        promise(two_products(), **kwargs)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert isinstance(refused.value, ValueError)
    assert str(refused.value) == refused.value.message


def test_refusal_messages():
    line = two_products(hold_reason={"b": "Recall R-12 (stop-ship)"})
    with pytest.raises(PromiseRefused, match=r"'b' cannot be promised: Recall R-12 \(stop-ship\)"):
        promise(line, "b", 5, 2)
    with pytest.raises(PromiseRefused, match="first week open to new orders is week 1"):
        promise(line, "a", 5, 0)
    with pytest.raises(PromiseRefused, match=r"beyond the plan's horizon \(weeks 0..3\)"):
        promise(line, "a", 5, 9)
    with pytest.raises(PromiseRefused, match="'zzz' is not made on this line"):
        promise(line, "zzz", 5, 2)


def test_the_request_must_be_one_form_or_the_other():
    line = two_products()
    with pytest.raises(ValueError, match="give quantity and week, or per_week"):
        promise(line, "a", 5)
    with pytest.raises(ValueError, match="not both"):
        promise(line, "a", 5, 2, per_week={2: 5})


def test_answers_and_line_states_are_immutable():
    line = two_products()
    answer = promise(line, "a", 5, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.available = 1.0
    with pytest.raises(ValueError):
        answer.production[0, 0] = 1.0
    with pytest.raises(ValueError):
        line.capacity_hours[0] = 1.0
    # The line's inputs were copied: changing the caller's arrays changes nothing.
    capacity = np.array([15.0, 15, 15, 15])
    copied = two_products(capacity_hours=capacity)
    capacity[:] = 0
    assert promise(copied, "a", 5, 2).available == 5.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"products": ("a", "a")}, "products must be unique"),
        ({"capacity_hours": [15, 15, 15]}, r"capacity_hours must have shape \(4,\)"),
        ({"capacity_hours": [15, -1, 15, 15]}, "capacity_hours must not be negative"),
        ({"production": [[10, np.nan, 10, 10], [5, 5, 5, 5]]}, "production must be finite"),
        ({"firm": [[0, 0, -1, 0], [0, 5, 0, 0]]}, "firm must not be negative"),
        ({"lead_time": [0, 0.5]}, "lead_time must hold whole numbers"),
        ({"lead_time": [0, -1]}, "lead_time must not be negative"),
        ({"frozen_weeks": 5}, r"frozen_weeks must be a whole number in 0..4"),
        ({"hold_reason": {"zzz": "recall"}}, "hold_reason names products not on the line"),
        ({"on_hand": ["x", 0]}, "on_hand must be numeric"),
    ],
)
def test_line_state_checks_its_inputs(changes, message):
    with pytest.raises(ValueError, match=message):
        two_products(**changes)
