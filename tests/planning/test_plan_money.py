"""The planning review in money: the plan's revenue and margin per product line and month
against the budget, "no price" never counted as 0, each capacity gap valued by
re-planning the line with the hours that close it; the report and its CSV carry the same
figures. Hand-computed on planning_world (see there): one product, 60 a week, a firm
order of 200 in week 2 of which 80 go short, a promotion of 150 in week 8."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.models import ProductLine, ProductPrice
from coordination.weeks import add_weeks, current_week
from planning import services
from planning.models import Budget
from planning.selectors.report import report
from planning.selectors.snapshot import build_snapshot
from tests.planning.planning_world import FIRM_WEEK, build_world

pytestmark = pytest.mark.django_db

# Week k's demand in planning_world.
DEMAND = [
    60 + (200 if k == 2 else 0) + (150 if k == 8 else 0) + (5 if k == 10 else 0) for k in range(26)
]
SHORT = {FIRM_WEEK: 80}  # the plan makes 180 of week 2's 260: 80 lost
PRICE_WEEK = 4  # a new price from week 4 on
# Its month is neither the horizon's first nor its last, whatever the day: a whole month.
INNER_WEEK = 9


@pytest.fixture
def world(sales_user, production_user):
    world = build_world(sales_user)
    teas = ProductLine.objects.create(name="Iced teas")
    product = world["product"]
    product.product_line = teas
    product.save(update_fields=["product_line"])
    first = current_week()
    ProductPrice.objects.create(
        product=product, effective_from=first, unit_price=Decimal("2.00"), unit_cost=Decimal("1.25")
    )
    ProductPrice.objects.create(
        product=product,
        effective_from=add_weeks(first, PRICE_WEEK),
        unit_price=Decimal("2.15"),
        unit_cost=Decimal("1.30"),
    )
    return {**world, "teas": teas}


def _price(k):
    return (
        (Decimal("2.00"), Decimal("1.25")) if k < PRICE_WEEK else (Decimal("2.15"), Decimal("1.30"))
    )


def _month(k):
    return add_weeks(current_week(), k).replace(day=1)


def expected_by_month():
    """The hand model: units sold = demand less units lost, valued at each week's price."""
    months = {}
    for k, demand in enumerate(DEMAND):
        sold = Decimal(demand - SHORT.get(k, 0))
        price, cost = _price(k)
        units, revenue, margin = months.get(_month(k), (Decimal(0),) * 3)
        months[_month(k)] = (units + sold, revenue + sold * price, margin + sold * (price - cost))
    return months


def test_plan_in_money_per_product_line_and_month(world, production_user):
    first_month = _month(0)
    Budget.objects.create(
        product_line=world["teas"],
        month=first_month,
        revenue=Decimal("500.00"),
        units=250,
        updated_by=production_user,
    )
    money = build_snapshot()["money"]
    expected = expected_by_month()
    assert money["currency"] == "EUR"
    assert [r["month"] for r in money["rows"]] == [m.isoformat() for m in sorted(expected)]
    for row in money["rows"]:
        units, revenue, margin = expected[dt.date.fromisoformat(row["month"])]
        assert (
            Decimal(row["plan_units"]),
            Decimal(row["plan_revenue"]),
            Decimal(row["plan_margin"]),
        ) == (units, revenue, margin)
        assert row["product_line"] == "Iced teas" and row["no_price"] == []
    # Over the horizon: 1,915 units demanded, 80 lost.
    assert sum(Decimal(r["plan_units"]) for r in money["rows"]) == Decimal(1835)
    total_revenue = sum(Decimal(r["plan_revenue"]) for r in money["rows"])
    # Weeks 0-3: 60 + 60 + 180 + 60 = 360 at 2.00; weeks 4-25: 22 x 60 + 150 + 5 = 1,475 at 2.15.
    assert total_revenue == Decimal("360") * Decimal("2.00") + Decimal("1475") * Decimal("2.15")
    assert total_revenue == Decimal("3891.25")
    first = money["rows"][0]
    assert (first["budget_units"], first["budget_revenue"]) == (250, "500.00")
    assert all(r["budget_units"] is None for r in money["rows"][1:])


