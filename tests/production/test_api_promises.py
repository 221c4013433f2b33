"""REST: POST /api/v1/promises/ answers capable-to-promise from the line's current plan,
in SKUs and ISO weeks; refuses bad input at its field with nothing written; needs the
`promises:read` scope or a role that may ask."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from coordination.models import Product
from coordination.services import api_clients
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import QuotaRecommendation
from production.selectors import promise as selector
from tests.api_errors import NOT_ALLOWED, NOT_SIGNED_IN, invalid
from tests.factories import (
    DemandForecastFactory,
    LineFactory,
    ProductFactory,
    ProductionHoldFactory,
    QuotaRecommendationFactory,
    RecomputeRunFactory,
    RunRateFactory,
)
from tests.tables import rows

pytestmark = pytest.mark.django_db

URL = "/api/v1/promises/"


def week(offset: int):
    return add_weeks(current_week(), offset)


def label(offset: int) -> str:
    return iso_label(week(offset))


@pytest.fixture(autouse=True)
def _four_weeks(settings):
    settings.PLANNING_HORIZON_WEEKS = 4
    selector.forget_line_states()
    yield
    selector.forget_line_states()


def plan(line, units: dict[str, list[float]]):
    """A finished recompute of `line` whose recommendations make `units` per week."""
    run = RecomputeRunFactory(line=line)
    for sku, weekly in units.items():
        product = Product.objects.get(sku=sku)
        for offset, made in enumerate(weekly):
            QuotaRecommendationFactory(
                product=product, line=line, run=run, week=week(offset), recommended_units=made
            )
    return run


@pytest.fixture
def line():
    return two_product_line()


def two_product_line():
    """tests/production/test_promise.py's two_products, in the database: BEV-A and BEV-B,
    1 hour a unit, lead time 0, 15 hours a week, weeks 0-3, week 0 frozen. The plan makes
    A 10 and B 5 every week. Firm: A 10 in week 2, B 5 in week 1, both covered by frozen
    week 0's production (the engine nets them), so weeks 1-3 (45 hours) are free."""
    line = LineFactory(name="Canning 2", weekly_capacity_hours=15, frozen_window_weeks=1)
    for sku, demand, firm_week in (("BEV-A", 10, 2), ("BEV-B", 5, 1)):
        product = ProductFactory(sku=sku, production_line=line, lead_time_weeks=0)
        RunRateFactory(product=product, hours_per_unit=1)
        for offset in range(4):
            firm = demand if offset == firm_week else 0
            DemandForecastFactory(
                product=product,
                week=week(offset),
                baseline=demand - firm,
                firm_orders=firm,
            )
    plan(line, {"BEV-A": [10, 10, 10, 10], "BEV-B": [5, 5, 5, 5]})
    return line


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ask(user, **body):
    return api(user).post(URL, body, format="json")


# --- answers -----------------------------------------------------------------------------


def test_a_small_order_takes_the_latest_weeks_hours_and_displaces_the_other_product(
    line, sales_user
):
    before = rows()
    response = ask(sales_user, product="BEV-A", quantity=5, week=label(2))
    assert response.status_code == 200
    assert response.json() == {
        "product": "BEV-A",
        "line": "Canning 2",
        "plan_run": line.recompute_runs.get().pk,
        "quantity": 5.0,
        "week": label(2),
        "requested": [{"week": label(2), "units": 5.0}],
        "available": 5.0,
        "full": True,
        "earliest_week": label(2),
        "reason": "",
        "delivers": [{"week": label(2), "units": 5.0}],
        "uses": [{"week": label(2), "units": 5.0}],
        "displaces": [
            {"product": "BEV-B", "week": label(2), "units": 5.0},
            {"product": "BEV-B", "week": label(3), "units": 5.0},
        ],
    }
    assert rows() == before


def test_more_than_by_the_week_gives_the_available_part_and_the_earliest_full_week(
    line, production_user
):
    body = ask(production_user, product="bev-a ", quantity=35, week=label(2)).json()
    assert (body["available"], body["full"], body["earliest_week"]) == (30.0, False, label(3))
    assert body["delivers"] == [{"week": label(3), "units": 35.0}]
    assert body["reason"] == ""


