"""Accepting a customer's order reaches the plan with no click: the accept writes the
outbox row, the task goes through the broker to a real worker, and the firm demand is in
the forecast and the line's quotas within 5 seconds (PostgreSQL + Redis in CI)."""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from coordination import roles
from coordination.models import RecomputeRequest
from coordination.services.customer_requests import request_accept
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, SalesActual
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from tests.conftest import broker_configured
from tests.factories import LineFactory, ProductFactory, QuotedOrderFactory, UserFactory

LATENCY_SECONDS = 5.0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_accepted_order_is_firm_demand_in_the_plan_within_5_seconds(celery_worker):
    sales = UserFactory(username="sam", roles=[roles.SALES])
    line = LineFactory(name="Canning 2", weekly_capacity_hours=Decimal("400"))
    drink = ProductFactory(sku="BEV-1001", production_line=line, lead_time_weeks=1)
    RunRate.objects.create(product=drink, hours_per_unit=Decimal("0.005"))
    first = add_weeks(current_week(), -30)
    SalesActual.objects.bulk_create(
        SalesActual(product=drink, week=add_weeks(first, k), units=1000) for k in range(30)
    )
    wanted = add_weeks(current_week(), 10)
    order = QuotedOrderFactory(product=drink, wanted_week=wanted, created_by=sales)

    started = time.monotonic()
    request_accept(actor=sales, request_id=order.pk, expected_version=1)  # commits
    planned = QuotaRecommendation.objects.filter(
        product=drink, covers_week=wanted, firm_orders=8000
    )
    while not planned.exists() and time.monotonic() - started < LATENCY_SECONDS:
        time.sleep(0.02)
    latency = time.monotonic() - started

    assert planned.exists(), f"no firm demand in the plan {latency:.2f} s after the accept"
    assert latency < LATENCY_SECONDS
    forecast = DemandForecast.objects.get(product=drink, week=wanted)
    assert (forecast.firm_orders, forecast.final) == (8000.0, forecast.baseline + 8000.0)
    row = planned.get()
    assert (row.firm_orders, row.week) == (8000.0, add_weeks(wanted, -1))
    recompute = RecomputeRequest.objects.get()
    assert (recompute.source, recompute.status, recompute.line_ids, recompute.product_ids) == (
        "customization",
        "done",
        [line.pk],
        [drink.pk],
    )
    run = RecomputeRun.objects.get()
    if broker_configured():
        # Through the broker to the worker (a thread of this process), not inline at
        # commit: only a run on a worker names it and beats.
        assert celery_worker is not None
        assert run.worker.endswith(f" pid {os.getpid()}")
        assert run.heartbeat_at is not None
    else:
        assert (celery_worker, run.worker, run.heartbeat_at) == (None, "", None)
