"""The quota explanation of a product forecast per sales channel: the waterfall and the
sentence say its baseline is the sum of its channels' (that week's ChannelForecast) and
name the channel of a one-channel promotion in the uplift and in the dip after it, in a
bounded number of queries on the page and in the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from coordination.weeks import add_weeks, current_week, iso_label
from demand.engine.effects import DipEstimate
from demand.models import SalesActual
from demand.services import forecasting
from production.models import QuotaRecommendation, RunRate
from production.selectors.channel_split import _adding_up
from production.selectors.dashboard import explanation_steps
from production.selectors.schedule import recommendation_explanation
from production.services.planning import plan_line
from tests.factories import (
    ChannelForecastFactory,
    LineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    QuotaRecommendationFactory,
    RecomputeRunFactory,
)

pytestmark = pytest.mark.django_db


def week(k: int):
    return add_weeks(current_week(), k)


def labelled(rec) -> list[tuple[str, int]]:
    return [(s["label"], s["value"]) for s in explanation_steps(rec)]


def split_rec(channels: dict[str, tuple[float, float]], **terms) -> QuotaRecommendation:
    """A recommendation and its covers week's channel forecasts {channel: (baseline,
    uplift)}; the recommendation's baseline and uplift are their sums unless given."""
    terms.setdefault("baseline", sum(b for b, _ in channels.values()))
    terms.setdefault("promotion_uplift", sum(u for _, u in channels.values()))
    rec = QuotaRecommendationFactory(**terms)
    for channel, (baseline, uplift) in channels.items():
        ChannelForecastFactory(
            product=rec.product,
            channel=channel,
            week=rec.covers_week,
            baseline=baseline,
            promotion_uplift=uplift,
        )
    return QuotaRecommendation.objects.get(pk=rec.pk)


def test_the_baseline_is_the_sum_of_its_channels_and_a_retail_promotion_is_named():
    rec = split_rec({"retail": (60.0, 30.0), "online": (40.0, 0.0)})

    assert labelled(rec) == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Promotion uplift (Retail)", 30),
    ]
    assert recommendation_explanation(rec) == (
        f"for {iso_label(rec.covers_week)}: demand 130 = baseline 100 (retail 60 + online 40) "
        "+ promotion (Retail) 30; recommended 130"
    )


def test_the_dip_after_a_retail_promotion_is_named_by_its_channel():
    rec = split_rec({"retail": (60.0, 0.0), "online": (40.0, 0.0)}, promotion_dip=-12.0)
    rec.product.channel_forecasts.filter(channel="retail").update(promotion_dip=-12.0)

    assert labelled(rec) == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Dip after promotion (Retail)", -12),
    ]
    assert recommendation_explanation(rec) == (
        f"for {iso_label(rec.covers_week)}: demand 88 = baseline 100 (retail 60 + online 40) "
        "- dip after promotion (Retail) 12; recommended 88"
    )


def test_a_dip_of_every_channel_names_none():
    rec = split_rec({"retail": (60.0, 0.0), "online": (40.0, 0.0)}, promotion_dip=-20.0)
    for channel, dip in (("retail", -12.0), ("online", -8.0)):
        rec.product.channel_forecasts.filter(channel=channel).update(promotion_dip=dip)

    assert labelled(rec) == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Dip after promotion", -20),
    ]


def test_the_channels_in_whole_units_add_up_to_the_baseline_shown():
    # 60.5 + 39.5: rounded one by one they would read 61 + 40 = 101.
    rec = split_rec({"retail": (60.5, 0.0), "online": (39.5, 0.0), "distributor": (0.0, 0.0)})

    assert labelled(rec) == [("Baseline demand = retail 61 + online 39 + distributors 0", 100)]
    assert _adding_up([10.2, 10.3, 10.5], 31) == [10, 10, 11]
    assert _adding_up([0.4, 0.4, 0.4], 1) == [1, 0, 0]  # ties: the first


def test_a_promotion_of_every_channel_names_none():
    rec = split_rec({"retail": (60.0, 30.0), "online": (40.0, 20.0)})

    assert labelled(rec) == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Promotion uplift", 50),
    ]


def test_unattributed_sales_are_a_part_of_their_own():
    rec = split_rec({"all": (10.0, 0.0), "online": (40.0, 8.0)})

    assert labelled(rec)[:2] == [
        ("Baseline demand = not attributed 10 + online 40", 50),
        ("Promotion uplift (Online)", 8),
    ]


