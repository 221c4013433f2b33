"""The quota explanation's waterfall states the same number as the grid, the header and
the schedule: its steps are whole units that add up to whole_units(recommended), each
starting where the one before ended, each term as the page's table shows it (hypothesis)."""

import datetime as dt

import numpy as np
from django.template.defaultfilters import floatformat
from hypothesis import given, settings
from hypothesis import strategies as st

from production.models import QuotaRecommendation
from production.selectors.dashboard import explanation_steps
from production.services.planning import _r, _rounded
from production.services.schedule import whole_units

# Planner output: fractional units, at most a million, to a millionth of a unit.
units = st.floats(min_value=0, max_value=1e6).map(lambda x: round(x, 6))
signed = st.floats(min_value=-1e6, max_value=1e6).map(lambda x: round(x, 6))


@st.composite
def recommendations(draw) -> QuotaRecommendation:
    baseline, uplift, firm, safety, prebuild = (draw(units) for _ in range(5))
    adjustment, stock = draw(signed), draw(signed)
    demand = max(0.0, baseline + uplift + firm + adjustment)
    net = max(0.0, demand + safety - stock)
    cut = draw(st.floats(min_value=0, max_value=net + prebuild))
    frozen = draw(st.booleans())
    # A frozen week keeps its accepted quota, whatever the terms say.
    recommended = draw(units) if frozen else max(0.0, net + prebuild - cut)
    return QuotaRecommendation(
        week=dt.date(2026, 1, 5),
        baseline=baseline,
        promotion_uplift=uplift,
        firm_orders=firm,
        adjustment=adjustment,
        demand=demand,
        safety_stock=safety,
        stock_before_arrival=stock,
        net_requirement=net,
        prebuild_units=prebuild,
        capacity_cut_units=cut,
        recommended_units=recommended,
        frozen=frozen,
    )


@settings(max_examples=300, deadline=None)
@given(rec=recommendations())
def test_the_steps_are_whole_units_adding_up_to_the_quota(rec):
    steps = explanation_steps(rec)

    assert all(isinstance(step["value"], int) for step in steps)
    assert sum(step["value"] for step in steps) == whole_units(rec.recommended_units)
    assert [step["start"] for step in steps] == [0] + [step["end"] for step in steps[:-1]]
    assert steps[-1]["end"] == whole_units(rec.recommended_units)
    assert all(0 <= step["left"] <= 100 and step["width"] > 0 for step in steps)
    # Each term reads as the page's table shows it (floatformat:0) ...
    shown = {"Baseline demand": rec.baseline, "Safety stock target": rec.safety_stock}
    for step in steps:
        if step["label"] in shown:
            assert step["value"] == int(floatformat(shown[step["label"]], 0)), step
    # ... and only what rounding the terms one by one leaves over is a step of its own.
    rounding = [s["value"] for s in steps if s["label"] == "Rounding to whole units"]
    assert all(0 < abs(value) <= len(steps) / 2 + 1 for value in rounding)


def _former_rounded(values: list[float]) -> list[float]:
    """The re-plan's rounding of a product's row before _rounded: round() per value."""
    return [round(value, 3) + 0.0 for value in values]


# Values whose v * 1000 is at or next to a half, where rint and round() could part.
_near_halves = st.builds(
    lambda n, steps, scale: (
        float(np.nextafter((n + 0.5) / 1000, np.inf * steps)) if steps else (n + 0.5) / scale
    ),
    st.integers(-(10**9), 10**9),
    st.integers(-1, 1),
    st.sampled_from([1000.0, 1000.0000000001]),
)
_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(-2e6, 2e6),
    _near_halves,
    st.integers(-(10**12), 10**12).map(lambda n: n / 2000),
)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 6), st.lists(_cells, max_size=60))
def test_an_array_rounded_at_once_is_rounded_as_value_by_value(width, values):
    """The re-plan rounds each (product, week) array with _rounded: the same floats, to
    the bit (-0.0 made 0.0, NaN and infinities kept), as the former per-row rounding and
    _r gave value by value, ties and values next to a half included."""
    rows = [values[i : i + width] for i in range(0, len(values), width)] if width else [values]
    rows = [row + [0.0] * ((width or len(values)) - len(row)) for row in rows]
    got = _rounded(np.array(rows, dtype=float).reshape(len(rows), width or len(values)))
    expected = [_former_rounded(row) for row in rows]
    assert [[repr(v) for v in row] for row in got.tolist()] == [
        [repr(v) for v in row] for row in expected
    ]
    assert [[repr(_r(v)) for v in row] for row in rows] == [
        [repr(v) for v in row] for row in expected
    ]


def test_rounding_at_a_half_goes_to_round_as_round_does():
    """Near-ties are rounded by round() itself, where rint(v * 1000) / 1000 would part
    from it (0.0005 is stored just above a half: 0.001, rint gives 0.0; 0.0055 just
    below: 0.005, rint 0.006); 1.0625 * 1000 is an exact tie, round() keeps the even."""
    values = [0.0005, 0.0055, 1.0625, -0.0004, 1e7 + 0.0005, float("nan"), -float("inf")]
    got = _rounded(np.array(values)).tolist()
    assert [repr(v) for v in got] == [
        "0.001",
        "0.005",
        "1.062",
        "0.0",
        "10000000.0",
        "nan",
        "-inf",
    ]
    assert np.rint(0.0005 * 1000) / 1000 == 0.0 and np.rint(0.0055 * 1000) / 1000 == 0.006
