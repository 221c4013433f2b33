"""The pages a role opens from its home read a bounded number of queries: the same
count for a company of 12 products as for one three times that size (seed_scale's
company, plus a finished plan and forecast for every product). A count that grows with
the products is a query per row, which a 20,000-product company would feel first."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coordination.models import Line, Product
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, ForecastRun
from production.models import QuotaRecommendation, RecomputeRun
from production.scale_seed import seed_scale

pytestmark = pytest.mark.django_db

WEEKS = 26


def add_plan_and_forecast() -> None:
    """A finished recompute per line with a recommendation for every product and week,
    and a forecast run with every product's next WEEKS weeks, in bulk."""
    this_week = current_week()
    weeks = [add_weeks(this_week, k) for k in range(WEEKS)]
    runs = {
        line.pk: RecomputeRun.objects.create(
            line=line,
            trigger="test",
            state="done",
            finished_at=timezone.now(),
            first_week=this_week,
        )
        for line in Line.objects.all()
    }
    products = list(Product.objects.filter(production_line__isnull=False))
    QuotaRecommendation.objects.bulk_create(
        QuotaRecommendation(
            run=runs[product.production_line_id],
            product=product,
            line_id=product.production_line_id,
            week=week,
            covers_week=add_weeks(week, product.lead_time_weeks),
            recommended_units=50.0 + k,
            baseline=50.0 + k,
            promotion_uplift=0,
            firm_orders=0,
            adjustment=0,
            demand=50.0 + k,
            safety_stock=0,
            stock_before_arrival=0,
            net_requirement=50.0 + k,
            prebuild_units=0,
            capacity_cut_units=0,
            shortage_units=0,
            projected_on_hand=0,
        )
        for product in products
        for k, week in enumerate(weeks)
    )
    forecast_run = ForecastRun.objects.create(
        trigger="test", status="done", horizon_weeks=WEEKS, first_week=this_week
    )
    DemandForecast.objects.bulk_create(
        DemandForecast(
            product=product,
            week=week,
            run=forecast_run,
            baseline=40.0,
            final=40.0,
            method="ses",
        )
        for product in products
        for week in weeks
    )


def queries_of(client, url: str, params: dict, products: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    # Every product of the first line is on the page: the rows were really read.
    page = response.content.decode()
    assert all(f"SCALE-{i:05d}" in page for i in range(1, products + 1, 2))
    return len(captured.captured_queries)


def counts(client, products: int) -> dict[str, int]:
    seed_scale(products=products, lines=2, history_weeks=8, seed=4, force=True)
    add_plan_and_forecast()
    line = Line.objects.get(name="Scale line 01")
    pages = {
        "dashboard": (reverse("production_dashboard"), {"line": line.pk}),
        "forecast list": (reverse("forecast_list"), {}),
    }
    for url, params in pages.values():
        client.get(url, params)  # sessions, permissions and caches warm
    return {
        name: queries_of(client, url, params, products) for name, (url, params) in pages.items()
    }


@pytest.fixture
def signed_in(client, production_user):
    client.force_login(production_user)
    return client


def test_the_dashboard_and_the_forecast_list_do_not_query_per_product(signed_in):
    sizes = {}
    for products in (12, 36):
        with transaction.atomic():
            sizes[products] = counts(signed_in, products)
            transaction.set_rollback(True)
    assert sizes[12] == sizes[36], sizes
    assert Product.objects.count() == 0
