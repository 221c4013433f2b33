"""Accepted load: the line hours the accepted schedule takes per line and week
(accepted units x the product's hours per unit), against the line's capacity that week
(its normal weekly hours, or a capacity exception's: a shutdown is 0).

The accept and override services check a decision against it (production.services.
schedule), the dashboard charts it beside the recommended load and lists the weeks over
capacity, and the schedule API publishes it per line and week."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum

from coordination.models import Line
from coordination.weeks import current_week, iso_label
from production.models import CapacityException, RunRate, ScheduleEntry

# Hours below this over capacity are rounding, not a decision anyone needs to take:
# 3 minutes a week. A week also has, at most, one unit of each product it makes of
# rounding: the planner fills capacity in fractions of units and the schedule takes whole
# units, rounded up (production.services.schedule.whole_units), so accepting a full
# week's plan may need up to that much more than the line has without being over.
OVER_CAPACITY_TOLERANCE_HOURS = 0.05


@dataclass(frozen=True)
class WeekLoad:
    line: Line
    week: dt.date
    accepted_hours: float
    capacity_hours: float
    # One unit of each product the week makes, in hours: what rounding to whole units adds.
    rounding_hours: float = 0.0

    @property
    def over_hours(self) -> float:
        """Hours the accepted schedule needs beyond the week's capacity (0: it fits)."""
        over = self.accepted_hours - self.capacity_hours
        allowed = max(OVER_CAPACITY_TOLERANCE_HOURS, self.rounding_hours)
        return round(over, 2) if over > allowed else 0.0

    def as_dict(self) -> dict:
        """The week as the API and the pages state it."""
        return {
            "line": self.line.name,
            "week": iso_label(self.week),
            "week_start": self.week.isoformat(),
            "accepted_hours": round(self.accepted_hours, 2),
            "capacity_hours": round(self.capacity_hours, 2),
            "over_capacity_hours": self.over_hours,
        }


def hours_per_unit(product_ids) -> dict[int, float]:
    """Line hours one unit takes, per product (a product without a run rate takes none)."""
    return {
        pid: float(hours)
        for pid, hours in RunRate.objects.filter(product_id__in=list(product_ids)).values_list(
            "product_id", "hours_per_unit"
        )
    }


def accepted_hours(
    *, line_ids=None, week_from: dt.date, week_to: dt.date | None = None
) -> dict[tuple[int, dt.date], tuple[float, float]]:
    """Hours of the current accepted schedule per (line id, week), with the hours of one
    unit of each product it makes that week (the rounding allowance), one query."""
    entries = ScheduleEntry.objects.filter(superseded_at__isnull=True, week__gte=week_from)
    if week_to is not None:
        entries = entries.filter(week__lte=week_to)
    if line_ids is not None:
        entries = entries.filter(line_id__in=list(line_ids))
    hours = ExpressionWrapper(
        F("units") * F("product__run_rate__hours_per_unit"),
        output_field=DecimalField(max_digits=30, decimal_places=6),
    )
    rows = (
        entries.values("line_id", "week")
        .annotate(
            hours=Sum(hours),
            rounding=Sum("product__run_rate__hours_per_unit", filter=Q(units__gt=0)),
        )
        .order_by()
    )
    return {
        (row["line_id"], row["week"]): (float(row["hours"] or 0), float(row["rounding"] or 0))
        for row in rows
    }


def capacity_hours(lines, weeks) -> dict[tuple[int, dt.date], float]:
    """Each line's hours in each week: its normal hours unless an exception says other."""
    lines, weeks = list(lines), sorted(set(weeks))
    hours = {(line.pk, week): float(line.weekly_capacity_hours) for line in lines for week in weeks}
    if weeks:
        for line_id, week, value in CapacityException.objects.filter(
            line__in=lines, week__in=weeks
        ).values_list("line_id", "week", "hours"):
            hours[(line_id, week)] = float(value)
    return hours


def line_week_loads(*, lines, weeks) -> list[WeekLoad]:
    """Every line x week: accepted hours against capacity, ordered by line then week."""
    lines, weeks = list(lines), sorted(set(weeks))
    if not lines or not weeks:
        return []
    accepted = accepted_hours(
        line_ids=[line.pk for line in lines], week_from=weeks[0], week_to=weeks[-1]
    )
    capacity = capacity_hours(lines, weeks)
    return [
        WeekLoad(line, week, *_hours(accepted, line, week, capacity))
        for line in lines
        for week in weeks
    ]


def _hours(accepted, line, week, capacity) -> tuple[float, float, float]:
    hours, rounding = accepted.get((line.pk, week), (0.0, 0.0))
    return hours, capacity[(line.pk, week)], rounding


def over_capacity_weeks(*, line: Line | None = None) -> list[WeekLoad]:
    """Every week from this one on whose accepted schedule needs more hours than the line
    has, ordered by line then week: listed until the load is back under capacity."""
    accepted = accepted_hours(
        line_ids=None if line is None else [line.pk], week_from=current_week()
    )
    by_line: dict[int, list[dt.date]] = defaultdict(list)
    for line_id, week in accepted:
        by_line[line_id].append(week)
    lines = [line] if line is not None else list(Line.objects.filter(pk__in=by_line))
    lines.sort(key=lambda item: item.name)
    capacity = capacity_hours(lines, [week for weeks in by_line.values() for week in weeks])
    over = []
    for item in lines:
        for week in sorted(by_line.get(item.pk, [])):
            load = WeekLoad(item, week, *_hours(accepted, item, week, capacity))
            if load.over_hours > 0:
                over.append(load)
    return over


def describe(loads: list[WeekLoad]) -> str:
    """ "2026-W50: 132.5 h accepted of 120.0 h, 12.5 h over; ..." """
    return "; ".join(
        f"{iso_label(load.week)}: {load.accepted_hours:,.1f} h of {load.capacity_hours:,.1f} h, "
        f"{load.over_hours:,.1f} h over"
        for load in loads
    )
