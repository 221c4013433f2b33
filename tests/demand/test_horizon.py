"""The planning horizon is one setting (13 to 104 weeks): weeks beyond it are accepted and
the answers say they will be planned as they enter it; a promotion longer than 26 weeks
needs an explicit confirmation (a typo in a year is the usual cause)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from coordination.models import Product
from coordination.services.recompute import recompute_request
from coordination.weeks import add_weeks, current_week, iso_label, outside_horizon
from demand.models import DemandForecast, Promotion
from demand.services import promotions as services
from production.models import QuotaRecommendation
from production.services import pipeline
from tests.factories import LineFactory, ProductFactory, PromotionFactory, PromotionItemFactory
from tests.tables import rows

pytestmark = pytest.mark.django_db


def week(offset: int):
    return add_weeks(current_week(), offset)


def label(offset: int) -> str:
    return iso_label(week(offset))


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA-LEM-05", name="Lemon tea")


# --- the sentence -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (2, 25, ""),
        (
            20,
            26,
            f"Week {label(26)} lies beyond the plan's horizon (to {label(25)}): it will be "
            "planned when it enters it.",
        ),
        (
            20,
            207,
            f"Weeks {label(26)} to {label(207)} lie beyond the plan's horizon (to {label(25)}): "
            "they will be planned as they enter it.",
        ),
        (
            30,
            30,
            f"The promotion in {label(30)} lies beyond the plan's horizon (to {label(25)}): it "
            "will be planned as it enters it.",
        ),
        (
            30,
            40,
            f"The promotion from {label(30)} lies beyond the plan's horizon (to {label(25)}): it "
            "will be planned as it enters it.",
        ),
    ],
)
def test_the_weeks_beyond_the_horizon_are_named(start, end, said):
    assert outside_horizon(week(start), week(end)) == said


def test_the_horizon_is_the_setting(settings):
    settings.PLANNING_HORIZON_WEEKS = 52
    assert outside_horizon(week(0), week(51)) == ""
    assert outside_horizon(week(0), week(52)).startswith(f"Week {label(52)} lies beyond")


# --- long promotions ----------------------------------------------------------------------


def _create(actor, weeks: int, **kwargs):
    return services.promotion_create(
        actor=actor,
        name="Year of tea",
        discount_pct="10",
        start_week=week(2),
        end_week=week(2 + weeks - 1),
        items=[{"product": Product.objects.get(sku="TEA-LEM-05"), "expected_lift_pct": 5}],
        status="confirmed",
        **kwargs,
    )


def test_a_promotion_longer_than_26_weeks_needs_a_confirmation_and_nothing_is_saved_without(
    marketing_user, tea
):
    before = rows()
    with pytest.raises(ValidationError) as refused:
        _create(marketing_user, 208)
    assert refused.value.message_dict == {
        "confirm_long": [
            f"{label(2)} – {label(209)} is 208 weeks, longer than 26: confirm that the promotion "
            "really runs that long."
        ]
    }
    assert rows() == before


def test_26_weeks_need_no_confirmation_and_a_confirmed_long_one_is_saved(marketing_user, tea):
    assert _create(marketing_user, 26).pk
    long = _create(marketing_user, 27, confirm_long=True)
    assert (long.start_week, long.end_week) == (week(2), week(28))


def test_an_edit_asks_again_only_when_it_makes_the_weeks_longer_than_26(marketing_user, tea):
    long = _create(marketing_user, 40, confirm_long=True)
    edited = services.promotion_update(
        actor=marketing_user, promotion_id=long.pk, expected_version=1, notes="Shelf talkers."
    )
    assert edited.version == 2
    with pytest.raises(ValidationError) as refused:
        services.promotion_update(
            actor=marketing_user, promotion_id=long.pk, expected_version=2, end_week=week(60)
        )
    assert list(refused.value.message_dict) == ["confirm_long"]
    long.refresh_from_db()
    assert (long.version, long.end_week) == (2, week(41))


def test_the_api_refuses_a_long_promotion_at_the_field_and_answers_the_horizon(marketing_user, tea):
    client = APIClient()
    client.force_authenticate(marketing_user)
    body = {
        "name": "Year of tea",
        "discount_pct": "10",
        "start_week": label(2),
        "end_week": label(209),
        "status": "confirmed",
        "items": [{"product": "TEA-LEM-05", "expected_lift_pct": 5}],
    }
    before = rows()
    response = client.post("/api/v1/promotions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "confirm_long": [
            f"{label(2)} – {label(209)} is 208 weeks, longer than 26: confirm that the promotion "
            "really runs that long."
        ]
    }
    assert rows() == before
    response = client.post("/api/v1/promotions/", {**body, "confirm_long": True}, format="json")
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        f"Weeks {label(26)} to {label(209)} lie beyond the plan's horizon (to {label(25)}): "
        "they will be planned as they enter it."
    ]
    assert "confirm_long" not in response.json()


def test_the_browser_asks_for_the_confirmation_then_says_what_lies_beyond(marketing_user, tea):
    client = Client()
    client.force_login(marketing_user)
    form = {
        "name": "Year of tea",
        "channel": "all",
        "discount_pct": "10",
        "start_week": label(2),
        "end_week": label(209),
        "notes": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-product": "TEA-LEM-05",
        "items-0-expected_lift_pct": "5",
        "submit": "draft",
    }
    before = rows()
    response = client.post("/promotions/new/", form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is 208 weeks, longer than 26: confirm that the promotion really runs that long." in html
    assert 'name="confirm_long"' in html
    assert rows() == before
    response = client.post("/promotions/new/", {**form, "confirm_long": "on"}, follow=True)
    assert response.redirect_chain[-1][1] == 302
    assert Promotion.objects.get().end_week == week(209)
    shown = [str(m) for m in response.context["messages"]]
    assert shown[-1] == (
        f"Weeks {label(26)} to {label(209)} lie beyond the plan's horizon (to {label(25)}): "
        "they will be planned as they enter it."
    )


def test_the_new_promotion_form_does_not_show_the_confirmation_before_it_is_needed(
    marketing_user,
):
    client = Client()
    client.force_login(marketing_user)
    assert 'name="confirm_long"' not in client.get("/promotions/new/").content.decode()


def test_productions_answer_says_which_weeks_it_does_not_plan_yet(production_user):
    line = LineFactory()
    promotion = PromotionFactory(start_week=week(20), end_week=week(30), status="confirmed")
    PromotionItemFactory(promotion=promotion, product=ProductFactory(production_line=line))
    client = Client()
    client.force_login(production_user)
    html = client.get(f"/production/promotions/{promotion.pk}/impact/").content.decode()
    assert (
        f"Weeks {label(26)} to {label(30)} lie beyond the plan&#x27;s horizon (to {label(25)}): "
        "they will be planned as they enter it. The answer below covers the weeks within it."
    ) in html


def test_the_plan_covers_the_horizon_setting(settings, production_user):
    """Forecasts and the plan follow the one setting: 13 weeks planned, not 26."""
    settings.PLANNING_HORIZON_WEEKS = 13
    product = ProductFactory(production_line=LineFactory(), lead_time_weeks=0)
    with transaction.atomic():
        request = recompute_request(
            product_ids=[product.pk], source="manual", reason="test", enqueue_after_commit=False
        )
    pipeline.process_request(request.pk)
    assert QuotaRecommendation.objects.filter(product=product).count() == 13
    assert DemandForecast.objects.filter(product=product).count() == 13
