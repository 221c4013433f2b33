"""Product master data: create and edit products and product lines."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from coordination import planning_inputs
from coordination.models import Product, ProductLine, ProductPrice
from coordination.permissions import require_permission
from coordination.services.activity import activity_record, describe_changes
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.weeks import current_week, iso_label

EDITABLE_FIELDS = (
    "name",
    "product_line",
    "lifecycle",
    "quality_tier",
    "unit_price",
    "unit_cost",
    "shortage_margin",
    "production_line",
    "lead_time_weeks",
    "minimum_batch",
    "batch_size",
    "shelf_life_weeks",
    "min_remaining_life_weeks",
    "target_service_level",
    "predecessor",
)
# What the forecaster and the planner read of a product: a change re-plans its line
# (and the line it left).
PLANNED_FIELDS = (
    "production_line",
    "lifecycle",
    "lead_time_weeks",
    "minimum_batch",
    "batch_size",
    "shelf_life_weeks",
    "min_remaining_life_weeks",
    "target_service_level",
    "predecessor",
)


def _check_predecessor(product: Product, predecessor: Product | None) -> None:
    """No product may replace itself, directly or through a chain of successors."""
    if product.pk and predecessor is not None and predecessor.pk == product.pk:
        raise ValidationError({"predecessor": "A product cannot be its own predecessor."})
    seen = {product.pk} if product.pk else set()
    current = predecessor
    while current is not None:
        if current.pk in seen:
            raise ValidationError(
                {"predecessor": "That would make the product its own predecessor."}
            )
        seen.add(current.pk)
        current = current.predecessor


# Checks other apps add on a product being saved: product -> {field: message}.
# Production registers that the minimum run and a batch fit the line's week
# (production/apps.py), since run rates and capacity are its own.
PRODUCT_CHECKS: list = []


def register_check(check) -> None:
    if check not in PRODUCT_CHECKS:
        PRODUCT_CHECKS.append(check)


def _validate(product: Product) -> None:
    _check_predecessor(product, product.predecessor)
    product.full_clean()
    errors = {}
    for check in PRODUCT_CHECKS:
        errors.update(check(product))
    if errors:
        raise ValidationError(errors)


def product_line_create(*, actor, name: str, description: str = "") -> ProductLine:
    require_permission(
        actor, "coordination.add_productline", "Your role may not create product lines."
    )
    line = ProductLine(name=name.strip(), description=description)
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def product_line_update(*, actor, line_id: int, name: str, description: str = "") -> ProductLine:
    """Rename or re-describe a product line. Reference data only: nothing is re-planned."""
    require_permission(
        actor, "coordination.change_productline", "Your role may not change product lines."
    )
    line = ProductLine.objects.select_for_update().get(pk=line_id)
    line.name = name.strip()
    line.description = description
    line.full_clean()
    line.save(update_fields=["name", "description"])
    return line


@transaction.atomic
def product_create(*, actor, sku: str, **fields) -> Product:
    require_permission(actor, "coordination.add_product", "Your role may not create products.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown product fields: {sorted(unknown)}")
    product = Product(sku=(sku or "").strip().upper(), **fields)
    _validate(product)
    product.save()
    _record_price(product)
    activity_record(target=product, actor=actor, verb="created", message="Created the product.")
    if product.production_line_id is not None:
        planning_inputs.input_changed(
            product,
            reason=f"New product {product.sku} on {product.production_line}",
            actor=actor,
            subject=product,
        )
    return product


@transaction.atomic
def product_update(*, actor, product_id: int, expected_version: int | None, **fields) -> Product:
    require_permission(actor, "coordination.change_product", "Your role may not change products.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown product fields: {sorted(unknown)}")
    product = lock_for_edit(Product.objects.all(), product_id, expected_version)
    before = {name: str(getattr(product, name) or "") for name in fields}
    old_line_id = product.production_line_id
    for name, value in fields.items():
        setattr(product, name, value)
    _validate(product)
    after = {name: str(getattr(product, name) or "") for name in fields}
    changes = describe_changes(before, after)
    if not changes:
        return product
    save_new_version(product, list(fields))
    if any(before[name] != after[name] for name in ("unit_price", "unit_cost") if name in fields):
        _record_price(product)
    activity_record(target=product, actor=actor, verb="updated", message=f"Changed {changes}.")
    if any(before[name] != after[name] for name in fields if name in PLANNED_FIELDS):
        planning_inputs.input_changed(
            product,
            reason=f"{product.sku}: changed {changes}"[:300],
            actor=actor,
            subject=product,
            also_line_ids=[old_line_id] if old_line_id is not None else [],
        )
    return product


def _record_price(product: Product) -> None:
    """The product's price and cost as of this week, for every channel without its own:
    a change within one week replaces that week's row, so the history keeps one per week."""
    ProductPrice.objects.update_or_create(
        product=product,
        effective_from=current_week(),
        channel="",
        defaults={"unit_price": product.unit_price, "unit_cost": product.unit_cost},
    )


@transaction.atomic
def product_price_set(
    *, actor, product_id: int, channel: str, effective_from, unit_price, unit_cost
) -> ProductPrice:
    """A channel's own price and cost from a week on (this week or later: past weeks keep
    their numbers). The all-channels price is the product's own, changed with
    product_update, so the product always shows the price in force."""
    require_permission(actor, "coordination.change_product", "Your role may not change products.")
    product = Product.objects.select_for_update().get(pk=product_id)
    row = ProductPrice(
        product=product,
        effective_from=effective_from,
        channel=channel or "",
        unit_price=unit_price,
        unit_cost=unit_cost,
    )
    row.full_clean(validate_unique=False, validate_constraints=False)
    if not row.channel:
        raise ValidationError(
            {"channel": "Choose a channel: the price for all channels is the product's own."}
        )
    if row.effective_from < current_week():
        raise ValidationError(
            {"effective_from": "A price starts this week or later: past weeks keep their prices."}
        )
    row, _ = ProductPrice.objects.update_or_create(
        product=product,
        effective_from=row.effective_from,
        channel=row.channel,
        defaults={"unit_price": row.unit_price, "unit_cost": row.unit_cost},
    )
    activity_record(
        target=product,
        actor=actor,
        verb="updated",
        message=f"{row.get_channel_display()} price {row.unit_price}, cost {row.unit_cost} "
        f"from {iso_label(row.effective_from)}.",
    )
    return row
