"""What a plant can make, as product data: batch size, minimum run, shelf life and the life
required at shipment. Impossible combinations are refused at the field (service, API,
browser) with nothing saved: a shelf life shorter than the lead time (plus the required
remaining life), a minimum run or batch longer than the line's week, a batch of 0."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from coordination.models import Line, Product
from coordination.services import products as product_services
from production.models import RunRate
from production.services import capacity
from tests.api_errors import invalid
from tests.factories import LineFactory, ProductFactory, RunRateFactory
from tests.tables import rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def juice():
    """Made on a 100-hour line at half an hour a unit: 200 units fill a week."""
    line = LineFactory(name="Carton 3", weekly_capacity_hours=Decimal("100"))
    product = ProductFactory(sku="JCE-ORA-10", production_line=line, lead_time_weeks=2)
    RunRateFactory(product=product, hours_per_unit=Decimal("0.5"))
    return product


def update(actor, product, **fields):
    return product_services.product_update(
        actor=actor, product_id=product.pk, expected_version=product.version, **fields
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_constraints_are_saved_and_shown(production_user, juice):
    saved = update(
        production_user,
        juice,
        batch_size=50,
        minimum_batch=100,
        shelf_life_weeks=12,
        min_remaining_life_weeks=4,
    )
    assert (saved.batch_size, saved.minimum_batch, saved.usable_weeks) == (50, 100, 6)
    client = Client()
    client.force_login(production_user)
    html = client.get("/products/JCE-ORA-10/").content.decode()
    assert "in batches of 50 units, at least 100 a week when made" in html
    assert (
        "12 weeks, of which customers require 4 left at shipment: stock may wait at most 6 "
        "weeks after it arrives"
    ) in html


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"shelf_life_weeks": 1},
            {
                "shelf_life_weeks": [
                    "A shelf life of 1 week is shorter than the lead time (2 weeks): no unit "
                    "could ship fresh enough."
                ]
            },
        ),
        (
            {"shelf_life_weeks": 5, "min_remaining_life_weeks": 4},
            {
                "shelf_life_weeks": [
                    "A shelf life of 5 weeks is shorter than the lead time (2 weeks) plus the "
                    "minimum remaining life at shipment (4): no unit could ship fresh enough."
                ]
            },
        ),
        (
            {"minimum_batch": 300},
            {
                "minimum_batch": [
                    "A minimum run of 300 units takes 150 hours, more than line Carton 3's 100 "
                    "hours a week."
                ]
            },
        ),
        (
            {"batch_size": 201},
            {
                "batch_size": [
                    "One batch of 201 units takes 100.5 hours, more than line Carton 3's 100 "
                    "hours a week."
                ]
            },
        ),
        ({"batch_size": 0}, {"batch_size": ["Ensure this value is greater than or equal to 1."]}),
    ],
)
def test_impossible_constraints_are_refused_and_nothing_changes(
    production_user, juice, fields, errors
):
    before = rows()
    with pytest.raises(ValidationError) as refused:
        update(production_user, juice, **fields)
    assert refused.value.message_dict == errors
    assert rows() == before
    juice.refresh_from_db()
    assert (juice.version, juice.batch_size, juice.minimum_batch, juice.shelf_life_weeks) == (
        1,
        1,
        1,
        None,
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"batch_size": 0}, {"batch_size": ["Ensure this value is greater than or equal to 1."]}),
        ({"batch_size": -3}, {"batch_size": ["Ensure this value is greater than or equal to 1."]}),
        ({"batch_size": 2.5}, {"batch_size": ["A valid integer is required."]}),
        ({"shelf_life_weeks": "long"}, {"shelf_life_weeks": ["A valid integer is required."]}),
        (
            {"shelf_life_weeks": 0},
            {"shelf_life_weeks": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"min_remaining_life_weeks": -1},
            {"min_remaining_life_weeks": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"shelf_life_weeks": 2, "min_remaining_life_weeks": 1},
            {
                "shelf_life_weeks": [
                    "A shelf life of 2 weeks is shorter than the lead time (2 weeks) plus the "
                    "minimum remaining life at shipment (1): no unit could ship fresh enough."
                ]
            },
        ),
        (
            {"minimum_batch": 10**6},
            {
                "minimum_batch": [
                    "A minimum run of 1,000,000 units takes 500,000 hours, more than line "
                    "Carton 3's 100 hours a week."
                ]
            },
        ),
    ],
)
def test_the_api_refuses_them_at_the_field(production_user, juice, body, fields):
    before = rows()
    response = api(production_user).patch(
        "/api/v1/products/JCE-ORA-10/", {**body, "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    assert rows() == before


def test_the_browser_says_it_at_the_field(production_user, juice):
    client = Client()
    client.force_login(production_user)
    form = {
        "name": juice.name,
        "product_line": juice.product_line_id,
        "lifecycle": "active",
        "quality_tier": "standard",
        "unit_price": "2.00",
        "unit_cost": "1.20",
        "production_line": juice.production_line_id,
        "lead_time_weeks": 2,
        "minimum_batch": 1,
        "batch_size": 1,
        "shelf_life_weeks": 1,
        "min_remaining_life_weeks": 0,
        "target_service_level": "0.95",
        "predecessor": "",
        "version": 1,
    }
    before = rows()
    response = client.post("/products/JCE-ORA-10/edit/", form)
    assert response.status_code == 200
    assert (
        "A shelf life of 1 week is shorter than the lead time (2 weeks): no unit could ship "
        "fresh enough."
    ) in response.content.decode()
    assert rows() == before


def test_the_database_refuses_a_shelf_life_shorter_than_the_lead_time(juice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=juice.pk).update(shelf_life_weeks=1)


def test_a_slower_run_rate_that_makes_the_minimum_run_too_long_is_refused(production_user, juice):
    update(production_user, juice, minimum_batch=150)  # 75 hours at 0.5 h a unit
    with pytest.raises(ValidationError) as refused:
        capacity.run_rate_set(actor=production_user, product_id=juice.pk, hours_per_unit="0.7")
    assert refused.value.message_dict == {
        "hours_per_unit": [
            "A minimum run of 150 units takes 105 hours, more than line Carton 3's 100 hours a "
            "week."
        ]
    }
    assert RunRate.objects.get(product=juice).hours_per_unit == Decimal("0.5")


def test_less_capacity_than_a_minimum_run_needs_is_refused_naming_the_products(
    production_user, juice
):
    update(production_user, juice, minimum_batch=150)
    line = Line.objects.get(name="Carton 3")
    with pytest.raises(ValidationError) as refused:
        capacity.line_update(
            actor=production_user,
            line_id=line.pk,
            expected_version=line.version,
            weekly_capacity_hours="60",
        )
    assert refused.value.message_dict == {
        "weekly_capacity_hours": [
            "60.0 hours a week leave runs that cannot be made: JCE-ORA-10 (a minimum run of "
            "150 units takes 75 hours, more than line Carton 3's 60 hours a week.)"
        ]
    }
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.version) == (Decimal("100.0"), 1)