def test_capacity_gap_valued_by_replanning(world):
    money = build_snapshot()["money"]
    # 80 extra hours close week 2's gap (68 in week 2, 12 a week earlier: a week holds
    # 168 hours); the 80 units then sold in week 2 earn 2.00 - 1.25 = 0.75 each.
    assert money["gaps"] == [
        {
            "line_id": world["line"].pk,
            "line": "Bottling",
            "extra_hours": "80.0",
            "weeks": 2,
            "first_week": add_weeks(current_week(), FIRM_WEEK - 1).isoformat(),
            "last_week": add_weeks(current_week(), FIRM_WEEK).isoformat(),
            "extra_units": "80.0",
            "margin": "60.000",
            "no_price": [],
        }
    ]
    assert Decimal(money["gaps"][0]["margin"]) == 80 * Decimal("0.75")


def test_a_product_without_a_price_is_no_price_never_zero(world, production_user):
    product = world["product"]
    ProductPrice.objects.filter(product=product, effective_from__gt=current_week()).delete()
    ProductPrice.objects.filter(product=product).update(unit_price=Decimal("0"))
    Budget.objects.create(
        product_line=world["teas"],
        month=_month(INNER_WEEK),
        revenue=Decimal("500.00"),
        units=250,
        updated_by=production_user,
    )
    money = build_snapshot()["money"]
    assert {(r["plan_revenue"], r["plan_margin"]) for r in money["rows"]} == {(None, None)}
    assert {tuple(r["no_price"]) for r in money["rows"]} == {("TEA-LEM-05",)}
    assert money["gaps"][0]["margin"] is None
    assert money["gaps"][0]["no_price"] == ["TEA-LEM-05"]
    shown = services_report_money(money)
    first = next(r for r in shown["rows"] if r["month"] == _month(INNER_WEEK).isoformat())
    assert (first["shown"]["plan_revenue"], first["shown"]["gap_revenue"]) == (
        "no price",
        "no price",
    )
    assert first["shown"]["budget_revenue"] == "500.00 EUR"
    assert shown["gaps"][0]["sentence"] == (
        "Closing Bottling's gap with 80.0 extra hours (40.0 a week over 2 weeks) sells 80 "
        "more units, which cannot be valued: no price for TEA-LEM-05."
    )


def services_report_money(money):
    from planning.selectors.money import plan_vs_budget

    return plan_vs_budget(money)


