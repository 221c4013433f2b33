"""The pages a role opens from its home read a bounded number of queries: the same
count for a company of 12 products as for one three times that size (seed_scale's
company, plus a finished plan and forecast for every product). A count that grows with
the products (or with the product lines, which grow with them here) is a query per row,
which a 20,000-product company would feel first. The pages are those
bench/pages_at_scale.py times."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coordination.models import Line, Product, ProductLine
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, ForecastRun
from production import scale_seed
from production.models import QuotaRecommendation, RecomputeRun
from production.scale_seed import seed_scale
from tests.factories import PromotionFactory, PromotionItemFactory

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


def add_upcoming_promotions() -> None:
    """A planned promotion of the first product of every product line in 2 weeks: the
    marketing home suggests a lift for each (whatever the seed's dates)."""
    start = add_weeks(current_week(), 2)
    for product_line in ProductLine.objects.order_by("pk"):
        promotion = PromotionFactory(status="planned", start_week=start, end_week=start)
        first = Product.objects.filter(product_line=product_line).order_by("pk").first()
        PromotionItemFactory(promotion=promotion, product=first, expected_lift_pct=30)


def role_pages() -> dict[str, tuple[str, str]]:
    """name: (role fixture, path) of every page a role opens from its home."""
    line = Line.objects.order_by("pk").first()
    sku = Product.objects.filter(production_line=line).order_by("sku").first().sku
    return {
        "production home": ("production_user", reverse("home")),
        "dashboard": ("production_user", f"{reverse('production_dashboard')}?line={line.pk}"),
        "lines": ("production_user", reverse("line_list")),
        "runs": ("production_user", reverse("run_list")),
        "marketing home": ("marketing_user", reverse("home")),
        "forecasts": ("marketing_user", reverse("forecast_list")),
        "forecast": ("marketing_user", reverse("forecast_detail", args=[sku])),
        "promotions": ("marketing_user", reverse("promotion_calendar")),
        "products": ("marketing_user", reverse("product_list")),
        "sales home": ("sales_user", reverse("home")),
        "requests": ("sales_user", reverse("request_list")),
    }


def test_every_page_a_role_opens_reads_as_many_queries_for_a_larger_company(request, monkeypatch):
    # Product lines of 6 and a promotion per 6 products: 2 product lines for 12 products,
    # 6 for 36, each with promotions (past ones measured, upcoming ones suggested).
    monkeypatch.setattr(scale_seed, "PRODUCTS_PER_FAMILY", 6)
    monkeypatch.setattr(scale_seed, "PRODUCTS_PER_PROMOTION", 6)
    clients = {}
    for role in ("production_user", "marketing_user", "sales_user"):
        clients[role] = Client()
        clients[role].force_login(request.getfixturevalue(role))
    sizes = {}
    for products in (12, 36):
        with transaction.atomic():
            seed_scale(products=products, lines=2, history_weeks=60, seed=4, force=True)
            add_plan_and_forecast()
            add_upcoming_promotions()
            counted = {}
            for name, (role, path) in role_pages().items():
                clients[role].get(path)  # sessions, permissions and caches warm
                with CaptureQueriesContext(connection) as captured:
                    response = clients[role].get(path)
                assert response.status_code == 200, name
                counted[name] = len(captured.captured_queries)
            sizes[products] = counted
            transaction.set_rollback(True)
    assert sizes[12] == sizes[36], sizes
    assert Product.objects.count() == 0


def test_the_dashboard_and_the_forecast_list_do_not_query_per_product(signed_in):
    sizes = {}
    for products in (12, 36):
        with transaction.atomic():
            sizes[products] = counts(signed_in, products)
            transaction.set_rollback(True)
    assert sizes[12] == sizes[36], sizes
    assert Product.objects.count() == 0