def test_more_than_the_horizon_holds_is_answered_as_not_within_the_plans_horizon(
    line, marketing_user
):
    response = ask(marketing_user, product="BEV-A", quantity=100, week=label(3))
    assert response.status_code == 200
    body = response.json()
    assert (body["available"], body["full"], body["earliest_week"]) == (45.0, False, None)
    assert body["reason"] == (
        f"Not within the plan's horizon (to {label(3)}): The line can deliver at most 45 "
        "of 100 units by the last week of the plan's horizon (week 3) without breaking a "
        "firm order."
    )
    assert body["delivers"] == [{"week": label(3), "units": 45.0}]


def test_a_quantity_per_week(line, sales_user):
    response = ask(sales_user, product="BEV-A", per_week={label(1): 5, label(3): 5})
    assert response.status_code == 200
    body = response.json()
    assert body["requested"] == [
        {"week": label(1), "units": 5.0},
        {"week": label(3), "units": 5.0},
    ]
    assert (body["quantity"], body["week"], body["available"], body["full"]) == (
        10.0,
        label(3),
        10.0,
        True,
    )
    assert body["uses"] == [{"week": label(1), "units": 5.0}, {"week": label(3), "units": 5.0}]


# --- the kept state ----------------------------------------------------------------------


def test_the_line_state_is_built_once_per_plan_and_again_for_a_new_plan(
    line, sales_user, monkeypatch
):
    built = []
    build = selector._build_state
    monkeypatch.setattr(
        selector, "_build_state", lambda *args: built.append(args[0].pk) or build(*args)
    )
    first = ask(sales_user, product="BEV-A", quantity=5, week=label(2)).json()
    again = ask(sales_user, product="BEV-A", quantity=5, week=label(2)).json()
    assert first == again and built == [line.pk]

    # A new plan that already makes 15 of A in week 2: the order no longer displaces B.
    run = plan(line, {})
    QuotaRecommendation.objects.filter(line=line).update(run=run)
    QuotaRecommendation.objects.filter(product__sku="BEV-B", week=week(2)).update(
        recommended_units=0
    )
    QuotaRecommendation.objects.filter(product__sku="BEV-A", week=week(2)).update(
        recommended_units=15
    )
    answer = ask(sales_user, product="BEV-A", quantity=5, week=label(2)).json()
    assert built == [line.pk, line.pk]
    assert answer["plan_run"] == run.pk
    assert answer["displaces"] == []


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"product": "BEV-A", "quantity": 0, "week": 2},
            {"quantity": ["Quantity must be more than 0."]},
        ),
        (
            {"product": "BEV-A", "quantity": -5, "week": 2},
            {"quantity": ["Quantity must be more than 0."]},
        ),
        (
            {"product": "BEV-A", "quantity": 2**31, "week": 2},
            {"quantity": ["That is more than any plan holds: ask for at most 2147483647."]},
        ),
        (
            {"product": "BEV-A", "quantity": 5, "week": -1},
            {"week": ["The week is in the past; this week is {0}."]},
        ),
        (
            {"product": "BEV-A", "quantity": 5, "week": 0},
            {
                "week": [
                    "The week is inside line Canning 2's frozen window of 1 week; the first "
                    "week open to new orders is {1}."
                ]
            },
        ),
        (
            {"product": "BEV-A", "quantity": 5, "week": 4},
            {"week": ["The week is beyond the plan's horizon, which ends in {3}."]},
        ),
        (
            {"product": "NOPE-1", "quantity": 5, "week": 2},
            {"product": ["No product with SKU NOPE-1."]},
        ),
        (
            {"product": "BEV-A"},
            {
                "quantity": ["Give the units wanted, e.g. 800."],
                "week": ["Choose the week, e.g. 2027-W10."],
            },
        ),
        (
            {"product": "BEV-A", "quantity": 5, "per_week": {2: 5}},
            {"quantity": ["Give quantity and week, or per_week, not both."]},
        ),
        (
            {"product": "BEV-A", "per_week": {2: 0}},
            {"per_week": ["Quantity must be more than 0."]},
        ),
        (
            {"product": "BEV-A", "per_week": {"someday": 5}},
            {"per_week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'someday'."]},
        ),
    ],
)
def test_bad_input_is_400_at_its_field_and_writes_nothing(line, sales_user, body, fields):
    body = dict(body)
    if isinstance(body.get("week"), int):
        body["week"] = label(body["week"])
    if "per_week" in body:
        body["per_week"] = {
            label(key) if isinstance(key, int) else key: units
            for key, units in body["per_week"].items()
        }
    fields = {
        name: [message.format(*[label(k) for k in range(5)]) for message in messages]
        for name, messages in fields.items()
    }
    before = rows()
    response = ask(sales_user, **body)
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    assert rows() == before


