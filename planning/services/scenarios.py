"""What-if scenarios: re-plan a line with changed capacity, never touching the live
plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from coordination.models import Line
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.weeks import current_week, iso_label, weeks_between
from planning.models import PlanningCycle, PlanningScenario
from planning.services._common import (
    MAX_EXTRA_HOURS,
    SCENARIO,
)
from production.selectors.review import replan_with_capacity


@transaction.atomic
def planning_scenario_run(
    *,
    actor,
    cycle_id: int,
    line_id,
    first_week: dt.date | None,
    last_week: dt.date | None,
    extra_hours,
    name: str = "",
) -> PlanningScenario:
    """Re-plan a line with changed capacity beside the live plan, and keep the result.
    Writes only the scenario: live recommendations and the schedule stay as they are."""
    require_permission(actor, SCENARIO, "Only production managers try capacity scenarios.")
    cycle = PlanningCycle.objects.get(pk=cycle_id)
    if cycle.status == PlanningCycle.Status.CLOSED:
        raise ValidationError(f"{cycle} is closed: try scenarios on the current cycle.")
    errors = {}
    line = Line.objects.filter(pk=line_id).first() if line_id not in (None, "") else None
    if line is None:
        errors["line"] = "Choose the production line."
    this_week = current_week()
    horizon = settings.PLANNING_HORIZON_WEEKS
    for key, week in (("first_week", first_week), ("last_week", last_week)):
        if week is None:
            errors[key] = "Choose a week."
        elif week < this_week:
            errors[key] = f"{iso_label(week)} is over: choose this week or a later one."
        elif weeks_between(this_week, week) >= horizon:
            errors[key] = f"The plan covers {horizon} weeks: choose a week before that."
    if not errors and last_week < first_week:
        errors["last_week"] = "The last week cannot be before the first."
    try:
        hours = Decimal(str(extra_hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, TypeError, ValueError):
        errors["extra_hours"] = "Enter hours as a number, e.g. 16 or -8."
    else:
        if hours == 0:
            errors["extra_hours"] = "A scenario changes capacity: enter hours other than 0."
        elif abs(hours) > MAX_EXTRA_HOURS:
            errors["extra_hours"] = f"At most ±{MAX_EXTRA_HOURS} hours a week."
    name = " ".join((name or "").split())
    if len(name) > 120:
        errors["name"] = "A name is at most 120 characters."
    if errors:
        raise ValidationError(errors)
    delta = np.zeros(horizon)
    start, end = weeks_between(this_week, first_week), weeks_between(this_week, last_week)
    delta[start : end + 1] = float(hours)
    result = replan_with_capacity(line, delta)
    name = name or (
        f"{line}: {hours:+} h/week, {iso_label(first_week)}"
        + (f" – {iso_label(last_week)}" if last_week != first_week else "")
    )
    scenario = PlanningScenario.objects.create(
        cycle=cycle,
        line=line,
        name=name,
        first_week=first_week,
        last_week=last_week,
        extra_hours_per_week=hours,
        result=result,
        created_by=actor,
    )
    activity_record(
        target=cycle, actor=actor, verb="updated", message=f"Tried scenario “{scenario.name}”."
    )
    return scenario
