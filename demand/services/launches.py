"""New products and successors: a launch plan with its like products, and the
succession that moves a phased-out product's demand to its successor.

Both are planning inputs: a change asks for a recompute of the products' forecasts and
lines in the same transaction, and is recorded on the products' timelines. Every check
runs before anything is written: a refused change saves nothing."""

from __future__ import annotations

import zlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from coordination import planning_inputs
from coordination.errors import StaleEditError
from coordination.models import Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import version_number
from coordination.weeks import current_week, iso_label
from demand.models import LaunchPlan, LikeProduct, Succession

PERMISSION = "demand.change_launchplan"
REFUSED = "Your role may not plan launches or successions."
MAX_LIKES = 10
MIN_WEIGHT, MAX_WEIGHT = Decimal("0.01"), Decimal("100")
MAX_RAMP_WEEKS = 104
MAX_LAUNCH_VOLUME = 100_000_000
PLANNABLE = (Product.Lifecycle.CONCEPT, Product.Lifecycle.ACTIVE)


def _week_errors(week, field: str, missing: str, name: str) -> dict[str, list[str]]:
    if week is None:
        return {field: [missing]}
    if week.weekday() != 0:
        return {field: [f"Give the Monday of the {name}."]}
    return {}


def _raise_with_version(errors: dict, existing, expected_version) -> None:
    """Raise the field errors with a malformed version's; then check the version."""
    try:
        version_number(expected_version, minimum=0)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_version(existing, expected_version)


def _check_version(existing, expected_version) -> None:
    """`expected_version`: the version the editor saw, 0 when there was none."""
    expected = version_number(expected_version, minimum=0)
    if (existing.version if existing else 0) != expected:
        raise StaleEditError(
            existing,
            None
            if existing
            else "This was removed by someone else while you were editing. Reload the page "
            "to see the current state, then apply your change again.",
        )


def _likes_errors(product: Product, likes) -> tuple[list[str], list[tuple[Product, Decimal]]]:
    errors: list[str] = []
    resolved: list[tuple[Product, Decimal]] = []
    likes = list(likes)
    if len(likes) > MAX_LIKES:
        return [f"Name at most {MAX_LIKES} like products ({len(likes)} given)."], []
    found = {p.sku: p for p in Product.objects.filter(sku__in=[sku for sku, _ in likes])}
    seen: set[str] = set()
    for sku, weight in likes:
        like = found.get(sku)
        if sku in seen:
            errors.append(f"{sku} is named twice.")
        elif like is None:
            errors.append(f"No product with SKU {sku}.")
        elif like.pk == product.pk:
            errors.append(f"{sku} cannot be a like of itself: name products that already sell.")
        elif like.lifecycle == Product.Lifecycle.DISCONTINUED:
            errors.append(f"{sku} is discontinued: its demand says nothing about a launch today.")
        try:
            weight = Decimal(str(weight))
        except (InvalidOperation, ValueError):
            weight = None
        if weight is None or not weight.is_finite() or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            errors.append(
                f"The weight of {sku} must be a number from {MIN_WEIGHT} to {MAX_WEIGHT}."
            )
        elif weight != weight.quantize(MIN_WEIGHT):
            errors.append(f"The weight of {sku} has at most two decimals.")
        seen.add(sku)
        if like is not None and not errors:
            resolved.append((like, weight))
    return errors, resolved


