"""A succession moves demand on the production plan too: the pipeline re-plans both
products' lines from the forecasts the succession changed, and a new product's launch
ramp-up reaches its quotas."""

from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.models import RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import DemandForecast, SalesActual
from demand.services.launches import launch_plan_set, succession_set
from demand.services.sales_import import sales_import_rows
from production.models import QuotaRecommendation, RunRate
from tests.factories import LineFactory, ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


def week(k):
    return add_weeks(current_week(), k)


@pytest.fixture
def world():
    """An old product selling 60 a week on one line, its successor 20 a week on another;
    both lines have room for 100 units a week, made and sold the same week."""
    family = ProductLineFactory(name="Iced tea")
    bottling = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"))
    canning = LineFactory(name="Canning", weekly_capacity_hours=Decimal("100"))
    old = ProductFactory(
        sku="TEA-OLD-05", product_line=family, production_line=bottling, lead_time_weeks=0
    )
    new = ProductFactory(
        sku="TEA-NEW-05", product_line=family, production_line=canning, lead_time_weeks=0
    )
    for product, units in ((old, 60), (new, 20)):
        RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
        SalesActual.objects.bulk_create(
            SalesActual(product=product, week=week(k - 60), units=units) for k in range(60)
        )
    return {"old": old, "new": new, "bottling": bottling, "canning": canning}


def quotas(product, count=6):
    return [
        round(q.recommended_units)
        for q in QuotaRecommendation.objects.filter(product=product).order_by("week")[:count]
    ]


def test_the_plan_follows_a_succession_on_both_lines(
    client, marketing_user, world, django_capture_on_commit_callbacks
):
    old, new = world["old"], world["new"]
    with django_capture_on_commit_callbacks(execute=True):
        succession_set(
            actor=marketing_user,
            product=old,
            successor_sku="TEA-NEW-05",
            switch_week=week(3),
            expected_version=0,
        )
    request = RecomputeRequest.objects.get()
    assert (request.status, request.product_ids, request.line_ids) == (
        "done",
        sorted([old.pk, new.pk]),
        sorted([world["bottling"].pk, world["canning"].pk]),
    )
    assert quotas(old) == [60, 60, 60, 0, 0, 0]
    assert quotas(new) == [20, 20, 20, 80, 80, 80]
    # The quota explanation reads the forecast's terms: the baseline carries the move.
    moved = QuotaRecommendation.objects.get(product=new, week=week(3))
    assert (moved.baseline, moved.demand) == (80.0, 80.0)
    assert DemandForecast.objects.get(product=new, week=week(3)).successor_transfer == 60.0

    # Its explanation says where the baseline came from, on both products.
    client.force_login(marketing_user)
    new_page = client.get(reverse("quota_explain", args=["TEA-NEW-05", iso_label(week(3))]))
    assert (
        '<p id="baseline-note">60 units are taken over from TEA-OLD-05, which it replaces.</p>'
    ) in new_page.content.decode()
    old_page = client.get(reverse("quota_explain", args=["TEA-OLD-05", iso_label(week(3))]))
    assert (
        '<p id="baseline-note">Its demand of 60 units has moved to TEA-NEW-05, its successor.</p>'
    ) in old_page.content.decode()
    before = client.get(reverse("quota_explain", args=["TEA-NEW-05", iso_label(week(2))]))
    assert 'id="baseline-note"' not in before.content.decode()


def test_a_sales_import_of_the_old_product_replans_the_successor_too(
    marketing_user, world, django_capture_on_commit_callbacks
):
    old, new = world["old"], world["new"]
    with django_capture_on_commit_callbacks(execute=True):
        succession_set(
            actor=marketing_user,
            product=old,
            successor_sku="TEA-NEW-05",
            switch_week=week(2),
            expected_version=0,
        )
    with django_capture_on_commit_callbacks(execute=True):
        sales_import_rows(
            actor=marketing_user,
            rows=[{"sku": "TEA-OLD-05", "week": iso_label(week(-1)), "units": 60}],
            source="api",
        )
    last = RecomputeRequest.objects.order_by("-pk").first()
    assert (last.status, last.product_ids) == ("done", sorted([old.pk, new.pk]))
    assert quotas(new, 4) == [20, 20, 80, 80]


def test_a_launch_ramp_up_reaches_the_quotas(
    client, marketing_user, world, django_capture_on_commit_callbacks
):
    launch = ProductFactory(
        sku="TEA-MIN-05",
        product_line=world["old"].product_line,
        production_line=world["canning"],
        lead_time_weeks=0,
        lifecycle="concept",
    )
    RunRate.objects.create(product=launch, hours_per_unit=Decimal("1"))
    with django_capture_on_commit_callbacks(execute=True):
        launch_plan_set(
            actor=marketing_user,
            product=launch,
            launch_week=week(1),
            launch_volume=40,
            ramp_weeks=4,
            ramp_shape="linear",
            likes=[("TEA-OLD-05", "1")],
            expected_version=0,
        )
    assert [
        round(f.final) for f in DemandForecast.objects.filter(product=launch).order_by("week")[:6]
    ] == [0, 10, 20, 30, 40, 40]
    # Before the launch only the safety stock is made: z(95 %) x sigma, where sigma is
    # the Poisson noise of the launch volume (the likes are constant): 1.645 x sqrt(40).
    first = QuotaRecommendation.objects.filter(product=launch).order_by("week").first()
    assert round(first.safety_stock, 2) == 10.40
    assert quotas(launch) == [11, 10, 20, 30, 40, 40]
    client.force_login(marketing_user)
    page = client.get(reverse("quota_explain", args=["TEA-MIN-05", iso_label(week(2))]))
    assert (
        '<p id="baseline-note">20 units of the baseline are forecast from its like products '
        "(its launch plan), until its own sales history takes over.</p>"
    ) in page.content.decode()
