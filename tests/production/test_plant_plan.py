"""What a plant can really make reaches the plan and is explained: shelf life caps the
stock built ahead, batches and minimum runs shape each week's quota, and every page, alert
and API field that shows a quota says which limit applied.

The engine's own guarantees (FIFO ages, batches, the MIP optimum) are property-tested in
tests/production/test_engine_plant.py; these tests follow one line from the database to
the pages."""

from __future__ import annotations

import inspect
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import DemandForecast, ForecastRun, PromotionItem
from production.engine import plan_quotas
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from production.selectors.dashboard import (
    alerts,
    explanation_steps,
    promotion_impact,
    weeks_from_now,
)
from production.selectors.line_inputs import load_line
from production.selectors.schedule import recommendation_explanation
from production.services.planning import plan_line
from tests.factories import (
    LineFactory,
    ProductFactory,
    PromotionFactory,
    QuotaRecommendationFactory,
)

pytestmark = pytest.mark.django_db

HORIZON = 26


def week(k: int):
    return add_weeks(current_week(), k)


def forecast(product, weekly: float, uplift: dict[int, float] | None = None) -> None:
    run = ForecastRun.objects.create(trigger="test", horizon_weeks=HORIZON, first_week=week(0))
    uplift = uplift or {}
    DemandForecast.objects.bulk_create(
        DemandForecast(
            product=product,
            week=week(k),
            run=run,
            baseline=weekly,
            promotion_uplift=uplift.get(k, 0.0),
            final=weekly + uplift.get(k, 0.0),
            method="test",
        )
        for k in range(HORIZON)
    )


def replan(line) -> RecomputeRun:
    run = RecomputeRun.objects.create(line=line, trigger="test")
    summary = plan_line(line=line, run=run)
    run.plan_method, run.relaxation_gap = summary["method"], summary["gap"]
    run.save()
    return run


def recs(product) -> dict[int, QuotaRecommendation]:
    """The product's recommendations by week offset."""
    start = week(0)
    return {
        (rec.week - start).days // 7: rec
        for rec in QuotaRecommendation.objects.filter(product=product).select_related("product")
    }


@pytest.fixture
def juice():
    """Carton 3 (100 h a week) makes one juice: 1 h a unit, no lead time, 50 a week, and a
    promotion of +200 in weeks 6 and 7. Shelf life 3 weeks with 1 required at shipment:
    stock may wait 2 weeks, so the end of week t may hold at most the next two weeks'
    demand.

    Without the cap the line builds 50 extra a week in weeks 0-5 (300, all it needs).
    With it, the end of week 3 holds at most 50 + 50 = 100: weeks 4 and 5 add 50 each, so
    200 wait for the promotion, 100 short of its 300 (500 demand, 200 hours)."""
    line = LineFactory(name="Carton 3", weekly_capacity_hours=Decimal("100.0"))
    product = ProductFactory(
        sku="JCE-ORA-10", production_line=line, lead_time_weeks=0,
        shelf_life_weeks=3, min_remaining_life_weeks=1,
    )  # fmt: skip
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    forecast(product, 50, uplift={6: 200.0, 7: 200.0})
    return line, product


# ------------------------------------------------------------------ the inputs


def test_the_line_inputs_carry_the_plant_limits_of_each_product():
    line = LineFactory(weekly_capacity_hours=Decimal("100.0"))
    keeps = ProductFactory(sku="SPW-LIM-33", production_line=line, lead_time_weeks=1)
    fresh = ProductFactory(
        sku="JCE-APP-10", production_line=line, lead_time_weeks=2,
        shelf_life_weeks=12, min_remaining_life_weeks=4, batch_size=250, minimum_batch=500,
    )  # fmt: skip
    inputs = load_line(line, horizon=4)
    assert inputs.product_ids == [keeps.pk, fresh.pk]
    assert inputs.usable_weeks.tolist() == [np.inf, 6.0]  # 12 - 2 - 4
    assert np.isnan(inputs.shelf_life_weeks[0]) and inputs.shelf_life_weeks[1] == 12.0
    assert inputs.batch_size.tolist() == [1, 250]
    assert inputs.minimum_run.tolist() == [1, 500]


def test_supply_hands_the_planner_every_input_it_takes_besides_demand():
    """Stated as an enumeration: a new planner input that LineInputs does not pass on fails
    here, so no caller (pipeline, review, what-ifs, economics) can plan without it."""
    line = LineFactory()
    ProductFactory(production_line=line)
    supply = load_line(line, horizon=3).supply()
    taken = {
        name
        for name, parameter in inspect.signature(plan_quotas).parameters.items()
        if name not in ("demand", "line_of", "lines", "strategy", "workers")
    }
    assert set(supply) == taken
    other = load_line(line, horizon=3).supply(np.array([1.0, 2.0, 3.0]))
    assert other["capacity_hours"].tolist() == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------ shelf life


