"""Nothing over capacity without a decision: the check every accept and override of the
schedule makes before it writes (production.services.schedule), and the record of a
decision taken over capacity.

A change that adds hours to a week that then needs more than the line has (its normal
hours, or the week's capacity exception) is refused with OverCapacityError, naming each
week and the hours over, unless the person confirmed it (`allow_over_capacity`) with a
reason. A change that only lowers a week's load is never refused, even if the week stays
over: it brings the line closer to what it can make. A quota whose hours alone exceed
what the line could make in a year (52 normal weeks) is a typo, not a plan: refused
outright, confirmation or not."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from coordination.errors import OverCapacityError
from coordination.models import Line
from coordination.services.activity import activity_record
from production.selectors.load import (
    WeekLoad,
    accepted_hours,
    capacity_hours,
    describe,
    hours_per_unit,
)

WEEKS_IN_A_YEAR = 52
REASON_MAX_LENGTH = 300
REASON_REQUIRED = "Say why the line may go over capacity."


@dataclass(frozen=True)
class Change:
    """One cell a decision writes: `units` replacing the current entry's (if any)."""

    product_id: int
    sku: str
    line_id: int
    week: dt.date
    units: int
    old_line_id: int | None = None
    old_units: int = 0


def check_units_possible(*, line: Line, sku: str, units: int, hours_per_unit: float) -> None:
    """Refuse a quota the line could not make in a year of normal weeks."""
    hours = units * hours_per_unit
    year = WEEKS_IN_A_YEAR * float(line.weekly_capacity_hours)
    if hours > year:
        raise ValidationError(
            {
                "units": f"{units:,} units of {sku} take {hours:,.0f} line hours: more than "
                f"{line} can make in a year ({WEEKS_IN_A_YEAR} weeks x "
                f"{line.weekly_capacity_hours} h = {year:,.0f} h). Enter the quota you mean."
            }
        )


def capacity_check(
    *,
    line: Line,
    changes: list[Change],
    allow_over_capacity: bool = False,
    reason: str = "",
) -> list[WeekLoad]:
    """The weeks of `line` the changes leave over capacity, given the schedule as it is
    now (read under the schedule lock). Raises ValidationError for an impossible quota
    and OverCapacityError for weeks over capacity the person did not confirm with a
    reason; returns those weeks when they did (empty when everything fits)."""
    rates = hours_per_unit({change.product_id for change in changes})
    delta: dict[dt.date, float] = defaultdict(float)
    rounding: dict[dt.date, float] = defaultdict(float)
    for change in changes:
        rate = rates.get(change.product_id, 0.0)
        if change.units > change.old_units:
            check_units_possible(line=line, sku=change.sku, units=change.units, hours_per_unit=rate)
        delta[change.week] += change.units * rate
        if change.units > 0 and not (change.old_line_id == line.pk and change.old_units > 0):
            rounding[change.week] += rate
        if change.old_line_id == line.pk:
            delta[change.week] -= change.old_units * rate
    weeks = sorted(week for week, hours in delta.items() if hours > 0)
    if not weeks:
        return []
    accepted = accepted_hours(line_ids=[line.pk], week_from=weeks[0], week_to=weeks[-1])
    capacity = capacity_hours([line], weeks)
    loads = []
    for week in weeks:
        hours, allowance = accepted.get((line.pk, week), (0.0, 0.0))
        loads.append(
            WeekLoad(
                line,
                week,
                hours + delta[week],
                capacity[(line.pk, week)],
                allowance + rounding[week],
            )
        )
    over = [load for load in loads if load.over_hours > 0]
    if not over:
        return []
    reason = (reason or "").strip()
    problem = REASON_REQUIRED if not reason else ""
    if len(reason) > REASON_MAX_LENGTH:
        problem = f"Say it in at most {REASON_MAX_LENGTH} characters."
    if allow_over_capacity and not problem:
        return over
    count = f"{len(over)} week{'s' if len(over) > 1 else ''}"
    raise OverCapacityError(
        f"This leaves {line} over capacity in {count}: {describe(over)}. "
        "Change the quota, or confirm it with a reason to plan it over capacity.",
        weeks=[load.as_dict() for load in over],
        fields={"reason": problem} if allow_over_capacity else None,
    )


def over_capacity_fields(over: list[WeekLoad], week: dt.date, reason: str) -> dict:
    """What a schedule entry of `week` records of the decision (nothing if it fitted)."""
    hours = next((load.over_hours for load in over if load.week == week), 0.0)
    if not hours:
        return {}
    return {
        "over_capacity_hours": hours,
        "over_capacity_reason": reason.strip(),
    }


def over_capacity_record(*, actor, line: Line, over: list[WeekLoad], reason: str, what: str):
    """The decision on the line's timeline: which weeks, how far over, who and why."""
    if over:
        activity_record(
            target=line,
            actor=actor,
            verb="updated",
            message=f"Planned over capacity ({what}): {describe(over)} — {reason.strip()}",
            data={"over_capacity": [load.as_dict() for load in over], "reason": reason.strip()},
        )
