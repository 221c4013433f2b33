"""No signal bypasses the plan: the registry of planning inputs (coordination/planning_inputs.py)
is complete, and every registered input, changed through its service, asks for a recompute
of exactly the lines it affects, in the same transaction."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordination import planning_inputs
from coordination.models import RecomputeRequest, Specification
from coordination.services import customer_requests, products
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import MarketingAdjustment, SalesActual
from demand.services import adjustments, launches, promotions, sales_import
from demand.services.forecasting import forecast_products
from production.models import (
    CapacityException,
    InventoryPosition,
    ProductionHold,
    RecomputeRun,
    RunRate,
    ScheduleEntry,
    ScheduleRevision,
)
from production.services import capacity, inventory_import
from production.services.planning import plan_line
from recalls.services import incidents
from tests.factories import (
    LineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    QuotedOrderFactory,
    SalesActualFactory,
)


@pytest.fixture
def world(db, admin_user):
    line_a, line_b = LineFactory(name="Canning 1"), LineFactory(name="Canning 2")
    a1 = ProductFactory(sku="BEV-A1", production_line=line_a)
    a2 = ProductFactory(sku="BEV-A2", production_line=line_a)
    b1 = ProductFactory(sku="BEV-B1", production_line=line_b)
    return {"A": line_a, "B": line_b, "a1": a1, "a2": a2, "b1": b1, "admin": admin_user}


def week(offset: int):
    return add_weeks(current_week(), offset)


def pending() -> list[tuple[str, list[int], list[int]]]:
    return [
        (r.source, r.line_ids, r.product_ids)
        for r in RecomputeRequest.objects.filter(status="pending").order_by("pk")
    ]


def quoted_order(world, product):
    return QuotedOrderFactory(product=product, created_by=world["admin"])


# Per registered model: change one row through its service; the lines and products
# that must be re-planned.


def change_product(w):
    products.product_update(
        actor=w["admin"],
        product_id=w["a1"].pk,
        expected_version=UNCHECKED,
        production_line=w["B"],
    )
    # The line it left and the line it joined.
    return "product", [w["A"].pk, w["B"].pk], [w["a1"].pk]


def change_line(w):
    capacity.line_update(
        actor=w["admin"], line_id=w["B"].pk, expected_version=UNCHECKED, weekly_capacity_hours=80
    )
    return "capacity", [w["B"].pk], [w["b1"].pk]


def change_customer_request(w):
    order = quoted_order(w, w["a2"])
    customer_requests.request_accept(
        actor=w["admin"], request_id=order.pk, expected_version=UNCHECKED
    )
    return "customization", [w["A"].pk], [w["a2"].pk]


def change_promotion(w):
    promotion = PromotionFactory(status="draft")
    PromotionItemFactory(promotion=promotion, product=w["a1"])
    PromotionItemFactory(promotion=promotion, product=w["b1"])
    promotions.promotion_set_status(
        actor=w["admin"], promotion_id=promotion.pk, expected_version=UNCHECKED, status="planned"
    )
    return "promotion", [w["A"].pk, w["B"].pk], [w["a1"].pk, w["b1"].pk]


def change_promotion_item(w):
    promotion = PromotionFactory(status="planned")
    PromotionItemFactory(promotion=promotion, product=w["b1"])
    promotions.promotion_update(
        actor=w["admin"],
        promotion_id=promotion.pk,
        expected_version=UNCHECKED,
        items=[{"product": w["a2"].pk, "expected_lift_pct": "25"}],
    )
    # The product that left the promotion and the one that joined it.
    return "promotion", [w["A"].pk, w["B"].pk], [w["a2"].pk, w["b1"].pk]


def change_marketing_adjustment(w):
    adjustments.adjustment_set(
        actor=w["admin"],
        product_id=w["b1"].pk,
        week=week(4),
        units=500,
        reason="Trade fair",
        expected_version=0,
    )
    return "adjustment", [w["B"].pk], [w["b1"].pk]


def change_sales_actual(w):
    sales_import.sales_import_rows(
        actor=w["admin"],
        rows=[{"sku": "BEV-A2", "week": iso_label(week(-1)), "units": 1200}],
        source="api",
    )
    return "sales_import", [w["A"].pk], [w["a2"].pk]


def change_capacity_exception(w):
    capacity.capacity_exception_set(
        actor=w["admin"], line_id=w["A"].pk, week=week(3), hours=40, note="Summer shutdown"
    )
    return "capacity", [w["A"].pk], [w["a1"].pk, w["a2"].pk]


def change_run_rate(w):
    capacity.run_rate_set(actor=w["admin"], product_id=w["b1"].pk, hours_per_unit="0.004")
    return "capacity", [w["B"].pk], [w["b1"].pk]


def change_inventory_position(w):
    inventory_import.inventory_import(
        actor=w["admin"],
        rows=[{"sku": "BEV-A1", "as_of": current_week().isoformat(), "on_hand": 900}],
        source="api",
    )
    return "inventory", [w["A"].pk], [w["a1"].pk]


def change_production_hold(w):
    incident = incidents.recall_open(
        actor=w["admin"],
        title="Glass fragments",
        classification="class_i",
        hazard="Cuts.",
        source="internal_test",
        product_ids=[w["b1"].pk],
    )
    incidents.recall_set_stop_ship(
        actor=w["admin"], incident_id=incident.pk, expected_version=UNCHECKED, stop=True
    )
    return "recall", [w["B"].pk], [w["b1"].pk]


def change_launch_plan(w):
    launches.launch_plan_set(
        actor=w["admin"],
        product=w["a2"],
        launch_week=week(2),
        launch_volume=300,
        ramp_weeks=4,
        ramp_shape="linear",
        likes=[],
        expected_version=0,
    )
    return "product", [w["A"].pk], [w["a2"].pk]


def change_like_product(w):
    launches.launch_plan_set(
        actor=w["admin"],
        product=w["b1"],
        launch_week=week(2),
        launch_volume=None,
        ramp_weeks=4,
        ramp_shape="linear",
        likes=[("BEV-A1", "1")],
        expected_version=0,
    )
    return "product", [w["B"].pk], [w["b1"].pk]


def change_succession(w):
    launches.succession_set(
        actor=w["admin"],
        product=w["a1"],
        successor_sku="BEV-B1",
        switch_week=week(3),
        expected_version=0,
    )
    # The demand leaves one line for the other: both are re-planned.
    return "product", [w["A"].pk, w["B"].pk], [w["a1"].pk, w["b1"].pk]


CHANGES = {
    "coordination.Product": change_product,
    "coordination.Line": change_line,
    "coordination.CustomerRequest": change_customer_request,
    "demand.Promotion": change_promotion,
    "demand.PromotionItem": change_promotion_item,
    "demand.MarketingAdjustment": change_marketing_adjustment,
    "demand.LaunchPlan": change_launch_plan,
    "demand.LikeProduct": change_like_product,
    "demand.Succession": change_succession,
    "demand.SalesActual": change_sales_actual,
    "production.CapacityException": change_capacity_exception,
    "production.RunRate": change_run_rate,
    "production.InventoryPosition": change_inventory_position,
    "production.ProductionHold": change_production_hold,
}


def test_every_registered_input_has_a_change_below():
    assert sorted(CHANGES) == sorted(model._meta.label for model in planning_inputs.INPUTS)


@pytest.mark.parametrize("label", sorted(CHANGES))
def test_changing_an_input_through_its_service_asks_for_exactly_its_lines(world, label):
    assert pending() == []
    source, lines, product_ids = CHANGES[label](world)
    # One outbox row, written in the change's transaction (the test's: not committed,
    # so no worker has taken it), for exactly the affected lines and products.
    assert pending() == [(source, sorted(lines), sorted(product_ids))]


# ------------------------------------------------------------ what the planner reads

TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"(\w+)"', re.IGNORECASE)


def models_read(run) -> set[type]:
    """The models whose tables the queries made by `run()` read (FROM or JOIN)."""
    by_table = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
    with CaptureQueriesContext(connection) as captured:
        run()
    tables = {t for q in captured.captured_queries for t in TABLE.findall(q["sql"])}
    unknown = tables - set(by_table)
    assert unknown == set(), f"tables without a model: {unknown}"
    return {by_table[t] for t in tables}


def unregistered(read: set[type]) -> set[type]:
    return {m for m in read if m not in planning_inputs.INPUTS and m not in planning_inputs.DERIVED}


@pytest.fixture
def planned_world(world):
    """One line whose product has a row in every table the pipeline reads, so every
    read happens."""
    w = world
    a1 = w["a1"]
    SalesActualFactory(product=a1, week=week(-2), units=1000)
    promotion = PromotionFactory(status="planned")
    PromotionItemFactory(promotion=promotion, product=a1)
    quoted_order(w, a1)
    MarketingAdjustment.objects.create(
        product=a1, week=week(4), units=100, reason="Fair", created_by=w["admin"]
    )
    InventoryPosition.objects.create(product=a1, as_of=current_week(), on_hand=500)
    RunRate.objects.create(product=a1, hours_per_unit=Decimal("0.002"))
    CapacityException.objects.create(line=w["A"], week=week(3), hours=50, note="Shutdown")
    ProductionHold.objects.create(product=w["a2"], reason="Stop-ship", reference="R-1")
    revision = ScheduleRevision.objects.create(created_by=w["admin"])
    ScheduleEntry.objects.create(
        revision=revision,
        product=a1,
        line=w["A"],
        week=current_week(),
        units=300,
        kind="accepted",
        recommended_units=300,
        accepted_by=w["admin"],
    )
    return w


def replan(w):
    line = w["A"]
    ids = [w["a1"].pk, w["a2"].pk]
    return lambda: (
        forecast_products(product_ids=ids, trigger="test"),
        plan_line(line=line, run=RecomputeRun.objects.create(line=line, trigger="test")),
    )


def test_every_model_the_forecaster_and_the_planner_read_is_registered(planned_world):
    read = models_read(replan(planned_world))
    labels = sorted(m._meta.label for m in read)
    assert labels == [
        "coordination.CustomerRequest",
        "coordination.Line",
        "coordination.Product",
        "demand.ChannelForecast",
        "demand.DemandForecast",
        "demand.ForecastFit",
        "demand.LaunchPlan",
        "demand.LikeProduct",
        "demand.MarketingAdjustment",
        "demand.Promotion",
        "demand.PromotionItem",
        "demand.SalesActual",
        "demand.SalesImport",
        "demand.SharePriorFit",
        "demand.Succession",
        "production.CapacityException",
        "production.InventoryPosition",
        "production.ProductionHold",
        "production.QuotaRecommendation",
        "production.RunRate",
        "production.ScheduleEntry",
    ]
    assert unregistered(read) == set()


def test_a_read_model_left_out_of_the_registry_is_caught(planned_world, monkeypatch):
    read = models_read(replan(planned_world))
    monkeypatch.delitem(planning_inputs.INPUTS, RunRate)
    monkeypatch.delitem(planning_inputs.INPUTS, SalesActual)
    assert unregistered(read) == {RunRate, SalesActual}


def test_an_unregistered_model_cannot_ask_for_a_recompute(world):
    # What a specification says (colours, pack sizes, materials) is not read by the plan.
    with pytest.raises(LookupError, match="Specification is not a registered planning input"):
        planning_inputs.input_changed(Specification(product=world["a1"]), reason="x")
    assert pending() == []


# ------------------------------------------------------------ the firm-order and product cases


@pytest.mark.parametrize("lifecycle", ["phase_out", "discontinued"])
def test_a_lifecycle_change_re_plans_the_products_line(world, lifecycle):
    products.product_update(
        actor=world["admin"],
        product_id=world["a2"].pk,
        expected_version=UNCHECKED,
        lifecycle=lifecycle,
    )
    assert pending() == [("product", [world["A"].pk], [world["a2"].pk])]


def test_a_product_change_the_plan_does_not_read_asks_for_nothing(world):
    products.product_update(
        actor=world["admin"],
        product_id=world["a2"].pk,
        expected_version=UNCHECKED,
        name="Lemon soda 33 cl",
        unit_price=Decimal("2.40"),
    )
    assert pending() == []


def test_a_new_product_on_a_line_is_planned(world):
    created = products.product_create(
        actor=world["admin"],
        sku="BEV-NEW",
        name="New soda",
        product_line=world["a1"].product_line,
        unit_price=Decimal("2.00"),
        unit_cost=Decimal("1.00"),
        production_line=world["B"],
    )
    assert pending() == [("product", [world["B"].pk], [created.pk])]


def test_cancelling_a_firm_order_takes_it_out_of_the_plan(world, sales_user):
    order = quoted_order(world, world["b1"])
    customer_requests.request_accept(actor=sales_user, request_id=order.pk, expected_version=1)
    customer_requests.request_cancel_order(
        actor=sales_user, request_id=order.pk, expected_version=2, note="Festival called off"
    )
    order.refresh_from_db()
    assert (order.status, order.version, order.resolution) == (
        "declined",
        3,
        "Order cancelled: Festival called off",
    )
    assert [(r.reason, r.subject_id) for r in RecomputeRequest.objects.order_by("pk")] == [
        (f"Firm order #{order.pk} (8000 x BEV-B1 in {iso_label(week(10))}) accepted", order.pk),
        (f"Firm order #{order.pk} (8000 x BEV-B1 in {iso_label(week(10))}) cancelled", order.pk),
    ]
    assert pending() == [("customization", [world["B"].pk], [world["b1"].pk])] * 2


def test_a_cancellation_without_a_reason_changes_nothing(world, sales_user):
    order = quoted_order(world, world["b1"])
    customer_requests.request_accept(actor=sales_user, request_id=order.pk, expected_version=1)
    with pytest.raises(ValidationError) as info:
        customer_requests.request_cancel_order(
            actor=sales_user, request_id=order.pk, expected_version=2, note="  "
        )
    assert info.value.message_dict == {"note": ["Say why the customer cancelled."]}
    order.refresh_from_db()
    assert (order.status, order.version) == ("accepted", 2)
    assert RecomputeRequest.objects.count() == 1


def test_changing_a_firm_order_moves_its_demand_and_re_plans(world, sales_user):
    order = quoted_order(world, world["b1"])
    customer_requests.request_accept(actor=sales_user, request_id=order.pk, expected_version=1)
    customer_requests.request_change_order(
        actor=sales_user,
        request_id=order.pk,
        expected_version=2,
        quantity=6000,
        wanted_week=week(12),
        note="Festival moved",
    )
    order.refresh_from_db()
    assert (order.status, order.version, order.quantity, order.wanted_week) == (
        "accepted",
        3,
        6000,
        week(12),
    )
    assert RecomputeRequest.objects.order_by("pk").last().reason == (
        f"Firm order #{order.pk} (6000 x BEV-B1 in {iso_label(week(12))}) changed "
        f"(was 8000 units in {iso_label(week(10))})"
    )
    assert pending() == [("customization", [world["B"].pk], [world["b1"].pk])] * 2


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"quantity": 8000, "note": "Same again"},
            {"__all__": ["Nothing changed: give a new quantity or delivery week."]},
        ),
        (
            {"quantity": -5, "wanted_week": week(1), "note": " "},
            {
                "quantity": ["The quantity must be at least 1 unit."],
                "wanted_week": [
                    f"Production needs 3 weeks: the earliest delivery week is {iso_label(week(3))}."
                ],
                "note": ["Say what the customer changed."],
            },
        ),
    ],
)
def test_a_refused_order_change_changes_nothing(world, sales_user, changes, errors):
    order = quoted_order(world, world["b1"])
    customer_requests.request_accept(actor=sales_user, request_id=order.pk, expected_version=1)
    with pytest.raises(ValidationError) as info:
        customer_requests.request_change_order(
            actor=sales_user, request_id=order.pk, expected_version=2, **changes
        )
    assert info.value.message_dict == errors
    order.refresh_from_db()
    assert (order.version, order.quantity, order.wanted_week) == (2, 8000, week(10))
    assert RecomputeRequest.objects.count() == 1