def test_shelf_life_caps_the_stock_built_ahead_and_the_promotion_goes_short(juice):
    line, product = juice
    replan(line)
    by_week = recs(product)
    made = [round(by_week[k].recommended_units) for k in range(10)]
    # Weeks 0-3 make demand and fill the cap of 100 by the end of week 3; weeks 4-7 run
    # flat out; weeks 8-9 work off the backlog of 100 left by the promotion.
    assert sum(made[:4]) == 4 * 50 + 100
    assert made[4:10] == [100, 100, 100, 100, 100, 100]
    assert [by_week[k].stock_cap for k in (2, 3, 4, 5)] == [100.0, 100.0, 300.0, 500.0]
    assert by_week[3].projected_on_hand == 100.0
    assert by_week[3].shelf_life_capped is True
    assert [k for k, rec in by_week.items() if rec.shelf_life_capped] == [3]
    assert max(rec.shortage_units for rec in by_week.values()) == 100.0
    assert by_week[7].shortage_units == 100.0


def test_the_shortage_alert_says_the_cap_applied(juice):
    line, _ = juice
    replan(line)
    texts = [a["text"] for a in alerts(line, weeks_from_now()) if a["kind"] == "Shortage"]
    assert texts == [
        f"JCE-ORA-10: demand short by up to 100 units (worst in {iso_label(week(7))}): "
        "building further ahead is capped, stock built that far ahead would expire before it "
        "sells (shelf life 3 weeks)."
    ]


def test_the_explanation_names_the_shelf_life_limit(client, production_user, juice):
    line, product = juice
    replan(line)
    client.force_login(production_user)
    response = client.get(reverse("quota_explain", args=[product.sku, iso_label(week(3))]))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<p id="shelf-life-note"><span class="badge badge-warn">Shelf life</span> Shelf life 3 '
        "weeks, 1 required at shipment, 0 from making to availability: stock may wait 2 weeks, "
        f"so the end of {iso_label(week(3))} may hold at most 100 units (the demand of the next "
        "2 weeks). The plan holds stock at that limit while a later week is short: more built "
        "ahead would expire before it sells.</p>"
    ) in html
    assert '<th scope="row">Shelf-life limit</th><td class="num">100</td>' in html


def test_the_schedule_sentence_says_the_stock_is_held_at_its_limit(juice):
    line, product = juice
    replan(line)
    rec = recs(product)[3]
    assert recommendation_explanation(rec).endswith(
        "stock held at its shelf-life limit of 100: more built ahead would expire before it "
        f"sells; recommended {round(rec.recommended_units)}"
    )


def test_a_product_that_keeps_has_no_cap_anywhere(juice):
    line, product = juice
    product.shelf_life_weeks = None
    product.save()
    replan(line)
    by_week = recs(product)
    assert {rec.stock_cap for rec in by_week.values()} == {None}
    assert not any(rec.shelf_life_capped for rec in by_week.values())
    assert max(rec.shortage_units for rec in by_week.values()) == 0.0
    assert sum(round(by_week[k].recommended_units) for k in range(6)) == 600  # 300 + 300


def test_the_quota_api_states_whole_units_and_the_cap(juice, production_user):
    line, product = juice
    replan(line)
    client = APIClient()
    client.force_authenticate(production_user)
    response = client.get(
        "/api/v1/quota-recommendations/",
        {"product": product.sku, "from": iso_label(week(0)), "to": iso_label(week(25))},
    )
    assert response.status_code == 200
    rows = {row["week"]: row for row in response.json()["results"]}
    row = rows[iso_label(week(3))]
    assert isinstance(row["recommended_units"], int)
    assert row["stock_cap"] == 100.0
    assert row["shelf_life_capped"] is True
    assert row["unplannable"] == ""
    assert all(isinstance(r["recommended_units"], int) for r in rows.values())


def promotion_on(product, start: int, weeks: int):
    promotion = PromotionFactory(
        start_week=week(start), end_week=week(start + weeks - 1), status="planned"
    )
    PromotionItem.objects.create(
        promotion=promotion, product=product, expected_lift_pct=Decimal("400")
    )
    return promotion


def test_the_promotion_answer_says_short_because_stock_would_expire(client, marketing_user, juice):
    line, product = juice
    replan(line)
    promotion = promotion_on(product, 6, 2)
    (answer,) = promotion_impact(promotion)
    assert answer["short"] == [(week(7), 100.0)]
    assert answer["expires"] is True
    assert answer["at_cap"] == [week(3)]
    client.force_login(marketing_user)
    html = client.get(reverse("promotion_impact", args=[promotion.pk])).content.decode()
    assert (
        '<span class="badge badge-warn">Shelf life</span> Building further ahead would not '
        "help: stock made that early would expire before it sells (shelf life 3 weeks, 1 "
        "required at shipment)."
    ) in html
    assert (
        '<span class="badge badge-warn">Shelf life</span> Stock built ahead is held at its '
        f"shelf-life limit in 1 week ({iso_label(week(3))}): no more than the next 2 weeks' "
        "demand may wait in stock (shelf life 3 weeks, 1 required at shipment): more built "
        "ahead would expire before it sells."
    ) in html


