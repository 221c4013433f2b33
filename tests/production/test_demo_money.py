"""The demo tells the money view's story: a juice deal that looks good in units but loses
money once the juices it displaces are counted, and a sparkling-water week that pays."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from coordination.models import Line, Product, ProductPrice
from demand import demo as demand_demo
from demand.models import Promotion
from production.selectors.economics import promotion_money

pytestmark = pytest.mark.django_db


def test_the_demo_has_one_promotion_that_loses_money_and_one_that_pays():
    call_command("seed_demo", allow_production=True, verbosity=0)
    blitz = promotion_money(Promotion.objects.get(name=demand_demo.BLITZ))["economics"]
    terms = {t.key: t.amount for t in blitz.terms}
    assert blitz.incremental_units > 10_000
    assert blitz.incremental_margin > 0  # looks good in units and before production's answer
    assert terms["displaced_margin"] < -blitz.incremental_margin
    assert blitz.net < 0 and blitz.no_price == []
    lime = promotion_money(Promotion.objects.get(name=demand_demo.LIME_ONLINE))["economics"]
    assert lime.net > 0 and lime.pays is True
    # The online week is priced at the online price, 5 % above the shelf price, less 6 %.
    lime_can = Product.objects.get(sku="SPW-LIM-33")
    assert "(0.88 EUR − 0.50 EUR)" in lime.terms[0].explanation
    # It pays with the dip the forecast would carry after it counted.
    dip = next(t for t in lime.terms if t.key == "post_promotion_dip")
    assert dip.amount < 0
    assert lime_can.unit_price == Decimal("0.90")
    # Every product has last year's price and this one's (the flavour launching soon,
    # TEA-WAT-05, also its launch price); waters an online price too.
    assert ProductPrice.objects.filter(channel="").count() == 2 * Product.objects.count() + 1
    assert ProductPrice.objects.filter(product__sku="TEA-WAT-05").count() == 3
    assert (
        ProductPrice.objects.filter(channel="online").count()
        == Product.objects.filter(sku__startswith="SPW-").count()
    )
    assert Line.objects.get(name="Carton 3").holding_cost_rate_pct == Decimal("30.00")
    rows = ProductPrice.objects.count()
    call_command("seed_demo", allow_production=True, verbosity=0)
    assert ProductPrice.objects.count() == rows