def test_a_held_product_is_refused_naming_the_hold(line, sales_user):
    ProductionHoldFactory(product=Product.objects.get(sku="BEV-B"), reason="Recall R-7: glass")
    before = rows()
    response = ask(sales_user, product="BEV-B", quantity=5, week=label(2))
    assert response.status_code == 400
    assert response.json() == invalid(
        {"product": ["BEV-B cannot be promised: on hold (Recall R-7: glass)."]}
    )
    assert rows() == before


def test_a_discontinued_product_is_refused(line, sales_user):
    Product.objects.filter(sku="BEV-B").update(lifecycle=Product.Lifecycle.DISCONTINUED)
    response = ask(sales_user, product="BEV-B", quantity=5, week=label(2))
    assert response.json() == invalid(
        {"product": ["BEV-B cannot be promised: it is discontinued."]}
    )


def test_a_line_without_a_plan_or_a_product_not_in_it_is_refused(line, sales_user):
    assert ask(sales_user, product="BEV-A", quantity=5, week=label(2)).status_code == 200
    # Put on the line after the plan was read: the next recompute plans it.
    ProductFactory(sku="BEV-NEW", production_line=line)
    assert ask(sales_user, product="BEV-NEW", quantity=5, week=label(2)).json() == invalid(
        {
            "product": [
                "BEV-NEW is not in line Canning 2's current plan yet: ask again after its "
                "next recompute."
            ]
        }
    )
    ProductFactory(sku="BEV-LONE", production_line=LineFactory(name="Bottling 9"))
    assert ask(sales_user, product="BEV-LONE", quantity=5, week=label(2)).json() == invalid(
        {"product": ["Line Bottling 9 has no plan yet: ask again after its first recompute."]}
    )


# --- who may ask ---------------------------------------------------------------------------


def test_anonymous_is_401(line):
    response = APIClient().post(URL, {"product": "BEV-A", "quantity": 5, "week": label(2)})
    assert response.status_code == 401
    assert response.json() == NOT_SIGNED_IN


def test_roles_that_talk_to_customers_or_plan_may_ask_quality_may_not(
    line, sales_user, marketing_user, production_user, quality_user, admin_user
):
    body = {"product": "BEV-A", "quantity": 5, "week": label(2)}
    for user in (sales_user, marketing_user, production_user, admin_user):
        assert ask(user, **body).status_code == 200, user.username
    response = ask(quality_user, **body)
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED


def test_an_api_key_needs_the_promises_read_scope(line):
    body = {"product": "BEV-A", "quantity": 5, "week": label(2)}
    _, without = api_clients.client_create(name="shop", scopes=["quotas:read", "quotas:write"])
    _, key = api_clients.client_create(name="erp", scopes=["promises:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {without}")
    before = rows()
    response = client.post(URL, body, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "missing_scope",
            "message": "This API key lacks the scope promises:read.",
            "fields": {},
        }
    }
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json()["available"] == 5.0
    assert rows() == before


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_documents_a_question_not_a_create():
    schema = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "promises_ask"
    # Answers 200 and writes nothing: no Idempotency-Key, not among the creates.
    assert "201" not in operation["responses"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} not in operation.get("parameters", [])
    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "409", "429"]
    request = operation["requestBody"]["content"]["application/json"]
    assert sorted(request["examples"]) == ["AQuantityPerWeek", "OneQuantityByOneWeek"]
    answer = operation["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/Promise"}
    assert list(answer["examples"]) == ["PartByTheWeek,AllTwoWeeksLater"]
