"""Line capacity: the normal weekly hours, exceptions for single weeks (shutdowns,
overtime, extra shifts) and the hours each product takes. Each change re-plans the line."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from coordination import planning_inputs
from coordination.models import Line, Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.weeks import current_week, iso_label
from production.models import CapacityException, RunRate

MAX_HOURS = Decimal("168")  # hours in a week

CAPACITY_REFUSED = "Your role may not change line capacity."
# line_update's holding rate when the caller leaves it as it is (None clears it).
UNCHANGED = object()
MAX_HOLDING_RATE = Decimal("100")


def _hours(value, field: str) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({field: "Enter hours as a number, e.g. 120 or 37.5."}) from exc
    if not Decimal("0") <= hours <= MAX_HOURS:
        raise ValidationError({field: f"Hours must be between 0 and {MAX_HOURS} a week."})
    return hours


def runs_that_do_not_fit(
    product: Product, hours_per_unit, weekly_hours, *, line_name: str = ""
) -> dict[str, str]:
    """Field errors when the product's minimum run or one batch takes more hours than
    its line has in a normal week: the planner could never make it."""
    if hours_per_unit is None or weekly_hours is None:
        return {}
    rate, hours = Decimal(str(hours_per_unit)), Decimal(str(weekly_hours))
    line = f"line {line_name}" if line_name else "the line"
    errors = {}
    for field, units, what in (
        ("minimum_batch", product.minimum_batch, "A minimum run"),
        ("batch_size", product.batch_size, "One batch"),
    ):
        needed = rate * (units or 1)
        if needed > hours:
            errors[field] = (
                f"{what} of {units:,} units takes {needed.normalize():,f} hours, more than "
                f"{line}'s {hours.normalize():,f} hours a week."
            )
    return errors


def product_runs_fit(product: Product) -> dict[str, str]:
    """A product being saved: its minimum run and batch fit its line's week (registered
    with the product service, coordination/services/products.py)."""
    line = product.production_line
    if line is None:
        return {}
    rate = RunRate.objects.filter(product_id=product.pk).values_list("hours_per_unit", flat=True)
    if not product.pk or not rate:
        return {}
    return runs_that_do_not_fit(product, rate[0], line.weekly_capacity_hours, line_name=line.name)


def _replan(row, actor, reason: str) -> None:
    """Re-plan what the changed row (a line, a capacity exception, a run rate) affects:
    coordination/planning_inputs.py knows which products and lines that is."""
    planning_inputs.input_changed(row, reason=reason, actor=actor)


@transaction.atomic
def line_update(
    *,
    actor,
    line_id: int,
    expected_version: int | None,
    weekly_capacity_hours=None,
    frozen_window_weeks=None,
    holding_cost_rate_pct=UNCHANGED,
) -> Line:
    """Capacity and frozen window (None: as they are) re-plan the line; the holding cost
    rate (None: the company's) only prices its stock."""
    require_permission(actor, "coordination.change_line", CAPACITY_REFUSED)
    line = lock_for_edit(Line.objects.all(), line_id, expected_version)
    changes = []

    if weekly_capacity_hours is not None:
        hours = _hours(weekly_capacity_hours, "weekly_capacity_hours")
        too_long = [
            f"{product.sku} ({message[0].lower()}{message[1:]})"
            for product in line.products.select_related("run_rate").order_by("sku")
            if hasattr(product, "run_rate")
            for message in runs_that_do_not_fit(
                product, product.run_rate.hours_per_unit, hours, line_name=line.name
            ).values()
        ]
        if too_long:
            raise ValidationError(
                {"weekly_capacity_hours": f"{hours} hours a week leave runs that cannot be made: "
                 + "; ".join(too_long[:5]) + ("; …" if len(too_long) > 5 else "")}
            )  # fmt: skip
        if hours != line.weekly_capacity_hours:
            changes.append(f"capacity {line.weekly_capacity_hours} → {hours} h/week")
            line.weekly_capacity_hours = hours
    if frozen_window_weeks is not None:
        try:
            weeks = int(frozen_window_weeks)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                {"frozen_window_weeks": "Enter a whole number of weeks."}
            ) from exc
        if not 0 <= weeks <= 26:
            raise ValidationError({"frozen_window_weeks": "The frozen window is 0 to 26 weeks."})
        if weeks != line.frozen_window_weeks:
            changes.append(f"frozen window {line.frozen_window_weeks} → {weeks} weeks")
            line.frozen_window_weeks = weeks
    replan = bool(changes)
    if holding_cost_rate_pct is not UNCHANGED:
        rate = _holding_rate(holding_cost_rate_pct)
        if rate != line.holding_cost_rate_pct:
            changes.append(
                f"holding cost rate {_rate_label(line.holding_cost_rate_pct)} → {_rate_label(rate)}"
            )
            line.holding_cost_rate_pct = rate
    if not changes:
        return line
    save_new_version(
        line, ["weekly_capacity_hours", "frozen_window_weeks", "holding_cost_rate_pct"]
    )
    message = "Changed " + "; ".join(changes) + "."
    activity_record(target=line, actor=actor, verb="updated", message=message)
    if replan:
        _replan(line, actor, f"{line}: {message}")
    return line


