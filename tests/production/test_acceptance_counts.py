"""The home page's count of quotas to accept per line (acceptance_by_line, counted by the
database) agrees with the dashboard's own list of them (changes_since_accepted, rounded
in Python by whole_units), cell for cell, including fractions that round to 6 places
first."""

from __future__ import annotations

import pytest

from coordination.weeks import add_weeks, current_week
from production.selectors.dashboard import acceptance_by_line, changes_since_accepted
from tests.factories import (
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    ScheduleEntryFactory,
)

pytestmark = pytest.mark.django_db

WEEKS = [add_weeks(current_week(), k) for k in range(4)]

# (recommended units, accepted units or None) per cell; whole_units of each in a comment.
CELLS = [
    [(40.0, 40), (50.0, 40), (0.0, None), (12.5, None)],  # 40 same, 50 changed, 0, 13 open
    [(7.0000004, 7), (7.0000004, None), (3.000003, 3), (0.0000004, None)],  # 7, 7 open, 4, 0
    [(2.999, 3), (0.0, 0), (0.0000006, 0), (1e9 + 0.25, 1_000_000_001)],  # 3, 0, 1, same
]


def _plant():
    lines = [LineFactory(name="Line A"), LineFactory(name="Line B")]
    for row, cells in enumerate(CELLS):
        product = ProductFactory(sku=f"SKU-{row}", production_line=lines[row % 2])
        for week, (recommended, accepted) in zip(WEEKS, cells, strict=True):
            QuotaRecommendationFactory(product=product, week=week, recommended_units=recommended)
            if accepted is not None:
                ScheduleEntryFactory(product=product, week=week, units=accepted)
    return lines


def test_the_home_counts_equal_the_dashboards_lists():
    lines = _plant()

    summary = acceptance_by_line(WEEKS)

    for line in lines:
        listed = changes_since_accepted(line, WEEKS)
        assert summary[line.pk] == {
            "changed": len(listed["changed"]),
            "unaccepted_weeks": listed["unaccepted_weeks"],
        }
    assert summary == {
        lines[0].pk: {"changed": 2, "unaccepted_weeks": [WEEKS[3]]},
        lines[1].pk: {"changed": 1, "unaccepted_weeks": [WEEKS[1]]},
    }


def test_a_week_nobody_planned_counts_nothing():
    assert acceptance_by_line(WEEKS) == {}