def test_without_shelf_life_the_promotion_is_covered_by_building_ahead(juice):
    line, product = juice
    product.shelf_life_weeks = None
    product.save()
    replan(line)
    (answer,) = promotion_impact(promotion_on(product, 6, 2))
    assert answer["short"] == []
    assert answer["expires"] is False
    assert answer["at_cap"] == []
    assert round(answer["prebuild_total"]) == 300


# ------------------------------------------------------------------ batches and runs


@pytest.fixture
def batched():
    """Bottling 2 (ample hours) makes tea in batches of 40, at least 80 a run; 50 a week."""
    line = LineFactory(name="Bottling 2", weekly_capacity_hours=Decimal("500.0"))
    product = ProductFactory(
        sku="TEA-LEM-05", production_line=line, lead_time_weeks=0,
        batch_size=40, minimum_batch=80,
    )  # fmt: skip
    RunRate.objects.create(product=product, hours_per_unit=Decimal("0.5"))
    forecast(product, 50)
    return line, product


def test_every_week_is_whole_batches_and_at_least_a_minimum_run(batched):
    line, product = batched
    replan(line)
    made = [rec.recommended_units for rec in recs(product).values()]
    assert len(made) == HORIZON
    assert all(units % 40 == 0 and (units == 0 or units >= 80) for units in made)
    assert max(rec.shortage_units for rec in recs(product).values()) == 0.0
    assert recs(product)[0].recommended_units == 80.0  # the smallest run that covers 50


def test_the_waterfall_names_the_batch_rounding(batched):
    line, product = batched
    replan(line)
    steps = explanation_steps(recs(product)[0])
    assert [(s["label"], s["value"]) for s in steps] == [
        ("Baseline demand", 50),
        ("Rounded up to whole batches of 40, at least 80 a run", 30),
    ]
    assert steps[-1]["end"] == 80


def test_the_run_records_its_method_and_its_gap_to_the_continuous_plan(batched):
    line, _ = batched
    run = replan(line)
    run.refresh_from_db()
    assert run.plan_method.endswith(("+whole", "+rounded", "+mip"))
    assert set(run.relaxation_gap) == {"backlog", "safety_shortfall", "inventory"}
    assert run.relaxation_gap["backlog"] == 0.0
    # Whole runs of 80 for a demand of 50 hold stock the fractional plan would not.
    assert run.relaxation_gap["inventory"] > 0
    assert run.relaxation_gap_label == (f"stock +{run.relaxation_gap['inventory']:,.0f} unit-weeks")


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({}, "Cut: no capacity this week"),
        ({"hold_reason": "Stop-ship RC-7"}, "Cut: on hold"),
        ({"frozen": True}, "Cut: the frozen plan is kept"),
        (
            {"unplannable": "a minimum run of 900 units needs 130.0 hours"},
            "Cut: the plant cannot make it",
        ),
    ],
)
def test_the_cut_says_what_cut_it(fields, label):
    rec = QuotaRecommendationFactory(
        baseline=60.0, capacity_cut_units=10.0, recommended_units=50.0, **fields
    )
    assert [(s["label"], s["value"]) for s in explanation_steps(rec)] == [
        ("Baseline demand", 60),
        (label, -10),
    ]


@pytest.mark.parametrize(
    ("recommended", "label", "value"),
    [
        (80.0, "Rounded up to whole batches of 40, at least 80 a run", 30),
        (160.0, "Made in one run for later weeks (whole batches of 40, at least 80 a run)", 110),
        (0.0, "Left to another run (whole batches of 40, at least 80 a run)", -50),
    ],
)
def test_what_whole_runs_add_is_named_by_its_size(recommended, label, value):
    product = ProductFactory(batch_size=40, minimum_batch=80)
    rec = QuotaRecommendationFactory(product=product, baseline=50.0, recommended_units=recommended)
    assert [(s["label"], s["value"]) for s in explanation_steps(rec)] == [
        ("Baseline demand", 50),
        (label, value),
    ]


@pytest.mark.parametrize(
    ("gap", "label"),
    [
        ({}, "—"),
        ({"backlog": 0.0, "safety_shortfall": 0.2, "inventory": 0.0}, "none"),
        (
            {"backlog": 3483.4, "safety_shortfall": -515.0, "inventory": 12040.0},
            "backlog +3,483, safety shortfall −515, stock +12,040 unit-weeks",
        ),
    ],
)
def test_the_gap_to_the_continuous_plan_reads_in_priority_order(gap, label):
    assert RecomputeRun(relaxation_gap=gap).relaxation_gap_label == label
