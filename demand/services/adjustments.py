"""Marketing adjustments: a signed correction of one week's forecast, with a reason."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from coordination import planning_inputs
from coordination.errors import StaleEditError
from coordination.models import Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import version_number
from coordination.weeks import current_week, iso_label
from demand.models import MarketingAdjustment

MAX_ABS_UNITS = 10_000_000


@transaction.atomic
def adjustment_set(
    *, actor, product_id: int, week, units, reason: str, expected_version
) -> MarketingAdjustment | None:
    """Set (or, with units 0, remove) marketing's adjustment of a product's week.

    `expected_version` is the version of that week's adjustment the editor saw (0: none);
    missing or malformed is refused like any other bad field."""
    require_permission(
        actor, "demand.add_marketingadjustment", "Your role may not adjust forecasts."
    )
    product = Product.objects.get(pk=product_id)
    errors = {}
    if week is None:
        errors["week"] = "Choose the week to adjust."
    elif week < current_week():
        errors["week"] = f"{iso_label(week)} has started: adjust this week or a later one."
    try:
        units = int(units)
    except (TypeError, ValueError):
        errors["units"] = "Enter a whole number of units, negative to lower the forecast."
    else:
        if abs(units) > MAX_ABS_UNITS:
            errors["units"] = f"An adjustment is at most ±{MAX_ABS_UNITS:,} units."
    reason = (reason or "").strip()
    if units and not reason:
        errors["reason"] = "Say why: what marketing knows that the statistics do not."
    try:
        expected_version = version_number(expected_version, minimum=0)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    existing = (
        MarketingAdjustment.objects.select_for_update().filter(product=product, week=week).first()
    )
    # expected_version 0: the editor saw no adjustment of this week.
    if (existing.version if existing else 0) != expected_version:
        raise StaleEditError(
            existing,
            None
            if existing
            else f"The adjustment of {iso_label(week)} was removed by someone else while you "
            "were editing. Reload to see the current forecast, then apply your change again.",
        )
    label = iso_label(week)
    if units == 0 and existing is None:
        return None  # nothing to remove: no change, no recompute
    if units == 0:
        if existing is not None:
            existing.delete()
        result = None
        message = f"Removed the adjustment of {label}."
    elif existing is None:
        result = MarketingAdjustment.objects.create(
            product=product, week=week, units=units, reason=reason, created_by=actor
        )
        message = f"Adjusted {label} by {units:+,} units: {reason}"
    else:
        existing.units = units
        existing.reason = reason
        existing.version += 1
        existing.save(update_fields=["units", "reason", "version", "updated_at"])
        result = existing
        message = f"Adjusted {label} by {units:+,} units: {reason}"
    activity_record(target=product, actor=actor, verb="updated", message=message)
    planning_inputs.input_changed(
        result or existing,
        reason=f"Forecast adjustment of {product.sku} in {label}",
        actor=actor,
    )
    return result
