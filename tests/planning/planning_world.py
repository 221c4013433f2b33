"""A small, fully known world for the planning review tests.

One line of 100 hours a week; one product on it that takes an hour a unit, is made and
sold in the same week (lead time 0), with no stock and no forecast error (no safety
stock). Demand is 60 a week, plus a firm order of 200 in week 2 (more than the line can
make by then: 80 short) and a promotion lifting week 8 by 150 (built ahead in weeks 5-7).
"""

from __future__ import annotations

from decimal import Decimal

from coordination.models import CustomerRequest
from coordination.weeks import add_weeks, current_week
from production.models import RunRate
from production.services.planning import plan_line
from tests.factories import (
    CustomerRequestFactory,
    DemandForecastFactory,
    ForecastRunFactory,
    LineFactory,
    ProductFactory,
    RecomputeRunFactory,
)

WEEKS = 26
FIRM_WEEK, FIRM_UNITS = 2, 200
PROMO_WEEK, PROMO_UPLIFT = 8, 150
ADJUST_WEEK, ADJUST_UNITS = 10, 5


def build_world(sales_user=None) -> dict:
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"), frozen_window_weeks=0)
    product = ProductFactory(sku="TEA-LEM-05", production_line=line, lead_time_weeks=0)
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    run = ForecastRunFactory()
    this_week = current_week()
    for k in range(WEEKS):
        DemandForecastFactory(
            product=product,
            run=run,
            week=add_weeks(this_week, k),
            baseline=60.0,
            promotion_uplift=PROMO_UPLIFT if k == PROMO_WEEK else 0.0,
            firm_orders=FIRM_UNITS if k == FIRM_WEEK else 0.0,
            adjustment=ADJUST_UNITS if k == ADJUST_WEEK else 0.0,
        )
    commitment = CustomerRequestFactory(
        customer_name="Harbour Gyms",
        kind=CustomerRequest.Kind.CUSTOMIZATION,
        status=CustomerRequest.Status.ACCEPTED,
        product=product,
        quantity=FIRM_UNITS,
        wanted_week=add_weeks(this_week, FIRM_WEEK),
        feasible=True,
        quoted_unit_price=Decimal("2.50"),
        department="sales",
        **({"created_by": sales_user} if sales_user else {}),
    )
    replan(line)
    return {"line": line, "product": product, "commitment": commitment, "run": run}


def replan(line) -> None:
    plan_line(line=line, run=RecomputeRunFactory(line=line))
