"""The planning inputs: every model the forecaster or the planner reads, and how a change
to one of its rows finds the products (hence the production lines) to re-plan.

Each app registers the models it owns in its AppConfig.ready(), like the home panels,
so this app never imports the apps above it. A service that writes a planning input
calls `input_changed` in the write's transaction: it writes the outbox row
(`coordination/services/recompute.py`) for exactly the lines the rows affect.

A model the planner reads but that only the pipeline itself writes (the forecasts it
stores, the schedule production accepts from its answer) is registered as `derived`,
with the reason. tests/test_planning_inputs.py captures the tables the
forecaster and the planner query and fails if one of them is in neither list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class PlanningInput:
    model: type[models.Model]
    source: str  # RecomputeRequest.Source
    products: Callable[[models.Model], Iterable[int]]  # the products a row affects


INPUTS: dict[type[models.Model], PlanningInput] = {}
DERIVED: dict[type[models.Model], str] = {}
# How a finished recompute changed the plan, in sentences: (request, subject) -> [str].
# Registered by production, which owns the plan.
OUTCOMES: list[Callable] = []


def register(
    model: type[models.Model], *, source: str, products: Callable[[models.Model], Iterable[int]]
) -> None:
    INPUTS[model] = PlanningInput(model, source, products)


def register_derived(model: type[models.Model], why: str) -> None:
    DERIVED[model] = why


def register_outcome(describe: Callable) -> None:
    if describe not in OUTCOMES:
        OUTCOMES.append(describe)


def plan_outcome(recompute, subject: models.Model | None = None) -> list[str]:
    """What the recompute changed in the plan, for the page of the change that caused it."""
    if recompute is None or recompute.status != "done":
        return []
    return [sentence for describe in OUTCOMES for sentence in describe(recompute, subject)]


def product_of(row: models.Model) -> list[int]:
    """The usual case: the row belongs to one product."""
    return [row.product_id] if getattr(row, "product_id", None) else []


def line_products(line_id: int | None) -> list[int]:
    """Every product made on a line (a change to the line re-plans all of them)."""
    from coordination.models import Product

    if line_id is None:
        return []
    return list(Product.objects.filter(production_line_id=line_id).values_list("pk", flat=True))


def affected_product_ids(*rows: models.Model) -> set[int]:
    ids: set[int] = set()
    for row in rows:
        entry = INPUTS.get(type(row))
        if entry is None:
            raise LookupError(f"{type(row).__name__} is not a registered planning input.")
        ids.update(int(pk) for pk in entry.products(row))
    return ids


def input_changed(
    *rows: models.Model,
    reason: str,
    actor=None,
    subject: models.Model | None = None,
    also_line_ids: Iterable[int] = (),
):
    """Ask for a recompute of the lines these changed rows affect, in the caller's
    transaction. `also_line_ids`: lines that lost a product (a product moved to another
    line) and must be re-planned without it. Returns the RecomputeRequest, or None when
    nothing planned is affected."""
    from coordination.services.recompute import recompute_request

    if not rows:
        return None
    return recompute_request(
        product_ids=affected_product_ids(*rows),
        source=INPUTS[type(rows[0])].source,
        reason=reason,
        actor=actor,
        subject=subject,
        also_line_ids=also_line_ids,
    )