def _holding_rate(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(
            {"holding_cost_rate_pct": "Enter a percentage as a number, e.g. 20 or 12.5."}
        ) from exc
    if not rate.is_finite() or not Decimal("0") <= rate <= MAX_HOLDING_RATE:
        raise ValidationError(
            {"holding_cost_rate_pct": "A holding cost rate is from 0 to 100 % a year."}
        )
    if rate != rate.quantize(Decimal("0.01")):
        raise ValidationError(
            {"holding_cost_rate_pct": "Give the rate to at most two decimal places."}
        )
    return rate


def _rate_label(rate) -> str:
    return "the company's" if rate is None else f"{rate.normalize():f} %"


@transaction.atomic
def capacity_exception_set(*, actor, line_id: int, week, hours, note: str) -> CapacityException:
    require_permission(actor, "production.add_capacityexception", CAPACITY_REFUSED)
    line = Line.objects.select_for_update().get(pk=line_id)
    errors = {}
    if week is None:
        errors["week"] = "Choose the week."
    elif week < current_week():
        errors["week"] = f"{iso_label(week)} is over: change this week or a later one."
    note = (note or "").strip()
    if not note:
        errors["note"] = "Say what happens that week, e.g. “Summer shutdown” or “Saturday shift”."
    if errors:
        raise ValidationError(errors)
    value = _hours(hours, "hours")
    exception, _ = CapacityException.objects.update_or_create(
        line=line, week=week, defaults={"hours": value, "note": note, "created_by": actor}
    )
    message = f"{iso_label(week)}: {value} h ({note})."
    activity_record(target=line, actor=actor, verb="updated", message=message)
    _replan(exception, actor, f"{line} capacity {message}")
    return exception


@transaction.atomic
def capacity_exception_delete(*, actor, exception_id: int) -> None:
    require_permission(actor, "production.delete_capacityexception", CAPACITY_REFUSED)
    exception = CapacityException.objects.select_related("line").get(pk=exception_id)
    if exception.week < current_week():
        raise ValidationError(f"{iso_label(exception.week)} is over: its hours are history.")
    line = exception.line
    message = f"{iso_label(exception.week)} back to the normal {line.weekly_capacity_hours} h."
    exception.delete()
    activity_record(target=line, actor=actor, verb="updated", message=message)
    _replan(exception, actor, f"{line} capacity {message}")


@transaction.atomic
def run_rate_set(*, actor, product_id: int, hours_per_unit) -> RunRate:
    require_permission(actor, "production.change_runrate", CAPACITY_REFUSED)
    try:
        rate = Decimal(str(hours_per_unit))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({"hours_per_unit": "Enter hours per unit, e.g. 0.002."}) from exc
    if rate <= 0:
        raise ValidationError({"hours_per_unit": "A unit takes some time: enter more than 0."})
    product = Product.objects.select_related("production_line").get(pk=product_id)
    if product.production_line is not None:
        errors = runs_that_do_not_fit(
            product,
            rate,
            product.production_line.weekly_capacity_hours,
            line_name=product.production_line.name,
        )
        if errors:
            raise ValidationError({"hours_per_unit": list(errors.values())})
    run_rate, _ = RunRate.objects.update_or_create(
        product=product, defaults={"hours_per_unit": rate}
    )
    if product.production_line is not None:
        _replan(run_rate, actor, f"{product.sku} now takes {rate} h/unit")
    return run_rate
