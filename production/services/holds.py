"""Production holds: a stop-ship stops production of products until released.

Placing or releasing a hold asks for a recompute in the same transaction: held products
are planned at 0 with the reason, released ones are planned normally again."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from coordination import planning_inputs
from production.models import ProductionHold
from production.services.schedule import schedule_zero_held


@transaction.atomic
def hold_place(
    *, product_ids, reason: str, reference: str, actor=None, subject=None
) -> list[ProductionHold]:
    """Hold production of these products: their quotas become 0 with the reason, and
    (with an actor to sign the change) their accepted quotas from this week on too."""
    ids = sorted(set(product_ids))
    existing = set(
        ProductionHold.objects.filter(
            product_id__in=ids, reference=reference, released_at__isnull=True
        ).values_list("product_id", flat=True)
    )
    holds = [
        ProductionHold.objects.create(
            product_id=pk, reason=reason[:300], reference=reference, placed_by=actor
        )
        for pk in ids
        if pk not in existing
    ]
    if holds:
        held = [h.product_id for h in holds]
        if actor is not None:
            schedule_zero_held(actor=actor, product_ids=held, reason=f"Hold {reference}: {reason}")
        planning_inputs.input_changed(
            *holds, reason=f"Hold {reference}: {reason}"[:300], actor=actor, subject=subject
        )
    return holds


@transaction.atomic
def hold_release(*, reference: str, actor=None, product_ids=None, subject=None) -> int:
    holds = ProductionHold.objects.select_for_update().filter(
        reference=reference, released_at__isnull=True
    )
    if product_ids is not None:
        holds = holds.filter(product_id__in=list(product_ids))
    released = list(holds)
    holds.update(released_at=timezone.now())
    if released:
        planning_inputs.input_changed(
            *released, reason=f"Hold {reference} released", actor=actor, subject=subject
        )
    return len(released)
