"""The quota explanation's waterfall states the same number as the grid, the header and
the schedule: its steps are whole units that add up to whole_units(recommended), each
starting where the one before ended, each term as the page's table shows it (hypothesis)."""

import datetime as dt

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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=30))
def test_a_row_rounded_at_once_is_rounded_as_value_by_value(values):
    """The re-plan rounds a product's row with _rounded: the same floats, to the bit
    (-0.0 made 0.0, NaN and infinities kept), as _r gave value by value."""
    expected = [_r(v) for v in values]
    got = _rounded(values)
    assert [repr(v) for v in got] == [repr(v) for v in expected]
