"""Asking the plan "can we make it, and when?" for a customer request.

The answer comes from production's capable-to-promise on the line's current plan
(production/selectors/promise.py). This app sits below production and never imports it:
production registers its answer here in its AppConfig.ready(), as it registers the plan
outcome in planning_inputs. Without production installed there is no answer, and the
request page says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

# (sku, quantity, week) -> the answer (production's PromiseAnswer: available, full,
# earliest_week, reason, uses, displaces, line, plan_run, ...), or ValidationError.
_ANSWER: list[Callable[..., Any]] = []


def register(answer: Callable[..., Any]) -> None:
    _ANSWER[:] = [answer]


@dataclass(frozen=True)
class RequestPromise:
    """What the request page shows: the plan's answer, or why there is none."""

    answer: Any | None = None
    refusal: str = ""

    @property
    def asked(self) -> bool:
        return self.answer is not None or bool(self.refusal)

    @property
    def displaced_products(self) -> list[DisplacedProduct]:
        """What the order displaces, one line per product: the most units short at the
        end of a week, and the weeks from the first to the last short one (the answer
        lists the units waiting at the end of each week, which carry over)."""
        if self.answer is None:
            return []
        grouped: dict[str, DisplacedProduct] = {}
        for item in self.answer.displaces:
            seen = grouped.get(item.product)
            if seen is None:
                grouped[item.product] = DisplacedProduct(
                    item.product, item.units, item.week, item.week
                )
            else:
                grouped[item.product] = DisplacedProduct(
                    item.product,
                    max(seen.most_units, item.units),
                    min(seen.first_week, item.week),
                    max(seen.last_week, item.week),
                )
        return list(grouped.values())


@dataclass(frozen=True)
class DisplacedProduct:
    product: str
    most_units: float
    first_week: str  # ISO labels order as the weeks do
    last_week: str


def promise_for(sku: str, quantity: int | None, week: dt.date | None) -> RequestPromise:
    """The plan's promise for `quantity` of `sku` by `week`; a refusal in words when the
    request lacks what the question needs or the plan refuses it (a held product, a
    frozen week...). Writes nothing."""
    if not _ANSWER:
        return RequestPromise(refusal="No production plan is available to ask.")
    if not sku or not quantity or week is None:
        return RequestPromise(
            refusal="Give the product, the quantity and the wanted week to ask the plan."
        )
    try:
        return RequestPromise(answer=_ANSWER[0](sku=sku, quantity=quantity, week=week))
    except ValidationError as refused:
        messages = [m for ms in refused.message_dict.values() for m in ms]
        return RequestPromise(refusal=" ".join(messages))
