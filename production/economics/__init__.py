"""A promotion's economics: pure computation, no ORM.

    from production.economics import promotion_economics, capacity_effect

`capacity_effect` plans the promotion's line with and without its uplift (the pipeline's
planner, production.engine.plan_quotas) and returns per product the pre-build and the
shortage the promotion adds. `promotion_economics` values them with the prices and costs
and returns each money term with its explanation, the net result and the break-even lift.
Money is Decimal throughout; rounding (half-even, to the cent) happens at presentation
only (`present_money`). production/selectors/economics.py loads the inputs.
"""

from production.economics.capacity import CapacityEffect, ProductEffect, capacity_effect
from production.economics.terms import (
    DisplacedProduct,
    Economics,
    HeldStock,
    PromotedProduct,
    Term,
    present_money,
    present_pct,
    promotion_economics,
)

__all__ = [
    "CapacityEffect",
    "DisplacedProduct",
    "Economics",
    "HeldStock",
    "ProductEffect",
    "PromotedProduct",
    "Term",
    "capacity_effect",
    "present_money",
    "present_pct",
    "promotion_economics",
]
