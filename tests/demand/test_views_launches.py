"""The launch and successor page: forms at their fields, nothing half-saved, never a 500;
the forecast page shows the new terms."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from coordination.models import RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import LaunchPlan, LikeProduct, SalesActual, Succession
from demand.services.forecasting import forecast_products
from tests.factories import ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


def week(k):
    return add_weeks(current_week(), k)


@pytest.fixture
def family():
    line = ProductLineFactory(name="Iced tea")
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line=line)
    SalesActual.objects.bulk_create(
        SalesActual(product=lemon, week=week(k - 30), units=100) for k in range(30)
    )
    mint = ProductFactory(sku="TEA-MIN-05", name="Mint tea", product_line=line, lifecycle="concept")
    ProductFactory(sku="TEA-OLD-05", product_line=line, lifecycle="discontinued")
    return {"lemon": lemon, "mint": mint}


def url(sku, save=False):
    return reverse("product_launch_save" if save else "product_launch", args=[sku])


def launch_post(**overrides):
    return {
        "part": "launch",
        "version": "0",
        "launch_week": iso_label(week(2)),
        "launch_volume": "400",
        "ramp_weeks": "8",
        "ramp_shape": "linear",
        "likes": "TEA-LEM-05 1",
    } | overrides


def field_errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error" id="id_\w+_error">(.*?)</p>', html)


def test_the_page_suggests_likes_and_prefills_them(client, marketing_user, family):
    client.force_login(marketing_user)
    response = client.get(url("TEA-MIN-05"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'TEA-LEM-05</a> Lemon tea <span class="muted">(same product line, standard tier)' in html
    assert "TEA-LEM-05 1</textarea>" in html


def test_planning_a_launch_in_the_browser(client, marketing_user, family):
    client.force_login(marketing_user)
    response = client.post(url("TEA-MIN-05", save=True), launch_post(), follow=True)
    assert response.redirect_chain == [(url("TEA-MIN-05"), 302)]
    plan = LaunchPlan.objects.get()
    assert (plan.launch_week, plan.launch_volume, plan.ramp_weeks) == (week(2), 400, 8)
    assert list(LikeProduct.objects.values_list("like__sku", flat=True)) == ["TEA-LEM-05"]
    assert "Launch plan of TEA-MIN-05 saved." in response.content.decode()


@pytest.mark.parametrize(
    ("likes", "message"),
    [
        ("TEA-MIN-05", "TEA-MIN-05 cannot be a like of itself: name products that already sell."),
        (
            "TEA-OLD-05 1",
            "TEA-OLD-05 is discontinued: its demand says nothing about a launch today.",
        ),
        ("TEA-LEM-05 1 2", "Line 1: write a SKU and a weight, e.g. TEA-LEM-05 0.5."),
        ("TEA-LEM-05 lots", "The weight of TEA-LEM-05 must be a number from 0.01 to 100."),
    ],
)
def test_bad_likes_are_shown_at_the_field_and_nothing_is_saved(
    client, marketing_user, family, likes, message
):
    client.force_login(marketing_user)
    response = client.post(url("TEA-MIN-05", save=True), launch_post(likes=likes))
    assert response.status_code == 200
    assert field_errors(response.content.decode()) == [message]
    assert (LaunchPlan.objects.count(), RecomputeRequest.objects.count()) == (0, 0)


def test_a_successor_loop_is_refused_at_the_field(client, marketing_user, family):
    Succession.objects.create(
        product=family["mint"], successor=family["lemon"], switch_week=week(4)
    )
    client.force_login(marketing_user)
    response = client.post(
        url("TEA-LEM-05", save=True),
        {
            "part": "succession",
            "version": "0",
            "successor": "TEA-MIN-05",
            "switch_week": iso_label(week(5)),
        },
    )
    assert response.status_code == 200
    assert field_errors(response.content.decode()) == [
        "That would make a loop: TEA-LEM-05 → TEA-MIN-05 → TEA-LEM-05. A product cannot take "
        "over its own demand."
    ]
    assert Succession.objects.count() == 1


def test_a_stale_launch_plan_is_refused_with_409(client, marketing_user, family):
    LaunchPlan.objects.create(product=family["mint"], launch_week=week(1), launch_volume=5)
    client.force_login(marketing_user)
    response = client.post(url("TEA-MIN-05", save=True), launch_post(version="0"))
    assert response.status_code == 409
    assert LaunchPlan.objects.get().launch_volume == 5


@pytest.mark.parametrize(
    "data",
    [
        {"part": "launch"},
        {"part": "succession", "successor": "TEA-LEM-05"},
        {"part": "launch_remove"},
        {"part": "nonsense"},
        {},
    ],
)
def test_incomplete_posts_never_500_and_save_nothing(client, marketing_user, family, data):
    client.force_login(marketing_user)
    response = client.post(url("TEA-MIN-05", save=True), data)
    assert response.status_code in (200, 302)
    assert (LaunchPlan.objects.count(), Succession.objects.count()) == (0, 0)


def test_sales_may_look_but_not_plan(client, sales_user, family):
    client.force_login(sales_user)
    assert client.get(url("TEA-MIN-05")).status_code == 200
    response = client.post(url("TEA-MIN-05", save=True), launch_post())
    assert response.status_code == 403
    assert LaunchPlan.objects.count() == 0


def test_the_forecast_page_shows_the_likes_and_the_successor(client, marketing_user, family):
    mint, lemon = family["mint"], family["lemon"]
    LaunchPlan.objects.create(product=mint, launch_week=week(0), launch_volume=400, ramp_weeks=8)
    LikeProduct.objects.create(product=mint, like=lemon, weight=1)
    other = ProductFactory(sku="TEA-PEA-05", product_line=lemon.product_line)
    Succession.objects.create(product=lemon, successor=other, switch_week=week(1))
    forecast_products(product_ids=[mint.pk, lemon.pk], trigger="test", horizon=4)
    client.force_login(marketing_user)
    html = client.get(reverse("forecast_detail", args=["TEA-MIN-05"])).content.decode()
    assert (
        "<strong>Forecast from likes: TEA-LEM-05 scaled to 400/week, ramp-up week 1 of 8</strong>"
        in html
    )
    assert "<td>Ramp-up week 1 of 8. </td>" in html
    assert "<td>Ramp-up week 4 of 8. </td>" in html
    html = client.get(reverse("forecast_detail", args=["TEA-PEA-05"])).content.decode()
    assert "takes over the demand of <a" in html
    assert "Takes over TEA-LEM-05." in html
    html = client.get(reverse("forecast_detail", args=["TEA-LEM-05"])).content.decode()
    assert "Moved to successor TEA-PEA-05." in html