@transaction.atomic
def launch_plan_set(
    *,
    actor,
    product: Product,
    launch_week,
    launch_volume,
    ramp_weeks,
    ramp_shape: str,
    likes,
    expected_version,
) -> LaunchPlan:
    """Create or replace a product's launch plan and its like products.

    likes: (SKU, weight) pairs; weight 1 counts a like's units once."""
    require_permission(actor, PERMISSION, REFUSED)
    product = Product.objects.select_for_update().get(pk=product.pk)
    existing = LaunchPlan.objects.select_for_update().filter(product=product).first()
    errors: dict[str, list[str]] = {}
    if product.lifecycle not in PLANNABLE:
        errors["__all__"] = [
            f"{product.sku} is {product.get_lifecycle_display().lower()}: only a product in "
            "concept or on sale can have a launch plan."
        ]
    errors |= _week_errors(
        launch_week, "launch_week", "Choose the week the product goes on sale.", "launch week"
    )
    if launch_volume is not None and not (1 <= int(launch_volume) <= MAX_LAUNCH_VOLUME):
        errors["launch_volume"] = [
            f"A launch volume is from 1 to {MAX_LAUNCH_VOLUME:,} units a week (blank: the "
            "likes' own level)."
        ]
    if ramp_weeks is None or not (1 <= int(ramp_weeks) <= MAX_RAMP_WEEKS):
        errors["ramp_weeks"] = [f"The ramp-up lasts 1 to {MAX_RAMP_WEEKS} weeks."]
    if ramp_shape not in LaunchPlan.RampShape.values:
        errors["ramp_shape"] = ["Choose a linear or an S-curve ramp-up."]
    like_errors, resolved = _likes_errors(product, likes)
    if like_errors:
        errors["likes"] = like_errors
    elif not resolved and launch_volume is None:
        errors["likes"] = [
            "Name at least one like product, or set a launch volume: a forecast needs one."
        ]
    _raise_with_version(errors, existing, expected_version)
    fields = {
        "launch_week": launch_week,
        "launch_volume": launch_volume,
        "ramp_weeks": int(ramp_weeks),
        "ramp_shape": ramp_shape,
    }
    if existing is None:
        plan = LaunchPlan.objects.create(product=product, **fields)
    else:
        plan = existing
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.version += 1
        plan.save()
    LikeProduct.objects.filter(product=product).delete()
    LikeProduct.objects.bulk_create(
        LikeProduct(product=product, like=like, weight=weight) for like, weight in resolved
    )
    names = ", ".join(
        like.sku + ("" if weight == 1 else f" x{weight.normalize()}") for like, weight in resolved
    )
    volume = f"{launch_volume}/week" if launch_volume else "the likes' level"
    activity_record(
        target=product,
        actor=actor,
        verb="updated",
        message=f"Launch plan: on sale from {iso_label(launch_week)}, {volume} after a "
        f"{plan.get_ramp_shape_display().split(' (')[0].lower()} ramp-up of {plan.ramp_weeks} "
        f"week{'s' if plan.ramp_weeks != 1 else ''}"
        + (f", forecast from likes {names}" if names else "")
        + ".",
    )
    planning_inputs.input_changed(plan, reason=f"Launch plan of {product.sku}", actor=actor)
    return plan


@transaction.atomic
def launch_plan_remove(*, actor, product: Product, expected_version) -> None:
    require_permission(actor, PERMISSION, REFUSED)
    existing = LaunchPlan.objects.select_for_update().filter(product=product).first()
    if existing is None:
        return
    _check_version(existing, expected_version)
    LikeProduct.objects.filter(product=product).delete()
    existing.delete()
    activity_record(
        target=product,
        actor=actor,
        verb="updated",
        message="Launch plan removed: forecast by its own model only.",
    )
    planning_inputs.input_changed(
        existing, reason=f"Launch plan of {product.sku} removed", actor=actor
    )


# Successions are changed one at a time (PostgreSQL; SQLite writes one at a time
# already): two concurrent changes, each fine alone, could close a loop together
# (A -> B and B -> A), which row locks of the two products cannot prevent for longer
# chains.
SUCCESSION_LOCK_KEY = zlib.crc32(b"tandem successions") - 2**31


def _lock_successions() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUCCESSION_LOCK_KEY])


def _chain_loop(product: Product, successor: Product) -> list[str] | None:
    """The SKUs of the loop that naming `successor` would close, or None."""
    chain = [product.sku, successor.sku]
    current, seen = successor, {product.pk, successor.pk}
    while True:
        nxt = Succession.objects.filter(product=current).select_related("successor").first()
        if nxt is None:
            return None
        chain.append(nxt.successor.sku)
        if nxt.successor_id == product.pk:
            return chain
        if nxt.successor_id in seen:  # a loop elsewhere (not through product): no new one
            return None
        seen.add(nxt.successor_id)
        current = nxt.successor