def test_report_and_csv_carry_the_same_figures(client, world, admin_user, production_user):
    month = _month(INNER_WEEK)
    Budget.objects.create(
        product_line=world["teas"],
        month=month,
        revenue=Decimal("1000.00"),
        units=500,
        updated_by=production_user,
    )
    cycle = services.planning_cycle_open(actor=admin_user, period_start=_month(0))
    units, revenue, margin = expected_by_month()[month]
    found = report(cycle)["money"]
    first = next(r for r in found["rows"] if r["month"] == month.isoformat())
    cent = Decimal("0.01")
    assert first["plan_units"] == units
    assert first["plan_revenue"] == revenue.quantize(cent)
    assert first["budget_revenue"] == Decimal("1000.00")
    assert first["gap_units"] == units - 500
    assert first["gap_revenue"] == (revenue - Decimal("1000.00")).quantize(cent)
    gap = (revenue - Decimal("1000.00")).quantize(cent)
    assert found["total"]["months"] == 1
    assert (
        found["total"]["plan_revenue"],
        found["total"]["budget_revenue"],
        found["total"]["gap_revenue"],
    ) == (revenue.quantize(cent), Decimal("1000.00"), gap)
    sentence = (
        "Closing Bottling's gap with 80.0 extra hours (40.0 a week over 2 weeks) earns "
        "60.00 EUR in margin (80 more units sold)."
    )
    assert found["gaps"][0]["sentence"] == sentence

    client.force_login(admin_user)
    html = client.get(reverse("planning_report", args=[cycle.pk])).content.decode()
    assert sentence.replace("'", "&#x27;") in html
    assert f"{revenue.quantize(cent):,.2f} EUR" in html
    assert found["total"]["shown"]["gap_revenue"] == f"{'+' if gap > 0 else '−'}{abs(gap):,.2f} EUR"
    assert f'<span class="figure">{found["total"]["shown"]["gap_revenue"]}</span>' in html
    response = client.get(reverse("planning_report_csv", args=[cycle.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    mine = [r for r in rows if r[0] == "plan_vs_budget" and r[2] == month.isoformat()]
    assert mine == [
        ["plan_vs_budget", "Iced teas", month.isoformat(), "plan_units", str(units)],
        [
            "plan_vs_budget",
            "Iced teas",
            month.isoformat(),
            "plan_revenue_EUR",
            str(revenue.quantize(cent)),
        ],
        [
            "plan_vs_budget",
            "Iced teas",
            month.isoformat(),
            "plan_margin_EUR",
            str(margin.quantize(cent)),
        ],
        ["plan_vs_budget", "Iced teas", month.isoformat(), "budget_units", "500"],
        ["plan_vs_budget", "Iced teas", month.isoformat(), "budget_revenue_EUR", "1000.00"],
        ["plan_vs_budget", "Iced teas", month.isoformat(), "gap_units", str(units - 500)],
        [
            "plan_vs_budget",
            "Iced teas",
            month.isoformat(),
            "gap_revenue_EUR",
            str((revenue - Decimal("1000.00")).quantize(cent)),
        ],
    ]
    total = "All product lines", "budgeted months"
    assert [r for r in rows if r[1] == "All product lines"] == [
        ["plan_vs_budget", *total, "plan_revenue_EUR", str(revenue.quantize(cent))],
        ["plan_vs_budget", *total, "budget_revenue_EUR", "1000.00"],
        ["plan_vs_budget", *total, "gap_revenue_EUR", str(gap)],
    ]
    period = (
        f"{add_weeks(current_week(), 1).isoformat()}/{add_weeks(current_week(), 2).isoformat()}"
    )
    assert [r for r in rows if r[0] == "capacity_gap_value"] == [
        ["capacity_gap_value", "Bottling", period, "extra_hours", "80.0"],
        ["capacity_gap_value", "Bottling", period, "extra_units", "80"],
        ["capacity_gap_value", "Bottling", period, "margin_EUR", "60.00"],
    ]
    later = [r for r in rows if r[0] == "plan_vs_budget" and r[2] == _month(20).isoformat()]
    assert [r[3:] for r in later if "budget" in r[3] or "gap" in r[3]] == [
        ["budget_units", "no budget"],
        ["budget_revenue_EUR", "no budget"],
        ["gap_units", "no budget"],
        ["gap_revenue_EUR", "no budget"],
    ]


def test_a_month_planned_in_part_is_held_against_its_budget_pro_rata():
    from planning.selectors.money import plan_vs_budget

    money = {
        "currency": "EUR",
        "gaps": [],
        "rows": [
            {
                "product_line": "Iced teas",
                "month": "2027-03-01",
                "weeks_planned": 2,
                "weeks_in_month": 4,
                "plan_units": "250.5",
                "plan_revenue": "400.125",
                "plan_margin": "100.005",
                "no_price": [],
                "budget_units": 500,
                "budget_revenue": "1000.00",
            }
        ],
    }
    row = plan_vs_budget(money)["rows"][0]
    # Half-even, once: 250.5 -> 250 units, 100.005 -> 100.00, 400.125 - 500 -> -99.88.
    assert (row["plan_units"], row["plan_revenue"], row["plan_margin"]) == (
        Decimal(250),
        Decimal("400.12"),
        Decimal("100.00"),
    )
    assert (row["budget_units"], row["budget_revenue"]) == (Decimal(250), Decimal("500.00"))
    assert (row["gap_units"], row["gap_revenue"]) == (Decimal(0), Decimal("-99.88"))
    assert row["shown"] == {
        "plan_revenue": "400.12 EUR",
        "plan_margin": "100.00 EUR",
        "budget_revenue": "500.00 EUR (2 of 4 weeks of 1,000.00 EUR)",
        "gap_revenue": "−99.88 EUR",
    }


def test_a_snapshot_from_before_the_money_view_says_so(client, world, admin_user):
    cycle = services.planning_cycle_open(actor=admin_user, period_start=_month(0))
    snapshot = cycle.snapshots.get()
    del snapshot.data["money"]
    snapshot.save(update_fields=["data"])
    assert report(cycle)["money"] is None
    client.force_login(admin_user)
    html = client.get(reverse("planning_report", args=[cycle.pk])).content.decode()
    assert "This snapshot was taken before the plan was valued in money." in html
    assert "Take a new snapshot to see the plan against the budget." in html
    csv_text = client.get(reverse("planning_report_csv", args=[cycle.pk])).content.decode()
    assert "plan_vs_budget" not in csv_text and "capacity_gap_value" not in csv_text
