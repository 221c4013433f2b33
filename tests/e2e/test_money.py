"""Marketing reads what a promotion earns and costs, production's consequences included,
before confirming it (a real Chromium against a live server; recomputes run eagerly)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from playwright.sync_api import expect

from coordination.services import recompute as recompute_services
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion, SalesActual
from production.models import RunRate
from production.services import pipeline
from tests.factories import LineFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEEKS_OF_HISTORY = 156


@pytest.fixture
def full_line():
    """Bottling, 100 hours a week, full: TEA-A (1 h a unit, 40 a week at 3.00, cost 1.00)
    and TEA-B (2 h a unit, 30 a week at 5.00, cost 2.00), made and sold the same week."""
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"))
    start = add_weeks(current_week(), -WEEKS_OF_HISTORY)
    products = []
    for sku, hours, weekly, price, cost in (
        ("TEA-A", "1", 40, "3.00", "1.00"),
        ("TEA-B", "2", 30, "5.00", "2.00"),
    ):
        product = ProductFactory(
            sku=sku, name=f"Tea {sku[-1]}", production_line=line, lead_time_weeks=0,
            unit_price=Decimal(price), unit_cost=Decimal(cost),
        )  # fmt: skip
        RunRate.objects.create(product=product, hours_per_unit=Decimal(hours))
        SalesActual.objects.bulk_create(
            SalesActual(product=product, week=add_weeks(start, k), units=weekly)
            for k in range(WEEKS_OF_HISTORY)
        )
        products.append(product)
    with transaction.atomic():
        request = recompute_services.recompute_request(
            product_ids=[p.pk for p in products],
            source="manual",
            reason="e2e",
            enqueue_after_commit=False,
        )
    pipeline.process_request(request.pk)
    return line


def test_marketing_reads_the_economics_before_confirming(page, login, marketing_user, full_line):
    login(page, marketing_user)
    page.goto("/promotions/new/")
    page.get_by_label("Name").fill("Tea A fortnight")
    page.get_by_label("Discount %").fill("20")
    page.get_by_label("First week").fill(iso_label(add_weeks(current_week(), 2)))
    page.get_by_label("Last week").fill(iso_label(add_weeks(current_week(), 3)))
    page.get_by_label("Product SKU, row 1").fill("TEA-A")
    page.get_by_label("Expected lift %, row 1").fill("50")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tea A fortnight")
    assert Promotion.objects.get().status == "draft"

    # +20 A a week on a full line takes 20 hours from B (2 h a unit): 20 B short.
    # 40 extra A x (2.40 - 1.00) = 56.00; discount 80 x 3.00 x 20 % = 48.00;
    # B: 20 x 3.00 = 60.00 lost; net -52.00.
    money = page.locator("#promotion-economics")
    expect(money.locator("#economics-net")).to_have_text("−52.00 EUR")
    expect(money.locator(".badge")).to_have_text("Loses money")
    expect(money.locator("#economics-break-even")).to_contain_text("Pays from +96.4 % lift")
    expect(money.locator("dl.facts dd")).to_have_text(
        [
            "40",
            "96.00 EUR",
            "8.00 EUR",
            "−52.00 EUR Loses money",
            "Pays from +96.4 % lift (the same lift on every product, with production's costs "
            "as at the expected lift)",
        ]
    )
    expect(money).to_contain_text("TEA-B: 20 more units short × 3.00 EUR margin = −60.00 EUR")
    expect(money.locator(".wf-row")).to_have_count(6)  # five terms and the net result

    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1 + .actions .badge, .page-head .badge").first).to_have_text("Confirmed")
    # Confirmed, the forecast carries the uplift; the answer is the same.
    expect(page.locator("#economics-net")).to_have_text("−52.00 EUR")
    assert Promotion.objects.get().status == "confirmed"