@transaction.atomic
def succession_set(
    *, actor, product: Product, successor_sku: str, switch_week, expected_version
) -> Succession:
    """From `switch_week` on, `product`'s demand moves to the product with
    `successor_sku` (on its forecast and so on the production plan)."""
    require_permission(actor, PERMISSION, REFUSED)
    _lock_successions()
    product = Product.objects.select_for_update().get(pk=product.pk)
    existing = Succession.objects.select_for_update().filter(product=product).first()
    errors: dict[str, list[str]] = {}
    sku = (successor_sku or "").strip()
    successor = Product.objects.filter(sku=sku).first() if sku else None
    if product.lifecycle == Product.Lifecycle.DISCONTINUED:
        errors["__all__"] = [f"{product.sku} is discontinued: it has no demand left to move."]
    if not sku:
        errors["successor"] = ["Give the SKU of the product that takes over."]
    elif successor is None:
        errors["successor"] = [f"No product with SKU {sku}."]
    elif successor.pk == product.pk:
        errors["successor"] = [f"{sku} cannot succeed itself."]
    elif successor.lifecycle == Product.Lifecycle.DISCONTINUED:
        errors["successor"] = [f"{sku} is discontinued: it cannot take over demand."]
    elif loop := _chain_loop(product, successor):
        errors["successor"] = [
            f"That would make a loop: {' → '.join(loop)}. A product cannot take over its own "
            "demand."
        ]
    errors |= _week_errors(
        switch_week,
        "switch_week",
        "Choose the first week the successor sells instead.",
        "switch week",
    )
    if "switch_week" not in errors and switch_week < current_week():
        errors["switch_week"] = [
            f"{iso_label(switch_week)} is in the past: switch this week "
            f"({iso_label(current_week())}) or later."
        ]
    elif successor is not None and not errors.keys() & {"successor", "switch_week"}:
        launch = LaunchPlan.objects.filter(product=successor).first()
        if launch is not None and switch_week < launch.launch_week:
            errors["switch_week"] = [
                f"{successor.sku} launches in {iso_label(launch.launch_week)}: the switch "
                "cannot come before it is on sale."
            ]
    _raise_with_version(errors, existing, expected_version)
    before = existing.successor if existing else None
    if existing is None:
        succession = Succession.objects.create(
            product=product, successor=successor, switch_week=switch_week
        )
    else:
        succession = existing
        succession.successor = successor
        succession.switch_week = switch_week
        succession.version += 1
        succession.save()
    week = iso_label(switch_week)
    activity_record(
        target=product,
        actor=actor,
        verb="updated",
        message=f"Succeeded by {successor.sku} from {week}: its demand moves there.",
    )
    activity_record(
        target=successor,
        actor=actor,
        verb="updated",
        message=f"Takes over the demand of {product.sku} from {week}.",
    )
    if before is not None and before.pk != successor.pk:
        activity_record(
            target=before,
            actor=actor,
            verb="updated",
            message=f"No longer takes over the demand of {product.sku}.",
        )
    planning_inputs.input_changed(
        succession,
        reason=f"{product.sku} succeeded by {successor.sku} from {week}",
        actor=actor,
        also_line_ids=[before.production_line_id] if before and before.production_line_id else [],
    )
    return succession


@transaction.atomic
def succession_remove(*, actor, product: Product, expected_version) -> None:
    require_permission(actor, PERMISSION, REFUSED)
    existing = (
        Succession.objects.select_for_update()
        .filter(product=product)
        .select_related("successor")
        .first()
    )
    if existing is None:
        return
    _check_version(existing, expected_version)
    successor = existing.successor
    existing.delete()
    for target, message in (
        (product, f"Succession by {successor.sku} removed: it keeps its own demand."),
        (successor, f"No longer takes over the demand of {product.sku}."),
    ):
        activity_record(target=target, actor=actor, verb="updated", message=message)
    planning_inputs.input_changed(
        Succession(product=product, successor=successor),
        reason=f"Succession of {product.sku} by {successor.sku} removed",
        actor=actor,
    )