def test_channels_that_no_longer_add_up_to_the_plans_baseline_are_left_out():
    """A forecast made again after the plan: its channels would contradict the figures."""
    rec = split_rec({"retail": (70.0, 0.0), "online": (40.0, 0.0)}, baseline=100.0)

    assert labelled(rec) == [("Baseline demand", 100)]
    assert recommendation_explanation(rec).endswith("demand 100 = baseline 100; recommended 100")


def test_a_product_not_forecast_per_channel_reads_as_before():
    rec = QuotaRecommendationFactory(baseline=100.0, promotion_uplift=20.0)

    assert labelled(rec) == [("Baseline demand", 100), ("Promotion uplift", 20)]


def test_the_forecasters_retail_promotion_reaches_the_plans_explanation(
    client, production_user, monkeypatch
):
    """End to end: sales per channel, a retail promotion, the forecast, the plan; its
    learned -20 % dip the week after it falls on retail too."""
    monkeypatch.setattr(
        forecasting, "learned_dips", lambda ids: {pid: DipEstimate(-20.0, 1) for pid in ids}
    )
    line = LineFactory(weekly_capacity_hours=Decimal("1000"))
    product = ProductFactory(sku="TEA-SPLIT", production_line=line, lead_time_weeks=0)
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    SalesActual.objects.bulk_create(
        SalesActual(product=product, channel=channel, week=week(k - 104), units=units)
        for channel, units in (("retail", 60), ("online", 40))
        for k in range(104)
    )
    promotion = PromotionFactory(
        status="planned", channel="retail", start_week=week(2), end_week=week(2)
    )
    PromotionItemFactory(promotion=promotion, product=product, expected_lift_pct=50)
    forecasting.forecast_products(product_ids=[product.pk], trigger="test")
    plan_line(line=line, run=RecomputeRunFactory(line=line))
    rec = QuotaRecommendation.objects.get(product=product, week=week(2))
    after = QuotaRecommendation.objects.get(product=product, week=week(3))

    assert labelled(rec)[:2] == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Promotion uplift (Retail)", 30),
    ]
    assert "demand 130 = baseline 100 (retail 60 + online 40) + promotion (Retail) 30" in (
        recommendation_explanation(rec)
    )
    client.force_login(production_user)
    page = client.get(reverse("quota_explain", args=[product.sku, iso_label(week(2))]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Baseline demand = retail 60 + online 40" in html
    assert "Promotion uplift (Retail)" in html

    assert labelled(after)[:2] == [
        ("Baseline demand = retail 60 + online 40", 100),
        ("Dip after promotion (Retail)", -12),
    ]
    assert "demand 88 = baseline 100 (retail 60 + online 40) - dip after promotion (Retail) 12" in (
        recommendation_explanation(after)
    )
    html = client.get(
        reverse("quota_explain", args=[product.sku, iso_label(week(3))])
    ).content.decode()
    assert "Dip after promotion (Retail)" in html


def explain_queries(client, rec) -> int:
    url = reverse("quota_explain", args=[rec.product.sku, iso_label(rec.week)])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return len(queries)


def test_the_explanation_page_reads_the_channels_in_one_query(client, production_user):
    client.force_login(production_user)
    plain = QuotaRecommendationFactory()
    two = split_rec({"retail": (60.0, 30.0), "online": (40.0, 0.0)})
    four = split_rec(
        {"retail": (30.0, 9.0), "online": (30.0, 0.0), "distributor": (20.0, 0.0), "all": (20.0, 0)}
    )
    explain_queries(client, plain)  # the session's first queries

    counts = [explain_queries(client, rec) for rec in (plain, two, four)]

    # Session, user, permissions (2), the recommendation, its accepted entry, the channel
    # forecasts (one query, however many channels), the baseline note, the user's groups.
    assert counts == [9, 9, 9]


def test_the_api_reads_the_channels_of_a_page_in_one_query(production_user):
    line = LineFactory()
    api = APIClient()
    api.force_authenticate(production_user)

    def listed() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/quota-recommendations/", {"line": line.name})
        assert response.status_code == 200
        return len(queries), [row["explanation"] for row in response.json()["results"]]

    def add(sku: str) -> None:
        product = ProductFactory(sku=sku, production_line=line)
        split_rec({"retail": (60.0, 30.0), "online": (40.0, 0.0)}, product=product)

    add("TEA-A")
    listed()  # the first request's own queries (permissions)
    one, explanations = listed()
    add("TEA-B")
    add("TEA-C")
    three, explanations = listed()

    assert three == one
    assert [text.split(": ", 1)[1] for text in explanations] == [
        "demand 130 = baseline 100 (retail 60 + online 40) + promotion (Retail) 30; recommended 130"
    ] * 3
