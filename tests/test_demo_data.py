"""The demo's data keeps the rules users are held to: every row of every model passes
its model's validation (field validators, clean(), constraints), so an administrator who
opens a demo row in the admin and saves it is never told the demo broke a rule."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.tables import PROJECT_APPS

pytestmark = pytest.mark.django_db

ROWS_PER_MODEL = 300  # the big history tables are alike row by row


def test_every_demo_row_passes_its_models_validation():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    broken = []
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for row in model._default_manager.all()[:ROWS_PER_MODEL]:
                try:
                    row.full_clean(validate_unique=False)
                except ValidationError as error:
                    broken.append(f"{model._meta.label} {row.pk}: {error.message_dict}")
    assert broken == []


def test_a_few_demo_products_sell_per_channel_and_are_forecast_so():
    from demand.demo import CHANNEL_SHARES
    from demand.models import ChannelForecast, DemandForecast, SalesActual

    call_command("seed_demo", allow_production=True, stdout=StringIO())
    named = SalesActual.objects.exclude(channel="all")
    assert set(named.values_list("product__sku", flat=True)) == set(CHANNEL_SHARES)
    for sku, shares in CHANNEL_SHARES.items():
        assert set(named.filter(product__sku=sku).values_list("channel", flat=True)) == set(shares)
        assert not SalesActual.objects.filter(product__sku=sku, channel="all").exists()
        # The plan reads the product's total: the sum of its channels' forecasts.
        forecast = DemandForecast.objects.filter(product__sku=sku).order_by("week").last()
        channels = ChannelForecast.objects.filter(product__sku=sku, week=forecast.week)
        assert set(channels.values_list("channel", flat=True)) == set(shares)
        assert sum(c.baseline for c in channels) == pytest.approx(forecast.baseline, abs=0.01)
    assert set(ChannelForecast.objects.values_list("product__sku", flat=True).distinct()) == set(
        CHANNEL_SHARES
    )
    # The past weeks' forecasts (the accuracy page's backtest) are made per channel too,
    # their sum being the product's, so the page can show accuracy by channel.
    from coordination.weeks import current_week
    from demand.demo import BACKTEST_WEEKS

    for sku, shares in CHANNEL_SHARES.items():
        past = ChannelForecast.objects.filter(product__sku=sku, week__lt=current_week())
        assert past.count() == BACKTEST_WEEKS * len(shares)
        forecast = DemandForecast.objects.filter(product__sku=sku, week__lt=current_week()).first()
        week = past.filter(week=forecast.week)
        assert sum(c.baseline for c in week) == pytest.approx(forecast.baseline, abs=0.01)

    # The natural can's online week lifts its online channel only: +40 % of that part.
    from demand.demo import NATURAL_ONLINE
    from demand.models import Promotion

    start = Promotion.objects.get(name=NATURAL_ONLINE).start_week
    lifted = DemandForecast.objects.get(product__sku="SPW-NAT-33", week=start)
    channels = {
        c.channel: c for c in ChannelForecast.objects.filter(product__sku="SPW-NAT-33", week=start)
    }
    assert channels["retail"].promotion_uplift == 0
    assert channels["online"].promotion_uplift == pytest.approx(
        0.40 * channels["online"].baseline, abs=0.01
    )
    assert lifted.promotion_uplift == pytest.approx(channels["online"].promotion_uplift, abs=0.01)
    assert 0 < lifted.promotion_uplift < 0.40 * lifted.baseline / 2

    # Its economics count the dip the forecast carries after it (one source: the learned
    # dip), not a mean of past measurements over weeks the forecast does not dip.
    from coordination.weeks import add_weeks
    from demand.engine.effects import DIP_WEEKS
    from production.selectors.economics import promotion_money

    promotion = Promotion.objects.get(name=NATURAL_ONLINE)
    after = DemandForecast.objects.filter(
        product__sku="SPW-NAT-33",
        week__gt=promotion.end_week,
        week__lte=add_weeks(promotion.end_week, DIP_WEEKS),
    )
    carried = -sum(row.promotion_dip for row in after)
    (sold,) = promotion_money(promotion)["products"]
    assert carried > 0
    assert float(sold["dip_units"]) == pytest.approx(carried, abs=0.01)
